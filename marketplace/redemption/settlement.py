"""After approval (SPEC 7.4): approved claims are published (公示) for a period, anyone signed in may object, a
period that is over with no open objection moves its claims to 待兑付, and the reviewer records the payment batch
(拨付) with the city's local matching (省地联动, SPEC 1.3) on each claim. Each move checks the claim's state and
writes its audit row and order timeline through claims.move(); callers commit (or roll back on claims.Refused /
ledger.BalanceRefused).

    approved ──publish──▶ publicity ──close_publicity──▶ awaiting_payment ──pay──▶ paid
                              └── objection upheld ──▶ rejected (the approved amount goes back to the voucher)
"""
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from .. import audit, policy, quotas
from ..extensions import db
from ..models import Objection, PaymentBatch, PublicityBatch, Redemption, RedemptionStatus, china_today, utcnow
from ..vouchers.local import local_offer
from . import ledger
from .claims import OBJECT, Refused, move, require


def publish(claims: list[Redemption], reviewer, days: int = policy.PUBLICITY_DAYS_DEFAULT,
            today: date | None = None) -> PublicityBatch:
    """Put approved claims on /publicity for `days` days (the period ends on starts_on + days − 1)."""
    if not claims:
        raise Refused("请选择要公示的兑付申请。")
    if days < 1:
        raise Refused("公示期至少1天。")
    for claim in claims:
        require(claim, RedemptionStatus.APPROVED)
    start, end = policy.publicity_period(today or china_today(), days)
    batch = PublicityBatch(kind="redemption", title=f"{start:%Y年%m月%d日}省创新券兑付公示",
                           starts_on=start, ends_on=end, created_by_id=reviewer.id)
    db.session.add(batch)
    db.session.flush()
    for claim in claims:
        claim.publicity_batch_id = batch.id
        move(claim, "publish", RedemptionStatus.PUBLICITY, f"公示至 {batch.ends_on:%Y-%m-%d}", reviewer.id, None)
    return batch


class TooMany(Refused):
    """The account has lodged its policy.OBJECTIONS_PER_DAY objections today (answered 429)."""


ALREADY_OBJECTED = "您对该兑付提出的异议正在处理中，处理完成前不能重复提出。"


def lodge_objection(claim: Redemption, user, reason: str) -> Objection:
    """异议: anyone signed in, while the claim is in publicity; it pauses the claim until resolved. Each pauses someone
    else's money, so an account keeps one open objection per claim (index uq_objections_open_claim_user) and lodges
    at most OBJECTIONS_PER_DAY a day, counted under the account's row lock. The claim is re-read under its row lock
    first (a close_publicity at the same moment waits, or has already moved it), whatever the caller holds."""
    claim = db.session.get(Redemption, claim.id, with_for_update=True, populate_existing=True)
    require(claim, RedemptionStatus.PUBLICITY)
    reason = (reason or "").strip()
    if not reason:
        raise Refused("请填写异议的内容和理由。")
    quotas.lock_account(user.id)
    if db.session.scalar(select(Objection.id).where(Objection.redemption_id == claim.id, Objection.user_id == user.id,
                                                    Objection.status == "open").limit(1)) is not None:
        raise Refused(ALREADY_OBJECTED)
    if quotas.lodged_today(Objection, user.id) >= policy.OBJECTIONS_PER_DAY:
        raise TooMany(f"每个账号每天最多提出{policy.OBJECTIONS_PER_DAY}条异议，今天的次数已用完，请明天再提出。")
    objection = Objection(redemption_id=claim.id, user_id=user.id, reason=reason[:2000])
    try:
        with db.session.begin_nested():
            db.session.add(objection)
    except IntegrityError:  # only without the locks above: the index decides
        raise Refused(ALREADY_OBJECTED) from None
    audit.record("objection", objection.id, "lodge", None, "open", reason[:500], actor_id=user.id)
    audit.record(OBJECT, claim.id, "object", RedemptionStatus.PUBLICITY, RedemptionStatus.PUBLICITY, reason[:500],
                 actor_id=user.id)
    return objection


def require_open_objection(objection: Objection) -> None:
    if objection.status != "open":
        raise Refused("该异议已处理。")


def resolve_objection(objection: Objection, reviewer, upheld: bool, resolution: str) -> None:
    """Dismissed: the claim carries on (and moves on if its period is over). Upheld: the claim is rejected
    and its approved amount goes back to the voucher."""
    require_open_objection(objection)
    resolution = (resolution or "").strip()
    if not resolution:
        raise Refused("请填写处理意见。")
    objection.status = "upheld" if upheld else "dismissed"
    objection.resolution, objection.resolved_at, objection.resolved_by_id = resolution[:2000], utcnow(), reviewer.id
    audit.record("objection", objection.id, objection.status, "open", objection.status, resolution[:500],
                 actor_id=reviewer.id)
    # Locked: objections to one claim upheld at the same moment must give its money back once.
    claim = db.session.get(Redemption, objection.redemption_id, with_for_update=True, populate_existing=True)
    if claim is None or claim.status != RedemptionStatus.PUBLICITY:
        return
    if upheld:
        ledger.revoke(claim.voucher_id, claim.approved_fen)
        claim.decision_reason = resolution[:2000]
        move(claim, "objection_upheld", RedemptionStatus.REJECTED, resolution, reviewer.id, "redemption_rejected")
    else:
        db.session.flush()
        close_publicity(actor_id=reviewer.id, claims=[claim])


