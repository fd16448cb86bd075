"""Balance safety for the year's voucher (SPEC 7.4 "Balance accounting").

A claim's money moves through the voucher's ledger columns:

    submit          reserve(amount)                   reserved += amount
    approve         approve(reserved, approved)       reserved -= reserved, approved += approved (rest released)
    reject/withdraw release(reserved)                 reserved -= reserved
    objection upheld revoke(approved)                approved -= approved
    pay             disburse(approved)                approved -= approved, disbursed += approved

剩余可用金额 = total − reserved − approved − disbursed. A claim sent back 待补正 keeps its reservation (no move);
if the enterprise changes the requested amount on resubmission the caller releases the old reservation and
reserves the new one.

Each move is one conditional UPDATE whose WHERE clause is the guard, so the database decides atomically
(PostgreSQL re-checks the guard on the locked row; SQLite serialises writers): two submissions at the same
moment can never overspend the cap, and the CHECK constraints on Voucher stay a last line of defence. No value
is read in Python and written back.

The moves join the current db.session transaction: the caller writes the audit row (marketplace.audit.record)
and commits, or rolls back on BalanceRefused. Only reserve() looks at the expiry date: a claim submitted within
the year may still be approved and paid after valid_until."""
from typing import Any, cast

from sqlalchemy import ColumnElement, CursorResult, select, update
from sqlalchemy.orm import InstrumentedAttribute

from .. import policy, refusal
from ..extensions import db
from ..models import Voucher, china_today


class BalanceRefused(refusal.Refused):
    """The voucher cannot take this move; the message (Chinese) says why."""


def reserve(voucher_id: int, amount_fen: int) -> None:
    """Reserve a submitted claim's requested amount, if it fits the remaining balance of an unexpired voucher."""
    _amount(amount_fen, "申请金额")
    fits = _used() + amount_fen <= Voucher.total_fen
    if not _move(voucher_id, fits & (Voucher.valid_until >= china_today()),
                 reserved_fen=Voucher.reserved_fen + amount_fen):
        raise BalanceRefused(_reserve_refusal(voucher_id, amount_fen))


def approve(voucher_id: int, reserved_fen: int, approved_fen: int) -> None:
    """Turn a claim's reservation into its approved amount (0 < approved ≤ reserved; a refusal is release()).
    The rest of the reservation is released."""
    _amount(reserved_fen, "预留金额")
    _amount(approved_fen, "核定金额")
    if approved_fen > reserved_fen:
        raise ValueError("核定金额不能超过预留金额")
    if not _move(voucher_id, Voucher.reserved_fen >= reserved_fen,
                 reserved_fen=Voucher.reserved_fen - reserved_fen,
                 approved_fen=Voucher.approved_fen + approved_fen):
        raise BalanceRefused(_short_refusal(voucher_id, Voucher.reserved_fen, "预留", reserved_fen))


def release(voucher_id: int, reserved_fen: int) -> None:
    """Give back a claim's whole reservation (rejected, or withdrawn after submission)."""
    _amount(reserved_fen, "预留金额")
    if not _move(voucher_id, Voucher.reserved_fen >= reserved_fen,
                 reserved_fen=Voucher.reserved_fen - reserved_fen):
        raise BalanceRefused(_short_refusal(voucher_id, Voucher.reserved_fen, "预留", reserved_fen))


def disburse(voucher_id: int, approved_fen: int) -> None:
    """Record payment of a claim's approved amount."""
    _amount(approved_fen, "兑付金额")
    if not _move(voucher_id, Voucher.approved_fen >= approved_fen,
                 approved_fen=Voucher.approved_fen - approved_fen,
                 disbursed_fen=Voucher.disbursed_fen + approved_fen):
        raise BalanceRefused(_short_refusal(voucher_id, Voucher.approved_fen, "已核定待兑付", approved_fen))


def revoke(voucher_id: int, approved_fen: int) -> None:
    """Give back an approved amount that will not be paid (an objection upheld during publicity)."""
    _amount(approved_fen, "核定金额")
    if not _move(voucher_id, Voucher.approved_fen >= approved_fen,
                 approved_fen=Voucher.approved_fen - approved_fen):
        raise BalanceRefused(_short_refusal(voucher_id, Voucher.approved_fen, "已核定待兑付", approved_fen))


def _amount(value: object, what: str) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{what}须为整数（分），收到 {type(value).__name__}")
    if value <= 0:
        raise ValueError(f"{what}须大于零")


def _used() -> ColumnElement[int]:
    return Voucher.reserved_fen + Voucher.approved_fen + Voucher.disbursed_fen


def _move(voucher_id: int, guard: ColumnElement[bool], **values: ColumnElement[int]) -> bool:
    """One guarded UPDATE; True if the voucher took it."""
    stmt = update(Voucher).where(Voucher.id == voucher_id, guard).values(**values)
    # An UPDATE answers with a CursorResult (rowcount); Session.execute is typed for any statement.
    result = cast(CursorResult[Any], db.session.execute(stmt.execution_options(synchronize_session=False)))
    _forget_loaded(voucher_id)
    return result.rowcount == 1


def _forget_loaded(voucher_id: int) -> None:
    """A Voucher the session already holds no longer shows the database's numbers: reload it on next use."""
    loaded = db.session.identity_map.get(db.session.identity_key(Voucher, voucher_id))
    if loaded is not None:
        db.session.expire(loaded)


def _now(voucher_id: int, *columns: ColumnElement[Any] | InstrumentedAttribute[Any]) -> tuple[Any, ...]:
    """The voucher's numbers as the database has them now, for a refusal's message only."""
    row = db.session.execute(select(*columns).where(Voucher.id == voucher_id)).one_or_none()
    if row is None:
        raise BalanceRefused("找不到该创新券")
    return row


def _reserve_refusal(voucher_id: int, amount_fen: int) -> str:
    valid_until, remaining = _now(voucher_id, Voucher.valid_until, Voucher.total_fen - _used())
    if valid_until < china_today():
        return f"本年度创新券已于 {valid_until:%Y-%m-%d} 到期，不能再申请兑付。"
    return (f"本年度创新券剩余可用金额为 ¥{policy.format_yuan(remaining)}，"
            f"不足以预留本次申请的 ¥{policy.format_yuan(amount_fen)}。")


def _short_refusal(voucher_id: int, column: InstrumentedAttribute[int], what: str, amount_fen: int) -> str:
    held, = _now(voucher_id, column)
    return (f"创新券{what}金额为 ¥{policy.format_yuan(held)}，"
            f"少于本次要处理的 ¥{policy.format_yuan(amount_fen)}，账目不符，未作变动。")
