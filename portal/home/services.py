"""Whether the portal can serve: the database answers."""

from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from portal.errors import DatabaseBusy, DatabaseUnavailable
from portal.extensions import db


def database_ok():
    """True when the database answers a trivial query (the request's end rolls back)."""
    try:
        db.session.execute(text("SELECT 1"))
    except (SQLAlchemyError, DatabaseUnavailable, DatabaseBusy):
        return False
    return True
