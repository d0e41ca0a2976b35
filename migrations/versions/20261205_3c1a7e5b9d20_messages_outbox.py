"""The messages outbox: one row per message, written in the transaction of its cause.

Revision ID: 3c1a7e5b9d20
Revises: 9f2c7d41e8a3
Create Date: 2026-12-05 06:40:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '3c1a7e5b9d20'
down_revision = '9f2c7d41e8a3'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'messages',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=32), nullable=False),
        sa.Column('event', sa.String(length=120), nullable=False),
        sa.Column('lead_minutes', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=True),
        sa.Column('to_address', sa.String(length=254), nullable=False),
        sa.Column('language', sa.String(length=8), nullable=False),
        sa.Column('subject', sa.String(length=255), nullable=False),
        sa.Column('text', sa.Text(), nullable=False),
        sa.Column('html', sa.Text(), nullable=False),
        sa.Column('attachment_name', sa.String(length=100), nullable=True),
        sa.Column('attachment_type', sa.String(length=100), nullable=True),
        sa.Column('attachment', sa.LargeBinary(), nullable=True),
        sa.Column('appointment_id', sa.Integer(), nullable=True),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('last_error', sa.Text(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint('attempts >= 0', name=op.f('ck_messages_attempts_not_negative')),
        sa.CheckConstraint(
            "status IN ('queued', 'sent', 'failed')", name=op.f('ck_messages_status_known')
        ),
        sa.ForeignKeyConstraint(
            ['appointment_id'],
            ['appointments.id'],
            name=op.f('fk_messages_appointment_id_appointments'),
            ondelete='SET NULL',
        ),
        sa.ForeignKeyConstraint(
            ['user_id'], ['users.id'], name=op.f('fk_messages_user_id_users'), ondelete='SET NULL'
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_messages')),
        sa.UniqueConstraint('event', 'to_address', 'lead_minutes', name='uq_messages_key'),
    )
    with op.batch_alter_table('messages', schema=None) as batch_op:
        batch_op.create_index('ix_messages_created', ['created_at'], unique=False)
        batch_op.create_index('ix_messages_due', ['status', 'next_attempt_at'], unique=False)
        batch_op.create_index(
            batch_op.f('ix_messages_appointment_id'), ['appointment_id'], unique=False
        )
        batch_op.create_index(batch_op.f('ix_messages_user_id'), ['user_id'], unique=False)


def downgrade():
    op.drop_table('messages')
