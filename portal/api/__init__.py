"""The JSON API at /api/v1: thin adapters over the services, described by OpenAPI 3.1.

Requests authenticate with a bearer token only (never the session cookie), so CSRF does
not apply and the blueprints are exempt from it. Every error under /api is a problem
details document (RFC 9457), never an HTML page.
"""

from flask import Blueprint
from werkzeug.routing import BaseConverter

bp = Blueprint("api", __name__, url_prefix="/api/v1")
docs_bp = Blueprint(
    "api_docs",
    __name__,
    url_prefix="/api",
    static_folder="static",
    static_url_path="/docs/static",
)

# Ids are 32-bit integers in every database; a larger number is simply not found.
MAX_ID = 2**31 - 1


class IdConverter(BaseConverter):
    """A record id. Numbers no table can hold become 0, which names no record (404)."""

    regex = r"\d+"
    weight = 50

    def to_python(self, value):
        number = int(value)
        return number if number <= MAX_ID else 0

    def to_url(self, value):
        return str(int(value))


def init_app(app):
    """Register the API: routes, problem details, CORS by allow-list, no CSRF."""
    from portal.api import (  # noqa: F401  (the modules register their routes)
        account,
        booking,
        directory,
        docs,
        operations,
        patients,
        scheduling,
    )
    from portal.api.problems import init_problems, register_handlers
    from portal.extensions import csrf

    if not bp._got_registered_once:
        register_handlers(bp)
        register_handlers(docs_bp)
    app.url_map.converters["id"] = IdConverter
    csrf.exempt(bp)
    csrf.exempt(docs_bp)
    app.register_blueprint(bp)
    app.register_blueprint(docs_bp)
    init_problems(app)
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
