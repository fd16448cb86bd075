"""A listing's states (SPEC 3.2) and every move between them, each written to the audit log.

    draft ──submit──▶ pending ──approve──▶ listed ──delist──▶ delisted ──relist──▶ pending
      ▲ (rejected too)   └──reject──▶ rejected        └──edit (the provider changes it)──▶ pending
      └──delete (a draft only)

Submitting, re-listing and approving need the provider's shop open; the services of a shop under review travel
with its application instead (seller.shop_lifecycle). The caller locks the row and commits.
"""
from typing import NamedTuple

from .. import audit, refusal
from ..extensions import db
from ..models import Service, ServiceStatus, utcnow

SHOP_NOT_OPEN = "店铺开通后才能提交上架审核；开店前添加的服务随开店申请一并审核。"


class Transition(NamedTuple):
    sources: frozenset[str]
    target: str | None
    verb: str


TRANSITIONS = {
    "submit": Transition(frozenset({ServiceStatus.DRAFT, ServiceStatus.REJECTED}), ServiceStatus.PENDING, "提交审核"),
    "relist": Transition(frozenset({ServiceStatus.DELISTED}), ServiceStatus.PENDING, "重新上架"),
    "delist": Transition(frozenset({ServiceStatus.LISTED}), ServiceStatus.DELISTED, "下架"),
    "edit": Transition(frozenset({ServiceStatus.LISTED}), ServiceStatus.PENDING, "修改后重新审核"),
    "approve": Transition(frozenset({ServiceStatus.PENDING}), ServiceStatus.LISTED, "审核通过"),
    "reject": Transition(frozenset({ServiceStatus.PENDING}), ServiceStatus.REJECTED, "驳回"),
    "delete": Transition(frozenset({ServiceStatus.DRAFT}), None, "删除"),
}
NEEDS_OPEN_SHOP = {"submit", "relist", "approve"}


class IllegalTransition(refusal.Refused):
    """A move the listing's state (or its shop's) does not allow."""


def require(service: Service, action: str) -> None:
    """Refuse `action` unless the listing's state (and, where it matters, its shop's) allows it."""
    step = TRANSITIONS[action]
    if service.status not in step.sources:
        raise IllegalTransition(f"该服务当前为「{service.status_label}」，不能{step.verb}。")
    if action in NEEDS_OPEN_SHOP and not service.provider.is_open:
        raise IllegalTransition(SHOP_NOT_OPEN)


def change_status(service: Service, action: str, actor_id: int, reason: str | None = None) -> None:
    """Move a listing along its states, audited; refuses what the current state does not allow."""
    require(service, action)
    step = TRANSITIONS[action]
    audit.record("service", service.id, action, service.status, step.target, reason, actor_id=actor_id)
    if step.target is None:
        db.session.delete(service)
        return
    service.status = step.target
    service.status_reason = reason if action == "reject" else None
    if step.target == ServiceStatus.LISTED:
        service.published_at = utcnow()
