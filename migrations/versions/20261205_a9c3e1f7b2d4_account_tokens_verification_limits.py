"""Password reset and email verification links; verified addresses; a limit on the
upcoming visits a patient may hold.

Every existing account counts as verified (they were created before verification
existed, by an admin, the seed or a registration we cannot ask again). The booking rules
gain max_upcoming_per_patient, 5 by default.

Revision ID: a9c3e1f7b2d4
Revises: 9a3f6d2e8c41
Create Date: 2026-12-05 07:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'a9c3e1f7b2d4'
down_revision = '9a3f6d2e8c41'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'account_tokens',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('purpose', sa.String(length=16), nullable=False),
        sa.Column('token_hash', sa.String(length=64), nullable=False),
        sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('used_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "purpose IN ('password_reset', 'verify_email')",
            name=op.f('ck_account_tokens_purpose_known'),
        ),
        sa.ForeignKeyConstraint(
            ['user_id'], ['users.id'],
            name=op.f('fk_account_tokens_user_id_users'), ondelete='CASCADE',
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_account_tokens')),
        sa.UniqueConstraint('token_hash', name=op.f('uq_account_tokens_token_hash')),
    )
    with op.batch_alter_table('account_tokens', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_account_tokens_user_id'), ['user_id'], unique=False)

    # Not a batch: SQLite would copy the users table, which other tables refer to.
    # Every existing account counts as verified.
    op.add_column(
        'users',
        sa.Column('email_verified', sa.Boolean(), server_default=sa.true(), nullable=False),
    )

    with op.batch_alter_table('booking_settings', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('max_upcoming_per_patient', sa.Integer(), server_default='5', nullable=False)
        )
        batch_op.create_check_constraint(
            op.f('ck_booking_settings_upcoming_range'), 'max_upcoming_per_patient BETWEEN 1 AND 50'
        )


def downgrade():
    with op.batch_alter_table('booking_settings', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_booking_settings_upcoming_range'), type_='check')
        batch_op.drop_column('max_upcoming_per_patient')
    # Not a batch: SQLite would copy the users table, which other tables refer to.
    op.drop_column('users', 'email_verified')
    with op.batch_alter_table('account_tokens', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_account_tokens_user_id'))
    op.drop_table('account_tokens')
