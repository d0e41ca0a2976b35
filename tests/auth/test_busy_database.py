"""Many people at once on SQLite: sign-ups never fail with a server error, and a database
that stays busy answers 503 with a message, never 500."""

import sqlite3
import threading

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select

from portal import create_app
from portal.auth.models import User
from portal.booking.models import DEFAULT_SETTINGS, BookingSettings
from portal.extensions import db as _db
from tests.conftest import config_for

PASSWORD = "tulip-harbour-42"


class IsolatedClient(FlaskClient):
    def open(self, *args, **kwargs):
        with self.application.app_context():
            return super().open(*args, **kwargs)


@pytest.fixture
def sqlite_app(tmp_path):
    """An app of its own on a SQLite file, so its settings can differ from the suite's."""

    def make(**overrides):
        path = tmp_path / "busy.sqlite"
        app = create_app(config_for(f"sqlite:///{path}", **overrides))
        app.test_client_class = IsolatedClient
        with app.app_context():
            _db.create_all()
            _db.session.add(BookingSettings(id=1, **DEFAULT_SETTINGS))
            _db.session.commit()
        made.append(app)
        return app, path

    made = []
    yield make
    for app in made:
        with app.app_context():
            _db.engine.dispose()


def _sign_up(client, number):
    return client.post(
        "/register",
        data={
            "full_name": f"Person {number}",
            "email": f"person{number}@example.org",
            "password": PASSWORD,
            "confirm": PASSWORD,
        },
    )


def test_sixty_simultaneous_sign_ups_with_real_hashing_never_answer_500(sqlite_app):
    # The production cost of a password hash: the write lock must not wait for it.
    app, _path = sqlite_app(BCRYPT_ROUNDS=12, REGISTER_LIMIT_PER_ADDRESS="100 per hour")
    barrier = threading.Barrier(60)
    responses = [None] * 60

    def sign_up(number):
        client = app.test_client()
        barrier.wait()
        try:
            responses[number] = _sign_up(client, number).status_code
        except Exception as error:  # the test app re-raises what would be a 500
            responses[number] = repr(error)

    threads = [threading.Thread(target=sign_up, args=(number,)) for number in range(60)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    statuses = responses
    assert set(statuses) <= {303, 503}, statuses
    with app.app_context():
        saved = _db.session.scalar(select(func.count()).select_from(User))
    assert saved == statuses.count(303)
    assert statuses.count(303) == 60


@pytest.fixture
def locked(sqlite_app):
    """An app whose database another program holds the write lock of."""
    app, path = sqlite_app(SQLITE_BUSY_TIMEOUT_MS=50)
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    yield app
    other.execute("ROLLBACK")
    other.close()


def test_a_sign_up_on_a_busy_database_is_asked_to_try_again(locked):
    response = _sign_up(locked.test_client(), 1)
    assert response.status_code == 503
    assert response.headers["Retry-After"]
    assert "The database is busy" in response.get_data(as_text=True)
    assert "_flashes" not in response.headers.get("Set-Cookie", "")


def test_an_api_sign_up_on_a_busy_database_is_a_problem_with_retry_after(locked):
    response = locked.test_client().post(
        "/api/v1/auth/register",
        json={"email": "new@example.org", "full_name": "New Person", "password": PASSWORD},
    )
    assert response.status_code == 503
    assert response.headers["Retry-After"]
    assert response.content_type == "application/problem+json"
    assert response.get_json()["code"] == "database_busy"


def test_one_address_signed_up_for_twelve_times_at_once_makes_one_account(sqlite_app):
    app, _path = sqlite_app()
    barrier = threading.Barrier(12)
    statuses = [None] * 12

    def sign_up(index):
        client = app.test_client()
        barrier.wait()
        try:
            statuses[index] = _sign_up(client, 1).status_code
        except Exception as error:  # the test app re-raises what would be a 500
            statuses[index] = repr(error)

    threads = [threading.Thread(target=sign_up, args=(index,)) for index in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert sorted(statuses, key=str) == [303] + [422] * 11, statuses
    with app.app_context():
        assert _db.session.scalar(select(func.count()).select_from(User)) == 1
