"""Paging through a query: every list in the portal is paginated."""

from dataclasses import dataclass

from sqlalchemy import func, select

from portal.extensions import db

MAX_PER_PAGE = 100


@dataclass
class Page:
    items: list
    page: int
    per_page: int
    total: int

    @property
    def pages(self):
        return max(1, -(-self.total // self.per_page))

    @property
    def has_prev(self):
        return self.page > 1

    @property
    def has_next(self):
        return self.page < self.pages


def paginate(statement, *, page=1, per_page=20):
    """One page of a select() of entities (not DISTINCT), with the total: one query, the
    total counted over the whole match beside each row of the page; a second only for a
    page past the end, which has no row to carry it."""
    page = max(1, int(page or 1))
    per_page = min(MAX_PER_PAGE, max(1, int(per_page or 20)))
    counted = statement.add_columns(func.count().over().label("total"))
    # unique(): a page that loads a collection in the same query has a row per member.
    rows = db.session.execute(counted.limit(per_page).offset((page - 1) * per_page)).unique().all()
    if rows:
        total = rows[0].total
    elif page == 1:
        total = 0
    else:
        total = db.session.scalar(
            select(func.count()).select_from(statement.order_by(None).subquery())
        )
    return Page(items=[row[0] for row in rows], page=page, per_page=per_page, total=total or 0)
