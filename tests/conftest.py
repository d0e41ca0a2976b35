"""Fixtures: the app on each database, clients, signing in, and record factories.

Every test that uses `app` runs on SQLite, and again on PostgreSQL when
TEST_DATABASE_URL is set (a fresh database per run, created and dropped here).
"""

import os
import socket
import uuid
from contextlib import contextmanager
from datetime import datetime, time
from decimal import Decimal

import pytest
import time_machine
from aiosmtpd.controller import Controller
from flask.testing import FlaskClient
from sqlalchemy import create_engine, delete, text
from sqlalchemy.engine import make_url

from portal import create_app
from portal.auth.models import Role, User
from portal.auth.passwords import hash_password
from portal.booking.models import DEFAULT_SETTINGS, BookingSettings
from portal.directory.models import Clinic, Department, DirectoryState, Doctor, Patient
from portal.extensions import db as _db
from portal.extensions import limiter
from portal.scheduling.models import WeeklyHours

PASSWORD = "correct-horse-battery"

# Every test but the browser journeys starts at this instant and the clock runs on from
# there, so no result depends on the day or the hour the suite runs. PORTAL_TEST_NOW
# names another instant (ISO 8601 with an offset); CI runs the suite at a few of them: a
# weekday afternoon, a weekend night, and the nights the clocks change.
SUITE_NOW = datetime.fromisoformat(os.environ.get("PORTAL_TEST_NOW") or "2026-06-10T09:30:00+00:00")
if SUITE_NOW.tzinfo is None:
    raise ValueError("PORTAL_TEST_NOW needs an offset, for example 2026-12-04T15:00:00+00:00")

BACKENDS = ["sqlite"]
if os.environ.get("TEST_DATABASE_URL"):
    BACKENDS.append("postgresql")


def config_for(database_url, **extra):
    """The configuration every test app starts from."""
    return {
        "TESTING": True,
        "ENV_NAME": "test",
        "SECRET_KEY": "test-secret-key",
        "SQLALCHEMY_DATABASE_URI": database_url,
        "WTF_CSRF_ENABLED": False,
        "BCRYPT_ROUNDS": 4,
        "RATELIMIT_STORAGE_URI": "memory://",
        # Messages wait in the outbox; a test delivers them (tests/messages).
        "MAIL_BACKEND": "locmem",
        "CELERY_BROKER_URL": None,
        "MESSAGES_COURIER": False,
        **extra,
    }


@contextmanager
def fresh_database(backend, tmp_path):
    """An empty database of the backend, dropped afterwards."""
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / ('db-' + uuid.uuid4().hex[:8] + '.sqlite')}"
        return
    base = make_url(os.environ["TEST_DATABASE_URL"])
    name = "portal_test_" + uuid.uuid4().hex[:12]
    server = create_engine(base.set(database="postgres"), isolation_level="AUTOCOMMIT")
    quoted = server.dialect.identifier_preparer.quote(name)
    with server.connect() as connection:
        connection.execute(text(f"CREATE DATABASE {quoted}"))
    try:
        yield base.set(database=name).render_as_string(hide_password=False)
    finally:
        with server.connect() as connection:
            connection.execute(text(f"DROP DATABASE IF EXISTS {quoted} WITH (FORCE)"))
        server.dispose()


class IsolatedClient(FlaskClient):
    """Each request gets its own app context (its own `g` and database session), as in
    production, even while the test holds one open for its factories."""

    def open(self, *args, **kwargs):
        with self.application.app_context():
            return super().open(*args, **kwargs)


@pytest.fixture(autouse=True)
def controlled_clock(request):
    """The suite's clock (time-machine). Browser journeys run on the real clock: Chromium
    keeps its own, and a cookie dated by a moved clock would look expired to it."""
    if request.node.get_closest_marker("e2e"):
        yield None
        return
    with time_machine.travel(SUITE_NOW, tick=True) as traveller:
        yield traveller


@pytest.fixture(scope="session", params=BACKENDS)
def backend(request):
    return request.param


@pytest.fixture(scope="session")
def _session_app(backend, tmp_path_factory):
    with fresh_database(backend, tmp_path_factory.mktemp("db")) as url:
        app = create_app(config_for(url))
        app.test_client_class = IsolatedClient
        with app.app_context():
            _db.create_all()
        yield app
        with app.app_context():
            _db.engine.dispose()


@pytest.fixture
def app(_session_app):
    """The portal with empty tables, default booking settings and the directory's
    version row (the migrations create both rows)."""
    with _session_app.app_context():
        _db.session.add(BookingSettings(id=1, **DEFAULT_SETTINGS))
        _db.session.merge(DirectoryState(id=1, version=0))
        _db.session.commit()
        limiter.reset()
    yield _session_app
    with _session_app.app_context():
        _db.session.remove()
        for table in reversed(_db.metadata.sorted_tables):
            _db.session.execute(delete(table))
        _db.session.commit()


@pytest.fixture
def db(app):
    with app.app_context():
        yield _db


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


class HtmxClient:
    """A test client whose requests come from htmx."""

    def __init__(self, client):
        self.client = client

    def __getattr__(self, verb):
        method = getattr(self.client, verb)

        def call(*args, headers=None, **kwargs):
            return method(*args, headers={"HX-Request": "true", **(headers or {})}, **kwargs)

        return call


@pytest.fixture
def htmx(client):
    return HtmxClient(client)


