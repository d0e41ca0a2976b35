"""A database connection the server dropped (a restart, an idle timeout) costs no request."""

import pytest
from sqlalchemy import create_engine, select, text

from portal import create_app
from portal.auth.models import Role, User
from portal.extensions import db as _db
from tests.conftest import config_for

NAME = "portal-connection-test"


def portal_on(database_url, idle_seconds=10):
    return create_app(
        config_for(
            database_url,
            DATABASE_PING_AFTER_IDLE=idle_seconds,
            SQLALCHEMY_ENGINE_OPTIONS={
                "connect_args": {"application_name": NAME},
                "pool_size": 1,
                "max_overflow": 0,
            },
        )
    )


def drop_connections(database_url):
    """What a database restart does to the portal's pooled connections."""
    admin = create_engine(database_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        dropped = connection.execute(
            text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE application_name = :name"
            ),
            {"name": NAME},
        ).all()
    admin.dispose()
    return len(dropped)


@pytest.mark.parametrize("idle_seconds", [0, 3600])
def test_a_dropped_connection_is_replaced_once_it_has_sat_idle(app, backend, doctor, idle_seconds):
    if backend != "postgresql":
        pytest.skip("SQLite has no server to drop connections")
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    portal = portal_on(url, idle_seconds)
    client = portal.test_client()
    page = f"/doctors/{doctor.id}"
    try:
        assert client.get(page).status_code == 200  # the pool now holds a connection
        assert drop_connections(url) >= 1
        if idle_seconds == 0:
            # Idle longer than the setting: checked, replaced, and the visitor sees nothing.
            assert client.get(page).status_code == 200
        else:
            # Used moments ago, so not checked: this request meets the dead connection,
            # and the visitor is asked to try again in a moment (not a server error).
            failed = client.get(page)
            assert failed.status_code == 503
            assert failed.headers["Retry-After"]
            assert client.get(page).status_code == 200  # and the pool has recovered
    finally:
        with portal.app_context():
            _db.engine.dispose()


def test_the_connection_a_read_only_page_used_is_transactional_again(app, backend, doctor):
    if backend != "postgresql":
        pytest.skip("read_only changes nothing on SQLite")
    portal = portal_on(app.config["SQLALCHEMY_DATABASE_URI"])
    try:
        page = portal.test_client().get(
            f"/doctors/{doctor.id}/slots", headers={"HX-Request": "true"}
        )
        assert page.status_code == 200
        with portal.app_context():  # the pool's one connection, the one the page used
            _db.session.add(User(email="half@example.org", full_name="H", role=Role.PATIENT))
            _db.session.flush()
            _db.session.rollback()
            assert _db.session.scalar(select(User).where(User.email == "half@example.org")) is None
    finally:
        with portal.app_context():
            _db.engine.dispose()
