"""Notices of changed slot sources, for the workers that keep them (PostgreSQL only).

In the transaction of every change to a doctor's row (its schedule version included),
a clinic, a user's active flag or the booking rules, a trigger sends a notice on the
channel portal_slot_sources: the doctor's id, or '*' for all of them. Workers listening
there forget what they kept (portal/scheduling/notices.py, which creates the same
triggers for databases built from the models). SQLite has nothing to notify.

Revision ID: 8b2d4e6f1a93
Revises: 3c1f5a9d2e47
Create Date: 2026-12-02 05:30:00.000000

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '8b2d4e6f1a93'
down_revision = '3c1f5a9d2e47'
branch_labels = None
depends_on = None

FUNCTION = """
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

TRIGGERS = {
    "doctors": "AFTER UPDATE OR DELETE ON doctors FOR EACH ROW",
    "clinics": "AFTER UPDATE OR DELETE ON clinics FOR EACH STATEMENT",
    "users": "AFTER UPDATE OF is_active OR DELETE ON users FOR EACH STATEMENT",
    "booking_settings": "AFTER INSERT OR UPDATE OR DELETE ON booking_settings FOR EACH STATEMENT",
}


def upgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(FUNCTION)
    for table, when in TRIGGERS.items():
        op.execute(
            f"CREATE TRIGGER slot_sources_{table} {when} "
            "EXECUTE FUNCTION portal_slot_sources_changed()"
        )


def downgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    for table in TRIGGERS:
        op.execute(f"DROP TRIGGER IF EXISTS slot_sources_{table} ON {table}")
    op.execute("DROP FUNCTION IF EXISTS portal_slot_sources_changed()")
