"""Which doctors' booking data changed, told to every worker by PostgreSQL.

The day-slots partial starts from a doctor's slot source (booking.services.slot_source:
the scheduling fields, the booking rules and the schedule version). A worker may keep a
source it read while nothing it comes from changes, and then serves the partial without
asking the database anything. To know when that is, it listens:

- Triggers in the database send a notice on the channel CHANNEL in the transaction of
  every change to those rows: a doctor's row (its id; every change of hours, time off or
  appointments gives the doctor a new schedule version, so those send one too), and a
  clinic, a user's active flag or the booking rules (EVERYONE). PostgreSQL delivers
  notices only when the transaction commits, after its rows are visible to others.
- Each worker listens on a connection of its own, in a thread, and forgets the sources a
  notice names. Its own commits it forgets at once, without waiting for the notice
  (after_commit below), so a visitor who just booked never sees the time offered again.
- A source is kept only if no notice arrived while it was read (the generation), so a
  read that raced a change is used once and not kept.
- While the worker is not listening (starting, or its connection lost) it keeps nothing
  and every request reads the database; when it listens again it starts afresh, as it
  may have missed notices. An idle connection is checked every PING_SECONDS, which
  bounds how long a connection the server dropped silently can go unnoticed.

SQLite has no notices: there every request reads the database.
"""

import logging
import os
import select as readiness
import threading
import uuid
import weakref

from cachetools import LRUCache
from flask import current_app, has_app_context
from sqlalchemy import DDL, create_engine, event, func, inspect, select
from sqlalchemy.orm import Session
from sqlalchemy.pool import NullPool

from portal.db import Base

log = logging.getLogger(__name__)

CHANNEL = "portal_slot_sources"
EVERYONE = "*"
MARK = "mark:"  # catch_up's own notices: nothing changed
EXTENSION = "portal.slot_source_watch"
PING_SECONDS = 5.0
RETRY_SECONDS = (0.5, 1, 2, 5, 10, 30)
CHANGED = "portal.slot_sources_changed"

# The triggers, for create_all (the tests); migrations create the same.
_FUNCTION = f"""
CREATE OR REPLACE FUNCTION portal_slot_sources_changed() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_TABLE_NAME = 'doctors' AND TG_LEVEL = 'ROW' THEN
        IF TG_OP = 'DELETE' THEN
            PERFORM pg_notify('{CHANNEL}', OLD.id::text);
        ELSE
            PERFORM pg_notify('{CHANNEL}', NEW.id::text);
        END IF;
    ELSE
        PERFORM pg_notify('{CHANNEL}', '{EVERYONE}');
    END IF;
    RETURN NULL;
END
$$
"""
_TRIGGERS = {
    "doctors": "AFTER UPDATE OR DELETE ON doctors FOR EACH ROW",
    "clinics": "AFTER UPDATE OR DELETE ON clinics FOR EACH STATEMENT",
    "users": "AFTER UPDATE OF is_active OR DELETE ON users FOR EACH STATEMENT",
    "booking_settings": "AFTER INSERT OR UPDATE OR DELETE ON booking_settings FOR EACH STATEMENT",
}
for _statement in (
    _FUNCTION,
    *(
        f"CREATE TRIGGER slot_sources_{table} {when} EXECUTE FUNCTION portal_slot_sources_changed()"
        for table, when in _TRIGGERS.items()
    ),
):
    event.listen(Base.metadata, "after_create", DDL(_statement).execute_if(dialect="postgresql"))
event.listen(
    Base.metadata,
    "after_drop",
    DDL("DROP FUNCTION IF EXISTS portal_slot_sources_changed()").execute_if(dialect="postgresql"),
)


