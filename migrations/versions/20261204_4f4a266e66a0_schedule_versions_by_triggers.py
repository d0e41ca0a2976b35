"""Schedule versions bumped by the database, and no more notices to workers.

Database triggers now give a doctor a new random schedule version in the transaction of
every insert, update and delete (and on PostgreSQL truncate) of their appointments,
weekly hours and time off, and of every other change to their own row, whoever writes
(the portal, a Core or bulk statement, plain SQL), on SQLite and PostgreSQL alike; a
doctor inserted without a version gets a random one. Pages key what they keep by that version, read in every
request, so nothing needs telling any more: the notice triggers of 8b2d4e6f1a93 go.

SQLite keeps a table's triggers only while the table lives: a later batch migration that
rebuilds appointments, weekly_hours, time_off_periods or doctors on SQLite must create
that table's triggers again (tests/test_migrations.py compares them with the models').

Revision ID: 4f4a266e66a0
Revises: 8b2d4e6f1a93
Create Date: 2026-12-04 18:30:00.000000

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '4f4a266e66a0'
down_revision = '8b2d4e6f1a93'
branch_labels = None
depends_on = None

# As portal/directory/schedule_version.py makes them for create_all today.
POSTGRESQL = [
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
    "CREATE TRIGGER schedule_version_appointments_insert AFTER INSERT ON appointments REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION portal_new_schedule_versions()",
    "CREATE TRIGGER schedule_version_appointments_update AFTER UPDATE ON appointments REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION portal_new_schedule_versions()",
    "CREATE TRIGGER schedule_version_appointments_delete AFTER DELETE ON appointments REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION portal_new_schedule_versions()",
    "CREATE TRIGGER schedule_version_appointments_truncate AFTER TRUNCATE ON appointments FOR EACH STATEMENT EXECUTE FUNCTION portal_new_schedule_versions()",
    "CREATE TRIGGER schedule_version_weekly_hours_insert AFTER INSERT ON weekly_hours REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION portal_new_schedule_versions()",
    "CREATE TRIGGER schedule_version_weekly_hours_update AFTER UPDATE ON weekly_hours REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION portal_new_schedule_versions()",
    "CREATE TRIGGER schedule_version_weekly_hours_delete AFTER DELETE ON weekly_hours REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION portal_new_schedule_versions()",
    "CREATE TRIGGER schedule_version_weekly_hours_truncate AFTER TRUNCATE ON weekly_hours FOR EACH STATEMENT EXECUTE FUNCTION portal_new_schedule_versions()",
    "CREATE TRIGGER schedule_version_time_off_periods_insert AFTER INSERT ON time_off_periods REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION portal_new_schedule_versions()",
    "CREATE TRIGGER schedule_version_time_off_periods_update AFTER UPDATE ON time_off_periods REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION portal_new_schedule_versions()",
    "CREATE TRIGGER schedule_version_time_off_periods_delete AFTER DELETE ON time_off_periods REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION portal_new_schedule_versions()",
    "CREATE TRIGGER schedule_version_time_off_periods_truncate AFTER TRUNCATE ON time_off_periods FOR EACH STATEMENT EXECUTE FUNCTION portal_new_schedule_versions()",
    "CREATE TRIGGER schedule_version_doctors_update BEFORE UPDATE ON doctors FOR EACH ROW WHEN (NEW.schedule_version IS NOT DISTINCT FROM OLD.schedule_version) EXECUTE FUNCTION portal_new_doctor_schedule_version()",
    "CREATE TRIGGER schedule_version_doctors_insert BEFORE INSERT ON doctors FOR EACH ROW WHEN (NEW.schedule_version = 0) EXECUTE FUNCTION portal_new_doctor_schedule_version()",
]

POSTGRESQL_DROP = [
    "DROP TRIGGER IF EXISTS schedule_version_appointments_insert ON appointments",
    "DROP TRIGGER IF EXISTS schedule_version_appointments_update ON appointments",
    "DROP TRIGGER IF EXISTS schedule_version_appointments_delete ON appointments",
    "DROP TRIGGER IF EXISTS schedule_version_appointments_truncate ON appointments",
    "DROP TRIGGER IF EXISTS schedule_version_weekly_hours_insert ON weekly_hours",
    "DROP TRIGGER IF EXISTS schedule_version_weekly_hours_update ON weekly_hours",
    "DROP TRIGGER IF EXISTS schedule_version_weekly_hours_delete ON weekly_hours",
    "DROP TRIGGER IF EXISTS schedule_version_weekly_hours_truncate ON weekly_hours",
    "DROP TRIGGER IF EXISTS schedule_version_time_off_periods_insert ON time_off_periods",
    "DROP TRIGGER IF EXISTS schedule_version_time_off_periods_update ON time_off_periods",
    "DROP TRIGGER IF EXISTS schedule_version_time_off_periods_delete ON time_off_periods",
    "DROP TRIGGER IF EXISTS schedule_version_time_off_periods_truncate ON time_off_periods",
    "DROP TRIGGER IF EXISTS schedule_version_doctors_update ON doctors",
    "DROP TRIGGER IF EXISTS schedule_version_doctors_insert ON doctors",
    "DROP FUNCTION IF EXISTS portal_new_schedule_versions()",
    "DROP FUNCTION IF EXISTS portal_new_doctor_schedule_version()",
]

SQLITE = [
    "CREATE TRIGGER schedule_version_appointments_insert AFTER INSERT ON appointments BEGIN UPDATE doctors SET schedule_version = random() WHERE id = NEW.doctor_id; END",
    "CREATE TRIGGER schedule_version_appointments_update AFTER UPDATE ON appointments BEGIN UPDATE doctors SET schedule_version = random() WHERE id IN (OLD.doctor_id, NEW.doctor_id); END",
    "CREATE TRIGGER schedule_version_appointments_delete AFTER DELETE ON appointments BEGIN UPDATE doctors SET schedule_version = random() WHERE id = OLD.doctor_id; END",
    "CREATE TRIGGER schedule_version_weekly_hours_insert AFTER INSERT ON weekly_hours BEGIN UPDATE doctors SET schedule_version = random() WHERE id = NEW.doctor_id; END",
    "CREATE TRIGGER schedule_version_weekly_hours_update AFTER UPDATE ON weekly_hours BEGIN UPDATE doctors SET schedule_version = random() WHERE id IN (OLD.doctor_id, NEW.doctor_id); END",
    "CREATE TRIGGER schedule_version_weekly_hours_delete AFTER DELETE ON weekly_hours BEGIN UPDATE doctors SET schedule_version = random() WHERE id = OLD.doctor_id; END",
    "CREATE TRIGGER schedule_version_time_off_periods_insert AFTER INSERT ON time_off_periods BEGIN UPDATE doctors SET schedule_version = random() WHERE id = NEW.doctor_id; END",
    "CREATE TRIGGER schedule_version_time_off_periods_update AFTER UPDATE ON time_off_periods BEGIN UPDATE doctors SET schedule_version = random() WHERE id IN (OLD.doctor_id, NEW.doctor_id); END",
    "CREATE TRIGGER schedule_version_time_off_periods_delete AFTER DELETE ON time_off_periods BEGIN UPDATE doctors SET schedule_version = random() WHERE id = OLD.doctor_id; END",
    "CREATE TRIGGER schedule_version_doctors_update AFTER UPDATE ON doctors WHEN NEW.schedule_version IS OLD.schedule_version BEGIN UPDATE doctors SET schedule_version = random() WHERE id = NEW.id; END",
    "CREATE TRIGGER schedule_version_doctors_insert AFTER INSERT ON doctors WHEN NEW.schedule_version = 0 BEGIN UPDATE doctors SET schedule_version = random() WHERE id = NEW.id; END",
]

SQLITE_DROP = [
    "DROP TRIGGER IF EXISTS schedule_version_appointments_insert",
    "DROP TRIGGER IF EXISTS schedule_version_appointments_update",
    "DROP TRIGGER IF EXISTS schedule_version_appointments_delete",
    "DROP TRIGGER IF EXISTS schedule_version_weekly_hours_insert",
    "DROP TRIGGER IF EXISTS schedule_version_weekly_hours_update",
    "DROP TRIGGER IF EXISTS schedule_version_weekly_hours_delete",
    "DROP TRIGGER IF EXISTS schedule_version_time_off_periods_insert",
    "DROP TRIGGER IF EXISTS schedule_version_time_off_periods_update",
    "DROP TRIGGER IF EXISTS schedule_version_time_off_periods_delete",
    "DROP TRIGGER IF EXISTS schedule_version_doctors_update",
    "DROP TRIGGER IF EXISTS schedule_version_doctors_insert",
]

# The notices of 8b2d4e6f1a93, as it made them, for the downgrade.
NOTICE_FUNCTION = """
CREATE OR REPLACE FUNCTION portal_slot_sources_changed() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_TABLE_NAME = 'doctors' AND TG_LEVEL = 'ROW' THEN
        IF TG_OP = 'DELETE' THEN
            PERFORM pg_notify('portal_slot_sources', OLD.id::text);
        ELSE
            PERFORM pg_notify('portal_slot_sources', NEW.id::text);
        END IF;
    ELSE
        PERFORM pg_notify('portal_slot_sources', '*');
    END IF;
    RETURN NULL;
