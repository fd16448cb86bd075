"""A claim's life (SPEC 7.4) through the claims module: every move keeps the voucher's ledger, the order's
status and timeline, and the audit log in step."""
from datetime import timedelta

import pytest
from sqlalchemy import select

from marketplace.extensions import db
from marketplace.models import AuditLog, OrderStatus, RedemptionStatus as R, Voucher, china_today
from marketplace.orders import lifecycle as order_lifecycle
from marketplace.redemption import claims, readiness, settlement

YUAN = 100


def ledger(voucher_id: int) -> tuple[int, int, int]:
    db.session.commit()
    db.session.expire_all()
    v = db.session.get(Voucher, voucher_id)
    return v.reserved_fen, v.approved_fen, v.disbursed_fen


@pytest.fixture
def voucher(make, enterprise):
    return make.voucher(enterprise)


def test_submitting_reserves_the_policy_amount_and_moves_the_order_to_reviewing(make, enterprise, voucher):
    claim = make.claim(enterprise, amount_fen=15_000 * YUAN)
    assert claim.requested_fen == 3_750 * YUAN  # 苏南 25% of 15,000 元
    assert ledger(voucher.id) == (3_750 * YUAN, 0, 0)
    assert claim.order.status == OrderStatus.REVIEWING
    assert "redemption_submitted" in [event.kind for event in claim.order.events]


def test_approving_less_keeps_the_approved_part_and_releases_the_rest(make, enterprise, voucher, reviewer):
    claim = make.claim(enterprise, amount_fen=15_000 * YUAN)
    claims.approve(claim, reviewer, 3_000 * YUAN)
    assert ledger(voucher.id) == (0, 3_000 * YUAN, 0)
    assert claim.order.status == OrderStatus.AWAITING_PAYMENT


def test_approving_more_than_requested_is_refused(make, enterprise, voucher, reviewer):
    claim = make.claim(enterprise, amount_fen=15_000 * YUAN)
    with pytest.raises(claims.Refused, match="不能超过申请金额"):
        claims.approve(claim, reviewer, 3_750 * YUAN + 1)


def test_rejection_releases_the_whole_reservation(make, enterprise, voucher):
    make.claim(enterprise, amount_fen=15_000 * YUAN, status=R.REJECTED)
    assert ledger(voucher.id) == (0, 0, 0)


def test_resubmission_after_correction_reserves_the_new_amount_only(make, enterprise, voucher):
    claim = make.claim(enterprise, amount_fen=15_000 * YUAN, status=R.CORRECTION)
    assert claim.order.status == OrderStatus.CORRECTION
    assert claim.materials[0].correction_note == "合同缺少盖章页"
    assert ledger(voucher.id) == (3_750 * YUAN, 0, 0)
    claim.contract_amount_fen = 10_000 * YUAN
    claims.submit(claim, enterprise, readiness.DECLARATIONS)
    assert ledger(voucher.id) == (2_500 * YUAN, 0, 0)
    assert claim.materials[0].correction_note is None
    assert claim.status == R.SUBMITTED


def test_payment_disburses_and_records_local_matching_and_the_timeline_reaches_payment(make, enterprise, voucher):
    claim = make.claim(enterprise, amount_fen=15_000 * YUAN, status=R.PAID)
    assert ledger(voucher.id) == (0, 0, 3_750 * YUAN)
    assert claim.local_match_fen == 3_750 * YUAN  # 南京 default 1:1
    assert claim.order.status == OrderStatus.PAID
    assert [step.done for step in order_lifecycle.progress(claim.order)] == [True] * 5


def test_publicity_waits_while_an_objection_is_open(make, enterprise, voucher, reviewer, individual):
    claim = make.claim(enterprise, status=R.PUBLICITY)
    objection = settlement.lodge_objection(claim, individual, "该企业与服务单位为关联方")
    later = china_today() + timedelta(days=10)
    assert settlement.close_publicity(today=later) == 0
    settlement.resolve_objection(objection, reviewer, upheld=True, resolution="经核实属实")
    assert claim.status == R.REJECTED
    assert ledger(voucher.id) == (0, 0, 0)


def test_incomplete_claims_cannot_be_submitted(make, enterprise, voucher):
    claim = make.claim(enterprise, status=R.DRAFT)
    claim.receipts[0].amount_fen += 1
    with pytest.raises(claims.Refused, match="不一致"):
        claims.submit(claim, enterprise, readiness.DECLARATIONS)
    assert ledger(voucher.id) == (0, 0, 0)


def test_every_move_is_audited(make, enterprise, voucher):
    claim = make.claim(enterprise, status=R.PAID)
    actions = db.session.scalars(select(AuditLog.action).where(AuditLog.object_type == "redemption",
                                                               AuditLog.object_id == str(claim.id))
                                 .order_by(AuditLog.id)).all()
    assert actions == ["create", "submit", "approve", "publish", "publicity_passed", "pay"]
