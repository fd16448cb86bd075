"""Order states and every move between them (SPEC 5), as one table: state × action × who.

    pending ──accept / auto-accept──▶ in_service ──finish──▶ in_service (voucher: the buyer claims next)
       │ └──decline──▶ declined                       └──────▶ completed (no voucher)
       │                                  服务完成 records the 实际服务金额 the provider confirms: a claim on the
       │                                  order is never worth more (a difference from the quote needs a reason)
       ├──withdraw (buyer)──▶ withdrawn
       └──expire (nobody accepted in time)──▶ expired

    in_service ──request_cancel (either side, with a reason)──▶ in_service with a 申请取消 waiting:
       │            the side that did not ask: agree_cancel ──▶ cancelled, or refuse_cancel (a reason if it likes)
       │            the side that asked: retract_cancel; either answer clears the request, one request at a time
       └──close (a reviewer, with a reason; a request waiting or not)──▶ closed

An order with a live claim (submitted, or anything after it but rejected) is neither cancelled nor closed; a draft
claim the buyer never submitted goes with the order (deleted as 放弃填写 is, audited).

Each move writes an OrderEvent (the timeline the buyer and provider see) and an audit row. Redemption
(issue 6) moves in_service → reviewing → correction / awaiting_payment → paid through the same helpers.
"""
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import func, or_, select
from sqlalchemy.exc import OperationalError

from .. import audit, policy, refusal
from ..extensions import db
from ..models import Order, OrderEvent, OrderStatus, Provider, Redemption, RedemptionStatus, ShopStatus, User, utcnow
from ..models.orders import CANCEL_SIDES
from ..redemption import claims

BUYER, PROVIDER, SYSTEM, REVIEWER = "buyer", "provider", "system", "reviewer"
SIDES = (BUYER, PROVIDER)
# Who makes a move that no one part always makes: either side; or, of the 申请取消 waiting, the side that asked
# or the other one.
EITHER_SIDE, ASKER, OTHER_SIDE = "either side", "asker", "other side"
REASON_MAX = 500  # any reason or note a move records
POSTGRES_LOCK_NOT_AVAILABLE = "55P03"


class Refused(refusal.Refused):
    """A move the order's state or the user's part in it does not allow; the message says why in Chinese."""


class LiveClaim(Refused):
    """Refused because of the order's claim, whatever the order's state allows (the route answers 409)."""


@dataclass(frozen=True)
class Move:
    label: str              # the button / the refusal names it
    sources: frozenset      # states it may start from
    actor: str              # BUYER, PROVIDER, SYSTEM, REVIEWER, or EITHER_SIDE / ASKER / OTHER_SIDE
    event: str              # OrderEvent.kind written ({side}: the buyer's or the provider's)
    needs_reason: bool = False
    needs_open_shop: bool = False  # a provider that has exited (SPEC 1.6) takes no new work
    needs_amount: bool = False     # the provider confirms the 实际服务金额 (the reason explains a difference)
    cancel_request: bool | None = None  # True: only while a 申请取消 waits; False: only while none does
    ends_order: bool = False       # cancels or closes it: refused while the order has a live claim


MOVES = {
    "accept": Move("接单", frozenset({OrderStatus.PENDING}), PROVIDER, "accepted", needs_open_shop=True),
    "decline": Move("拒绝接单", frozenset({OrderStatus.PENDING}), PROVIDER, "declined", needs_reason=True),
    "withdraw": Move("撤回订单", frozenset({OrderStatus.PENDING}), BUYER, "withdrawn"),
    "finish": Move("服务完成", frozenset({OrderStatus.IN_SERVICE}), PROVIDER, "finished", needs_amount=True,
                   cancel_request=False),
    "expire": Move("订单失效", frozenset({OrderStatus.PENDING}), SYSTEM, "expired"),
    "request_cancel": Move("申请取消", frozenset({OrderStatus.IN_SERVICE}), EITHER_SIDE, "cancel_requested_{side}",
                           needs_reason=True, cancel_request=False),
    "agree_cancel": Move("同意取消", frozenset({OrderStatus.IN_SERVICE}), OTHER_SIDE, "cancel_agreed_{side}",
                         cancel_request=True, ends_order=True),
    "refuse_cancel": Move("拒绝取消", frozenset({OrderStatus.IN_SERVICE}), OTHER_SIDE, "cancel_refused_{side}",
                          cancel_request=True),
    "retract_cancel": Move("撤回取消申请", frozenset({OrderStatus.IN_SERVICE}), ASKER, "cancel_retracted_{side}",
                           cancel_request=True),
    "close": Move("关闭订单", frozenset({OrderStatus.IN_SERVICE}), REVIEWER, "closed", needs_reason=True,
                  ends_order=True),
}
CANCELLATION = ("request_cancel", "agree_cancel", "refuse_cancel", "retract_cancel")
CANCEL_DONE = {"request_cancel": "已提交取消申请，等待对方答复。", "agree_cancel": "已同意取消，订单已取消。",
               "refuse_cancel": "已拒绝取消申请，订单继续服务。", "retract_cancel": "已撤回取消申请。"}

