"""The directory's version: one row that database triggers give a new random value
whenever a list of doctors may change (clinics, departments, the doctors' departments,
the doctors' rows but for their schedule version, and the names, emails and active flags
of their accounts), whoever writes. The API's list of doctors keeps its answers under
it. On PostgreSQL the triggers are deferred to the commit, so the row's lock is always
taken last. portal/directory/directory_version.py makes the same for databases built
from the models.

SQLite keeps a table's triggers only while the table lives: a later batch migration that
rebuilds one of these tables on SQLite must create its triggers again
(tests/test_migrations.py compares them with the models').

Revision ID: b5e1d7c3a9f2
Revises: c7f3d9a1e5b2
Create Date: 2026-12-05 13:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'b5e1d7c3a9f2'
down_revision = 'c7f3d9a1e5b2'
branch_labels = None
depends_on = None

# As portal/directory/directory_version.py makes them for create_all today.
POSTGRESQL = [
    """
CREATE OR REPLACE FUNCTION portal_new_directory_version() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    UPDATE directory_state SET version = CAST(random() * 4611686018427387904 AS bigint);
    RETURN NULL;
END
$$
""",
    'CREATE CONSTRAINT TRIGGER directory_version_clinics AFTER INSERT OR UPDATE OR DELETE ON clinics DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION portal_new_directory_version()',
    'CREATE CONSTRAINT TRIGGER directory_version_departments AFTER INSERT OR UPDATE OR DELETE ON departments DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION portal_new_directory_version()',
    'CREATE CONSTRAINT TRIGGER directory_version_doctor_departments AFTER INSERT OR UPDATE OR DELETE ON doctor_departments DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION portal_new_directory_version()',
    'CREATE CONSTRAINT TRIGGER directory_version_doctors AFTER INSERT OR UPDATE OF id, user_id, clinic_id, title, license_number, qualifications, experience_years, consultation_fee, currency, bio, translations, max_appointments_per_day, accepting_patients, is_active, slot_minutes, seats_per_slot, created_at OR DELETE ON doctors DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION portal_new_directory_version()',
    'CREATE CONSTRAINT TRIGGER directory_version_users AFTER UPDATE OF id, full_name, search_name, email, is_active ON users DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION portal_new_directory_version()',
    'CREATE TRIGGER directory_version_clinics_truncate AFTER TRUNCATE ON clinics FOR EACH STATEMENT EXECUTE FUNCTION portal_new_directory_version()',
    'CREATE TRIGGER directory_version_departments_truncate AFTER TRUNCATE ON departments FOR EACH STATEMENT EXECUTE FUNCTION portal_new_directory_version()',
    'CREATE TRIGGER directory_version_doctor_departments_truncate AFTER TRUNCATE ON doctor_departments FOR EACH STATEMENT EXECUTE FUNCTION portal_new_directory_version()',
    'CREATE TRIGGER directory_version_doctors_truncate AFTER TRUNCATE ON doctors FOR EACH STATEMENT EXECUTE FUNCTION portal_new_directory_version()',
    'CREATE TRIGGER directory_version_users_truncate AFTER TRUNCATE ON users FOR EACH STATEMENT EXECUTE FUNCTION portal_new_directory_version()',
]

POSTGRESQL_DROP = [
    'DROP TRIGGER IF EXISTS directory_version_clinics ON clinics',
    'DROP TRIGGER IF EXISTS directory_version_departments ON departments',
    'DROP TRIGGER IF EXISTS directory_version_doctor_departments ON doctor_departments',
    'DROP TRIGGER IF EXISTS directory_version_doctors ON doctors',
    'DROP TRIGGER IF EXISTS directory_version_users ON users',
    'DROP TRIGGER IF EXISTS directory_version_clinics_truncate ON clinics',
    'DROP TRIGGER IF EXISTS directory_version_departments_truncate ON departments',
    'DROP TRIGGER IF EXISTS directory_version_doctor_departments_truncate ON doctor_departments',
    'DROP TRIGGER IF EXISTS directory_version_doctors_truncate ON doctors',
    'DROP TRIGGER IF EXISTS directory_version_users_truncate ON users',
    'DROP FUNCTION IF EXISTS portal_new_directory_version()',
]

SQLITE = [
    'CREATE TRIGGER directory_version_clinics_insert AFTER INSERT ON clinics BEGIN UPDATE directory_state SET version = random(); END',
    'CREATE TRIGGER directory_version_clinics_update AFTER UPDATE ON clinics BEGIN UPDATE directory_state SET version = random(); END',
    'CREATE TRIGGER directory_version_clinics_delete AFTER DELETE ON clinics BEGIN UPDATE directory_state SET version = random(); END',
    'CREATE TRIGGER directory_version_departments_insert AFTER INSERT ON departments BEGIN UPDATE directory_state SET version = random(); END',
    'CREATE TRIGGER directory_version_departments_update AFTER UPDATE ON departments BEGIN UPDATE directory_state SET version = random(); END',
    'CREATE TRIGGER directory_version_departments_delete AFTER DELETE ON departments BEGIN UPDATE directory_state SET version = random(); END',
    'CREATE TRIGGER directory_version_doctor_departments_insert AFTER INSERT ON doctor_departments BEGIN UPDATE directory_state SET version = random(); END',
    'CREATE TRIGGER directory_version_doctor_departments_update AFTER UPDATE ON doctor_departments BEGIN UPDATE directory_state SET version = random(); END',
    'CREATE TRIGGER directory_version_doctor_departments_delete AFTER DELETE ON doctor_departments BEGIN UPDATE directory_state SET version = random(); END',
    'CREATE TRIGGER directory_version_doctors_insert AFTER INSERT ON doctors BEGIN UPDATE directory_state SET version = random(); END',
    'CREATE TRIGGER directory_version_doctors_update AFTER UPDATE OF id, user_id, clinic_id, title, license_number, qualifications, experience_years, consultation_fee, currency, bio, translations, max_appointments_per_day, accepting_patients, is_active, slot_minutes, seats_per_slot, created_at ON doctors BEGIN UPDATE directory_state SET version = random(); END',
    'CREATE TRIGGER directory_version_doctors_delete AFTER DELETE ON doctors BEGIN UPDATE directory_state SET version = random(); END',
    'CREATE TRIGGER directory_version_users_update AFTER UPDATE OF id, full_name, search_name, email, is_active ON users BEGIN UPDATE directory_state SET version = random(); END',
]

SQLITE_DROP = [
    'DROP TRIGGER IF EXISTS directory_version_clinics_insert',
    'DROP TRIGGER IF EXISTS directory_version_clinics_update',
    'DROP TRIGGER IF EXISTS directory_version_clinics_delete',
    'DROP TRIGGER IF EXISTS directory_version_departments_insert',
    'DROP TRIGGER IF EXISTS directory_version_departments_update',
    'DROP TRIGGER IF EXISTS directory_version_departments_delete',
    'DROP TRIGGER IF EXISTS directory_version_doctor_departments_insert',
    'DROP TRIGGER IF EXISTS directory_version_doctor_departments_update',
    'DROP TRIGGER IF EXISTS directory_version_doctor_departments_delete',
    'DROP TRIGGER IF EXISTS directory_version_doctors_insert',
    'DROP TRIGGER IF EXISTS directory_version_doctors_update',
    'DROP TRIGGER IF EXISTS directory_version_doctors_delete',
    'DROP TRIGGER IF EXISTS directory_version_users_update',
]


def upgrade():
    op.create_table(
        'directory_state',
        sa.Column('id', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('version', sa.BigInteger(), nullable=False),
        sa.CheckConstraint('id = 1', name=op.f('ck_directory_state_single_row')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_directory_state')),
    )
    op.execute('INSERT INTO directory_state (id, version) VALUES (1, 0)')
    statements = POSTGRESQL if op.get_bind().dialect.name == 'postgresql' else SQLITE
    for statement in statements:
        op.execute(statement)


def downgrade():
    statements = POSTGRESQL_DROP if op.get_bind().dialect.name == 'postgresql' else SQLITE_DROP
    for statement in statements:
        op.execute(statement)
    op.drop_table('directory_state')
