"""The reviewer's queues: each area registers what waits for a decision; /admin shows them all."""
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Optional

from sqlalchemy import func, select

from ..extensions import db


@dataclass
class Queue:
    label: str
    endpoint: str
    timestamp: Any                 # the column that says since when an item waits
    where: tuple = field(default_factory=tuple)
    url_args: dict = field(default_factory=dict)

    def summary(self) -> tuple[int, Optional[datetime]]:
        count, oldest = db.session.execute(select(func.count(), func.min(self.timestamp)).where(*self.where)).one()
        return count, oldest


QUEUES: list[Queue] = []


def register_queue(label: str, endpoint: str, timestamp, *where, **url_args) -> None:
    QUEUES.append(Queue(label, endpoint, timestamp, where, url_args))
