"""An account's states and the reviewer's moves between them, each written to the audit log.

    pending ──approve──▶ active ──disable──▶ disabled ──enable──▶ active
       └──reject──▶ rejected

Disabling ends every session of the account and stops its shop trading (seller.shop_lifecycle.remove); enabling
does not reopen the shop. The caller locks the account's row and commits (or rolls back on Refused).
"""
from sqlalchemy import select

from .. import audit, refusal
from ..extensions import db
from ..models import AccountStatus, Provider, ShopStatus, User, utcnow
from ..seller import shop_lifecycle
from . import sessions


class Refused(refusal.Refused):
    """A move the account's state does not allow: another reviewer decided it meanwhile."""


def require(user: User, *allowed: str) -> None:
    if user.status not in allowed:
        raise Refused(f"{user.name}（{user.email}）的账号已被处理（{user.status_label}），未作更改")


def approve(user: User, reviewer_id: int, reason: str | None = None) -> None:
    """The one way an account is approved, alone or in a batch."""
    require(user, AccountStatus.PENDING)
    _decide(user, AccountStatus.ACTIVE, reviewer_id, reason)
    user.approved_at, user.approved_by_id = utcnow(), reviewer_id


def reject(user: User, reviewer_id: int, reason: str) -> None:
    require(user, AccountStatus.PENDING)
    _decide(user, AccountStatus.REJECTED, reviewer_id, reason)


def disable(user: User, reviewer_id: int, reason: str) -> bool:
    """停用: the account is signed out everywhere and cannot sign in; its shop stops trading. Whether an open shop
    closed."""
    require(user, AccountStatus.ACTIVE)
    _change_status(user, AccountStatus.DISABLED, "disable_account", reviewer_id, reason)
    sessions.end_everywhere(user)
    return _stop_trading(user, reviewer_id, reason)


def enable(user: User, reviewer_id: int, reason: str | None) -> None:
    """恢复: the account signs in again with its password (its old sessions stay ended)."""
    require(user, AccountStatus.DISABLED)
    _change_status(user, AccountStatus.ACTIVE, "enable_account", reviewer_id, reason)


def _stop_trading(user: User, reviewer_id: int, reason: str) -> bool:
    """A suspended provider's shop stops trading: 自动接单 goes off, and an open shop exits as a reviewer's removal
    makes it (listings leave the catalog, no new orders, pilot off; the catalog cache follows the shop row). 恢复 of
    the account does not reopen it: the reviewer reinstates the shop on its page. Whether an open shop closed."""
    shop = db.session.scalar(select(Provider).where(Provider.user_id == user.id).with_for_update())
    if shop is None:
        return False
    if shop.auto_accept:
        audit.record("provider", shop.id, "auto_accept_off", "on", "off", "随账号停用关闭自动接单",
                     actor_id=reviewer_id)
        shop.auto_accept = False
    if shop.status != ShopStatus.OPEN:
        return False
    shop_lifecycle.remove(shop, f"账号停用：{reason}", reviewer_id)
    return True


def _decide(user: User, to_state: str, reviewer_id: int, reason: str | None) -> None:
    audit.record("user", user.id, "review_account", user.status, to_state, reason, actor_id=reviewer_id)
    user.status, user.status_reason = to_state, reason


def _change_status(user: User, to_state: str, action: str, reviewer_id: int, reason: str | None) -> None:
    audit.record("user", user.id, action, user.status, to_state, reason, actor_id=reviewer_id)
    user.status, user.status_reason = to_state, reason
