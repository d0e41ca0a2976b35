"""The database triggers that give a doctor a new schedule version.

Pages that show free times keep what they computed and rendered under the doctor's
schedule version, read fresh in every request (booking.availability, booking.picker).
That is only right if every write that may change the doctor's free times changes the
version in the same transaction, whoever writes: the services, a Core or bulk statement,
plain SQL in psql. So the database does it: a trigger on each table the free times come
from (appointments, weekly hours, time off) gives every doctor a written row names a new
random version, and one on the doctor's own row does the same when anything else of that
row changes (slot length, seats, daily maximum, active flag). Random rather than counted:
a version a rolled-back transaction used can never come back holding other rows.

A clinic's closed days (clinic_closures) change the free times of every doctor of that
clinic: a trigger there gives each of them a new version.

The clinic's time zone, the user's active flag and the booking rules need no trigger:
the request's one query for the version reads them too, and the caches' keys hold them.

The migration 4f4a266e66a0 (migrations/versions) creates the same triggers; tests build the schema
from the models, so create_all installs them through install() below.
"""

from sqlalchemy import DDL, event

# The tables (and their doctor column) whose rows make up a doctor's free times.
TABLES = ("appointments", "weekly_hours", "time_off_periods")

POSTGRESQL = [
    # A new version is a positive 62-bit value, as new_schedule_version() makes in Python
    # (random() is a double here: scaled below 2**63 so the cast cannot overflow).
    # One UPDATE per statement (a bulk insert of many appointments gives each doctor one
    # new version, not one per row), the doctors locked in id order so two bulk writes
    # cannot deadlock on them. SQLite has no TRUNCATE; PostgreSQL's fires no delete
    # trigger, so it has its own.
    """
CREATE OR REPLACE FUNCTION portal_new_schedule_versions() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        UPDATE doctors SET schedule_version = CAST(random() * 4611686018427387904 AS bigint)
        WHERE id IN (SELECT id FROM doctors WHERE id IN (SELECT doctor_id FROM new_rows)
                     ORDER BY id FOR NO KEY UPDATE);
    ELSIF TG_OP = 'UPDATE' THEN
        UPDATE doctors SET schedule_version = CAST(random() * 4611686018427387904 AS bigint)
        WHERE id IN (SELECT id FROM doctors
                     WHERE id IN (SELECT doctor_id FROM new_rows
                                  UNION SELECT doctor_id FROM old_rows)
                     ORDER BY id FOR NO KEY UPDATE);
    ELSIF TG_OP = 'DELETE' THEN
        UPDATE doctors SET schedule_version = CAST(random() * 4611686018427387904 AS bigint)
        WHERE id IN (SELECT id FROM doctors WHERE id IN (SELECT doctor_id FROM old_rows)
                     ORDER BY id FOR NO KEY UPDATE);
    ELSE -- TRUNCATE: every doctor's rows may be gone
        UPDATE doctors SET schedule_version = CAST(random() * 4611686018427387904 AS bigint)
        WHERE id IN (SELECT id FROM doctors ORDER BY id FOR NO KEY UPDATE);
    END IF;
    RETURN NULL;
END
$$
""",
    """
CREATE OR REPLACE FUNCTION portal_new_doctor_schedule_version() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    NEW.schedule_version := CAST(random() * 4611686018427387904 AS bigint);
    RETURN NEW;
END
$$
""",
    *(
        statement
        for table in TABLES
        for statement in (
            f"CREATE TRIGGER schedule_version_{table}_insert AFTER INSERT ON {table} "
            "REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT "
            "EXECUTE FUNCTION portal_new_schedule_versions()",
            f"CREATE TRIGGER schedule_version_{table}_update AFTER UPDATE ON {table} "
            "REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT "
            "EXECUTE FUNCTION portal_new_schedule_versions()",
            f"CREATE TRIGGER schedule_version_{table}_delete AFTER DELETE ON {table} "
            "REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT "
            "EXECUTE FUNCTION portal_new_schedule_versions()",
            f"CREATE TRIGGER schedule_version_{table}_truncate AFTER TRUNCATE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION portal_new_schedule_versions()",
        )
    ),
    # A write that sets the version itself (the triggers above) is left alone, so this
    # cannot fire on its own change.
    "CREATE TRIGGER schedule_version_doctors_update BEFORE UPDATE ON doctors FOR EACH ROW "
    "WHEN (NEW.schedule_version IS NOT DISTINCT FROM OLD.schedule_version) "
    "EXECUTE FUNCTION portal_new_doctor_schedule_version()",
    # A doctor inserted without a version (plain SQL) gets a random one, not the default 0
    # another doctor with the same id may once have had.
    "CREATE TRIGGER schedule_version_doctors_insert BEFORE INSERT ON doctors FOR EACH ROW "
    "WHEN (NEW.schedule_version = 0) "
    "EXECUTE FUNCTION portal_new_doctor_schedule_version()",
]

