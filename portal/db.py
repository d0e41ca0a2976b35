"""Declarative base, constraint naming and the column types every feature shares."""

import copy
import sqlite3
import time
from datetime import UTC, datetime

from flask import current_app, g, has_app_context, request
from flask import session as cookie_session
from sqlalchemy import JSON, DateTime, MetaData, event, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DisconnectionError, IntegrityError, SQLAlchemyError
from sqlalchemy.orm import DeclarativeBase, Session, scoped_session
from sqlalchemy.types import TypeDecorator

from portal.errors import ChangedMeanwhile, DatabaseBusy, DatabaseUnavailable, DomainError

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
    # WAL lets readers carry on while one gunicorn worker writes. A second writer waits
    # for the lock for the driver's timeout (SQLITE_BUSY_TIMEOUT_MS).
    if isinstance(dbapi_connection, sqlite3.Connection):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()


# PostgreSQL's answers when a lock could not be had in time or a transaction lost a race
# it cannot be told apart from: lock_not_available, serialization_failure, deadlock.
BUSY_SQLSTATES = frozenset({"55P03", "40001", "40P01"})


def is_busy(error):
    """Whether a driver error means other writers held the database too long."""
    if isinstance(error, sqlite3.OperationalError):
        return getattr(error, "sqlite_errorname", "") in {"SQLITE_BUSY", "SQLITE_LOCKED"} or (
            str(error).startswith(("database is locked", "database is busy"))
        )
    return getattr(error, "pgcode", None) in BUSY_SQLSTATES


@event.listens_for(Engine, "handle_error")
def _busy_is_a_clear_answer(context):
    # A busy database is not a bug: it answers 503 with Retry-After (on every page and
    # in the API) instead of a server error, and the client tries again.
    if is_busy(context.original_exception):
        return DatabaseBusy()
    if is_unreachable(context):
        return DatabaseUnavailable()
    return None


def is_unreachable(context):
    """Whether a driver error means the database cannot be reached: no connection could
    be opened (context.connection is None), or the one in use was lost."""
    dbapi = context.dialect.loaded_dbapi if context.dialect else None
    if dbapi is None or not isinstance(
        context.original_exception, (dbapi.OperationalError, dbapi.InterfaceError)
    ):
        return False
    return context.is_disconnect or context.connection is None


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
    """Take SQLite's write lock now, so that what a service reads next stays true until
    it commits; PostgreSQL needs nothing here (the locking read takes row locks).

    The driver begins a transaction only with the first write, so reads before it take
    no lock: the lock is held from the first locking read or write to the commit, never
    while a request hashes a password or renders a page before that. Called for every
    SELECT ... FOR UPDATE (see _lock_before_locking_read), which is how services say
    that they read in order to write; two bookings then cannot both read "free" and both
    write. A second writer waits for the lock (the busy timeout), then gets 503.
    """
    connection = session.connection()
    if connection.dialect.name != "sqlite":
        return
    if not connection.connection.dbapi_connection.in_transaction:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


@event.listens_for(Session, "do_orm_execute")
def _lock_before_locking_read(state):
    # SQLite ignores FOR UPDATE: its only lock is the whole database's write lock.
    if state.is_select and state.statement._for_update_arg is not None:
        begin_write(state.session)


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
    """Check idle PostgreSQL connections before use."""
    engine = session.get_bind()
    if engine.dialect.name == "postgresql":
        manage_pool(engine, app.config["DATABASE_PING_AFTER_IDLE"])


# The request's transaction ---------------------------------------------------------------

KEEP_CHANGES = "portal_keep_changes"
SESSION_BEFORE = "portal_session_before"


def database_ok(session):
    """True when the database answers a trivial query (the request's end rolls back)."""
    try:
        session.execute(text("SELECT 1"))
    except (SQLAlchemyError, DatabaseBusy, DatabaseUnavailable):
        return False
    return True


def keep_changes():
    """Save this request's changes even though it answers with an error: a refresh token
    used twice revokes its account's tokens for good, and says no."""
    setattr(g, KEEP_CHANGES, True)


def init_transactions(app, session):
    """One transaction per request, ended in one place, for pages and API alike (as
    indico's request handler does): committed once when the answer is a success or a
    redirect, rolled back once when it is an error. Services only flush.

    A commit that fails (the database stayed busy, or a constraint refused what another
    request saved at the same moment) is rolled back and answers that error instead, never
    the success the view had prepared; the visitor's session is then put back as the
    request found it, so no message announces a change that was not saved and nobody is
    signed in to an account that does not exist."""

    @app.before_request
    def _remember_the_visitors_session():
        if request.method not in WRITE_METHODS:
            return
        visitor = cookie_session._get_current_object()
        accessed = getattr(visitor, "accessed", False)
        setattr(g, SESSION_BEFORE, copy.deepcopy(dict(visitor)))
        # Looking is not using: an untouched session adds no Vary: Cookie.
        if hasattr(visitor, "accessed"):
            visitor.accessed = accessed

    @app.after_request
    def _end_the_transaction(response):
        keep = g.pop(KEEP_CHANGES, False)
        before = g.pop(SESSION_BEFORE, None)
        if not session.registry.has():
            return response  # the request never used the database
        if response.status_code >= 400 and not keep:
            session.rollback()
            return response
        if not session().in_transaction():
            return response
        try:
            session.commit()
        except IntegrityError:
            failure = ChangedMeanwhile()
        except DomainError as error:
            failure = error
        else:
            return response
        session.rollback()
        if before is not None:
            visitor = cookie_session._get_current_object()
            visitor.clear()
            visitor.update(before)
        return current_app.make_response(current_app.handle_user_exception(failure))
