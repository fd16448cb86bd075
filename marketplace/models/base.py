"""Declarative base, shared column helpers and the clock."""
from datetime import UTC, date, datetime, timedelta, timezone

from sqlalchemy import DateTime, MetaData
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

# Stable constraint names so Alembic migrations can name, alter and drop them on every dialect.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

CHINA = timezone(timedelta(hours=8), "Asia/Shanghai")


def utcnow() -> datetime:
    """Naive UTC: stored the same way on SQLite and PostgreSQL; shown in Asia/Shanghai."""
    return datetime.now(UTC).replace(tzinfo=None)


def china_today() -> date:
    return datetime.now(CHINA).date()


def label(column: str, labels: dict) -> property:
    """A read-only property giving the Chinese label of a coded column, e.g. status -> 审核中."""
    return property(lambda self: labels.get(getattr(self, column), getattr(self, column)))


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class Timestamped:
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)
