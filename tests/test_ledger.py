"""Balance safety of the year's voucher (SPEC 7.4): claims reserve, approve, release and disburse money with one
guarded UPDATE each, so the cap is never exceeded, not even by submissions at the same moment."""
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from marketplace.extensions import db
from marketplace.models import ApplicationStatus, Voucher, china_today
from marketplace.redemption.ledger import BalanceRefused, approve, disburse, release, reserve
from marketplace.vouchers import lifecycle

from .conftest import run_at_once


def yuan(amount: int) -> int:
    return amount * 100


@pytest.fixture
def voucher_id(make, enterprise, reviewer) -> int:
    """A 南京 (苏南) enterprise's voucher for this year: 100,000 元."""
    application = make.voucher_application(enterprise, status=ApplicationStatus.SUBMITTED)
    voucher = lifecycle.approve(application, reviewer.id)
    db.session.commit()
    assert voucher.total_fen == yuan(100_000)
    return voucher.id


def ledger(voucher_id: int) -> dict:
    """The voucher's columns as committed in the database."""
    db.session.commit()
    row = db.session.execute(select(Voucher.total_fen, Voucher.reserved_fen, Voucher.approved_fen,
                                    Voucher.disbursed_fen).where(Voucher.id == voucher_id)).one()
    return row._asdict()


def remaining(voucher_id: int) -> int:
    numbers = ledger(voucher_id)
    return numbers["total_fen"] - numbers["reserved_fen"] - numbers["approved_fen"] - numbers["disbursed_fen"]


def test_a_claim_within_the_balance_is_reserved(voucher_id):
    reserve(voucher_id, yuan(30_000))
    db.session.commit()
    assert ledger(voucher_id) == dict(total_fen=yuan(100_000), reserved_fen=yuan(30_000), approved_fen=0,
                                      disbursed_fen=0)
    assert remaining(voucher_id) == yuan(70_000)


def test_the_whole_balance_can_be_reserved_to_the_last_fen(voucher_id):
    reserve(voucher_id, yuan(100_000) - 1)
    reserve(voucher_id, 1)
    db.session.commit()
    assert remaining(voucher_id) == 0


def test_a_claim_over_the_balance_is_refused_with_the_remaining_balance_and_nothing_changes(voucher_id):
    reserve(voucher_id, yuan(87_655))
    db.session.commit()
    with pytest.raises(BalanceRefused) as refused:
        reserve(voucher_id, yuan(20_000))
    db.session.rollback()
    assert str(refused.value) == "本年度创新券剩余可用金额为 ¥12,345.00，不足以预留本次申请的 ¥20,000.00。"
    assert ledger(voucher_id)["reserved_fen"] == yuan(87_655)


def test_an_expired_voucher_reserves_nothing(voucher_id):
    yesterday = china_today() - timedelta(days=1)
    db.session.execute(update(Voucher).where(Voucher.id == voucher_id).values(valid_until=yesterday))
    db.session.commit()
    with pytest.raises(BalanceRefused) as refused:
        reserve(voucher_id, yuan(1_000))
    db.session.rollback()
    assert str(refused.value) == f"本年度创新券已于 {yesterday:%Y-%m-%d} 到期，不能再申请兑付。"
    assert ledger(voucher_id)["reserved_fen"] == 0


def test_a_voucher_valid_until_today_still_reserves(voucher_id):
    db.session.execute(update(Voucher).where(Voucher.id == voucher_id).values(valid_until=china_today()))
    db.session.commit()
    reserve(voucher_id, yuan(1_000))
    assert ledger(voucher_id)["reserved_fen"] == yuan(1_000)


def test_approving_less_than_reserved_keeps_the_approved_part_and_releases_the_rest(voucher_id):
    reserve(voucher_id, yuan(30_000))
    reserve(voucher_id, yuan(10_000))
    approve(voucher_id, yuan(30_000), yuan(20_000))
    db.session.commit()
    assert ledger(voucher_id) == dict(total_fen=yuan(100_000), reserved_fen=yuan(10_000),
                                      approved_fen=yuan(20_000), disbursed_fen=0)
    assert remaining(voucher_id) == yuan(70_000)