EVENT_LABELS = {
    "placed": "买家下单", "accepted": "卖家接单并服务", "auto_accepted": "卖家已开启自动接单，订单自动接单",
    "declined": "卖家拒绝接单", "withdrawn": "买家撤回订单", "finished": "卖家确认服务完成",
    "expired": "超过接单期限未接单，订单失效", "redemption_submitted": "买家申请兑付",
    "corrections_requested": "平台退回补正",
    "redemption_resubmitted": "买家补正后重新提交", "reviewed": "平台审核完成", "provider_confirmed": "卖家确认资料",
    "provider_referred": "卖家确认资料，因风险提示转平台审核",
    "redemption_rejected": "兑付审核不通过", "paid": "兑付完成",
    "cancel_requested_buyer": "买家申请取消订单", "cancel_requested_provider": "卖家申请取消订单",
    "cancel_agreed_buyer": "买家同意取消，订单已取消", "cancel_agreed_provider": "卖家同意取消，订单已取消",
    "cancel_refused_buyer": "买家拒绝取消订单", "cancel_refused_provider": "卖家拒绝取消订单",
    "cancel_retracted_buyer": "买家撤回取消申请", "cancel_retracted_provider": "卖家撤回取消申请",
    "closed": "平台关闭订单",
}
# The seed's progress bar: each step is done once one of its events happened.
STEPS = (("买家下单", ("placed",)), ("卖家接单并服务", ("accepted", "auto_accepted")),
         ("买家申请兑付", ("redemption_submitted",)), ("平台审核完成", ("reviewed", "provider_confirmed")),
         ("兑付完成", ("paid",)))


def role_in(order: Order, user) -> str | None:
    """BUYER, PROVIDER, or None for anyone else (reviewers read orders; they only close them: see part_in)."""
    if not getattr(user, "is_authenticated", False):
        return None
    if order.buyer_id == user.id:
        return BUYER
    if order.provider is not None and order.provider.user_id == user.id:
        return PROVIDER
    return None


def visible_to(user):
    """WHERE clause: the orders `user` may see — bought, sold, or any for an approved reviewer."""
    if user.is_reviewer:
        return Order.id.is_not(None)
    sold = select(Provider.id).where(Provider.user_id == user.id).scalar_subquery()
    return or_(Order.buyer_id == user.id, Order.provider_id == sold)


def part_in(order: Order, user) -> str | None:
    """Who `user` is for a move on `order`: SYSTEM (None), BUYER, PROVIDER, REVIEWER, or None for anyone else."""
    if user is None:
        return SYSTEM
    return role_in(order, user) or (REVIEWER if getattr(user, "is_reviewer", False) else None)


def allowed(order: Order, action: str, user) -> bool:
    return why_not(order, action, user) is None


def require(order: Order, action: str, user) -> None:
    """Refused (saying why) unless `user` may make `action` on `order` now: the state and the user's part only."""
    refusal = why_not(order, action, user)
    if refusal:
        raise Refused(refusal)


def available(order: Order, user, names) -> list[tuple[str, str]]:
    """The moves (action, label) among `names` that `user` may make on `order` now."""
    return [(name, MOVES[name].label) for name in names if allowed(order, name, user)]


