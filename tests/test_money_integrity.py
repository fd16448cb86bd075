"""Issue 14: no claim may be worth more than the service it pays for. The order is the ceiling: the provider confirms
the 实际服务金额 with 服务完成 (a difference from the order amount needs a reason), a claim's eligible spend is the
least of that amount, the contract, the invoices and the receipts (and the 可兑付服务费 of a mixed contract, proven
by a 补充协议), checkout refuses absurd amounts and asks before unusual ones, and a pilot provider's 确认材料
approves a claim on its own only when nothing is flagged. Every attack goes through the real routes."""
import importlib.util

import pytest
from sqlalchemy import select, text

from marketplace import policy
from marketplace.config import ROOT
from marketplace.extensions import db
from marketplace.models import (
    AuditLog,
    Material,
    Order,
    OrderItem,
    OrderStatus,
    Redemption,
    RedemptionStatus as R,
    Voucher,
    utcnow,
)
from marketplace.orders import lifecycle
from marketplace.policy import Problem
from marketplace.redemption import claims, readiness
from marketplace.redemption.offline import offline_estimate_fen

from . import test_checkout as checkout_page, test_redemption_editor as editor
from .conftest import fresh
from .samples import pdf_upload

YUAN = 100
HX = {"HX-Request": "true"}


def finish(client, order, amount, note=None, headers=None):
    data = {"final_amount": amount} | ({} if note is None else {"final_amount_note": note})
    return client.post(f"/seller/orders/{order.order_no}/finish", data=data, headers=headers or {})


def claim_everything(client, order, amount, eligible_fee=None, supplement=False):
    """The buyer's whole claim through the editor: every material, one invoice and one receipt of `amount`, the
    contract amount `amount` (and a 可兑付服务费 with its 补充协议), then 提交."""
    assert client.post(f"/me/orders/{order.order_no}/redemption/start").status_code == 303
    claim = editor.draft_of(order)
    for kind in ("contract", "report", "rnd_proof") + (("supplement",) if supplement else ()):
        assert editor.upload(client, claim, kind, pdf_upload(f"{kind}.pdf")).status_code == 303
    assert editor.add_invoice(client, claim, amount=amount).status_code == 303
    assert editor.add_receipt(client, claim, amount=amount).status_code == 303
    data = {"contract_amount": amount, "declarations": editor.ALL_DECLARED}
    if eligible_fee is not None:
        data["eligible_fee"] = eligible_fee
    return claim, client.post(f"/me/redemptions/{claim.id}/submit", data=data)


@pytest.fixture
def xuzhou(make):
    """A 徐州 (苏北, 35 %) enterprise holding this year's 140,000 元 voucher."""
    user = make.enterprise(city="徐州")
    make.voucher(user)
    return user


@pytest.fixture
def pilot(make):
    """A 服务承诺制 pilot university with 自动接单 on."""
    user = make.provider(name="中国矿业大学")
    user.provider.is_pilot = user.provider.auto_accept = True
    db.session.commit()
    return user


# ---------------------------------------------------------------- the attack of the issue

def test_a_160_yuan_order_never_yields_more_than_35_percent_of_160_and_a_pilot_cannot_pass_the_inflated_claim(
        client, auth, make, xuzhou, pilot, reviewer):
    service = make.service(pilot.provider, price_fen=160 * YUAN)
    order = make.order(xuzhou, service)
    assert order.status == OrderStatus.IN_SERVICE and order.auto_accepted
    auth.login(pilot)
    assert finish(client, order, "160").status_code == 303
    auth.logout()

    auth.login(xuzhou)
    claim, response = claim_everything(client, order, "400000")
    assert response.status_code == 303
    claim = fresh(Redemption, claim.id)
    assert claim.status == R.SUBMITTED and claim.eligible_spend_fen == 160 * YUAN
    assert claim.requested_fen == policy.voucher_amount(160 * YUAN, "苏北") == 56 * YUAN
    assert fresh(Voucher, claim.voucher_id).reserved_fen == 56 * YUAN
    auth.logout()

    auth.login(pilot)
    response = client.post(f"/seller/orders/{order.order_no}/confirm-materials")
    assert response.status_code == 303
    assert "已转省统筹中心审核" in client.get(response.headers["Location"]).get_data(as_text=True)
    claim = fresh(Redemption, claim.id)
    assert claim.status == R.SUBMITTED and claim.approved_fen == 0
    assert "高于服务单位确认的实际服务金额 ¥160.00" in claim.referral_reason
    auth.logout()

    auth.login(reviewer)
    queue = client.get("/admin/redemptions").get_data(as_text=True)
    assert f'id="redemption-{claim.id}"' in queue and "试点单位转审" in queue
    review = client.get(f"/admin/redemptions/{claim.id}").get_data(as_text=True)
    assert "实际服务金额" in review and "¥160.00" in review and 'data-flag="above_confirmed"' in review
    assert "因存在风险提示转平台审核" in review


