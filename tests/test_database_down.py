"""While the database cannot be reached, people get a clear page saying so (503, in their
language), signed in or not, and API clients get 503 problem details with Retry-After:
never a bare "Internal Server Error".

The app here talks to a database that really is unreachable: a PostgreSQL address where
nothing listens, or a SQLite file in a folder that does not exist."""

import socket

import pytest
from flask.testing import FlaskClient

from portal import create_app
from portal.api.security import issue_access_token
from portal.auth.models import User
from portal.db import utcnow
from portal.extensions import db as _db
from tests.conftest import config_for

PROBLEM = "application/problem+json"


def _closed_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class IsolatedClient(FlaskClient):
    def open(self, *args, **kwargs):
        with self.application.app_context():
            return super().open(*args, **kwargs)


@pytest.fixture(params=["sqlite", "postgresql"])
def unreachable(request, tmp_path):
    """An app whose database cannot be reached."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'no-such-folder' / 'portal.sqlite'}"
    else:
        url = f"postgresql://postgres@127.0.0.1:{_closed_port()}/portal?connect_timeout=2"
    app = create_app(config_for(url))
    app.test_client_class = IsolatedClient
    return app


def _signed_in(client):
    """A visitor whose session cookie names a signed-in user (as before the outage)."""
    with client.session_transaction() as session:
        # user 1, session version 1, signed in a minute ago
        now = int(utcnow().timestamp())
        session["_user_id"] = f"1:1:{now - 60}"
        session["seen_at"] = now - 60
        session["_fresh"] = True
    return client


@pytest.mark.parametrize("path", ["/", "/find", "/profile", "/appointments", "/admin/"])
@pytest.mark.parametrize("signed_in", [False, True])
def test_pages_say_the_database_is_unavailable(unreachable, path, signed_in):
    client = unreachable.test_client()
    if signed_in:
        _signed_in(client)
    response = client.get(path)
    if response.status_code in (302, 303):  # a page for signed-in people, as a visitor
        return
    assert response.status_code == 503
    assert response.headers["Retry-After"]
    assert "text/html" in response.content_type
    assert b"<html" in response.data
    assert b"cannot reach its database" in response.data


def test_the_page_is_in_the_visitors_language(unreachable):
    client = _signed_in(unreachable.test_client())
    response = client.get("/profile", headers={"Accept-Language": "fr"})
    assert response.status_code == 503
    assert "base de données" in response.get_data(as_text=True)


@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", "/api/v1/doctors"), ("GET", "/api/v1/me"), ("GET", "/api/v1/appointments")],
)
def test_the_api_answers_503_problem_details(unreachable, method, path):
    with unreachable.app_context():
        token = issue_access_token(User(id=1, session_version=1), now=utcnow())
    response = unreachable.test_client().open(
        path, method=method, headers={"Authorization": f"Bearer {token}"}
    )
    assert response.status_code == 503
    assert response.content_type == PROBLEM
    assert response.json["code"] == "database_unavailable"
    assert int(response.headers["Retry-After"]) > 0


def test_the_token_endpoint_answers_503(unreachable):
    response = unreachable.test_client().post(
        "/api/v1/auth/token",
        data={"grant_type": "password", "username": "ada@example.org", "password": "x"},
    )
    assert response.status_code == 503
    assert response.content_type == PROBLEM


@pytest.mark.parametrize("path", ["/health", "/api/v1/health"])
def test_health_says_the_database_is_unreachable(unreachable, path):
    response = unreachable.test_client().get(path)
    assert response.status_code == 503
    assert response.json["database"] == "unreachable"


@pytest.fixture
def one_connection(tmp_path):
    """An app whose pool holds one connection and waits a moment for it."""
    url = f"sqlite:///{tmp_path / 'portal.sqlite'}"
    options = {"pool_size": 1, "max_overflow": 0, "pool_timeout": 0.2}
    app = create_app(config_for(url, SQLALCHEMY_ENGINE_OPTIONS=options))
    app.test_client_class = IsolatedClient
    with app.app_context():
        _db.create_all()
    yield app
    with app.app_context():
        _db.engine.dispose()


@pytest.mark.parametrize("path", ["/find", "/api/v1/doctors"])
def test_every_connection_in_use_answers_503_not_500(one_connection, path):
    with one_connection.app_context():
        held = _db.engine.connect()  # another request holds the only connection
        try:
            response = one_connection.test_client().get(path)
        finally:
            held.close()
    assert response.status_code == 503
    assert response.headers["Retry-After"]