def why_not(order: Order, action: str, user) -> str | None:
    """Why `user` (None: the system) may not make `action` on `order` now, in Chinese; None when it may. What
    the user types (a reason, an amount) and the order's claim are checked by act()."""
    move, part = MOVES[action], part_in(order, user)
    if part not in _makers(move):
        return f"您无权对该订单执行“{move.label}”。"
    if order.status not in move.sources:
        return f"订单当前为“{order.status_label}”，不能{move.label}。"
    if move.needs_open_shop and order.provider.status != ShopStatus.OPEN:
        return f"“{order.provider.name}”已退出平台或店铺已关闭，不能{move.label}；买家可撤回该订单。"
    if move.needs_amount and order.final_amount_fen is not None:  # the buyer claims on it: it never moves again
        return f"已确认服务完成（{final_amount_text(order)}），不能重复确认。"
    return _cancel_request_refusal(order, move, part)


def _makers(move: Move) -> tuple:
    return SIDES if move.actor in (EITHER_SIDE, ASKER, OTHER_SIDE) else (move.actor,)


def _cancel_request_refusal(order: Order, move: Move, part: str) -> str | None:
    """The 申请取消 the move needs (or must not meet), and the side of it `part` has to be on."""
    asked = order.cancel_requested_by
    if move.cancel_request is False and asked:
        waiting = f"{CANCEL_SIDES[asked]}已申请取消该订单，正在等待答复，"
        if move.actor == EITHER_SIDE:
            return waiting + "不能重复申请。"
        return waiting + ("请先撤回取消申请" if part == asked else "请先答复取消申请") + f"，再{move.label}。"
    if move.cancel_request and not asked:
        return "该订单没有等待答复的取消申请。"
    if move.actor == OTHER_SIDE and part == asked:
        return "不能答复自己提出的取消申请；如不再需要取消，可撤回申请。"
    if move.actor == ASKER and part != asked:
        return f"该取消申请由{CANCEL_SIDES[asked]}提出，只有提出的一方可以撤回。"
    return None


def act(order: Order, action: str, user, reason: str = "", amount_fen: int | None = None) -> None:
    """Apply `action` by `user` (None: the system); Refused when the state or the user's part forbids it.
    服务完成 takes the 实际服务金额 (`amount_fen`), with `reason` explaining a difference from the quote.
    Ending an order (同意取消, 关闭订单) first looks at its claim: LiveClaim unless there is none or a draft."""
    move = MOVES[action]
    require(order, action, user)
    if move.needs_reason and not reason.strip():
        raise Refused(f"请填写{move.label}的原因。")
    if len(reason.strip()) > REASON_MAX:
        raise Refused(f"原因不能超过{REASON_MAX}个字。")
    draft = _draft_claim_only(order, move) if move.ends_order else None
    if move.needs_amount:
        _confirm_amount(order, amount_fen, reason.strip())
    if draft is not None:
        claims.abandon(draft, user)
    getattr(_Transitions, action)(order, user, reason.strip())


def _draft_claim_only(order: Order, move: Move) -> Redemption | None:
    """The order's live claim if it is a draft never submitted (it goes with the order), row-locked; None without
    one. Any other live claim refuses the move, and so does a claim another request holds at this moment (the
    buyer saving or submitting it): waiting for it could deadlock with that request, which locks the claim before
    the order."""
    try:
        claim = db.session.scalar(select(Redemption).where(Redemption.order_id == order.id,
                                                           Redemption.status != RedemptionStatus.REJECTED)
                                  .order_by(Redemption.id.desc()).limit(1).with_for_update(nowait=True)
                                  .execution_options(populate_existing=True))
    except OperationalError as error:
        if getattr(error.orig, "sqlstate", None) != POSTGRES_LOCK_NOT_AVAILABLE:
            raise
        raise LiveClaim(f"买家正在修改该订单的兑付申请，请稍后再{move.label}。") from error
    if claim is not None and (claim.status != RedemptionStatus.DRAFT or claim.submitted_at is not None):
        raise LiveClaim(f"该订单的兑付申请当前为“{claim.status_label}”，已提交兑付申请的订单不能{move.label}。")
    return claim


