"""A patient the front desk records on the phone may have no email: users.email may be
empty (NULL). An address still belongs to one account (several NULLs are allowed by the
unique constraint on both databases) and stays lower-cased (the check passes for NULL).

SQLite cannot drop NOT NULL in place: the users table is rebuilt, which migrations/env.py
does with foreign keys off (so nothing pointing at users is deleted or set to NULL) and
checks afterwards.

Revision ID: 5e8a1c3f7b92
Revises: b5e1d7c3a9f2
Create Date: 2026-12-05 13:30:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '5e8a1c3f7b92'
down_revision = 'b5e1d7c3a9f2'
branch_labels = None
depends_on = None


def _users_triggers():
    # SQLite drops a table's triggers with it: those on users are kept as written and
    # made again after the rebuild, whichever migrations created them.
    if op.get_bind().dialect.name != "sqlite":
        return []
    return op.get_bind().exec_driver_sql(
        "SELECT sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'users'"
    ).scalars().all()


def _set_email_nullable(nullable):
    triggers = _users_triggers()
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.alter_column('email', existing_type=sa.String(length=254), nullable=nullable)
    for statement in triggers:
        op.execute(statement)


def upgrade():
    _set_email_nullable(True)


def downgrade():
    # Accounts without an address get one that cannot receive mail, unique to each.
    op.execute(
        "UPDATE users SET email = 'no-email-' || CAST(id AS VARCHAR(20)) || '@no-email.invalid' "
        "WHERE email IS NULL"
    )
    _set_email_nullable(False)
