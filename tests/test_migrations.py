"""Migrations build the schema from nothing, agree with the models, and undo cleanly."""

from datetime import UTC, datetime, timedelta

import pytest
from alembic import command as alembic_command
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect, text
from sqlalchemy.exc import IntegrityError

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


# What points at users, counted before and after a migration that rebuilds the table.
REFERENCES_TO_USERS = {
    "patients": "user_id",
    "doctors": "user_id",
    "activation_tokens": "user_id",
    "account_tokens": "user_id",
    "refresh_tokens": "user_id",
    "messages": "user_id",
    "audit_events": "actor_id",
    "appointments": "booked_by_id",
}


def references_to_users(connection):
    """For each table pointing at users: its rows, and those whose reference is set."""
    return {
        table: connection.execute(
            text(f"SELECT count(*), count({column}) FROM {table}")  # noqa: S608 (names above)
        ).one()
        for table, column in REFERENCES_TO_USERS.items()
    }


def people_with_everything(connection):
    """A patient with a visit booked by an admin, a message, an activation link, a reset
    link, a refresh token and an audit trail, inserted with Core (the models' defaults)."""
    tables = db.metadata.tables
    now = datetime(2026, 6, 10, 9, 30, tzinfo=UTC)
    later = now + timedelta(days=7)

    def insert(table, **values):
        return connection.execute(tables[table].insert().values(**values)).inserted_primary_key[0]

    admin = insert("users", email="ada@example.org", full_name="Ada", role="admin")
    person = insert("users", email="noe@example.org", full_name="Noé", role="patient")
    doctor_user = insert("users", email="dr@example.org", full_name="Dr", role="doctor")
    clinic = insert("clinics", name="C", city="Lyon", country="FR", timezone="Europe/Paris")
    doctor = insert("doctors", user_id=doctor_user, clinic_id=clinic, license_number="L-1")
    patient = insert("patients", user_id=person, phone="+33 6 00 00 00 00")
    appointment = insert(
        "appointments",
        patient_id=patient,
        doctor_id=doctor,
        clinic_id=clinic,
        starts_at=later,
        ends_at=later + timedelta(minutes=30),
        status="confirmed",
        booked_by_id=admin,
    )
    insert(
        "activation_tokens", user_id=person, token_hash="a", expires_at=later, created_by_id=admin
    )
    insert(
        "account_tokens", user_id=person, purpose="password_reset", token_hash="b", expires_at=later
    )
    insert("refresh_tokens", user_id=person, token_hash="c", session_version=1, expires_at=later)
    insert(
        "messages",
        kind="booking_confirmed",
        event=f"appointment-{appointment}-booked",
        user_id=person,
        to_address="noe@example.org",
        subject="S",
        text="T",
        appointment_id=appointment,
        status="sent",
    )
    insert("audit_events", actor_id=admin, action="patient.created", entity_type="patient")


def a_user(connection, email, name):
    connection.execute(
        db.metadata.tables["users"].insert().values(email=email, full_name=name, role="patient")
    )


USERS_TRIGGER = (
    "CREATE TRIGGER test_users_renamed AFTER UPDATE OF full_name ON users "
    "BEGIN UPDATE users SET search_name = lower(NEW.full_name) WHERE id = NEW.id; END"
)


def test_patients_may_have_no_email_and_nothing_pointing_at_users_is_lost(empty_app):
    with empty_app.app_context():
        upgrade(revision="c7f3d9a1e5b2")
        sqlite = db.engine.dialect.name == "sqlite"
        with db.engine.begin() as connection:
            people_with_everything(connection)
            before = references_to_users(connection)
            if sqlite:  # a trigger on users, as other migrations may have made
                connection.exec_driver_sql(USERS_TRIGGER)
        assert all(rows == set_ == 1 for rows, set_ in before.values()), before
        upgrade()
        if sqlite:  # the rebuilt table keeps it
            assert USERS_TRIGGER in triggers(db.engine)
        with db.engine.begin() as connection:
            assert references_to_users(connection) == before
            a_user(connection, None, "Phone Caller")
            # Any number of people without an email; an address still belongs to one.
            a_user(connection, None, "Walk In")
        with pytest.raises(IntegrityError), db.engine.begin() as connection:
            a_user(connection, "noe@example.org", "Twin")
        with pytest.raises(IntegrityError), db.engine.begin() as connection:
            connection.execute(
                text("UPDATE users SET email = 'Noe@Example.org' WHERE full_name = 'Noé'")
            )
        if db.engine.dialect.name == "sqlite":
            with db.engine.connect() as connection:
                # The rebuild left the portal's connections checking foreign keys.
                assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
                assert connection.exec_driver_sql("PRAGMA foreign_key_check").all() == []
        result = empty_app.test_cli_runner().invoke(args=["db", "check"])
        assert result.exit_code == 0, result.output
        # Going down, those without an address get one that reaches nobody.
        downgrade(revision="c7f3d9a1e5b2")
        if sqlite:
            assert USERS_TRIGGER in triggers(db.engine)
        with db.engine.connect() as connection:
            assert references_to_users(connection) == before
            emails = connection.execute(
                text("SELECT email FROM users WHERE email LIKE 'no-email-%' ORDER BY id")
            ).scalars()
            assert [email.endswith("@no-email.invalid") for email in emails] == [True, True]


def test_a_migration_that_leaves_a_broken_reference_on_sqlite_stops_loudly(empty_app, backend):
    if backend != "sqlite":
        pytest.skip("PostgreSQL checks every reference as the migration runs")
    with empty_app.app_context():
        upgrade(revision="c7f3d9a1e5b2")
        with db.engine.connect() as connection:
            connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
            connection.exec_driver_sql(
                "INSERT INTO audit_events (actor_id, action, entity_type, changes, created_at) "
                "VALUES (999, 'x', 'user', '{}', '2026-06-10 09:30:00')"
            )
            connection.commit()
            connection.exec_driver_sql("PRAGMA foreign_keys=ON")
        # Alembic itself, so the error is seen (flask db upgrade logs it and exits 1).
        config = empty_app.extensions["migrate"].migrate.get_config()
        with pytest.raises(RuntimeError, match=r"1 broken foreign key reference.*audit_events"):
            alembic_command.upgrade(config, "head")
        with db.engine.connect() as connection:
            assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
