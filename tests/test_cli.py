from sqlalchemy import func, select

from marketplace import policy
from marketplace.extensions import db
from marketplace.models import Redemption, RedemptionStatus, Service, Voucher


def test_seed_demo_fills_an_empty_database_and_prints_the_logins(runner, client):
    result = runner.invoke(args=["seed-demo", "--services", "120"])
    assert result.exit_code == 0, result.output
    assert "admin@demo.cxq" in result.output and "demo12345" in result.output
    assert db.session.scalar(select(func.count(Service.id))) == 120
    assert "二代基因文库测序" in client.get("/services?q=测序").get_data(as_text=True)


def test_seed_demo_claims_finished_orders_through_the_claims_module(runner):
    result = runner.invoke(args=["seed-demo", "--services", "120"])
    assert result.exit_code == 0, result.output
    rows = db.session.execute(select(Redemption.status, Redemption.requested_fen, Redemption.local_match_fen)
                              .order_by(Redemption.id)).all()
    assert [row.status for row in rows] == [RedemptionStatus.PAID, RedemptionStatus.SUBMITTED]
    paid = rows[0]
    assert paid.local_match_fen == policy.local_match(paid.requested_fen, "苏北")
    voucher = db.session.scalar(select(Voucher).join(Redemption, Redemption.voucher_id == Voucher.id).limit(1))
    assert voucher.reserved_fen == rows[1].requested_fen and voucher.disbursed_fen >= paid.requested_fen


def test_seed_demo_leaves_an_existing_catalog_alone(runner, listed_service):
    result = runner.invoke(args=["seed-demo", "--services", "120"])
    assert result.exit_code == 0 and "跳过" in result.output
    assert db.session.scalar(select(func.count(Service.id))) == 1
