"""A shop's entry (SPEC 1.6, 3.1) after its application: the reviewer's moves, each written to the audit log.

    pending ──approve (direct-eligible unit)──────────────────────────────▶ open
       └──approve (third party)──▶ publicity ──open_after_publicity──▶ open   (the period over, no open objection)
    pending / publicity ──reject──▶ rejected (its waiting services go back to draft with it)
    open ──set_pilot──▶ open, 服务承诺制 pilot or not
    open ──remove──▶ removed ──reinstate──▶ open   (provider exit, admin.providers)

The caller locks the provider's row and commits (or rolls back on Refused). Each move checks the state first.
"""
from datetime import date

from sqlalchemy import func, select

from .. import audit, policy, refusal
from ..extensions import db
from ..models import Objection, Provider, PublicityBatch, Service, ServiceStatus, ShopStatus, china_today, utcnow
from ..redemption.publicity import publicity_batch, publicity_over

REJECTABLE = (ShopStatus.PENDING, ShopStatus.PUBLICITY)


class Refused(refusal.Refused):
    """A decision the application's current state does not allow; the message says why."""


def require(provider: Provider, *allowed: str) -> None:
    if provider.status not in allowed:
        wanted = "或".join(f"“{ShopStatus.LABELS[s]}”" for s in allowed)
        raise Refused(f"该申请当前为“{provider.status_label}”，只有{wanted}的申请可以执行此操作。")


def approve(provider: Provider, reviewer_id: int, days: int, today: date | None = None) -> None:
    """A direct-eligible unit opens at once; a third-party one goes to publicity for `days` days first."""
    require(provider, ShopStatus.PENDING)
    problems = entry_problems(provider)
    if problems:
        raise Refused("不符合入库条件，不能通过：" + "；".join(p.message for p in problems))
    if provider.is_direct:
        _open(provider, "approve_application", reviewer_id)
        return
    starts_on, ends_on = policy.publicity_period(today or china_today(), days)  # as long as the claims' (SPEC 7.4)
    batch = PublicityBatch(kind="shop", title=f"服务单位入库公示：{provider.name}", starts_on=starts_on,
                           ends_on=ends_on, created_by_id=reviewer_id)
    db.session.add(batch)
    db.session.flush()
    audit.record("provider", provider.id, "approve_application", provider.status, ShopStatus.PUBLICITY,
                 actor_id=reviewer_id)
    provider.status, provider.publicity_batch_id = ShopStatus.PUBLICITY, batch.id


def open_after_publicity(provider: Provider, reviewer_id: int) -> None:
    require(provider, ShopStatus.PUBLICITY)
    batch = publicity_batch(provider)
    if batch and not publicity_over(batch):
        raise Refused(f"公示期至{batch.ends_on.isoformat()}（含当天），公示期满后才能开店。")
    if open_objections(provider):
        raise Refused("该服务单位有尚未处理的异议，处理完毕后才能开店。")
    if batch:
        batch.closed_at = utcnow()
    _open(provider, "open_after_publicity", reviewer_id)


def reject(provider: Provider, reviewer_id: int, reason: str) -> None:
    require(provider, *REJECTABLE)
    audit.record("provider", provider.id, "reject_application", provider.status, ShopStatus.REJECTED, reason,
                 actor_id=reviewer_id)
    provider.status, provider.status_reason = ShopStatus.REJECTED, reason
    batch = publicity_batch(provider)
    if batch and batch.closed_at is None:
        batch.closed_at = utcnow()
    # The services submitted with the application return to draft, to be edited and resubmitted with it.
    waiting = db.session.scalars(select(Service).where(Service.provider_id == provider.id,
                                                       Service.status == ServiceStatus.PENDING))
    for service in waiting:
        audit.record("service", service.id, "return_with_shop", service.status, ServiceStatus.DRAFT, reason,
                     actor_id=reviewer_id)
        service.status = ServiceStatus.DRAFT


def set_pilot(provider: Provider, reviewer_id: int, on: bool) -> None:
    """服务承诺制 pilots (SPEC 7.4): their services show 免审 and the provider confirms its buyers' materials."""
    require(provider, ShopStatus.OPEN)
    if provider.is_pilot == on:
        raise Refused("该服务单位" + ("已是" if on else "不是") + "服务承诺制试点单位。")
    audit.record("provider", provider.id, "pilot_on" if on else "pilot_off", "pilot" if not on else "regular",
                 "pilot" if on else "regular", actor_id=reviewer_id)
    provider.is_pilot = on


def remove(provider: Provider, reason: str, actor_id: int) -> None:
    """The exit itself (admin.providers' docstring tells what follows from it), audited: from the removal form,
    and from 停用 of the provider's account."""
    require_removable(provider)
    if provider.is_pilot:
        audit.record("provider", provider.id, "pilot_off", "pilot", "regular", "随退出取消服务承诺制试点",
                     actor_id=actor_id)
        provider.is_pilot = False
    audit.record("provider", provider.id, "remove", provider.status, ShopStatus.REMOVED, reason, actor_id=actor_id)
    provider.status, provider.status_reason, provider.removed_at = ShopStatus.REMOVED, reason, utcnow()


def require_removable(provider: Provider) -> None:
    if provider.status == ShopStatus.REMOVED:
        raise Refused("该服务单位已经退出，不能重复退出。")
    if provider.status != ShopStatus.OPEN:
        raise Refused(f"该服务单位当前为“{provider.status_label}”，只有已开店的服务单位可以办理退出。")


def require_reinstatable(provider: Provider) -> None:
    if provider.status != ShopStatus.REMOVED:
        raise Refused(f"该服务单位当前为“{provider.status_label}”，只有已退出的服务单位可以恢复。")


def reinstate(provider: Provider, reason: str, actor_id: int) -> None:
    """恢复 a removed provider: its shop opens again (a pilot it was stays off: the reviewer decides that again)."""
    require_reinstatable(provider)
    audit.record("provider", provider.id, "reinstate", provider.status, ShopStatus.OPEN, reason, actor_id=actor_id)
    provider.status, provider.status_reason, provider.removed_at = ShopStatus.OPEN, None, None


def _open(provider: Provider, action: str, actor_id: int) -> None:
    audit.record("provider", provider.id, action, provider.status, ShopStatus.OPEN, actor_id=actor_id)
    provider.status, provider.status_reason, provider.opened_at = ShopStatus.OPEN, None, utcnow()


def entry_problems(provider: Provider) -> list[policy.Problem]:
    return policy.provider_entry_problems(direct=provider.is_direct, founded_on=provider.founded_on,
                                          qualification_expires_on=provider.qualification_expires_on,
                                          today=china_today())


def open_objections(provider: Provider) -> int:
    return db.session.scalar(select(func.count(Objection.id)).where(Objection.provider_id == provider.id,
                                                                    Objection.status == "open"))
