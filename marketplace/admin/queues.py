"""The reviewer's queues: each area registers what waits for a decision; /admin shows them all.

The home groups the queues by area of work in a fixed order (the order a case moves through the
platform: an account, then a shop and its listings, a voucher, a claim, a complaint), not in the order
the modules happened to register them: each module names its queue's area and position when it registers.
"""
from dataclasses import dataclass, field
from datetime import datetime
from itertools import groupby
from typing import Any

from flask import request
from sqlalchemy import func, literal_column, select, union_all

from ..extensions import db
from ..ids import as_id
from ..models import utcnow


@dataclass(frozen=True)
class Area:
    title: str
    note: str = ""          # what the reviewer should know about the whole area (e.g. no bulk approval)


AREAS = [Area("账号与开店", "账号可勾选多项批量通过；开店申请需逐项查看材料。"),
         Area("服务上架", "可勾选多项批量通过。"),
         Area("创新券申领", "每份申请需逐项核对材料，不能批量通过。"),
         Area("兑付", "每项兑付需逐项审核材料，不能批量通过。"),
         Area("投诉"),
         Area("订单", "服务中订单的取消申请与长期未完成的订单；关闭订单需填写原因，已提交兑付申请的订单不能关闭。")]
OTHER = Area("其他")


@dataclass
class Queue:
    label: str
    endpoint: str
    timestamp: Any                 # the column that says since when an item waits
    where: tuple = field(default_factory=tuple)
    url_args: dict = field(default_factory=dict)
    area: str | None = None
    position: int | None = None

    def placement(self) -> tuple[Area, int]:
        return next((area for area in AREAS if area.title == self.area), OTHER), self.position or 0

    def summary(self) -> tuple[int, datetime | None]:
        """How many wait, and the oldest one's timestamp: one query."""
        count, oldest = db.session.execute(select(func.count(), func.min(self.timestamp)).where(*self.where)).one()
        return count, oldest


@dataclass
class Summary:
    """One queue as the home shows it: how many wait, and since when the oldest does."""
    queue: Queue
    count: int
    oldest: datetime | None     # naive UTC, as stored

    def waited(self, now: datetime | None = None) -> str:
        return waiting_time(self.oldest, now or utcnow()) if self.oldest else ""


def waiting_time(since: datetime, now: datetime) -> str:
    """已等待 3 天 / 5 小时 / 不到 1 小时: whole days once a day has passed, else whole hours."""
    seconds = max(0, (now - since).total_seconds())
    if seconds >= 86400:
        return f"已等待 {int(seconds // 86400)} 天"
    if seconds >= 3600:
        return f"已等待 {int(seconds // 3600)} 小时"
    return "已等待不到 1 小时"


QUEUES: list[Queue] = []


def register_queue(label: str, endpoint: str, timestamp, *where, area: str | None = None,
                   position: int | None = None, **url_args) -> None:
    """Add a queue to /admin; `area` (one of AREAS' titles) and `position` place it on the home."""
    QUEUES.append(Queue(label, endpoint, timestamp, where, url_args, area, position))


def by_area() -> list[tuple[Area, list[Summary]]]:
    """Every queue's summary (all in one query), grouped by area in AREAS' order, then by position;
    queues of no known area come last, in the order they registered."""
    areas = AREAS + [OTHER]
    placed = sorted(((*queue.placement(), index, queue) for index, queue in enumerate(QUEUES)),
                    key=lambda item: (areas.index(item[0]), item[1], item[2]))
    summaries = all_summaries(QUEUES)
    return [(area, [Summary(queue, *summaries[index]) for _area, _position, index, queue in items])
            for area, items in groupby(placed, key=lambda item: item[0])]


def all_summaries(queues: list[Queue]) -> list[tuple[int, datetime | None]]:
    """Each queue's count and oldest timestamp, in the order given, from one query: the queues' own selects joined
    by UNION ALL, each row tagged with its queue's place in the list."""
    if not queues:
        return []
    parts = [select(literal_column(str(index)).label("queue"), func.count().label("waiting"),
                    func.min(queue.timestamp).label("oldest")).where(*queue.where)
             for index, queue in enumerate(queues)]
    rows = {index: (count, oldest) for index, count, oldest in db.session.execute(union_all(*parts))}
    return [rows[index] for index in range(len(queues))]


# ---------------------------------------------------------------- bulk approval (accounts, listings)

def ticked(rows, checked: list[int] | None) -> set[int]:
    """The ids a pick-list shows ticked: those a refused post sent back, else every row when 全选 (?all=1)."""
    if checked is not None:
        return set(checked)
    return {row.id for row in rows} if request.args.get("all") == "1" else set()


def list_args(*names: str) -> dict:
    """The list's filters a bulk form carried in its action URL, to go back to the same list (not its page:
    the approved items have left it)."""
    return {name: request.args[name] for name in names if request.args.get(name)}


def selected_ids(name: str) -> list[int]:
    """The ids ticked in a queue's checkboxes called `name`, each once, in id order (the lock order)."""
    return sorted({number for number in map(as_id, request.form.getlist(name)) if number is not None})


def bulk_outcome(approved: int, skipped: int) -> str:
    return f"已通过 {approved} 项，跳过 {skipped} 项（已被处理）"
