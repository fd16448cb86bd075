"""A claim's life (SPEC 7), one function per move; each checks the state, moves the voucher's money through
`ledger`, keeps the order's status and timeline in step, and writes the audit row. Callers commit (or roll
back on Refused / ledger.BalanceRefused).

    draft ──submit──▶ submitted ──approve──▶ approved ──publish──▶ publicity ──close_publicity──▶ awaiting_payment
      ▲                 │ │ └──reject──▶ rejected                     │ objection upheld ──▶ rejected       │
      └─ correction ◀───┘ └── provider_confirm (服务承诺制 pilot) ──▶ approved                            pay ──▶ paid
                                 (a flagged claim stays submitted, referred to the reviewer)

Money: the claim's `requested_fen` is what its voucher holds reserved while it is submitted or 待补正; approval
keeps `approved_fen` (≤ requested) and releases the rest; rejection releases everything; payment disburses.
What a claim must hold to be submitted is readiness.py (an offline claim's provider part: offline_checks.py).
What follows approval (publish, objections, close_publicity, pay and the city's local matching) is settlement.py,
which moves the claim with this module's require() and move().
"""
from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from .. import audit, policy, refusal
from ..extensions import db
from ..models import Order, OrderEvent, OrderStatus, Redemption, RedemptionStatus, Voucher, china_today, utcnow
from . import flags, ledger, readiness

OBJECT = "redemption"
EDITABLE = frozenset({RedemptionStatus.DRAFT, RedemptionStatus.CORRECTION})
WAITING_FOR_REVIEW = frozenset({RedemptionStatus.SUBMITTED})

ACTION_LABELS = {"create": "创建兑付申请", "edit_provider": "填写服务单位信息", "edit_service": "填写服务信息",
                 "submit": "提交兑付", "resubmit": "补正后重新提交",
                 "request_corrections": "退回补正", "approve": "审核通过", "reject": "审核不通过",
                 "provider_confirm": "服务单位确认材料", "provider_refer": "服务单位确认材料，因风险提示转平台审核",
                 "publish": "进入公示", "object": "提出异议",
                 "objection_dismissed": "异议不成立", "objection_upheld": "异议成立，撤销兑付",
                 "publicity_passed": "公示期满", "pay": "兑付完成", "abandon": "放弃填写"}

# Order timeline events the claim writes (labels live in orders.lifecycle.EVENT_LABELS).
ORDER_STATUS_FOR = {RedemptionStatus.SUBMITTED: OrderStatus.REVIEWING,
                    RedemptionStatus.CORRECTION: OrderStatus.CORRECTION,
                    RedemptionStatus.APPROVED: OrderStatus.AWAITING_PAYMENT,
                    RedemptionStatus.PUBLICITY: OrderStatus.AWAITING_PAYMENT,
                    RedemptionStatus.AWAITING_PAYMENT: OrderStatus.AWAITING_PAYMENT,
                    RedemptionStatus.PAID: OrderStatus.PAID,
                    RedemptionStatus.REJECTED: OrderStatus.COMPLETED}

NO_VOUCHER = "您还没有本年度的省创新券，请先申领创新券，审核通过后再申请兑付。"


class Refused(refusal.Refused):
    """A move the claim's state, the user's part or the rules do not allow; the message says why in Chinese."""


# ---- finding and starting claims -----------------------------------------------------------------------------

def voucher_for(enterprise_id: int, year: int | None = None, lock: bool = False) -> Voucher | None:
    """The enterprise's voucher for `year` (default: this year in China), or None; `lock`: held until commit (FOR NO
    KEY UPDATE, which ledger moves wait for too, not claims referencing it)."""
    stmt = select(Voucher).where(Voucher.enterprise_id == enterprise_id, Voucher.year == (year or china_today().year))
    if lock:
        stmt = stmt.with_for_update(key_share=True).execution_options(populate_existing=True)
    return db.session.scalar(stmt)


def claim_of_order(order: Order, with_rejected: bool = False) -> Redemption | None:
    """The order's live claim (any state but rejected), newest first; `with_rejected`: the newest of any state, as
    the order's page shows it (a rejected claim with its reason)."""
    stmt = select(Redemption).where(Redemption.order_id == order.id)
    if not with_rejected:
        stmt = stmt.where(Redemption.status != RedemptionStatus.REJECTED)
    return db.session.scalar(stmt.order_by(Redemption.id.desc()).limit(1))