class SourceWatch:
    """The slot sources one worker keeps, and the thread that tells it which to forget."""

    def __init__(self, url, connect_args, size):
        self._url = url
        self._connect_args = connect_args
        self._size = size
        self._reset()
        _WATCHES.add(self)

    def _reset(self):
        # Also in a forked process (a gunicorn worker of a preloaded app): it starts with
        # nothing kept, no thread, and a lock no thread of the parent can hold.
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        self._kept = LRUCache(maxsize=self._size)
        self._marks = set()
        self._generation = 0
        self._listening = False
        self._stop = None
        self._thread = None

    # Used by requests ---------------------------------------------------------------

    def _running(self):
        if self._thread is None:
            self._start()

    def lookup(self, doctor_id):
        """(the kept source or None, a token for keep); the token is None while the
        worker is not listening, and then nothing can be kept."""
        with self._lock:
            self._running()
            if not self._listening:
                return None, None
            return self._kept.get(doctor_id), self._generation

    def keep(self, doctor_id, source, token):
        """Keep a source read after lookup gave `token`, unless a notice came since."""
        with self._lock:
            if token is not None and self._listening and token == self._generation:
                self._kept[doctor_id] = source

    def forget(self, names):
        """Forget the sources of these doctor ids (EVERYONE: all of them)."""
        with self._lock:
            self._generation += 1
            if EVERYONE in names:
                self._kept.clear()
            else:
                for doctor_id in names:
                    self._kept.pop(doctor_id, None)

    def wait_until_listening(self, timeout=10):
        """Start listening if not yet, and wait for it; whether it listens."""
        with self._lock:
            self._running()
            return self._changed.wait_for(lambda: self._listening, timeout)

    def catch_up(self, timeout=10):
        """Wait until this worker has heard the notices of every transaction committed
        before the call; whether it has. PostgreSQL delivers notices in commit order, so
        a mark sent now arrives after all of them."""
        mark = MARK + uuid.uuid4().hex
        engine = create_engine(self._url, poolclass=NullPool, connect_args=self._connect_args)
        try:
            with engine.begin() as connection:
                connection.execute(select(func.pg_notify(CHANNEL, mark)))
        finally:
            engine.dispose()
        with self._lock:
            heard = self._changed.wait_for(lambda: mark in self._marks, timeout)
            self._marks.discard(mark)
            return heard

    def wait_until_not_listening(self, timeout=10):
        with self._lock:
            return self._changed.wait_for(lambda: not self._listening, timeout)

    def stop(self, timeout=5):
        """Stop listening (the app is going away); nothing is kept afterwards."""
        with self._lock:
            thread, self._thread = self._thread, None
            if thread is not None:
                self._stop.set()
            self._listening = False
            self._kept.clear()
            self._changed.notify_all()
        if thread is not None:
            thread.join(timeout)

    # The listening thread -----------------------------------------------------------

    def _start(self):
        self._stop = Wakeable()
        self._thread = threading.Thread(
            target=self._run, args=(self._stop,), name="slot-source-notices", daemon=True
        )
        self._thread.start()

    def _heard(self, payloads):
        names = {_name(payload) for payload in payloads if not payload.startswith(MARK)}
        if names:
            self.forget(names)
        marks = [payload for payload in payloads if payload.startswith(MARK)]
        if marks:
            with self._lock:
                self._marks.update(marks)
                self._changed.notify_all()

    def _set_listening(self, listening):
        with self._lock:
            self._generation += 1
            self._kept.clear()
            self._listening = listening
            self._changed.notify_all()

    def _run(self, stop):
        engine = create_engine(self._url, poolclass=NullPool, connect_args=self._connect_args)
        failures = 0
        while not stop.is_set():
            try:
                self._listen(engine, stop)
                failures = 0
            except Exception as error:  # any failure: stop keeping, then try again
                self._set_listening(False)
                if failures == 0:
                    log.warning("Not listening for slot source notices: %s", error)
                failures += 1
            stop.wait(RETRY_SECONDS[min(failures, len(RETRY_SECONDS)) - 1] if failures else 0)
        engine.dispose()
        stop.close()

    def _listen(self, engine, stop):
        connection = engine.raw_connection()
        lost = True
        try:
            dbapi = connection.dbapi_connection
            dbapi.autocommit = True
            with dbapi.cursor() as cursor:
                cursor.execute(f"LISTEN {CHANNEL}")
            self._set_listening(True)
            while not stop.is_set():
                readable, _, _ = readiness.select([dbapi, stop], [], [], PING_SECONDS)
                if stop.is_set():
                    break
                if not readable:
                    with dbapi.cursor() as cursor:
                        cursor.execute("SELECT 1")
                dbapi.poll()
                if dbapi.notifies:
                    payloads = [notice.payload for notice in dbapi.notifies]
                    dbapi.notifies.clear()
                    self._heard(payloads)
            lost = False
        finally:
            self._set_listening(False)
            if lost:  # nothing to roll back on a connection the server dropped
                connection.invalidate()
            connection.close()