END
$$
"""

NOTICE_TRIGGERS = {
    "doctors": "AFTER UPDATE OR DELETE ON doctors FOR EACH ROW",
    "clinics": "AFTER UPDATE OR DELETE ON clinics FOR EACH STATEMENT",
    "users": "AFTER UPDATE OF is_active OR DELETE ON users FOR EACH STATEMENT",
    "booking_settings": "AFTER INSERT OR UPDATE OR DELETE ON booking_settings FOR EACH STATEMENT",
}


def upgrade():
    if op.get_bind().dialect.name == "postgresql":
        for table in NOTICE_TRIGGERS:
            op.execute(f"DROP TRIGGER IF EXISTS slot_sources_{table} ON {table}")
        op.execute("DROP FUNCTION IF EXISTS portal_slot_sources_changed()")
        statements = POSTGRESQL
    else:
        statements = SQLITE
    for statement in statements:
        op.execute(statement)


def downgrade():
    if op.get_bind().dialect.name != "postgresql":
        for statement in SQLITE_DROP:
            op.execute(statement)
        return
    for statement in POSTGRESQL_DROP:
        op.execute(statement)
    op.execute(NOTICE_FUNCTION)
    for table, when in NOTICE_TRIGGERS.items():
        op.execute(
            f"CREATE TRIGGER slot_sources_{table} {when} "
            "EXECUTE FUNCTION portal_slot_sources_changed()"
        )
