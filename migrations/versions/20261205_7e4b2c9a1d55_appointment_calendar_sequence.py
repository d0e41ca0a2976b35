"""Appointments keep the iCalendar SEQUENCE of the calendar files sent for them.

Every move and cancellation raises it, so the patient's calendar replaces the event it
holds (same UID) instead of adding a second one. Existing visits start at 0.

Revision ID: 7e4b2c9a1d55
Revises: 3c1a7e5b9d20
Create Date: 2026-12-05 06:50:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '7e4b2c9a1d55'
down_revision = '3c1a7e5b9d20'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('appointments', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('calendar_sequence', sa.Integer(), server_default='0', nullable=False)
        )


def downgrade():
    # Not in batch mode: SQLite drops a plain column in place, where a batch would copy
    # the table and lose its triggers and the rows that refer to it.
    op.drop_column('appointments', 'calendar_sequence')