def referred(order_ids) -> set[int]:
    """The orders among `order_ids` whose claim waits for the reviewer after a pilot's 确认材料 found flags (one
    query, for a list of orders)."""
    ids = set(order_ids)
    if not ids:
        return set()
    return set(db.session.scalars(select(Redemption.order_id).where(
        Redemption.order_id.in_(ids), Redemption.status == RedemptionStatus.SUBMITTED,
        Redemption.referral_reason.is_not(None))))


def may_claim(order: Order) -> bool:
    return order.is_voucher and order.status == OrderStatus.IN_SERVICE


def start_online(order: Order, user) -> Redemption:
    """上传服务信息: the order's claim, created as a draft pre-filled from the order the first time. The order's row is
    locked first, so requests at the same moment queue and each after the first finds the claim it made; the index
    uq_redemptions_live_order is the last word should anything create one without that lock.

    An existing claim is returned untouched: a submit locks the claim and then the order (orders/lifecycle.py), so
    writing to a claim while holding its order could deadlock with it. Only a claim made here gets its amounts."""
    order = _locked(order)
    existing = claim_of_order(order)
    if existing is not None:
        return existing
    if order.buyer_id != user.id or order.enterprise_id is None:
        raise Refused("只有下单企业可以为该订单申请兑付。")
    if not may_claim(order):
        raise Refused(f"订单当前为“{order.status_label}”，服务中的创新券订单才能申请兑付。")
    claim = Redemption(kind="online", order_id=order.id, enterprise_id=order.enterprise_id,
                       contract_amount_fen=order.quote_fen, provider_name=order.provider.name,
                       provider_credit_code=order.provider.credit_code)
    try:
        with db.session.begin_nested():
            _created(claim, user)
    except IntegrityError:
        existing = claim_of_order(order)
        if existing is None:
            raise
        return existing
    readiness.refresh_amounts(claim)  # the 申请创新券 preview the order page shows
    return claim


def _locked(order: Order) -> Order:
    """The order re-read under its row lock (SQLite: the POST's BEGIN IMMEDIATE already serialises writers). FOR NO
    KEY UPDATE: starts wait for each other, while rows that merely reference the order (messages, timeline events)
    are inserted without waiting."""
    return db.session.scalar(select(Order).where(Order.id == order.id).with_for_update(key_share=True)
                             .execution_options(populate_existing=True))


def may_start_offline(user) -> None:
    """线下订单申请兑付 is for an enterprise holding this year's voucher (else Refused, saying why)."""
    if user.enterprise is None:
        raise Refused("只有企业用户可以申请兑付。")
    if voucher_for(user.enterprise.id) is None:
        raise Refused(NO_VOUCHER)


def start_offline(user, provider_credit_code: str) -> Redemption:
    """The draft of an offline claim on the provider with this 统一社会信用代码, made when the wizard's first step is
    saved, so a click that goes no further leaves no empty draft. A draft of that provider that holds nothing but
    its first step (a double click on 下一步) is reused, looked for under the voucher's row lock, so requests at the
    same moment make one; a draft with anything of step 2 or the claim editor saved is never reopened by a new
    claim. Refused without this year's voucher, also when it went since the caller checked."""
    may_start_offline(user)
    voucher = voucher_for(user.enterprise.id, lock=True)
    unfinished = None if voucher is None else db.session.scalar(select(Redemption).where(
        Redemption.voucher_id == voucher.id, Redemption.kind == "offline", Redemption.status == RedemptionStatus.DRAFT,
        Redemption.provider_credit_code == provider_credit_code, *_only_its_provider())
        .order_by(Redemption.id).limit(1))
    return unfinished or _created(Redemption(kind="offline", enterprise_id=user.enterprise.id,
                                             provider_credit_code=provider_credit_code), user)


