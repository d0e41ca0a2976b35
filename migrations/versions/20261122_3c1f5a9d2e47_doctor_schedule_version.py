"""A schedule version per doctor.

It takes a new random value whenever the doctor's free times may change (weekly hours,
time off, appointments booked, moved or cancelled), so each worker can keep the free
slots it computed and reuse them while the version stays the same.

Revision ID: 3c1f5a9d2e47
Revises: 666ee0861bd1
Create Date: 2026-11-22 09:10:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '3c1f5a9d2e47'
down_revision = '666ee0861bd1'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('doctors', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('schedule_version', sa.BigInteger(), server_default='0', nullable=False)
        )


def downgrade():
    with op.batch_alter_table('doctors', schema=None) as batch_op:
        batch_op.drop_column('schedule_version')
