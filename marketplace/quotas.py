"""Per-account daily caps on what one user may lodge against others (objections pause someone's money, complaints
count in a provider's exit review; issue 15). The numbers are policy.OBJECTIONS_PER_DAY and COMPLAINTS_PER_DAY.

The count is taken under a lock on the account's row, held until commit, so twenty requests at once from one
account queue and each counts what the ones before it added, instead of all reading the same number. The lock is
FOR NO KEY UPDATE: requests of that account wait for each other, rows that merely reference the account do not.
SQLite's POSTs are serialised already (BEGIN IMMEDIATE, marketplace/db.py)."""
from datetime import UTC, datetime, time

from sqlalchemy import func, select

from .extensions import db
from .models import CHINA, User, china_today


def lock_account(user_id: int) -> None:
    """Hold the account's row until this transaction ends; checks that follow see what earlier holders committed."""
    db.session.execute(select(User.id).where(User.id == user_id).with_for_update(key_share=True))


def lodged_today(model, user_id: int) -> int:
    """Rows of `model` (with user_id and created_at) the account made since midnight in China. Call lock_account()
    first for a count that holds until commit."""
    return db.session.scalar(select(func.count()).select_from(model).where(
        model.user_id == user_id, model.created_at >= china_midnight()))


def china_midnight() -> datetime:
    """The start of today in China as the naive UTC datetime the database stores."""
    midnight = datetime.combine(china_today(), time(), tzinfo=CHINA)
    return midnight.astimezone(UTC).replace(tzinfo=None)