def test_a_pilot_confirms_a_clean_claim_without_a_reviewer(client, auth, make, xuzhou, pilot):
    order = make.order(xuzhou, make.service(pilot.provider, price_fen=2_000 * YUAN))
    auth.login(pilot)
    finish(client, order, "2000")
    auth.logout()
    auth.login(xuzhou)
    claim, _ = claim_everything(client, order, "2000")
    auth.logout()
    auth.login(pilot)
    client.post(f"/seller/orders/{order.order_no}/confirm-materials")
    claim = fresh(Redemption, claim.id)
    assert claim.status == R.APPROVED and claim.approved_fen == 700 * YUAN and claim.referral_reason is None


def test_a_referred_claim_cannot_be_confirmed_again(make, xuzhou, pilot):
    order = make.order(xuzhou, make.service(pilot.provider, price_fen=160 * YUAN))
    claim = make.claim(xuzhou, order=order, amount_fen=400_000 * YUAN)
    assert claims.provider_confirm(claim, pilot) is False
    db.session.commit()
    with pytest.raises(claims.Refused, match="已转省统筹中心审核"):
        claims.provider_confirm(claim, pilot)
    assert audit_actions(claim) == ["create", "submit", "provider_refer"]


def audit_actions(claim) -> list[str]:
    return list(db.session.scalars(select(AuditLog.action).where(AuditLog.object_type == "redemption",
                                                                 AuditLog.object_id == str(claim.id))
                                   .order_by(AuditLog.id)))


# ---------------------------------------------------------------- 服务完成 with the 实际服务金额

def test_finishing_asks_for_the_actual_amount_prefilled_with_the_order_amount(client, auth, make, enterprise,
                                                                            provider):
    order = make.order(enterprise, make.service(provider.provider, price_fen=2_000 * YUAN),
                       status=OrderStatus.IN_SERVICE)
    auth.login(provider)
    page = client.get(f"/seller/orders/{order.order_no}").get_data(as_text=True)
    assert f'id="finish-{order.order_no}-final_amount"' in page and 'value="2000.00"' in page


@pytest.mark.parametrize("amount, note, message", [
    ("", None, "请填写实际服务金额"),
    ("0", None, "实际服务金额应大于0"),
    ("1500", "", "实际服务金额与订单金额 ¥2,000.00 不一致，请说明原因"),
    ("10000001", "追加", "实际服务金额不能超过单笔订单上限 1000 万元"),
    ("abc", None, "请填写数字金额"),
])
@pytest.mark.parametrize("htmx", [False, True])
def test_a_bad_actual_amount_is_refused_next_to_its_field_with_the_input_kept(client, auth, make, enterprise, provider,
                                                                             amount, note, message, htmx):
    """The order page again (also for htmx: 服务完成 is posted from the order page, not from a list row)."""
    order = make.order(enterprise, make.service(provider.provider, price_fen=2_000 * YUAN),
                       status=OrderStatus.IN_SERVICE)
    auth.login(provider)
    response = finish(client, order, amount, note, headers=HX if htmx else None)
    page = response.get_data(as_text=True)
    assert response.status_code == 422 and message in page
    field = "final_amount_note" if "原因" in message else "final_amount"
    assert f'id="finish-{order.order_no}-{field}-error"' in page
    if amount:
        assert f'value="{amount}"' in page
    order = fresh(Order, order.id)
    assert order.final_amount_fen is None and order.finished_at is None