def _only_its_provider() -> tuple:
    """An offline draft holding nothing but what the wizard's first step writes: no field of step 2 (暂存 saves any
    of them alone), no amount, material, invoice or receipt of the claim editor."""
    return (Redemption.provider_unit_type == "", Redemption.qualification_kind == "",
            Redemption.qualification_file_id.is_(None), Redemption.qualification_expires_on.is_(None),
            Redemption.contract_amount_fen.is_(None), Redemption.eligible_fee_fen.is_(None),
            ~Redemption.service_lines.any(), ~Redemption.materials.any(), ~Redemption.invoices.any(),
            ~Redemption.receipts.any())


def _created(claim: Redemption, user) -> Redemption:
    voucher = voucher_for(claim.enterprise_id)
    if voucher is None:
        raise Refused(NO_VOUCHER)
    claim.voucher_id = voucher.id
    db.session.add(claim)
    db.session.flush()
    audit.record(OBJECT, claim.id, "create", None, RedemptionStatus.DRAFT, actor_id=user.id)
    return claim


def abandon(claim: Redemption, user) -> None:
    """放弃填写: a draft that was never submitted is deleted with its materials (the files stay on disk)."""
    require(claim, RedemptionStatus.DRAFT)
    if claim.submitted_at is not None:
        raise Refused("已提交过的兑付申请不能放弃。")
    audit.record(OBJECT, claim.id, "abandon", RedemptionStatus.DRAFT, None, actor_id=user.id)
    db.session.delete(claim)


# ---- the enterprise's moves -------------------------------------------------------------------------------------

def submit(claim: Redemption, user, declared: Iterable[str]) -> None:
    """提交 (or resubmit after 待补正): every check passes, the requested amount is reserved atomically.
    Raises Refused with the first problem's message when a check fails (callers show `problems()` first)."""
    require(claim, *EDITABLE)
    _require_owner(claim, user)
    declared = [code for code in readiness.DECLARATIONS if code in set(declared)]
    found_problems = readiness.problems(claim, declared)
    if found_problems:
        raise Refused(found_problems[0].message)
    found = readiness.figures(claim)
    resubmitting = claim.status == RedemptionStatus.CORRECTION
    if resubmitting and claim.requested_fen:
        ledger.release(claim.voucher_id, claim.requested_fen)
    ledger.reserve(claim.voucher_id, found.requested_fen)  # BalanceRefused: the caller rolls back
    claim.requested_fen, claim.eligible_spend_fen = found.requested_fen, found.eligible_fen
    claim.declarations = "\n".join(readiness.DECLARATIONS[code] for code in declared)
    claim.declared_at = claim.submitted_at = utcnow()
    for item in (*claim.materials, *claim.invoices, *claim.receipts):
        item.correction_note = None
    claim.decision_reason = None
    move(claim, "resubmit" if resubmitting else "submit", RedemptionStatus.SUBMITTED, None, user.id,
          "redemption_resubmitted" if resubmitting else "redemption_submitted")


# ---- the reviewer's (and the pilot provider's) moves ---------------------------------------------------------

def request_corrections(claim: Redemption, reviewer, reason: str, notes: dict) -> None:
    """待补正: `notes` maps a material, invoice or receipt object to what must be fixed about it."""
    require(claim, RedemptionStatus.SUBMITTED)
    notes = {item: (note or "").strip() for item, note in notes.items() if (note or "").strip()}
    reason = (reason or "").strip()
    if not reason and not notes:
        raise Refused("请填写需要补正的原因（可针对每份材料填写）。")
    for item, note in notes.items():
        item.correction_note = note[:500]
    claim.decision_reason = reason or "请按各材料旁的说明补正后重新提交。"
    claim.decided_at, claim.decided_by_id = utcnow(), reviewer.id
    move(claim, "request_corrections", RedemptionStatus.CORRECTION, claim.decision_reason, reviewer.id,
         "corrections_requested")


