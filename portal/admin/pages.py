"""One page of a listing, for the console's tables (users, organisations, audit log)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, func, select

from portal.extensions import db
from portal.paging import page_links


@dataclass
class Page:
    items: list[Any]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages

    @property
    def first_number(self) -> int:
        """The 1-based position of the first item shown (0 when there is none)."""
        return (self.page - 1) * self.per_page + 1 if self.items else 0

    @property
    def page_links(self) -> list[int | None]:
        """Page numbers to offer: first, last and two around this one; None marks a gap."""
        return page_links(self.page, self.pages)


def page_number(raw: str | None) -> int:
    """?page= as typed: anything that is not a positive number is page 1."""
    try:
        return max(1, min(int(raw or 1), 1_000_000))
    except ValueError:
        return 1


def paginate(query: Select, page: int, per_page: int) -> Page:
    """Run `query` (already ordered) for one page; a page past the end shows the last one."""
    total = db.session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
    pages = max(1, -(-(total or 0) // per_page))
    page = min(max(1, page), pages)
    items = list(db.session.scalars(query.limit(per_page).offset((page - 1) * per_page)))
    return Page(items, total or 0, page, per_page)
