"""A few demo orders so the workbenches are not empty: the 南京 company has one order waiting for the
third-party lab, one the university accepted automatically, and one finished and rated; the 徐州 company
has one waiting, so the lab's 订单管理 shows something to accept, and two finished ones that `flask seed-demo`
claims (demo/claims.py: one paid, one waiting for review)."""
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from .. import policy
from ..models import (
    Enterprise,
    Order,
    OrderEvent,
    OrderItem,
    OrderNumberCounter,
    OrderStatus,
    Provider,
    Rating,
    Service,
    ServiceStatus,
    utcnow,
)
from ..models.base import CHINA

UNIVERSITY, LAB = "中国矿业大学", "江苏科特生物技术检测有限公司"
# (buyer city, provider, days ago, status, finished and rated)
PLAN = (("南京", LAB, 1, OrderStatus.PENDING, False), ("南京", UNIVERSITY, 3, OrderStatus.IN_SERVICE, False),
        ("南京", UNIVERSITY, 20, OrderStatus.IN_SERVICE, True), ("徐州", LAB, 2, OrderStatus.PENDING, False),
        ("徐州", UNIVERSITY, 40, OrderStatus.IN_SERVICE, True), ("徐州", UNIVERSITY, 12, OrderStatus.IN_SERVICE, True))


def seed_orders(session: Session, enterprise_users: dict[str, int]) -> int:
    """Add the PLAN's orders for the demo enterprises (`enterprise_users`: city -> user id); returns how many."""
    providers = {p.name: p for p in session.scalars(select(Provider).where(Provider.name.in_((UNIVERSITY, LAB))))}
    if len(providers) < 2:
        return 0
    providers[UNIVERSITY].auto_accept = True
    counters: dict[tuple[str, object], int] = {}
    now = utcnow()
    for city, provider_name, days_ago, status, rated in PLAN:
        provider, user_id = providers[provider_name], enterprise_users[city]
        enterprise = session.scalar(select(Enterprise).where(Enterprise.user_id == user_id))
        service = session.scalar(select(Service).where(Service.provider_id == provider.id,
                                                       Service.status == ServiceStatus.LISTED,
                                                       Service.voucher_eligible, Service.price_fen.is_not(None))
                                 .order_by(Service.id).limit(1))
        placed = now - timedelta(days=days_ago)
        order = _order(enterprise, user_id, provider, service, placed, status, _number(counters, placed))
        session.add(order)
        if rated:
            _finish_and_rate(session, order, provider)
    session.add_all(OrderNumberCounter(prefix="CXQ", day=day, last_value=value) for (_, day), value in counters.items())
    return len(PLAN)


def _number(counters: dict, placed: datetime) -> str:
    day = placed.replace(tzinfo=UTC).astimezone(CHINA).date()  # stored naive UTC, numbered by China date
    counters[("CXQ", day)] = counters.get(("CXQ", day), 0) + 1
    return f"CXQ{day:%Y%m%d}{counters[('CXQ', day)]:04d}"


def _order(enterprise, user_id, provider, service, placed, status, order_no) -> Order:
    quote = service.price_fen * 2
    order = Order(order_no=order_no, buyer_id=user_id, enterprise_id=enterprise.id, provider_id=provider.id,
                  is_voucher=True, status=status, contact_name="演示联系人", contact_phone="13800000000",
                  quote_fen=quote,
                  estimated_voucher_fen=policy.voucher_amount(quote, policy.region_of(enterprise.city)),
                  note="", created_at=placed, updated_at=placed,
                  items=[OrderItem(service_id=service.id, service_name=service.name, unit_price_fen=service.price_fen,
                                   price_unit=service.price_unit, quantity=2)],
                  events=[OrderEvent(kind="placed", at=placed, actor_id=user_id, note="")])
    if status == OrderStatus.IN_SERVICE:
        kind = "auto_accepted" if provider.auto_accept else "accepted"
        order.accepted_at, order.auto_accepted = placed, provider.auto_accept
        order.events.append(OrderEvent(kind=kind, at=placed, actor_id=None if provider.auto_accept else
                                       provider.user_id, note=""))
    return order


def _finish_and_rate(session: Session, order: Order, provider: Provider) -> None:
    order.finished_at = order.created_at + timedelta(days=6)
    order.final_amount_fen = order.quote_fen
    order.events.append(OrderEvent(kind="finished", at=order.finished_at, actor_id=provider.user_id,
                                   note=f"实际服务金额 ¥{policy.format_yuan(order.quote_fen)}"))
    session.flush()
    session.add(Rating(order_id=order.id, provider_id=provider.id, user_id=order.buyer_id, score=5,
                       comment="测试数据详实，报告出具及时。", created_at=order.finished_at + timedelta(days=1)))