def approve(claim: Redemption, reviewer, amount_fen: int, review_batch_id: int | None = None) -> None:
    """审核通过 with an amount 0 < amount ≤ requested; the rest of the reservation goes back to the voucher."""
    require(claim, RedemptionStatus.SUBMITTED)
    if not isinstance(amount_fen, int) or amount_fen <= 0:
        raise Refused("核定金额须大于零；不予支持请选择“审核不通过”。")
    if amount_fen > claim.requested_fen:
        raise Refused(f"核定金额不能超过申请金额 ¥{policy.format_yuan(claim.requested_fen)}。")
    ledger.approve(claim.voucher_id, claim.requested_fen, amount_fen)
    claim.approved_fen, claim.review_batch_id = amount_fen, review_batch_id
    claim.decided_at, claim.decided_by_id, claim.decision_reason = utcnow(), reviewer.id, None
    note = f"核定 ¥{policy.format_yuan(amount_fen)}"
    move(claim, "approve", RedemptionStatus.APPROVED, note, reviewer.id, "reviewed")


def reject(claim: Redemption, reviewer, reason: str) -> None:
    """审核不通过: the whole reservation is released; the reason is shown to the enterprise."""
    require(claim, RedemptionStatus.SUBMITTED)
    reason = (reason or "").strip()
    if not reason:
        raise Refused("请填写审核不通过的原因。")
    ledger.release(claim.voucher_id, claim.requested_fen)
    claim.decided_at, claim.decided_by_id, claim.decision_reason = utcnow(), reviewer.id, reason[:2000]
    move(claim, "reject", RedemptionStatus.REJECTED, reason, reviewer.id, "redemption_rejected")


def is_pilot_claim(claim: Redemption) -> bool:
    """An online claim on an order of a 服务承诺制 pilot provider: the provider confirms it, and only a flagged one
    goes to a reviewer."""
    return claim.order is not None and claim.order.provider is not None and claim.order.provider.is_pilot


def provider_confirm(claim: Redemption, user) -> bool:
    """确认材料 by a pilot provider: the claim passes 形式审查 at the requested amount — only when nothing is
    flagged. A flagged claim goes to the reviewer's queue instead, its `referral_reason` saying why. True when
    approved."""
    require(claim, RedemptionStatus.SUBMITTED)
    if not is_pilot_claim(claim) or claim.order.provider.user_id != user.id:
        raise Refused("只有服务承诺制试点单位可以确认本单位订单的兑付材料。")
    if claim.referral_reason:
        raise Refused("该兑付申请存在风险提示，已转省统筹中心审核。")
    concerns = flags.blocking(claim)
    if concerns:
        claim.referral_reason = "；".join(flag.message for flag in concerns)[:2000]
        audit.record(OBJECT, claim.id, "provider_refer", claim.status, claim.status, claim.referral_reason,
                     actor_id=user.id)
        # The timeline is read by both sides: the reasons (which may name other claims) stay with the reviewer.
        claim.order.events.append(OrderEvent(kind="provider_referred", actor_id=user.id, note="", at=utcnow()))
        return False
    ledger.approve(claim.voucher_id, claim.requested_fen, claim.requested_fen)
    claim.approved_fen = claim.requested_fen
    claim.provider_confirmed_at = claim.decided_at = utcnow()
    claim.decided_by_id = user.id
    move(claim, "provider_confirm", RedemptionStatus.APPROVED, None, user.id, "provider_confirmed")
    return True


# ---- helpers -------------------------------------------------------------------------------------------------

def require(claim: Redemption, *states: str) -> None:
    if claim.status not in states:
        raise Refused(f"兑付申请当前为“{claim.status_label}”，不能进行此操作。")


def _require_owner(claim: Redemption, user) -> None:
    if user.enterprise is None or user.enterprise.id != claim.enterprise_id:
        raise Refused("只有申请企业可以提交该兑付申请。")


def move(claim: Redemption, action: str, to_state: str, reason: str | None, actor_id: int | None,
          event: str | None) -> None:
    audit.record(OBJECT, claim.id, action, claim.status, to_state, reason, actor_id=actor_id)
    claim.status = to_state
    order = claim.order
    if order is None:
        return
    new_status = ORDER_STATUS_FOR.get(to_state, order.status)
    if new_status != order.status:
        audit.record("order", order.order_no, f"redemption_{action}", order.status, new_status, actor_id=actor_id)
        order.status = new_status
    if event:
        order.events.append(OrderEvent(kind=event, actor_id=actor_id, note=reason or "", at=utcnow()))
