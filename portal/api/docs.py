"""The OpenAPI document and Swagger UI, both served from this site (no CDN)."""

import json

from flask import current_app, render_template

from portal.api.blueprints import bp, docs_bp
from portal.api.openapi import build_document

SWAGGER_UI = "vendor/swagger-ui-5.35.0"


def _document():
    cached = current_app.extensions.get("portal_openapi")
    if cached is None:
        cached = json.dumps(build_document(), ensure_ascii=False)
        current_app.extensions["portal_openapi"] = cached
    return cached


@bp.get("/openapi.json")
def openapi():
    """The OpenAPI 3.1 document of the API."""
    return current_app.response_class(_document(), mimetype="application/json")


@docs_bp.get("/docs")
def docs():
    """Swagger UI, with the Authorize button wired to the token endpoint."""
    return render_template("api/docs.html", swagger_ui=SWAGGER_UI)
