"""Order states and every move between them (SPEC 5), as one table: state × action × who.

    pending ──accept / auto-accept──▶ in_service ──finish──▶ in_service (voucher: the buyer claims next)
       │ └──decline──▶ declined                       └──────▶ completed (no voucher)
       ├──withdraw (buyer)──▶ withdrawn
       └──expire (nobody accepted in time)──▶ expired

Each move writes an OrderEvent (the timeline the buyer and provider see) and an audit row. Redemption
(issue 6) moves in_service → reviewing → correction / awaiting_payment → paid through the same helpers.
"""
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Optional

from sqlalchemy import func, or_, select

from .. import audit
from ..extensions import db
from ..models import Order, OrderEvent, OrderStatus, Provider, ShopStatus, User, utcnow

S = OrderStatus
BUYER, PROVIDER, SYSTEM = "buyer", "provider", "system"


class Refused(Exception):
    """A move the order's state or the user's part in it does not allow; the message says why in Chinese."""


@dataclass(frozen=True)
class Move:
    label: str              # the button / the refusal names it
    sources: frozenset      # states it may start from
    actor: str              # BUYER, PROVIDER or SYSTEM
    event: str              # OrderEvent.kind written
    needs_reason: bool = False
    needs_open_shop: bool = False  # a provider that has exited (SPEC 1.6) takes no new work


MOVES = {
    "accept": Move("接单", frozenset({S.PENDING}), PROVIDER, "accepted", needs_open_shop=True),
    "decline": Move("拒绝接单", frozenset({S.PENDING}), PROVIDER, "declined", needs_reason=True),
    "withdraw": Move("撤回订单", frozenset({S.PENDING}), BUYER, "withdrawn"),
    "finish": Move("服务完成", frozenset({S.IN_SERVICE}), PROVIDER, "finished"),
    "expire": Move("订单失效", frozenset({S.PENDING}), SYSTEM, "expired"),
}

EVENT_LABELS = {
    "placed": "买家下单", "accepted": "卖家接单并服务", "auto_accepted": "卖家已开启自动接单，订单自动接单",
    "declined": "卖家拒绝接单", "withdrawn": "买家撤回订单", "finished": "卖家确认服务完成",
    "expired": "超过接单期限未接单，订单失效", "redemption_submitted": "买家申请兑付", "corrections_requested": "平台退回补正",
    "redemption_resubmitted": "买家补正后重新提交", "reviewed": "平台审核完成", "provider_confirmed": "卖家确认资料",
    "redemption_rejected": "兑付审核不通过", "paid": "兑付完成",
}
# The seed's progress bar: each step is done once one of its events happened.
STEPS = (("买家下单", ("placed",)), ("卖家接单并服务", ("accepted", "auto_accepted")),
         ("买家申请兑付", ("redemption_submitted",)), ("平台审核完成", ("reviewed", "provider_confirmed")), ("兑付完成", ("paid",)))


def role_in(order: Order, user) -> Optional[str]:
    """BUYER, PROVIDER, or None for anyone else (reviewers read orders but never move them here)."""
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


def allowed(order: Order, action: str, user) -> bool:
    move = MOVES[action]
    return (order.status in move.sources and role_in(order, user) == move.actor
            and (not move.needs_open_shop or order.provider.status == ShopStatus.OPEN))


def act(order: Order, action: str, user, reason: str = "") -> None:
    """Apply `action` by `user` (None: the system); Refused when the state or the user's part forbids it."""
    move = MOVES[action]
    actor = SYSTEM if user is None else role_in(order, user)
    if actor != move.actor:
        raise Refused(f"您无权对该订单执行“{move.label}”。")
    if order.status not in move.sources:
        raise Refused(f"订单当前为“{order.status_label}”，不能{move.label}。")
    if move.needs_open_shop and order.provider.status != ShopStatus.OPEN:
        raise Refused(f"“{order.provider.name}”已退出平台或店铺已关闭，不能{move.label}；买家可撤回该订单。")
    if move.needs_reason and not reason.strip():
        raise Refused(f"请填写{move.label}的原因。")
    getattr(_Transitions, action)(order, user, reason.strip())


