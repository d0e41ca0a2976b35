"""Migrations build the schema from nothing, agree with the models, and undo cleanly."""

import pytest
from flask_migrate import downgrade, upgrade
from sqlalchemy import create_engine, inspect, text

from portal import create_app
from portal.extensions import db
from portal.scheduling import notices
from tests.conftest import config_for, fresh_database


@pytest.fixture
def empty_app(backend, tmp_path):
    with fresh_database(backend, tmp_path) as url:
        app = create_app(config_for(url))
        yield app
        with app.app_context():
            db.engine.dispose()


def test_upgrade_from_empty_matches_the_models_and_downgrades(empty_app):
    runner = empty_app.test_cli_runner()
    with empty_app.app_context():
        upgrade()
        tables = set(inspect(db.engine).get_table_names())
        assert set(db.metadata.tables) <= tables
        result = runner.invoke(args=["db", "check"])
        assert result.exit_code == 0, result.output
        downgrade(revision="base")
        assert set(inspect(db.engine).get_table_names()) == {"alembic_version"}
        upgrade()
        assert set(db.metadata.tables) <= set(inspect(db.engine).get_table_names())


def notices_sent(url, statement):
    """The notices another connection hears while `statement` is committed."""
    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    with engine.connect() as listener, engine.connect() as writer:
        listener.exec_driver_sql(f"LISTEN {notices.CHANNEL}")
        writer.execute(text(statement))
        listener.exec_driver_sql("SELECT 1")  # receives what arrived meanwhile
        heard = [notice.payload for notice in listener.connection.dbapi_connection.notifies]
    engine.dispose()
    return heard


def test_a_migrated_database_tells_workers_the_booking_rules_changed(empty_app, backend):
    if backend != "postgresql":
        pytest.skip("SQLite sends no notices")
    url = empty_app.config["SQLALCHEMY_DATABASE_URI"]
    change = "UPDATE booking_settings SET horizon_days = horizon_days + 1"
    with empty_app.app_context():
        upgrade()
        assert notices_sent(url, change) == [notices.EVERYONE]
        downgrade(revision="3c1f5a9d2e47")
        assert notices_sent(url, change) == []


def test_the_booking_rules_row_is_there_after_upgrading(empty_app):
    count = text("SELECT count(*) FROM booking_settings")
    with empty_app.app_context():
        upgrade(revision="8b2d4e6f1a93")
        with db.engine.begin() as connection:
            connection.execute(text("DELETE FROM booking_settings"))
        upgrade()
        with db.engine.connect() as connection:
            assert connection.scalar(count) == 1
        downgrade(revision="8b2d4e6f1a93")
        with db.engine.connect() as connection:
            assert connection.scalar(count) == 0
