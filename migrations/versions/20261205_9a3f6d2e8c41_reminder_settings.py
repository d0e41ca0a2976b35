"""Reminders: the leads before a visit in the booking rules, and each user's choice.

`booking_settings.reminder_minutes_before` lists the leads (minutes before a visit) at
which patients are reminded, 24 hours by default; `users.notify_reminders` lets a
patient turn reminders off (on for everyone to begin with).

Revision ID: 9a3f6d2e8c41
Revises: 7e4b2c9a1d55
Create Date: 2026-12-05 07:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '9a3f6d2e8c41'
down_revision = '7e4b2c9a1d55'
branch_labels = None
depends_on = None


def upgrade():
    # Plain ALTER TABLE ADD COLUMN on SQLite too: a batch would copy the users table,
    # which other tables refer to.
    op.add_column(
        'booking_settings',
        sa.Column('reminder_minutes_before', sa.JSON(), server_default='[1440]', nullable=False),
    )
    op.add_column(
        'users',
        sa.Column('notify_reminders', sa.Boolean(), server_default=sa.true(), nullable=False),
    )


def downgrade():
    # Not in batch mode: SQLite drops a plain column in place, where a batch would copy
    # the table (and so drop the users table that others refer to).
    op.drop_column('users', 'notify_reminders')
    op.drop_column('booking_settings', 'reminder_minutes_before')