def _confirm_amount(order: Order, amount_fen: int | None, note: str) -> None:
    problems = policy.final_amount_problems(amount_fen, order.quote_fen, note, order_ceiling())
    if problems:
        raise Refused(problems[0].message)
    order.final_amount_fen = amount_fen
    order.final_amount_note = (note or None) if amount_fen != order.quote_fen else None


def order_ceiling() -> int:
    """The most one order may be worth (ORDER_MAX_FEN)."""
    return current_app.config["ORDER_MAX_FEN"]


def fixable(order: Order, action: str, user, refusal: Refused) -> bool:
    """The user may make the move and what stopped it is theirs to fix (a reason, an amount): 422, not 409."""
    return allowed(order, action, user) and not isinstance(refusal, LiveClaim)


def final_amount_text(order: Order) -> str:
    """实际服务金额 as the timeline and the audit log say it, with the quote and the reason when they differ."""
    text = f"实际服务金额 ¥{policy.format_yuan(order.final_amount_fen)}"
    if order.final_amount_note:
        agreed = "面议" if order.quote_fen is None else f"¥{policy.format_yuan(order.quote_fen)}"
        text += f"（订单金额 {agreed}；说明：{order.final_amount_note}）"
    return text


def place(order: Order, buyer: User) -> None:
    """A new order (already added and flushed): the 买家下单 step, then 自动接单 when the provider has it on."""
    order.status = OrderStatus.PENDING
    _event(order, "placed", buyer.id, "")
    audit.record("order", order.order_no, "place", None, OrderStatus.PENDING, actor_id=buyer.id)
    if order.provider.auto_accept:
        _to(order, OrderStatus.IN_SERVICE, "auto_accepted", None, "auto_accept")
        order.accepted_at, order.auto_accepted = utcnow(), True


def expire_stale(days: int, now: datetime | None = None) -> int:
    """Orders still waiting after `days` days expire; returns how many (the caller commits)."""
    cutoff = (now or utcnow()) - timedelta(days=days)
    stale = db.session.scalars(select(Order).where(Order.status == OrderStatus.PENDING, Order.created_at < cutoff)
                               .with_for_update()).all()
    for order in stale:
        act(order, "expire", None)
    return len(stale)


class _Transitions:
    @staticmethod
    def accept(order, user, _reason):
        _to(order, OrderStatus.IN_SERVICE, "accepted", user.id, "accept")
        order.accepted_at = utcnow()

    @staticmethod
    def decline(order, user, reason):
        _to(order, OrderStatus.DECLINED, "declined", user.id, "decline", reason)
        order.status_reason = reason

    @staticmethod
    def withdraw(order, user, reason):
        _to(order, OrderStatus.WITHDRAWN, "withdrawn", user.id, "withdraw", reason)

    @staticmethod
    def finish(order, user, _reason):
        _to(order, OrderStatus.IN_SERVICE if order.is_voucher else OrderStatus.COMPLETED, "finished", user.id, "finish",
            final_amount_text(order))
        order.finished_at = utcnow()

    @staticmethod
    def expire(order, _user, _reason):
        _to(order, OrderStatus.EXPIRED, "expired", None, "expire")

    @staticmethod
    def request_cancel(order, user, reason):
        _to(order, order.status, _side_event("request_cancel", order, user), user.id, "request_cancel", reason)
        order.cancel_requested_by, order.cancel_requested_at = role_in(order, user), utcnow()
        order.cancel_reason = reason

    @staticmethod
    def agree_cancel(order, user, _reason):
        """The request's who and why stay on the cancelled order; its reason becomes the order's."""
        _to(order, OrderStatus.CANCELLED, _side_event("agree_cancel", order, user), user.id, "agree_cancel",
            order.cancel_reason)
        order.status_reason = order.cancel_reason

    @staticmethod
    def refuse_cancel(order, user, reason):
        _to(order, order.status, _side_event("refuse_cancel", order, user), user.id, "refuse_cancel", reason)
        _clear_cancel_request(order)

    @staticmethod
    def retract_cancel(order, user, _reason):
        _to(order, order.status, _side_event("retract_cancel", order, user), user.id, "retract_cancel")
        _clear_cancel_request(order)

    @staticmethod
    def close(order, user, reason):
        _to(order, OrderStatus.CLOSED, "closed", user.id, "close", reason)
        order.status_reason = reason


