"""What the queue pages read from their URL: the tab, the search text, and the arguments that paging and
the tabs carry on, so moving through pages or tabs keeps the other filters.

Queues whose items are settled rather than approved (complaints, objections) share the tabs
待处理 / 已处理 / 全部: waiting items oldest first, settled ones most recently settled first, and all of them
with the waiting ones first.
"""
from flask import request
from sqlalchemy import case

OPEN, SETTLED, ALL = "open", "resolved", "all"
SETTLEMENT_TABS = {OPEN: "待处理", SETTLED: "已处理", ALL: "全部"}


def tab(allowed, default: str, name: str = "status") -> str:
    """The argument `name` if it is one of `allowed` (the tabs, or a sort), else the default."""
    value = request.args.get(name, default)
    return value if value in allowed else default


def search_text() -> str:
    return request.args.get("q", "").strip()


def kept_args(status: str, q: str) -> dict:
    """The arguments every link of the list (tabs, pager) carries; an empty search is left out of the URL."""
    return {"status": status, "q": q or None}


def settlement_filter(status_column, chosen: str) -> list:
    """The WHERE clauses of a 待处理 / 已处理 / 全部 tab; anything not open counts as settled."""
    return {OPEN: [status_column == OPEN], SETTLED: [status_column != OPEN], ALL: []}[chosen]


def settlement_order(chosen: str, status_column, created_column, resolved_column, id_column) -> tuple:
    if chosen == SETTLED:
        return resolved_column.desc(), id_column.desc()
    return case((status_column == OPEN, 0), else_=1), created_column.asc(), id_column.asc()
