"""服务承诺制 pilot (SPEC 7.4): the pilot provider reads its buyer's claim on the order page and 确认材料, which
passes the claim without a reviewer; nobody else can."""
import pytest

from marketplace.extensions import db
from marketplace.models import Redemption, RedemptionStatus as R, Voucher
from marketplace.orders import lifecycle as order_lifecycle


def fresh(claim_id: int) -> Redemption:
    db.session.commit()
    db.session.expire_all()
    return db.session.get(Redemption, claim_id)


def claim_with(make, enterprise, pilot: bool) -> tuple[Redemption, object]:
    """A submitted claim of `enterprise` on an order of a new provider (a pilot or not), and that provider."""
    seller = make.provider()
    seller.provider.is_pilot = pilot
    order = make.order(enterprise, make.service(seller.provider))
    order_lifecycle.act(order, "accept", seller)
    db.session.commit()
    return make.claim(enterprise, order=order, amount_fen=order.quote_fen), seller


@pytest.fixture
def voucher(make, enterprise) -> Voucher:
    return make.voucher(enterprise)


@pytest.fixture
def pilot(make, enterprise, voucher):
    return claim_with(make, enterprise, pilot=True)


def confirm(client, claim: Redemption):
    return client.post(f"/seller/orders/{claim.order.order_no}/confirm-materials")


def test_pilot_provider_sees_the_claims_materials_and_can_read_them(client, auth, pilot):
    claim, seller = pilot
    auth.login(seller)
    page = client.get(f"/seller/orders/{claim.order.order_no}").get_data(as_text=True)
    assert "确认材料</button>" in page and claim.invoices[0].number in page
    for file_id in [m.file_id for m in claim.materials] + [claim.invoices[0].file_id, claim.receipts[0].file_id]:
        assert f'href="/files/{file_id}"' in page
        assert client.get(f"/files/{file_id}").status_code == 200
    assert "已提交待确认" in client.get("/seller/orders").get_data(as_text=True)


def test_pilot_provider_confirms_and_the_claim_is_approved_with_the_reservation_kept(client, auth, pilot, voucher):
    claim, seller = pilot
    requested = claim.requested_fen
    assert (db.session.get(Voucher, voucher.id).reserved_fen, voucher.approved_fen) == (requested, 0)
    auth.login(seller)
    response = confirm(client, claim)
    assert response.status_code == 303 and response.headers["Location"].endswith(claim.order.order_no)
    claim = fresh(claim.id)
    assert claim.status == R.APPROVED and claim.approved_fen == requested and claim.provider_confirmed_at
    assert "provider_confirmed" in [event.kind for event in claim.order.events]
    ledger = db.session.get(Voucher, voucher.id)
    assert (ledger.reserved_fen, ledger.approved_fen) == (0, requested)
    page = client.get(f"/seller/orders/{claim.order.order_no}").get_data(as_text=True)
    assert "已确认兑付材料" in page and "确认材料</button>" not in page and "卖家确认资料" in page


def test_confirming_twice_is_a_conflict(client, auth, pilot):
    claim, seller = pilot
    auth.login(seller)
    assert confirm(client, claim).status_code == 303
    assert confirm(client, claim).status_code == 409


def test_a_non_pilot_provider_sees_the_status_only_and_cannot_confirm(client, auth, make, enterprise, voucher):
    claim, seller = claim_with(make, enterprise, pilot=False)
    auth.login(seller)
    page = client.get(f"/seller/orders/{claim.order.order_no}").get_data(as_text=True)
    assert "由省统筹中心审核" in page and "确认材料</button>" not in page
    assert f'href="/files/{claim.materials[0].file_id}"' not in page
    assert confirm(client, claim).status_code == 409
    assert fresh(claim.id).status == R.SUBMITTED


@pytest.mark.parametrize("who, expected", [("other_provider", 404), ("enterprise", 403), ("anonymous", 302)])
def test_nobody_but_the_orders_pilot_provider_can_confirm(client, auth, make, enterprise, pilot, who, expected):
    claim, _ = pilot
    if who == "other_provider":
        other = make.provider()
        other.provider.is_pilot = True
        db.session.commit()
        auth.login(other)
    elif who == "enterprise":
        auth.login(enterprise)
    assert confirm(client, claim).status_code == expected
    assert fresh(claim.id).status == R.SUBMITTED
