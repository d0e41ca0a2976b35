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
    """One page of a select() of entities, with the total: two queries, whatever the size."""
    page = max(1, int(page or 1))
    per_page = min(MAX_PER_PAGE, max(1, int(per_page or 20)))
    total = db.session.scalar(select(func.count()).select_from(statement.order_by(None).subquery()))
    # unique(): a page that loads a collection in the same query has a row per member.
    items = (
        db.session.scalars(statement.limit(per_page).offset((page - 1) * per_page)).unique().all()
    )
    return Page(items=list(items), page=page, per_page=per_page, total=total or 0)