CLOSURES_POSTGRESQL = [
    # Every doctor of a clinic whose closed days changed, locked in id order as above.
    """
CREATE OR REPLACE FUNCTION portal_clinic_closures_changed() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        UPDATE doctors SET schedule_version = CAST(random() * 4611686018427387904 AS bigint)
        WHERE id IN (SELECT id FROM doctors WHERE clinic_id IN (SELECT clinic_id FROM new_rows)
                     ORDER BY id FOR NO KEY UPDATE);
    ELSIF TG_OP = 'UPDATE' THEN
        UPDATE doctors SET schedule_version = CAST(random() * 4611686018427387904 AS bigint)
        WHERE id IN (SELECT id FROM doctors
                     WHERE clinic_id IN (SELECT clinic_id FROM new_rows
                                         UNION SELECT clinic_id FROM old_rows)
                     ORDER BY id FOR NO KEY UPDATE);
    ELSIF TG_OP = 'DELETE' THEN
        UPDATE doctors SET schedule_version = CAST(random() * 4611686018427387904 AS bigint)
        WHERE id IN (SELECT id FROM doctors WHERE clinic_id IN (SELECT clinic_id FROM old_rows)
                     ORDER BY id FOR NO KEY UPDATE);
    ELSE
        UPDATE doctors SET schedule_version = CAST(random() * 4611686018427387904 AS bigint)
        WHERE id IN (SELECT id FROM doctors ORDER BY id FOR NO KEY UPDATE);
    END IF;
    RETURN NULL;
END
$$
""",
    "CREATE TRIGGER schedule_version_clinic_closures_insert AFTER INSERT ON clinic_closures "
    "REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT "
    "EXECUTE FUNCTION portal_clinic_closures_changed()",
    "CREATE TRIGGER schedule_version_clinic_closures_update AFTER UPDATE ON clinic_closures "
    "REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT "
    "EXECUTE FUNCTION portal_clinic_closures_changed()",
    "CREATE TRIGGER schedule_version_clinic_closures_delete AFTER DELETE ON clinic_closures "
    "REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT "
    "EXECUTE FUNCTION portal_clinic_closures_changed()",
    "CREATE TRIGGER schedule_version_clinic_closures_truncate AFTER TRUNCATE ON clinic_closures "
    "FOR EACH STATEMENT EXECUTE FUNCTION portal_clinic_closures_changed()",
]

CLOSURES_POSTGRESQL_DROP = [
    *(
        f"DROP TRIGGER IF EXISTS schedule_version_clinic_closures_{action} ON clinic_closures"
        for action in ("insert", "update", "delete", "truncate")
    ),
    "DROP FUNCTION IF EXISTS portal_clinic_closures_changed()",
]

POSTGRESQL_DROP = [
    *(
        f"DROP TRIGGER IF EXISTS schedule_version_{table}_{action} ON {table}"
        for table in TABLES
        for action in ("insert", "update", "delete", "truncate")
    ),
    "DROP TRIGGER IF EXISTS schedule_version_doctors_update ON doctors",
    "DROP TRIGGER IF EXISTS schedule_version_doctors_insert ON doctors",
    "DROP FUNCTION IF EXISTS portal_new_schedule_versions()",
    "DROP FUNCTION IF EXISTS portal_new_doctor_schedule_version()",
]