def test_a_lower_actual_amount_with_its_reason_caps_the_claim_and_is_shown_to_both_sides_and_the_reviewer(
        client, auth, make, enterprise, provider, reviewer):
    make.voucher(enterprise)
    order = make.order(enterprise, make.service(provider.provider, price_fen=2_000 * YUAN))
    lifecycle.act(order, "accept", provider)
    db.session.commit()
    auth.login(provider)
    assert finish(client, order, "1500", "样品由4件减为3件").status_code == 303
    order = fresh(Order, order.id)
    assert order.final_amount_fen == 1_500 * YUAN and order.final_amount_note == "样品由4件减为3件"
    assert "实际服务金额 ¥1,500.00（订单金额 ¥2,000.00；说明：样品由4件减为3件）" in order.events[-1].note
    auth.logout()

    auth.login(enterprise)
    assert "样品由4件减为3件" in client.get(f"/me/orders/{order.order_no}").get_data(as_text=True)
    claim, response = claim_everything(client, order, "2000")
    assert response.status_code == 303
    claim = fresh(Redemption, claim.id)
    assert claim.eligible_spend_fen == 1_500 * YUAN and claim.requested_fen == 375 * YUAN  # 苏南 25 %
    auth.logout()

    auth.login(reviewer)
    review = client.get(f"/admin/redemptions/{claim.id}").get_data(as_text=True)
    assert "样品由4件减为3件" in review and 'data-flag="final_differs"' in review


def test_a_claim_cannot_be_submitted_before_the_provider_confirms_the_amount(client, auth, make, enterprise, provider):
    make.voucher(enterprise)
    order = make.order(enterprise, make.service(provider.provider, price_fen=2_000 * YUAN))
    lifecycle.act(order, "accept", provider)
    db.session.commit()
    auth.login(enterprise)
    claim, response = claim_everything(client, order, "2000")
    assert response.status_code == 422 and readiness.UNCONFIRMED in response.get_data(as_text=True)
    assert fresh(Redemption, claim.id).status == R.DRAFT


def test_a_raised_actual_amount_is_a_flag_that_keeps_a_pilot_from_approving_alone(make, xuzhou, pilot):
    order = make.order(xuzhou, make.service(pilot.provider, price_fen=160 * YUAN))
    lifecycle.act(order, "finish", pilot, "加测项目", amount_fen=400_000 * YUAN)
    db.session.commit()
    claim = make.claim(xuzhou, order=order, amount_fen=400_000 * YUAN)
    assert claims.provider_confirm(claim, pilot) is False
    assert "与订单金额 ¥160.00 不一致" in claim.referral_reason and "相差3倍以上" in claim.referral_reason


# ---------------------------------------------------------------- checkout

def test_checkout_refuses_an_amount_over_the_ceiling(client, auth, enterprise, listed_service):
    auth.login(enterprise)
    checkout_page.add(client, listed_service, "1")
    key = f"p{listed_service.provider_id}v"
    response = checkout_page.check_out(client, **{f"{key}-amount": "999,999,999,999.99"})
    assert response.status_code == 422 and "不能超过单笔订单上限 1000 万元" in response.get_data(as_text=True)
    assert checkout_page.order_count() == 0


def test_the_ceiling_is_configurable(client, auth, app, enterprise, listed_service):
    app.config["ORDER_MAX_FEN"] = 300 * YUAN
    auth.login(enterprise)
    checkout_page.add(client, listed_service, "1")
    response = checkout_page.check_out(client)  # the listed ¥400
    assert response.status_code == 422 and "上限 0.03 万元" in response.get_data(as_text=True)


def test_an_amount_far_from_the_listed_price_is_ordered_only_once_confirmed(client, auth, enterprise, listed_service):
    auth.login(enterprise)
    checkout_page.add(client, listed_service, "1")  # listed at ¥400
    key = f"p{listed_service.provider_id}v"
    response = checkout_page.check_out(client, **{f"{key}-amount": "1201"})
    page = response.get_data(as_text=True)
    assert response.status_code == 422 and "相差3倍以上" in page and f'name="{key}-confirm_amount"' in page
    assert 'value="1201"' in page and checkout_page.order_count() == 0
    assert checkout_page.check_out(client, **{f"{key}-amount": "1201", f"{key}-confirm_amount": "y"}).status_code == 303
    [order] = checkout_page.all_orders()
    assert order.quote_fen == 1_201 * YUAN
    reasons = db.session.scalars(select(AuditLog.reason).where(AuditLog.action == "confirm_amount")).all()
    assert reasons == ["买家确认订单金额 ¥1,201.00（参考价合计 ¥400.00）"]


@pytest.mark.parametrize("amount", ["1200", "133.34"])
def test_an_amount_within_three_times_the_listed_price_needs_no_confirmation(client, auth, enterprise, listed_service,
                                                                            amount):
    auth.login(enterprise)
    checkout_page.add(client, listed_service, "1")
    key = f"p{listed_service.provider_id}v"
    assert checkout_page.check_out(client, **{f"{key}-amount": amount}).status_code == 303


# ---------------------------------------------------------------- mixed contracts (seed case 1, FAQ 4)

