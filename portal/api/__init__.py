"""The JSON API at /api/v1: thin adapters over the services, described by OpenAPI 3.1.

Requests authenticate with a bearer token only (never the session cookie), so CSRF does
not apply and the blueprints are exempt from it. Every error under /api is a problem
details document (RFC 9457), never an HTML page.
"""

from portal.api import (  # noqa: F401  (the modules register their routes)
    account,
    booking,
    directory,
    docs,
    messages,
    operations,
    patients,
    scheduling,
)
from portal.api.blueprints import IdConverter, bp, docs_bp
from portal.api.problems import init_problems, register_handlers
from portal.extensions import csrf


def init_app(app):
    """Register the API: routes, problem details, CORS by allow-list, no CSRF."""
    if not bp._got_registered_once:
        register_handlers(bp)
        register_handlers(docs_bp)
    app.url_map.converters["id"] = IdConverter
    csrf.exempt(bp)
    csrf.exempt(docs_bp)
    app.register_blueprint(bp)
    app.register_blueprint(docs_bp)
    init_problems(app)
    directory.init_app(app)
    _init_cors(app)


def _init_cors(app):
    origins = app.config.get("CORS_ORIGINS") or []
    if not origins:
        return
    from flask_cors import CORS

    CORS(
        app,
        resources={r"/api/v1/*": {"origins": origins}},
        allow_headers=["Authorization", "Content-Type", "Idempotency-Key", "Accept-Language"],
        expose_headers=["Location", "Retry-After", "WWW-Authenticate"],
        methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
        supports_credentials=False,
        max_age=600,
    )
