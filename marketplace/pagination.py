"""One pagination helper for every list: a count query plus one page of rows."""
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from flask import request
from sqlalchemy import Select, func, select

from .extensions import db
from .validators import whole_number


@dataclass
class Page:
    items: Sequence[Any]
    page: int
    per_page: int
    total: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages

    def window(self, size: int = 2) -> list[int]:
        """Page numbers around the current one, for the pager."""
        return list(range(max(1, self.page - size), min(self.pages, self.page + size) + 1))


def page_number(name: str = "page") -> int:
    """The page asked for in the argument `name` (a page with two paged lists gives the second its own)."""
    number = whole_number(request.args.get(name, "1"), digits=5)
    return number if number else 1


def paginate(stmt: Select, per_page: int, page: int | None = None, scalars: bool = True) -> Page:
    page = page or page_number()
    total = db.session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery()))
    rows = db.session.execute(stmt.limit(per_page).offset((page - 1) * per_page))
    return Page(rows.scalars().all() if scalars else rows.all(), page, per_page, total or 0)
