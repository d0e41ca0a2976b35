"""The booking rules' single row exists in every database.

The portal reads the rules and never writes them just by reading: the row comes from
the migrations. The initial schema inserts it; this adds it, with the default rules,
where it is missing (a database whose row was deleted, or filled by other means).
Downgrading removes it only while it still holds those defaults as nobody saved them
(no admin named); the earlier code recreates such a row when it reads the rules.

Revision ID: 5d7e2a1c9b30
Revises: 4f4a266e66a0
Create Date: 2026-12-04 18:40:00.000000

"""
from datetime import UTC, datetime

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '5d7e2a1c9b30'
down_revision = '4f4a266e66a0'
branch_labels = None
depends_on = None

DEFAULTS = {"min_notice_minutes": 120, "horizon_days": 90, "cancel_cutoff_hours": 24}

settings = sa.table(
    "booking_settings",
    sa.column("id", sa.Integer),
    sa.column("min_notice_minutes", sa.Integer),
    sa.column("horizon_days", sa.Integer),
    sa.column("cancel_cutoff_hours", sa.Integer),
    sa.column("updated_at", sa.DateTime(timezone=True)),
    sa.column("updated_by_id", sa.Integer),
)


def _now_for(bind):
    # SQLite keeps instants as naive UTC, as the models do.
    now = datetime.now(UTC)
    return now.replace(tzinfo=None) if bind.dialect.name == "sqlite" else now


def upgrade():
    bind = op.get_bind()
    if bind.execute(sa.select(settings.c.id).where(settings.c.id == 1)).first() is None:
        op.bulk_insert(settings, [{"id": 1, **DEFAULTS, "updated_at": _now_for(bind)}])


def downgrade():
    op.execute(
        settings.delete().where(
            settings.c.id == 1,
            settings.c.updated_by_id.is_(None),
            *(settings.c[name] == value for name, value in DEFAULTS.items()),
        )
    )
