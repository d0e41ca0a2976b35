"""Find a doctor lists the doctors who have weekly hours: a doctor's first weekly
interval, or their last one gone, changes the directory's version (b5e1d7c3a9f2), so the
lists kept under it show them at once. portal/directory/directory_version.py makes the
same triggers for databases built from the models.

Revision ID: e3a9c5d1f7b4
Revises: 5e8a1c3f7b92
Create Date: 2026-12-05 14:00:00.000000

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = 'e3a9c5d1f7b4'
down_revision = '5e8a1c3f7b92'
branch_labels = None
depends_on = None

# As portal/directory/directory_version.py makes them for create_all today.
POSTGRESQL = [
    'CREATE CONSTRAINT TRIGGER directory_version_weekly_hours AFTER INSERT OR UPDATE OF doctor_id OR DELETE ON weekly_hours DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION portal_new_directory_version()',
    'CREATE TRIGGER directory_version_weekly_hours_truncate AFTER TRUNCATE ON weekly_hours FOR EACH STATEMENT EXECUTE FUNCTION portal_new_directory_version()',
]

POSTGRESQL_DROP = [
    'DROP TRIGGER IF EXISTS directory_version_weekly_hours ON weekly_hours',
    'DROP TRIGGER IF EXISTS directory_version_weekly_hours_truncate ON weekly_hours',
]

SQLITE = [
    'CREATE TRIGGER directory_version_weekly_hours_insert AFTER INSERT ON weekly_hours BEGIN UPDATE directory_state SET version = random(); END',
    'CREATE TRIGGER directory_version_weekly_hours_update AFTER UPDATE OF doctor_id ON weekly_hours BEGIN UPDATE directory_state SET version = random(); END',
    'CREATE TRIGGER directory_version_weekly_hours_delete AFTER DELETE ON weekly_hours BEGIN UPDATE directory_state SET version = random(); END',
]

SQLITE_DROP = [
    'DROP TRIGGER IF EXISTS directory_version_weekly_hours_insert',
    'DROP TRIGGER IF EXISTS directory_version_weekly_hours_update',
    'DROP TRIGGER IF EXISTS directory_version_weekly_hours_delete',
]


def upgrade():
    statements = POSTGRESQL if op.get_bind().dialect.name == 'postgresql' else SQLITE
    for statement in statements:
        op.execute(statement)


def downgrade():
    statements = POSTGRESQL_DROP if op.get_bind().dialect.name == 'postgresql' else SQLITE_DROP
    for statement in statements:
        op.execute(statement)