class Auth:
    def __init__(self, client):
        self.client = client

    def login(self, user_or_email, password=PASSWORD, **extra):
        email = getattr(user_or_email, "email", user_or_email)
        return self.client.post("/login", data={"email": email, "password": password, **extra})

    def logout(self):
        return self.client.post("/logout")


@pytest.fixture
def auth(client):
    return Auth(client)


@pytest.fixture
def make_user(db):
    counter = iter(range(1, 100000))

    def make(role=Role.PATIENT, **overrides):
        number = next(counter)
        values = {
            "email": f"{role}{number}@example.org",
            "full_name": f"{str(role).title()} Person {number}",
            "role": role,
            "password_hash": hash_password(PASSWORD),
        }
        values.update(overrides)
        user = User(**values)
        db.session.add(user)
        db.session.commit()
        return user

    return make


@pytest.fixture
def make_clinic(db):
    def make(**overrides):
        values = {
            "name": "Clinique du Parc",
            "city": "Paris",
            "country": "FR",
            "timezone": "Europe/Paris",
        }
        values.update(overrides)
        clinic = Clinic(**values)
        db.session.add(clinic)
        db.session.commit()
        return clinic

    return make


@pytest.fixture
def make_department(db):
    counter = iter(range(1, 100000))

    def make(**overrides):
        number = next(counter)
        values = {
            "code": f"dept{number}",
            "name": f"Department {number}",
            "translations": {"fr": {"name": f"Spécialité {number}"}},
        }
        values.update(overrides)
        department = Department(**values)
        db.session.add(department)
        db.session.commit()
        return department

    return make


@pytest.fixture
def make_doctor(db, make_user, make_clinic):
    counter = iter(range(1, 100000))

    def make(*, user=None, clinic=None, hours=True, **overrides):
        number = next(counter)
        user = user or make_user(Role.DOCTOR)
        values = {
            "user": user,
            "clinic": clinic or make_clinic(),
            "title": "Dr",
            "license_number": f"LIC-{number:05d}",
            "consultation_fee": Decimal("40"),
        }
        values.update(overrides)
        doctor = Doctor(**values)
        db.session.add(doctor)
        if hours:
            for weekday in range(5):
                db.session.add(
                    WeeklyHours(
                        doctor=doctor, weekday=weekday, start_time=time(9), end_time=time(17)
                    )
                )
        db.session.commit()
        return doctor

    return make


@pytest.fixture
def make_patient(db, make_user):
    def make(*, user=None, **overrides):
        patient = Patient(user=user or make_user(Role.PATIENT), **overrides)
        db.session.add(patient)
        db.session.commit()
        return patient

    return make


@pytest.fixture
def admin(make_user):
    return make_user(Role.ADMIN, email="admin@example.org", full_name="Ada Admin")


@pytest.fixture
def doctor(make_doctor):
    return make_doctor()


@pytest.fixture
def patient(make_patient):
    return make_patient()


# Mail: a real SMTP server in the test process, and the portal pointed at it.


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Inbox:
    """What the SMTP server received: (sender, recipients, raw message bytes)."""

    def __init__(self):
        self.received = []

    async def handle_DATA(self, server, session, envelope):
        self.received.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.content))
        return "250 Message accepted for delivery"


class SmtpServer:
    def __init__(self):
        self.port = free_port()
        self.inbox = Inbox()
        self.controller = None

    def start(self):
        self.controller = Controller(self.inbox, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self):
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    @property
    def received(self):
        return self.inbox.received


@contextmanager
def mail_settings(app, **values):
    """Change the mail settings of the session's app for one test."""
    state = app.extensions["mailman"]
    before = {name: getattr(state, name) for name in values}
    for name, value in values.items():
        setattr(state, name, value)
    try:
        yield state
    finally:
        for name, value in before.items():
            setattr(state, name, value)


@pytest.fixture
def smtp_server(app):
    """A running SMTP server on a free port that the portal sends to."""
    server = SmtpServer()
    server.start()
    with mail_settings(app, backend="smtp", server="127.0.0.1", port=server.port, timeout=5):
        yield server
    server.stop()


@pytest.fixture
def smtp_down(app):
    """The portal pointed at a port where no SMTP server listens."""
    with mail_settings(app, backend="smtp", server="127.0.0.1", port=free_port(), timeout=2):
        yield


@pytest.fixture
def mail_outbox(app):
    """The messages the locmem backend took, emptied for the test."""
    state = app.extensions["mailman"]
    state.outbox = []
    return state.outbox


def pytest_terminal_summary(terminalreporter):
    """Say how many tests ran on each database and in the browser."""
    counts = {}
    for outcome in ("passed", "failed", "error", "skipped"):
        for report in terminalreporter.stats.get(outcome, []):
            nodeid = getattr(report, "nodeid", "")
            if "[postgresql" in nodeid:
                where = "PostgreSQL"
            elif "[sqlite" in nodeid:
                where = "SQLite"
            elif "tests/e2e/" in nodeid:
                where = "Chromium (browser)"
            else:
                where = "no database"
            counts.setdefault(where, {}).setdefault(outcome, 0)
            counts[where][outcome] += 1
    if not os.environ.get("TEST_DATABASE_URL"):
        terminalreporter.write_line("PostgreSQL: not run (TEST_DATABASE_URL is not set)")
    for where, outcomes in sorted(counts.items()):
        parts = ", ".join(f"{number} {outcome}" for outcome, number in sorted(outcomes.items()))
        terminalreporter.write_line(f"Tests on {where}: {parts}")
