"""Declarative base, constraint naming and the column types every feature shares."""

import sqlite3
import time
from datetime import UTC, datetime

from flask import g, has_app_context
from sqlalchemy import JSON, DateTime, MetaData, event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.orm import DeclarativeBase, Session, scoped_session
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def utcnow():
    """The current instant, aware, in UTC."""
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator):
    """An instant stored in UTC; always read back as an aware datetime.

    SQLite has no time zone type, so values are stored there as naive UTC, which keeps
    comparisons in SQL correct on both databases.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given for a UTC column")
        value = value.astimezone(UTC)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class Translations(TypeDecorator):
    """A mapping from language code to a dict of translated fields, stored as JSON."""

    impl = JSON
    cache_ok = True

    def process_bind_param(self, value, dialect):
        return dict(value or {})

    def process_result_value(self, value, dialect):
        return dict(value or {})


@event.listens_for(Engine, "connect")
def _configure_sqlite(dbapi_connection, connection_record):
    # WAL lets readers carry on while one gunicorn worker writes; the busy timeout makes
    # a second writer wait for the lock instead of failing at once.
    if isinstance(dbapi_connection, sqlite3.Connection):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=10000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()


class TranslatedMixin:
    """Rows whose texts carry translations in a `translations` JSON column."""

    def translated(self, field, lang):
        """The field in `lang`, falling back to the default text."""
        return (self.translations.get(lang) or {}).get(field) or getattr(self, field)


def read_only(session):
    """Run a request that only reads without a transaction on PostgreSQL: each statement
    then reads what is committed when it starts, as it would inside a read-committed
    transaction, and the BEGIN and ROLLBACK round trips are saved. Call it before the
    request's first statement, and only in a view that writes nothing; a request that
    has begun a transaction already keeps it. SQLite has no round trips to save.

    Nothing happens until the request's first statement, and a request that sends none
    (everything it needs kept in the worker) takes no connection from the pool. Then the
    driver's autocommit flag is switched, which costs no round trip (SQLAlchemy's
    AUTOCOMMIT isolation level sends a SET when the connection goes back to the pool);
    manage_pool's checkin listener switches it back for the connection's next user."""
    if isinstance(session, scoped_session):
        if not session.registry.has():  # no session yet, so nothing begun: none made
            setattr(g, READ_ONLY, True)
            return
        session = session()
    if not session.in_transaction():
        setattr(g, READ_ONLY, True)


READ_ONLY = "portal_read_only"


@event.listens_for(Session, "after_begin")
def _begin_read_only(_session, _transaction, connection):
    # The request's session and g live as long as its app context (Flask-SQLAlchemy).
    if not has_app_context() or not g.pop(READ_ONLY, False):
        return
    if connection.dialect.name == "postgresql":
        # No statement has run: psycopg2 sends BEGIN with the first one, so none is sent.
        connection.connection.dbapi_connection.autocommit = True


def begin_write(session):
    """Start a write that must see a stable picture of the data it checks.

    On SQLite this takes the database's write lock at once (BEGIN IMMEDIATE), so two
    bookings cannot both read "free" and then both write; the second waits for the
    first (busy timeout). PostgreSQL needs nothing here: services lock the rows they
    depend on (SELECT ... FOR UPDATE) and constraints do the rest.
    """
    if session.get_bind().dialect.name != "sqlite":
        return
    # End the read-only transaction the request may have started (loading the user),
    # then begin the write transaction with the lock held.
    session.rollback()
    session.connection().exec_driver_sql("BEGIN IMMEDIATE")


WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def manage_pool(engine, seconds):
    """Hand out PostgreSQL connections as a request expects them.

    A pooled connection that sat unused for more than `seconds` is checked before it is
    handed out, and replaced if the server dropped it (a restart at night, an idle
    timeout), so that costs no request. A connection in steady use skips the check, a
    round trip saved on every request (SQLAlchemy's pool_pre_ping checks every time); if
    the server drops it even so, the one request using it fails and the pool starts
    afresh. A connection read_only switched to autocommit is switched back on return."""

    @event.listens_for(engine, "checkin")
    def _back_in_the_pool(dbapi_connection, record):
        record.info["idle_since"] = time.monotonic()
        if dbapi_connection is not None and dbapi_connection.autocommit:
            dbapi_connection.autocommit = False  # after read_only

    @event.listens_for(engine, "checkout")
    def _ping_if_idle(dbapi_connection, record, _proxy):
        idle_since = record.info.get("idle_since")
        if idle_since is None or time.monotonic() - idle_since <= seconds:
            return
        try:
            engine.dialect.do_ping(dbapi_connection)
        except engine.dialect.loaded_dbapi.Error as error:
            # The pool discards this connection and checks out a fresh one.
            raise DisconnectionError() from error


def init_app(app, session):
    """Check idle PostgreSQL connections before use, and give every state-changing
    request on SQLite its write lock up front."""

    from flask import request

    engine = session.get_bind()
    if engine.dialect.name == "postgresql":
        manage_pool(engine, app.config["DATABASE_PING_AFTER_IDLE"])

    @app.before_request
    def _lock_for_writes():
        if request.method in WRITE_METHODS:
            begin_write(session)