def refused_cancellation(order: Order) -> OrderEvent | None:
    """The last answer to a 申请取消 if it was a refusal and no new request waits (the page shows it and why)."""
    if order.status != OrderStatus.IN_SERVICE or order.cancel_requested_by:
        return None
    answers = [event for event in order.events if event.kind.startswith("cancel_")]
    return answers[-1] if answers and answers[-1].kind.startswith("cancel_refused_") else None


def _side_event(action: str, order: Order, user) -> str:
    """The event of a move either side may make, naming the side that made it (cancel_requested_buyer …)."""
    return MOVES[action].event.format(side=role_in(order, user))


def _clear_cancel_request(order: Order) -> None:
    order.cancel_requested_by = order.cancel_requested_at = order.cancel_reason = None


def _to(order: Order, status: str, event: str, actor_id: int | None, action: str, reason: str = "") -> None:
    audit.record("order", order.order_no, action, order.status, status, reason or None, actor_id=actor_id)
    order.status = status
    _event(order, event, actor_id, reason)


def _event(order: Order, kind: str, actor_id: int | None, note: str) -> None:
    order.events.append(OrderEvent(kind=kind, actor_id=actor_id, note=note, at=utcnow()))


@dataclass(frozen=True)
class Step:
    label: str
    at: datetime | None

    @property
    def done(self) -> bool:
        return self.at is not None


def progress(order: Order) -> list[Step]:
    """The five steps of the seed's progress bar, each with when it happened (None: not yet)."""
    first = {}
    for event in order.events:
        first.setdefault(event.kind, event.at)
    return [Step(label, next((first[k] for k in kinds if k in first), None)) for label, kinds in STEPS]


# The order lists' tabs (SPEC 5, named as the seed names them), for buyers and sellers alike:
# key -> (label, states; None = all).
BUYER_TABS = {
    "all": ("全部订单", None),
    "pending": ("订单沟通中", frozenset({OrderStatus.PENDING})),
    "in_service": ("服务中", frozenset({OrderStatus.IN_SERVICE})),
    "reviewing": ("审核中", frozenset({OrderStatus.REVIEWING})),
    "correction": ("待补正", frozenset({OrderStatus.CORRECTION})),
    "awaiting_payment": ("待兑付", frozenset({OrderStatus.AWAITING_PAYMENT})),
    "paid": ("已兑付", frozenset({OrderStatus.PAID})),
    "completed": ("订单完成", frozenset({OrderStatus.COMPLETED})),
    "inactive": ("订单失效", OrderStatus.INACTIVE),
}
# The steps of 兑付: a list of 非创新券订单 has no use for them (the seed's five tabs remain).
CLAIM_TABS = ("reviewing", "correction", "awaiting_payment", "paid")


def tabs_for(with_claims: bool) -> dict:
    """BUYER_TABS, without the 兑付 tabs for a list that holds only 非创新券订单 (`with_claims` False)."""
    return {key: tab for key, tab in BUYER_TABS.items() if with_claims or key not in CLAIM_TABS}


def tab_counts(*where) -> dict[str, int]:
    """How many orders matching `where` fall in each of BUYER_TABS (one grouped query)."""
    return counts_by_tab(dict(db.session.execute(select(Order.status, func.count()).where(*where)
                                                 .group_by(Order.status)).all()))


def counts_by_tab(by_status: dict[str, int]) -> dict[str, int]:
    """How many of the orders counted by status fall in each of BUYER_TABS."""
    return {key: sum(n for status, n in by_status.items() if states is None or status in states)
            for key, (_label, states) in BUYER_TABS.items()}


def in_tab(key: str):
    """WHERE clause for one of BUYER_TABS (unknown keys: all orders)."""
    states = BUYER_TABS.get(key, BUYER_TABS["all"])[1]
    return Order.status.in_(states) if states else Order.id.is_not(None)
