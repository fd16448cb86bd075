"""The one-shot moves issue 14 added, twenty requests at the same moment through the real routes (each a client of
its own, so each has its own session and database connection; on PostgreSQL twenty pooled connections): 服务完成
confirms one 实际服务金额, 确认材料 approves a claim once, and an order is cancelled or closed once. The order's row
lock decides; every other request is told why."""
from sqlalchemy import func, select

from marketplace.extensions import db
from marketplace.models import AuditLog, Order, OrderEvent, OrderStatus, Redemption, RedemptionStatus, Voucher

from .conftest import posted_at_once

THREADS = 20
YUAN = 100


def at_once(app, requests: list[tuple[object, str, dict]]) -> list[int]:
    """Post every (user, path, data) at the same moment, each from a client of its own; their status codes."""
    return [status for status, _ in posted_at_once(app, requests)]


def count(model, *where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def test_twenty_finishes_at_once_confirm_one_actual_amount(app, make, enterprise, provider):
    order = make.order(enterprise, make.service(provider.provider, price_fen=2_000 * YUAN),
                       status=OrderStatus.IN_SERVICE)
    statuses = at_once(app, [(provider, f"/seller/orders/{order.order_no}/finish",
                              {"final_amount": str(1_000 + n), "final_amount_note": f"第{n}次"})
                             for n in range(THREADS)])
    assert sorted(statuses) == [303] + [409] * (THREADS - 1)
    order = db.session.get(Order, order.id)
    assert 1_000 * YUAN <= order.final_amount_fen < (1_000 + THREADS) * YUAN
    assert count(OrderEvent, OrderEvent.order_id == order.id, OrderEvent.kind == "finished") == 1
    assert count(AuditLog, AuditLog.object_id == order.order_no, AuditLog.action == "finish") == 1


def test_twenty_confirmations_at_once_approve_a_pilot_claim_once(app, make, enterprise):
    pilot = make.provider()
    pilot.provider.is_pilot = True
    db.session.commit()
    voucher = make.voucher(enterprise)
    order = make.order(enterprise, make.service(pilot.provider, price_fen=2_000 * YUAN), status=OrderStatus.IN_SERVICE)
    claim = make.claim(enterprise, order=order, amount_fen=2_000 * YUAN)
    requested = claim.requested_fen
    statuses = at_once(app, [(pilot, f"/seller/orders/{order.order_no}/confirm-materials", {})] * THREADS)
    assert sorted(statuses) == [303] + [409] * (THREADS - 1)
    assert db.session.get(Redemption, claim.id).status == RedemptionStatus.APPROVED
    voucher = db.session.get(Voucher, voucher.id)
    assert (voucher.reserved_fen, voucher.approved_fen) == (0, requested)
    assert count(AuditLog, AuditLog.object_type == "redemption", AuditLog.object_id == str(claim.id),
                 AuditLog.action == "provider_confirm") == 1


def test_twenty_requests_answers_and_closes_at_once_end_an_order_once(app, make, enterprise, provider, reviewer):
    order = make.order(enterprise, make.service(provider.provider), status=OrderStatus.IN_SERVICE)
    statuses = at_once(app, [(enterprise, f"/me/orders/{order.order_no}/request_cancel", {"reason": f"第{n}次申请"})
                             for n in range(THREADS)])
    assert sorted(statuses) == [303] + [409] * (THREADS - 1)
    assert count(OrderEvent, OrderEvent.order_id == order.id, OrderEvent.kind == "cancel_requested_buyer") == 1

    half = THREADS // 2
    statuses = at_once(app, [(provider, f"/seller/orders/{order.order_no}/agree_cancel", {})] * half
                       + [(reviewer, f"/admin/orders/{order.order_no}/close", {"reason": "长期未服务"})] * half)
    assert statuses.count(303) == 1 and statuses.count(409) == THREADS - 1
    order = db.session.get(Order, order.id)
    assert order.status in (OrderStatus.CANCELLED, OrderStatus.CLOSED)
    ended = count(OrderEvent, OrderEvent.order_id == order.id,
                  OrderEvent.kind.in_(("cancel_agreed_provider", "closed")))
    assert ended == 1