# SQLite has row triggers only, and no recursive ones unless asked (the WHEN clause
# would stop the doctor's trigger anyway). random() is a signed 64-bit integer there.
SQLITE = [
    "CREATE TRIGGER schedule_version_appointments_insert AFTER INSERT ON appointments "
    "BEGIN UPDATE doctors SET schedule_version = random() WHERE id = NEW.doctor_id; END",
    "CREATE TRIGGER schedule_version_appointments_update AFTER UPDATE ON appointments "
    "BEGIN UPDATE doctors SET schedule_version = random() "
    "WHERE id IN (OLD.doctor_id, NEW.doctor_id); END",
    "CREATE TRIGGER schedule_version_appointments_delete AFTER DELETE ON appointments "
    "BEGIN UPDATE doctors SET schedule_version = random() WHERE id = OLD.doctor_id; END",
    "CREATE TRIGGER schedule_version_weekly_hours_insert AFTER INSERT ON weekly_hours "
    "BEGIN UPDATE doctors SET schedule_version = random() WHERE id = NEW.doctor_id; END",
    "CREATE TRIGGER schedule_version_weekly_hours_update AFTER UPDATE ON weekly_hours "
    "BEGIN UPDATE doctors SET schedule_version = random() "
    "WHERE id IN (OLD.doctor_id, NEW.doctor_id); END",
    "CREATE TRIGGER schedule_version_weekly_hours_delete AFTER DELETE ON weekly_hours "
    "BEGIN UPDATE doctors SET schedule_version = random() WHERE id = OLD.doctor_id; END",
    "CREATE TRIGGER schedule_version_time_off_periods_insert AFTER INSERT ON time_off_periods "
    "BEGIN UPDATE doctors SET schedule_version = random() WHERE id = NEW.doctor_id; END",
    "CREATE TRIGGER schedule_version_time_off_periods_update AFTER UPDATE ON time_off_periods "
    "BEGIN UPDATE doctors SET schedule_version = random() "
    "WHERE id IN (OLD.doctor_id, NEW.doctor_id); END",
    "CREATE TRIGGER schedule_version_time_off_periods_delete AFTER DELETE ON time_off_periods "
    "BEGIN UPDATE doctors SET schedule_version = random() WHERE id = OLD.doctor_id; END",
    "CREATE TRIGGER schedule_version_doctors_update AFTER UPDATE ON doctors "
    "WHEN NEW.schedule_version IS OLD.schedule_version "
    "BEGIN UPDATE doctors SET schedule_version = random() WHERE id = NEW.id; END",
    "CREATE TRIGGER schedule_version_doctors_insert AFTER INSERT ON doctors "
    "WHEN NEW.schedule_version = 0 "
    "BEGIN UPDATE doctors SET schedule_version = random() WHERE id = NEW.id; END",
]

CLOSURES_SQLITE = [
    "CREATE TRIGGER schedule_version_clinic_closures_insert AFTER INSERT ON clinic_closures "
    "BEGIN UPDATE doctors SET schedule_version = random() WHERE clinic_id = NEW.clinic_id; END",
    "CREATE TRIGGER schedule_version_clinic_closures_update AFTER UPDATE ON clinic_closures "
    "BEGIN UPDATE doctors SET schedule_version = random() "
    "WHERE clinic_id IN (OLD.clinic_id, NEW.clinic_id); END",
    "CREATE TRIGGER schedule_version_clinic_closures_delete AFTER DELETE ON clinic_closures "
    "BEGIN UPDATE doctors SET schedule_version = random() WHERE clinic_id = OLD.clinic_id; END",
]

CLOSURES_SQLITE_DROP = [
    f"DROP TRIGGER IF EXISTS schedule_version_clinic_closures_{action}"
    for action in ("insert", "update", "delete")
]

SQLITE_DROP = [
    *(
        f"DROP TRIGGER IF EXISTS schedule_version_{table}_{action}"
        for table in TABLES
        for action in ("insert", "update", "delete")
    ),
    "DROP TRIGGER IF EXISTS schedule_version_doctors_update",
    "DROP TRIGGER IF EXISTS schedule_version_doctors_insert",
]


def install(metadata):
    """Create the triggers whenever create_all builds the tables (the tests do)."""
    for dialect, statements in (
        ("postgresql", POSTGRESQL + CLOSURES_POSTGRESQL),
        ("sqlite", SQLITE + CLOSURES_SQLITE),
    ):
        for statement in statements:
            event.listen(metadata, "after_create", DDL(statement).execute_if(dialect=dialect))
    event.listen(
        metadata,
        "before_drop",
        DDL("DROP FUNCTION IF EXISTS portal_new_schedule_versions() CASCADE").execute_if(
            dialect="postgresql"
        ),
    )
    event.listen(
        metadata,
        "before_drop",
        DDL("DROP FUNCTION IF EXISTS portal_clinic_closures_changed() CASCADE").execute_if(
            dialect="postgresql"
        ),
    )
    event.listen(
        metadata,
        "before_drop",
        DDL("DROP FUNCTION IF EXISTS portal_new_doctor_schedule_version() CASCADE").execute_if(
            dialect="postgresql"
        ),
    )
