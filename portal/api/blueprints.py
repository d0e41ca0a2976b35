"""The API's two blueprints (the operations at /api/v1, the documentation at /api) and
the converter of record ids in their paths."""

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