def close_publicity(today: date | None = None, actor_id: int | None = None,
                    claims: list[Redemption] | None = None) -> int:
    """Claims (all, or those given) whose publicity period is over and that have no open objection → 待兑付. The due
    claims are locked first and their objections read after, in a statement of its own: an objection holds its
    claim's lock until it is committed, so a close at the same moment as an objection (or as another close) moves
    each claim once, and never past an open objection. Returns how many moved."""
    due = (select(Redemption).join(PublicityBatch, Redemption.publicity_batch_id == PublicityBatch.id)
           .where(Redemption.status == RedemptionStatus.PUBLICITY, PublicityBatch.ends_on < (today or china_today())))
    if claims is not None:
        due = due.where(Redemption.id.in_([claim.id for claim in claims]))
    locked = list(db.session.scalars(due.order_by(Redemption.id).with_for_update(of=Redemption)
                                     .execution_options(populate_existing=True)))
    objected = set(db.session.scalars(select(Objection.redemption_id).where(
        Objection.redemption_id.in_([claim.id for claim in locked]), Objection.status == "open")))
    moved = [claim for claim in locked if claim.id not in objected]
    for claim in moved:
        move(claim, "publicity_passed", RedemptionStatus.AWAITING_PAYMENT, None, actor_id, None)
    return len(moved)


def pay(claims: list[Redemption], reviewer, paid_on: date, reference: str) -> PaymentBatch:
    """拨付: record one payment batch (date, bank reference) for claims 待兑付 → 已兑付; the approved amounts
    move to disbursed and each claim records the city's local matching (SPEC 1.3)."""
    reference = (reference or "").strip()
    if not claims:
        raise Refused("请选择要拨付的兑付申请。")
    if not reference:
        raise Refused("请填写拨付凭证号。")
    for claim in claims:
        require(claim, RedemptionStatus.AWAITING_PAYMENT)
    batch = PaymentBatch(paid_on=paid_on, reference=reference[:100], created_by_id=reviewer.id,
                         total_fen=sum(claim.approved_fen for claim in claims))
    db.session.add(batch)
    db.session.flush()
    for claim in claims:
        ledger.disburse(claim.voucher_id, claim.approved_fen)
        claim.payment_batch_id = batch.id
        claim.local_match_fen = local_match_for(claim)
        move(claim, "pay", RedemptionStatus.PAID, f"拨付凭证 {batch.reference}", reviewer.id, "paid")
    return batch


def local_match_for(claim: Redemption) -> int:
    """省地联动 owed by the city for this paid claim: the city's rule applied to everything paid on the voucher so
    far, less what earlier claims already recorded, so the city's annual cap holds across claims."""
    earlier = _paid_so_far([claim.voucher_id], leaving_out=claim.id)
    return _local_match(claim, *earlier.get(claim.voucher_id, (0, 0)))


def local_matches_for(waiting: list[Redemption]) -> dict[int, int]:
    """local_match_for() of each claim awaiting payment (the payment page's preview), in one query for all."""
    earlier = _paid_so_far({claim.voucher_id for claim in waiting})
    return {claim.id: _local_match(claim, *earlier.get(claim.voucher_id, (0, 0))) for claim in waiting}


def _paid_so_far(voucher_ids, leaving_out: int | None = None) -> dict[int, tuple[int, int]]:
    """Per voucher: the provincial amount paid so far and the local matching recorded for it."""
    stmt = (select(Redemption.voucher_id, func.coalesce(func.sum(Redemption.approved_fen), 0),
                   func.coalesce(func.sum(Redemption.local_match_fen), 0))
            .where(Redemption.voucher_id.in_(voucher_ids), Redemption.status == RedemptionStatus.PAID)
            .group_by(Redemption.voucher_id))
    if leaving_out is not None:
        stmt = stmt.where(Redemption.id != leaving_out)
    # PostgreSQL sums BIGINT as NUMERIC
    return {voucher_id: (int(paid), int(local)) for voucher_id, paid, local in db.session.execute(stmt)}


def _local_match(claim: Redemption, paid_fen: int, local_fen: int) -> int:
    offer = local_offer(claim.voucher)
    if offer is None:
        return 0
    return max(offer.for_provincial(paid_fen + claim.approved_fen) - local_fen, 0)