@pytest.fixture
def development_contract(make, xuzhou):
    """The seed's case 1: a 徐州 company's ¥1,000,000 technology-development contract with a university, of
    which the testing (¥408,000) is eligible; the provider confirmed the whole contract as done."""
    university = make.provider(name="某高校")
    order = make.order(xuzhou, make.service(university.provider, price_fen=1_000_000 * YUAN))
    lifecycle.act(order, "accept", university)
    lifecycle.act(order, "finish", university, amount_fen=1_000_000 * YUAN)
    db.session.commit()
    return order


def test_the_voucher_is_computed_on_the_eligible_part_of_a_mixed_contract(client, auth, xuzhou, development_contract):
    auth.login(xuzhou)
    claim, response = claim_everything(client, development_contract, "1000000", eligible_fee="408000",
                                       supplement=True)
    assert response.status_code == 303
    claim = fresh(Redemption, claim.id)
    assert claim.eligible_fee_fen == 408_000 * YUAN and claim.eligible_spend_fen == 408_000 * YUAN
    assert claim.requested_fen == 140_000 * YUAN  # 35 % = 142,800, capped by the 苏北 voucher


def test_a_mixed_contract_needs_its_supplementary_agreement(client, auth, xuzhou, development_contract):
    auth.login(xuzhou)
    claim, response = claim_everything(client, development_contract, "1000000", eligible_fee="408000")
    page = response.get_data(as_text=True)
    assert response.status_code == 422 and "请上传双方约定该部分费用的补充协议" in page
    assert "补充协议" in editor.error_near(page, "materials-supplement")
    claim = fresh(Redemption, claim.id)
    assert claim.status == R.DRAFT and claim.eligible_fee_fen == 408_000 * YUAN  # the typed fee is kept


def test_the_eligible_part_cannot_exceed_the_contract(client, auth, xuzhou, development_contract):
    auth.login(xuzhou)
    _, response = claim_everything(client, development_contract, "1000000", eligible_fee="1000000.01",
                                   supplement=True)
    assert response.status_code == 422
    assert "可兑付服务费不能超过合同金额 ¥1,000,000.00" in editor.error_near(response.get_data(as_text=True),
                                                                          "claim-submit")


def test_the_reviewer_sees_both_figures_of_a_mixed_contract(client, auth, xuzhou, reviewer, development_contract):
    auth.login(xuzhou)
    claim, _ = claim_everything(client, development_contract, "1000000", eligible_fee="408000", supplement=True)
    auth.logout()
    auth.login(reviewer)
    review = client.get(f"/admin/redemptions/{claim.id}").get_data(as_text=True)
    assert "¥1,000,000.00" in review and "¥408,000.00" in review and 'data-flag="mixed_contract"' in review
    assert "补充协议" in review


def test_an_offline_mixed_contract_is_estimated_on_its_eligible_part(make, enterprise):
    make.voucher(enterprise)  # 南京: 苏南, 25 %, 100,000 a year
    claim = claims.start_offline(enterprise, "123200004660000004")
    claim.eligible_fee_fen = 140_000 * YUAN  # the seed's second case: ¥140,000 of testing → ¥35,000
    assert offline_estimate_fen(claim, 1_000_000 * YUAN) == 35_000 * YUAN
    claim.eligible_fee_fen = None
    assert offline_estimate_fen(claim, 1_000_000 * YUAN) == 100_000 * YUAN


# ---------------------------------------------------------------- what a pilot may not pass alone

def test_a_pilot_never_passes_alone_a_claim_on_a_negotiated_order(client, auth, make, xuzhou, pilot):
    """面议: no price to compare the provider's amount with, so the reviewer looks at it."""
    order = make.order(xuzhou, make.service(pilot.provider, price_fen=None))
    assert order.quote_fen is None
    auth.login(pilot)
    assert finish(client, order, "200000").status_code == 303
    claim = make.claim(xuzhou, order=order, amount_fen=200_000 * YUAN)
    assert claims.provider_confirm(claim, pilot) is False
    assert "订单含面议服务" in claim.referral_reason and claim.status == R.SUBMITTED


def test_a_negotiated_line_beside_a_priced_one_does_not_switch_the_checks_off(make, xuzhou, pilot):
    cheap = make.service(pilot.provider, price_fen=160 * YUAN)
    negotiated = make.service(pilot.provider, name="定制测试", price_fen=None)
    order = make.order(xuzhou, cheap, quote_fen=400_000 * YUAN)
    order.items.append(OrderItem(service_id=negotiated.id, service_name=negotiated.name, unit_price_fen=None,
                                 quantity=1))
    db.session.commit()
    claim = make.claim(xuzhou, order=order, amount_fen=400_000 * YUAN)
    assert claims.provider_confirm(claim, pilot) is False
    assert "订单含面议服务，订单金额 ¥400,000.00" in claim.referral_reason