def place(order: Order, buyer: User) -> None:
    """A new order (already added and flushed): the 买家下单 step, then 自动接单 when the provider has it on."""
    order.status = S.PENDING
    _event(order, "placed", buyer.id, "")
    audit.record("order", order.order_no, "place", None, S.PENDING, actor_id=buyer.id)
    if order.provider.auto_accept:
        _to(order, S.IN_SERVICE, "auto_accepted", None, "auto_accept")
        order.accepted_at, order.auto_accepted = utcnow(), True


def expire_stale(days: int, now: Optional[datetime] = None) -> int:
    """Orders still waiting after `days` days expire; returns how many (the caller commits)."""
    cutoff = (now or utcnow()) - timedelta(days=days)
    stale = db.session.scalars(select(Order).where(Order.status == S.PENDING, Order.created_at < cutoff)
                               .with_for_update()).all()
    for order in stale:
        act(order, "expire", None)
    return len(stale)


class _Transitions:
    @staticmethod
    def accept(order, user, _reason):
        _to(order, S.IN_SERVICE, "accepted", user.id, "accept")
        order.accepted_at = utcnow()

    @staticmethod
    def decline(order, user, reason):
        _to(order, S.DECLINED, "declined", user.id, "decline", reason)
        order.status_reason = reason

    @staticmethod
    def withdraw(order, user, reason):
        _to(order, S.WITHDRAWN, "withdrawn", user.id, "withdraw", reason)

    @staticmethod
    def finish(order, user, _reason):
        _to(order, S.IN_SERVICE if order.is_voucher else S.COMPLETED, "finished", user.id, "finish")
        order.finished_at = utcnow()

    @staticmethod
    def expire(order, _user, _reason):
        _to(order, S.EXPIRED, "expired", None, "expire")


def _to(order: Order, status: str, event: str, actor_id: Optional[int], action: str, reason: str = "") -> None:
    audit.record("order", order.order_no, action, order.status, status, reason or None, actor_id=actor_id)
    order.status = status
    _event(order, event, actor_id, reason)


def _event(order: Order, kind: str, actor_id: Optional[int], note: str) -> None:
    order.events.append(OrderEvent(kind=kind, actor_id=actor_id, note=note, at=utcnow()))


@dataclass(frozen=True)
class Step:
    label: str
    at: Optional[datetime]

    @property
    def done(self) -> bool:
        return self.at is not None


def progress(order: Order) -> list[Step]:
    """The five steps of the seed's progress bar, each with when it happened (None: not yet)."""
    first = {}
    for event in order.events:
        first.setdefault(event.kind, event.at)
    return [Step(label, next((first[k] for k in kinds if k in first), None)) for label, kinds in STEPS]


# Buyer's tabs (SPEC 5): key -> (label, states; None = all).
BUYER_TABS = {
    "all": ("全部订单", None),
    "pending": ("待接单", frozenset({S.PENDING})),
    "in_service": ("服务中", frozenset({S.IN_SERVICE})),
    "reviewing": ("审核中", frozenset({S.REVIEWING})),
    "correction": ("待补正", frozenset({S.CORRECTION})),
    "awaiting_payment": ("待兑付", frozenset({S.AWAITING_PAYMENT})),
    "paid": ("已兑付", frozenset({S.PAID})),
    "inactive": ("失效订单", S.INACTIVE),
}


def tab_counts(*where) -> dict[str, int]:
    """How many orders matching `where` fall in each of BUYER_TABS (one grouped query)."""
    by_status = dict(db.session.execute(select(Order.status, func.count()).where(*where)
                                        .group_by(Order.status)).all())
    return {key: sum(n for status, n in by_status.items() if states is None or status in states)
            for key, (_label, states) in BUYER_TABS.items()}


def in_tab(key: str):
    """WHERE clause for one of BUYER_TABS (unknown keys: all orders)."""
    states = BUYER_TABS.get(key, BUYER_TABS["all"])[1]
    return Order.status.in_(states) if states else Order.id.is_not(None)
