"""Find a doctor ignores accents and case: users keep their name folded for searching.

The column is filled here for every existing user with the same folding the portal
uses (portal.auth.models.fold). It stays nullable, so SQLite adds it in place (rebuilding
the users table would trip the foreign keys that point at it).

Revision ID: a7c3e9f1d2b4
Revises: a9c3e1f7b2d4
Create Date: 2026-12-05 07:20:00.000000

"""
import unicodedata

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'a7c3e9f1d2b4'
down_revision = 'a9c3e1f7b2d4'
branch_labels = None
depends_on = None

users = sa.table(
    "users",
    sa.column("id", sa.Integer),
    sa.column("full_name", sa.String),
    sa.column("search_name", sa.String),
)


def fold(text):
    # The same as portal.auth.models.fold, frozen here as this migration wrote it.
    decomposed = unicodedata.normalize("NFKD", text or "")
    return "".join(char for char in decomposed if not unicodedata.combining(char)).casefold()


def upgrade():
    op.add_column("users", sa.Column("search_name", sa.String(length=255), nullable=True))
    bind = op.get_bind()
    for user_id, full_name in bind.execute(sa.select(users.c.id, users.c.full_name)).all():
        bind.execute(
            users.update().where(users.c.id == user_id).values(search_name=fold(full_name))
        )


def downgrade():
    op.drop_column("users", "search_name")