def test_the_actual_amount_is_confirmed_once(client, auth, make, enterprise, provider):
    order = make.order(enterprise, make.service(provider.provider, price_fen=2_000 * YUAN),
                       status=OrderStatus.IN_SERVICE)
    auth.login(provider)
    assert finish(client, order, "2000").status_code == 303
    page = client.get(f"/seller/orders/{order.order_no}").get_data(as_text=True)
    assert "确认服务完成</button>" not in page and "¥2,000.00" in page
    response = finish(client, order, "400000", "追加")
    assert response.status_code == 409 and "不能重复确认" in response.get_data(as_text=True)
    assert fresh(Order, order.id).final_amount_fen == 2_000 * YUAN


def test_the_reasons_of_a_referral_stay_with_the_reviewer(client, auth, make, xuzhou, pilot, reviewer):
    """They may name another enterprise's claim (a reused invoice): the buyer and the provider learn only that the
    claim went to the reviewer."""
    other = make.enterprise(city="徐州")
    make.voucher(other)
    make.claim(other, invoice_number="26320000000000009999")
    order = make.order(xuzhou, make.service(pilot.provider, price_fen=2_000 * YUAN))
    claim = make.claim(xuzhou, order=order, amount_fen=2_000 * YUAN, invoice_number="26320000000000009999",
                       status=R.DRAFT)
    claim.materials.append(Material(kind="other", file_id=make.stored_pdf(xuzhou, "情况说明.pdf").id))
    claims.submit(claim, xuzhou, readiness.DECLARATIONS)  # reused, with the explanation 其他材料 allows
    assert claims.provider_confirm(claim, pilot) is False
    db.session.commit()
    assert other.enterprise.name in claim.referral_reason
    for user, pages in ((xuzhou, [f"/me/orders/{order.order_no}", f"/me/orders/{order.order_no}/redemption"]),
                        (pilot, [f"/seller/orders/{order.order_no}", "/seller/orders"])):
        auth.login(user)
        for path in pages:
            page = client.get(path).get_data(as_text=True)
            assert other.enterprise.name not in page and claim.referral_reason not in page, path
        auth.logout()
    auth.login(pilot)
    assert "已转平台审核" in client.get("/seller/orders").get_data(as_text=True)
    auth.logout()
    auth.login(reviewer)
    assert claim.referral_reason in client.get(f"/admin/redemptions/{claim.id}").get_data(as_text=True)


# ---------------------------------------------------------------- orders from before 服务完成 asked for the amount

def run_confirmed_before():
    """Migration 0007's backfill (CONFIRMED_BEFORE) on the test database as it is."""
    path = ROOT / "migrations" / "versions" / "20261207_0007_money_integrity.py"
    spec = importlib.util.spec_from_file_location("migration_0007", path)
    migration = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(migration)
    db.session.commit()
    with db.engine.begin() as connection:
        for statement in migration.CONFIRMED_BEFORE:
            connection.execute(text(statement))


def test_a_claim_sent_back_before_the_amount_existed_can_still_be_resubmitted(make, enterprise, provider):
    make.voucher(enterprise)
    claim = make.claim(enterprise, status=R.CORRECTION, amount_fen=2_000 * YUAN)
    finished = make.order(enterprise, make.service(provider.provider, price_fen=300 * YUAN),
                          status=OrderStatus.IN_SERVICE, finished_at=utcnow())
    negotiated = make.order(enterprise, make.service(provider.provider, price_fen=None),
                            status=OrderStatus.IN_SERVICE, finished_at=utcnow())
    claimed = claim.order
    claimed.final_amount_fen = claimed.finished_at = None  # claimed before 服务完成 was needed
    db.session.commit()
    assert readiness.order_problems(claimed) == [Problem("order", readiness.UNCONFIRMED)]

    run_confirmed_before()

    assert [fresh(Order, o.id).final_amount_fen for o in (claimed, finished, negotiated)] == [
        claimed.quote_fen, 300 * YUAN, None]  # a 面议 order without a claim: its provider confirms when asked
    claim = fresh(Redemption, claim.id)
    claims.submit(claim, enterprise, readiness.DECLARATIONS)
    assert claim.status == R.SUBMITTED