_WATCHES = weakref.WeakSet()


def _after_fork():
    for source_watch in list(_WATCHES):
        source_watch._reset()


os.register_at_fork(after_in_child=_after_fork)


class Wakeable:
    """A stop flag the listening thread can wait on in select() with its connection."""

    def __init__(self):
        self._event = threading.Event()
        self._read, self._write = os.pipe()

    def fileno(self):
        return self._read

    def set(self):
        self._event.set()
        os.write(self._write, b"x")

    def is_set(self):
        return self._event.is_set()

    def wait(self, seconds):
        return self._event.wait(seconds)

    def close(self):
        os.close(self._read)
        os.close(self._write)


def _name(payload):
    """A doctor id, or EVERYONE (also for a notice this version does not understand)."""
    return int(payload) if payload.isdigit() else EVERYONE


def init_app(app):
    """Watch for notices when the portal runs on PostgreSQL and keeps slot sources."""
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    size = app.config["SLOT_SOURCE_CACHE_SIZE"]
    if size <= 0 or not str(url).startswith("postgresql"):
        app.extensions[EXTENSION] = None
        return
    options = app.config.get("SQLALCHEMY_ENGINE_OPTIONS") or {}
    app.extensions[EXTENSION] = SourceWatch(url, options.get("connect_args", {}), size)


def watch():
    """This app's watch, or None where slot sources are not kept."""
    return current_app.extensions.get(EXTENSION)


def stop(app):
    """Stop the app's listening thread, if it has one (tests dispose of their apps)."""
    source_watch = app.extensions.get(EXTENSION)
    if source_watch is not None:
        source_watch.stop()


# A worker's own commits ---------------------------------------------------------------


def _changed_names(session):
    from portal.auth.models import User
    from portal.booking.models import BookingSettings
    from portal.directory.models import Clinic, Doctor

    names = set()
    for instance in (*session.dirty, *session.deleted):
        if isinstance(instance, Doctor):
            names.add(instance.id)
        elif isinstance(instance, Clinic | BookingSettings) or (
            isinstance(instance, User)
            and (
                instance in session.deleted
                or inspect(instance).attrs.is_active.history.has_changes()
            )
        ):
            names.add(EVERYONE)
    for instance in session.new:
        if isinstance(instance, BookingSettings):
            names.add(EVERYONE)
    return names


@event.listens_for(Session, "after_flush")
def _note_changes(session, _context):
    names = _changed_names(session)
    if names:
        session.info.setdefault(CHANGED, set()).update(names)


def note_new_versions(session, doctor_ids):
    """The doctors given a new schedule version in this transaction (availability)."""
    session.info.setdefault(CHANGED, set()).update(doctor_ids)


@event.listens_for(Session, "after_commit")
def _forget_committed(session):
    if session.in_nested_transaction():  # a savepoint: the transaction goes on
        return
    names = session.info.pop(CHANGED, None)
    if names and has_app_context():
        source_watch = watch()
        if source_watch is not None:
            source_watch.forget(names)


@event.listens_for(Session, "after_rollback")
def _nothing_committed(session):
    if not session.in_nested_transaction():
        session.info.pop(CHANGED, None)
