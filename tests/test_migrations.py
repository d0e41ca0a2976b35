"""Migrations build the schema from nothing, agree with the models, and undo cleanly."""

import pytest
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect, text

from portal import create_app
from portal.extensions import db
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


def triggers(engine):
    """The triggers of the database and the functions they run, as their definitions."""
    with engine.connect() as connection:
        if engine.dialect.name == "sqlite":
            query = "SELECT sql FROM sqlite_master WHERE type = 'trigger'"
        else:
            query = (
                "SELECT pg_get_triggerdef(oid) FROM pg_trigger WHERE NOT tgisinternal "
                "UNION SELECT pg_get_functiondef(oid) FROM pg_proc WHERE proname LIKE 'portal%'"
            )
        return {row[0] for row in connection.execute(text(query))}


def a_doctor(connection):
    """A doctor inserted with Core and no schedule version (0, the column's default), as
    an import script might; their id."""
    tables = db.metadata.tables
    user_id = connection.execute(
        tables["users"].insert().values(email="d@example.org", full_name="D", role="doctor")
    ).inserted_primary_key[0]
    clinic_id = connection.execute(
        tables["clinics"]
        .insert()
        .values(name="C", city="Paris", country="FR", timezone="Europe/Paris")
    ).inserted_primary_key[0]
    return connection.execute(
        tables["doctors"]
        .insert()
        .values(user_id=user_id, clinic_id=clinic_id, license_number="L-1", schedule_version=0)
    ).inserted_primary_key[0]


def version_after(connection, doctor_id, statement):
    connection.execute(text(statement), {"doctor_id": doctor_id})
    return connection.execute(
        text("SELECT schedule_version FROM doctors WHERE id = :doctor_id"),
        {"doctor_id": doctor_id},
    ).scalar_one()


ADD_HOURS = (
    "INSERT INTO weekly_hours (doctor_id, weekday, start_time, end_time) "
    "VALUES (:doctor_id, 0, '09:00:00', '12:00:00')"
)


def test_a_migrated_database_has_the_models_triggers_and_loses_them_going_down(
    empty_app, backend, tmp_path
):
    with fresh_database(backend, tmp_path) as url:
        built = create_app(config_for(url))
        with built.app_context():
            db.create_all()
            from_the_models = triggers(db.engine)
            db.engine.dispose()
    with empty_app.app_context():
        upgrade()
        assert triggers(db.engine) == from_the_models
        with db.engine.begin() as connection:
            doctor_id = a_doctor(connection)
            first = version_after(connection, doctor_id, "SELECT 1")
            assert first != 0, "a doctor inserted without a version gets a random one"
            assert version_after(connection, doctor_id, ADD_HOURS) != first
        downgrade(revision="8b2d4e6f1a93")
        names = " ".join(triggers(db.engine))
        assert "schedule_version" not in names
        if backend == "postgresql":  # the notices of that revision are back
            assert "slot_sources_doctors" in names
        with db.engine.begin() as connection:
            doctor_id = connection.execute(text("SELECT id FROM doctors")).scalar_one()
            before = version_after(connection, doctor_id, "SELECT 1")
            assert version_after(connection, doctor_id, ADD_HOURS) == before
        upgrade()
        assert triggers(db.engine) == from_the_models


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