def test_approving_more_than_reserved_is_a_programming_error(voucher_id):
    reserve(voucher_id, yuan(30_000))
    with pytest.raises(ValueError, match="核定金额不能超过预留金额"):
        approve(voucher_id, yuan(30_000), yuan(30_001))


def test_rejecting_a_claim_releases_its_whole_reservation(voucher_id):
    reserve(voucher_id, yuan(30_000))
    reserve(voucher_id, yuan(5_000))
    release(voucher_id, yuan(30_000))
    db.session.commit()
    assert ledger(voucher_id)["reserved_fen"] == yuan(5_000)
    assert remaining(voucher_id) == yuan(95_000)


def test_payment_moves_the_approved_amount_to_disbursed(voucher_id):
    reserve(voucher_id, yuan(30_000))
    approve(voucher_id, yuan(30_000), yuan(25_000))
    disburse(voucher_id, yuan(25_000))
    db.session.commit()
    assert ledger(voucher_id) == dict(total_fen=yuan(100_000), reserved_fen=0, approved_fen=0,
                                      disbursed_fen=yuan(25_000))
    assert remaining(voucher_id) == yuan(75_000)


@pytest.mark.parametrize("move, message", [
    (lambda v: release(v, yuan(10_001)),
     "创新券预留金额为 ¥10,000.00，少于本次要处理的 ¥10,001.00，账目不符，未作变动。"),
    (lambda v: approve(v, yuan(10_001), yuan(5_000)),
     "创新券预留金额为 ¥10,000.00，少于本次要处理的 ¥10,001.00，账目不符，未作变动。"),
    (lambda v: disburse(v, yuan(4_001)),
     "创新券已核定待兑付金额为 ¥4,000.00，少于本次要处理的 ¥4,001.00，账目不符，未作变动。"),
], ids=["over-release", "over-approve", "over-disburse"])
def test_moving_more_than_the_voucher_holds_is_refused_and_nothing_changes(voucher_id, move, message):
    reserve(voucher_id, yuan(14_000))
    approve(voucher_id, yuan(4_000), yuan(4_000))
    db.session.commit()
    before = ledger(voucher_id)
    with pytest.raises(BalanceRefused) as refused:
        move(voucher_id)
    db.session.rollback()
    assert str(refused.value) == message
    assert ledger(voucher_id) == before


@pytest.mark.parametrize("amount, error", [(0, ValueError), (-100, ValueError), (1.5, TypeError),
                                           (True, TypeError), ("100", TypeError)])
def test_amounts_are_whole_positive_fen(voucher_id, amount, error):
    for move in (lambda: reserve(voucher_id, amount), lambda: release(voucher_id, amount),
                 lambda: disburse(voucher_id, amount), lambda: approve(voucher_id, amount, 1),
                 lambda: approve(voucher_id, yuan(1), amount)):
        with pytest.raises(error):
            move()


def test_an_unknown_voucher_is_refused(voucher_id):
    with pytest.raises(BalanceRefused, match="找不到该创新券"):
        reserve(voucher_id + 1000, yuan(1))


def test_moves_belong_to_the_callers_transaction(voucher_id):
    reserve(voucher_id, yuan(30_000))
    db.session.rollback()
    assert ledger(voucher_id)["reserved_fen"] == 0


def test_a_voucher_the_caller_holds_shows_the_new_balance(voucher_id):
    voucher = db.session.get(Voucher, voucher_id)
    assert voucher.remaining_fen == yuan(100_000)
    reserve(voucher_id, yuan(30_000))
    assert voucher.remaining_fen == yuan(70_000)


def test_claims_submitted_at_the_same_moment_never_overspend_the_cap(app, voucher_id):
    threads, claim = 20, yuan(15_000)
    reserved, refusals = [], []

    def submit():
        try:
            reserve(voucher_id, claim)
            db.session.commit()
            reserved.append(claim)
        except BalanceRefused as refused:
            db.session.rollback()
            refusals.append(str(refused))

    failures = run_at_once(app, submit, threads)
    assert failures == []
    assert len(reserved) == 6
    assert ledger(voucher_id)["reserved_fen"] == yuan(90_000) <= ledger(voucher_id)["total_fen"]
    assert refusals == ["本年度创新券剩余可用金额为 ¥10,000.00，不足以预留本次申请的 ¥15,000.00。"] * 14
