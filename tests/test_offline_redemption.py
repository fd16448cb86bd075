"""线下订单申请兑付 (SPEC 7.3): the two-step wizard before the claim's materials."""
from datetime import timedelta

import pytest
from flask import render_template
from sqlalchemy import delete, event, func, select
from sqlalchemy.orm import Session

from marketplace.extensions import db
from marketplace.models import (
    ApplicationStatus,
    AuditLog,
    BankReceipt,
    Invoice,
    Material,
    Redemption,
    RedemptionServiceLine,
    RedemptionStatus,
    Voucher,
    china_today,
)
from marketplace.redemption import claims, offline_checks, readiness
from marketplace.validators import make_credit_code
from marketplace.vouchers import lifecycle as voucher_lifecycle

from .samples import pdf_upload

OUTSIDE_CODE = make_credit_code("12320000466000000")  # a provider with no shop on the platform
PROVIDER_STEP = {"provider_name": "南京某某大学", "provider_credit_code": OUTSIDE_CODE,
                 "provider_contact": "王林", "provider_phone": "025-83235635"}


def service_step(**changes) -> dict:
    data = {"provider_unit_type": "university", "qualification_kind": "", "qualification_expires_on": "",
            "contract_amount_fen": "140000", "lines-0-service_name": "材料磨损试验", "lines-0-instrument_name": "",
            "action": "next"}
    data.update(changes)
    return data


@pytest.fixture
def voucher_holder(make, enterprise, auth):
    """A signed-in 南京 (苏南) enterprise holding this year's voucher."""
    make.voucher(enterprise)
    auth.login(enterprise)
    return enterprise


FIRST_STEP = "/me/offline-redemptions/new/provider"


def start(client) -> str:
    """线下订单申请兑付: the first step's address (nothing is saved yet)."""
    response = client.post("/me/offline-redemptions/new")
    assert response.status_code == 303 and response.headers["Location"].endswith(FIRST_STEP)
    return FIRST_STEP


def claim_count() -> int:
    count = db.session.scalar(select(func.count()).select_from(Redemption))
    db.session.commit()  # end the test's read, so it never holds an old snapshot while requests write
    return count


def through_step_one(client) -> Redemption:
    response = client.post(start(client), data=PROVIDER_STEP)
    assert response.status_code == 303
    db.session.commit()
    db.session.expire_all()
    claim = db.session.scalars(select(Redemption).order_by(Redemption.id.desc())).first()
    db.session.commit()
    assert response.headers["Location"].endswith(f"/me/offline-redemptions/{claim.id}/service")
    return claim


def fresh(claim: Redemption) -> Redemption:
    db.session.commit()
    db.session.expire_all()
    return db.session.get(Redemption, claim.id)


def audit_actions(claim_id: int) -> list[str]:
    return list(db.session.scalars(select(AuditLog.action).where(AuditLog.object_type == "redemption",
                                                                 AuditLog.object_id == str(claim_id))
                                   .order_by(AuditLog.id)))


# ---------------------------------------------------------------- starting

def test_whole_wizard_ends_at_the_claim_editor(client, voucher_holder):
    claim = through_step_one(client)
    response = client.post(f"/me/offline-redemptions/{claim.id}/service", data=service_step(),
                           content_type="multipart/form-data")
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/me/redemptions/{claim.id}")
    claim = fresh(claim)
    assert (claim.kind, claim.status, claim.provider_name, claim.provider_credit_code) == (
        "offline", "draft", "南京某某大学", OUTSIDE_CODE)
    assert claim.contract_amount_fen == 14_000_000
    assert [(line.service_name, line.instrument_name) for line in claim.service_lines] == [("材料磨损试验", "")]
    assert audit_actions(claim.id) == ["create", "edit_provider", "edit_service"]


def test_enterprise_without_this_years_voucher_is_refused_with_a_way_to_apply(client, enterprise, auth):
    auth.login(enterprise)
    response = client.post("/me/offline-redemptions/new")
    assert response.status_code == 409
    page = response.get_data(as_text=True)
    assert "您还没有本年度的省创新券" in page and "/me/vouchers/apply" in page
    assert db.session.scalar(select(func.count()).select_from(Redemption)) == 0


def test_only_enterprises_start_offline_claims(client, make, auth):
    assert client.get(FIRST_STEP).status_code == 302  # to the login page
    auth.login(make.provider())
    assert client.post("/me/offline-redemptions/new").status_code == 403
    assert client.get(FIRST_STEP).status_code == 403
    assert client.post(FIRST_STEP, data=PROVIDER_STEP).status_code == 403
    assert claim_count() == 0


def test_the_button_saves_nothing_until_the_first_step_is_saved(client, voucher_holder):
    """Clicks on 线下订单申请兑付 that go no further leave no empty draft (issue 16): the claim is made by the first
    step's save."""
    for _ in range(3):
        first_step = start(client)
    page = client.get(first_step)
    assert page.status_code == 200 and f'action="{FIRST_STEP}"' in page.text and "服务单位信息维护" in page.text
    assert claim_count() == 0
    assert "（未填写服务单位）" not in client.get("/me/offline-redemptions").text
    claim = through_step_one(client)
    assert (claim.kind, claim.status, claim.provider_name) == ("offline", "draft", "南京某某大学")
    assert claim_count() == 1 and audit_actions(claim.id) == ["create", "edit_provider"]


def test_saving_the_first_step_twice_makes_one_draft(client, voucher_holder):
    """A double click on 下一步 lands on the draft the first click made, while step 2 is untouched."""
    first, second = through_step_one(client), through_step_one(client)
    assert first.id == second.id and claim_count() == 1


@pytest.mark.parametrize("step_two", [
    {"lines-0-service_name": "材料磨损试验"},
    {"provider_unit_type": "third_party", "qualification_kind": "CNAS", "qualification_file": "CNAS证书.pdf"},
], ids=["a-service-line", "a-qualification-file"])
def test_a_new_claim_on_the_same_provider_never_reopens_a_draft_whose_second_step_was_saved(client, voucher_holder,
                                                                                             step_two):
    """暂存 on step 2 may keep a service line or a qualification file without a contract amount: a new claim on the
    same provider is a second claim, and the first keeps what was saved."""
    first = through_step_one(client)
    data = {key: pdf_upload(value) if key == "qualification_file" else value for key, value in step_two.items()}
    saved = client.post(f"/me/offline-redemptions/{first.id}/service", content_type="multipart/form-data",
                        data={**data, "contract_amount_fen": "", "action": "draft"})
    assert saved.status_code == 303
    second = through_step_one(client)
    assert second.id != first.id and claim_count() == 2
    kept = fresh(first)
    assert kept.contract_amount_fen is None
    assert [line.service_name for line in kept.service_lines] == (["材料磨损试验"] if "lines-0-service_name" in step_two
                                                                  else [])
    assert (kept.qualification_file_id is not None) == ("qualification_file" in step_two)


def test_a_voucher_gone_before_the_first_step_is_saved_is_refused_not_a_crash(client, voucher_holder):
    """The voucher is re-read under its row lock when the claim is made; gone by then (a year that turned, a
    voucher withdrawn), the step answers as the button does, and makes nothing."""
    def withdraw_before_the_locked_read(state):
        if state.is_select and state.statement._for_update_arg is not None and Voucher.__mapper__ in state.all_mappers:
            state.session.execute(delete(Voucher).where(Voucher.enterprise_id == voucher_holder.enterprise.id))

    event.listen(Session, "do_orm_execute", withdraw_before_the_locked_read)
    try:
        response = client.post(start(client), data=PROVIDER_STEP)
    finally:
        event.remove(Session, "do_orm_execute", withdraw_before_the_locked_read)
    assert response.status_code == 409
    assert "您还没有本年度的省创新券" in response.text and claim_count() == 0


def test_the_first_step_without_a_voucher_is_refused_with_a_way_to_apply(client, enterprise, auth):
    auth.login(enterprise)
    for answer in (client.get(FIRST_STEP), client.post(FIRST_STEP, data=PROVIDER_STEP)):
        assert answer.status_code == 409 and "/me/vouchers/apply" in answer.text
    assert claim_count() == 0


# ---------------------------------------------------------------- 第一步

def test_provider_already_on_the_platform_stops_the_wizard_with_a_link_to_its_shop(client, make, voucher_holder):
    shop = make.provider(name="南京联创信息科技有限公司").provider
    typed = dict(PROVIDER_STEP, provider_name="南京联创信息科技有限公司",
                 provider_credit_code=shop.credit_code.lower())
    response = client.post(start(client), data=typed)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "您所填写的“南京联创信息科技有限公司”已经在本平台对外提供服务，请在平台上下单后，再申请兑付。" in page
    assert "如您购买的服务不存在，请联系服务单位在平台上上架此服务后，再进行下单！" in page
    assert f'href="/shops/{shop.id}"' in page and "去服务单位主页" in page
    assert 'value="王林"' in page
    assert claim_count() == 0


def test_provider_step_checks_the_credit_code_and_phone_and_keeps_the_input(client, voucher_holder):
    wrong_check = OUTSIDE_CODE[:17] + ("1" if OUTSIDE_CODE[17] != "1" else "2")
    response = client.post(start(client),
                           data=dict(PROVIDER_STEP, provider_credit_code=wrong_check, provider_phone="12345"))
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "统一社会信用代码校验位不正确" in page and "请填写手机号码或带区号的固定电话" in page
    assert 'value="南京某某大学"' in page
    assert claim_count() == 0


def test_provider_step_asks_for_every_field(client, voucher_holder):
    response = client.post(start(client), data={})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    for message in ("请填写服务单位名称", "请填写统一社会信用代码", "请填写联系人", "请填写联系电话"):
        assert message in page


def test_step_one_refuses_the_credit_code_of_the_application_behind_the_claims_own_voucher(client, make,
                                                                                            voucher_holder):
    """A claim on last year's voucher (待补正 into the new year) is checked against the application that voucher was
    issued on, not against this year's."""
    enterprise = voucher_holder.enterprise
    last_years_code = make_credit_code("91320102MA1XXXXX9")
    application = make.voucher_application(voucher_holder, status=ApplicationStatus.SUBMITTED,
                                           year=china_today().year - 1, credit_code=last_years_code)
    last_year = voucher_lifecycle.approve(application, make.reviewer().id)
    claim = Redemption(kind="offline", enterprise_id=enterprise.id, voucher_id=last_year.id,
                       status=RedemptionStatus.CORRECTION, provider_credit_code=OUTSIDE_CODE)
    db.session.add(claim)
    db.session.commit()
    response = client.post(f"/me/offline-redemptions/{claim.id}/provider",
                           data=dict(PROVIDER_STEP, provider_credit_code=last_years_code))
    assert response.status_code == 422
    assert '<p class="error" id="provider_credit_code-error">服务单位不能是本企业自身' in response.text
    assert 'value="王林"' in response.text and fresh(claim).provider_credit_code == OUTSIDE_CODE


# ---------------------------------------------------------------- 第二步: qualification

def test_university_needs_no_qualification(client, voucher_holder):
    claim = through_step_one(client)
    page = client.get(f"/me/offline-redemptions/{claim.id}/service").get_data(as_text=True)
    assert "如果是高校或国企，则无需填写服务单位资质" in page
    response = client.post(f"/me/offline-redemptions/{claim.id}/service", data=service_step(),
                           content_type="multipart/form-data")
    assert response.status_code == 303
    assert not [p for p in offline_checks.offline_problems(fresh(claim))]


def test_third_party_lab_without_qualification_is_refused(client, voucher_holder):
    claim = through_step_one(client)
    response = client.post(f"/me/offline-redemptions/{claim.id}/service",
                           data=service_step(provider_unit_type="third_party"), content_type="multipart/form-data")
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "请选择资质名称" in page and "请上传资质文件" in page and "请填写资质有效期" in page
    assert fresh(claim).provider_unit_type == ""


def test_expired_qualification_is_refused_naming_the_date_and_the_file_is_kept(client, voucher_holder):
    claim = through_step_one(client)
    expired = china_today() - timedelta(days=1)
    response = client.post(f"/me/offline-redemptions/{claim.id}/service", content_type="multipart/form-data",
                           data=service_step(provider_unit_type="third_party", qualification_kind="CMA",
                                             qualification_expires_on=expired.isoformat(),
                                             qualification_file=pdf_upload("CMA证书.pdf")))
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert f"资质已于 {expired:%Y-%m-%d} 过期" in page
    assert "已上传：CMA证书.pdf" in page and 'name="qualification_file__kept"' in page
    assert fresh(claim).qualification_kind == ""


def test_draft_save_still_refuses_an_expired_qualification(client, voucher_holder):
    claim = through_step_one(client)
    expired = china_today() - timedelta(days=30)
    response = client.post(f"/me/offline-redemptions/{claim.id}/service", content_type="multipart/form-data",
                           data={"provider_unit_type": "third_party", "qualification_expires_on": expired.isoformat(),
                                 "action": "draft"})
    assert response.status_code == 422
    assert f"资质已于 {expired:%Y-%m-%d} 过期" in response.get_data(as_text=True)


def test_third_party_lab_with_a_valid_qualification_goes_on(client, voucher_holder):
    claim = through_step_one(client)
    valid_until = china_today() + timedelta(days=365)
    response = client.post(f"/me/offline-redemptions/{claim.id}/service", content_type="multipart/form-data",
                           data=service_step(provider_unit_type="third_party", qualification_kind="CNAS",
                                             qualification_expires_on=valid_until.isoformat(),
                                             qualification_file=pdf_upload("CNAS证书.pdf")))
    assert response.status_code == 303
    claim = fresh(claim)
    assert (claim.qualification_kind, claim.qualification_expires_on) == ("CNAS", valid_until)
    assert claim.qualification_file_id is not None


# ---------------------------------------------------------------- 第二步: amounts and service lines

def test_estimate_and_uppercase_are_shown_for_the_contract_amount(client, voucher_holder):
    claim = through_step_one(client)
    url = f"/me/offline-redemptions/{claim.id}/estimate?contract_amount_fen=140,000"
    fragment = client.get(url, headers={"HX-Request": "true"})
    assert fragment.status_code == 200
    text = fragment.get_data(as_text=True)
    assert "¥35,000.00" in text and "叁万伍仟元整" in text and "<html" not in text
    no_js = client.get(url)
    assert (no_js.status_code == 302
            and no_js.headers["Location"].endswith(f"/me/offline-redemptions/{claim.id}/service"))
    bad = client.get(f"/me/offline-redemptions/{claim.id}/estimate?contract_amount_fen=abc",
                     headers={"HX-Request": "true"})
    assert "请填写数字金额" in bad.get_data(as_text=True)


def test_saved_contract_amount_shows_its_estimate_on_the_step(client, voucher_holder):
    claim = through_step_one(client)
    client.post(f"/me/offline-redemptions/{claim.id}/service", data=service_step(action="draft"),
                content_type="multipart/form-data")
    page = client.get(f"/me/offline-redemptions/{claim.id}/service").get_data(as_text=True)
    assert "¥35,000.00" in page and "叁万伍仟元整" in page


def test_at_least_one_service_line_is_required(client, voucher_holder):
    claim = through_step_one(client)
    response = client.post(f"/me/offline-redemptions/{claim.id}/service", content_type="multipart/form-data",
                           data=service_step(**{"lines-0-service_name": "  "}))
    assert response.status_code == 422
    assert "请至少填写一项服务明细" in response.get_data(as_text=True)


def test_service_lines_are_added_and_removed_with_htmx(client, voucher_holder):
    claim = through_step_one(client)
    url = f"/me/offline-redemptions/{claim.id}/service/lines"
    added = client.post(url, data=service_step(add_line="1"), headers={"HX-Request": "true"})
    assert added.status_code == 200
    rows = added.get_data(as_text=True)
    assert "<html" not in rows and 'id="service-lines"' in rows
    assert 'value="材料磨损试验"' in rows and 'name="lines-1-service_name"' in rows
    removed = client.post(url, headers={"HX-Request": "true"},
                          data=service_step(remove_line="0", **{"lines-1-instrument_name": "扫描电镜"}))
    rows = removed.get_data(as_text=True)
    assert "材料磨损试验" not in rows and 'value="扫描电镜"' in rows
    assert fresh(claim).service_lines == []


def test_service_lines_are_added_and_removed_without_javascript(client, voucher_holder):
    claim = through_step_one(client)
    url = f"/me/offline-redemptions/{claim.id}/service"
    added = client.post(url, data=service_step(add_line="1"), content_type="multipart/form-data")
    assert added.status_code == 200
    page = added.get_data(as_text=True)
    assert "<html" in page and 'name="lines-1-service_name"' in page and 'value="140000"' in page
    removed = client.post(url, content_type="multipart/form-data",
                          data=service_step(remove_line="0", **{"lines-1-service_name": "热处理工艺研究"}))
    page = removed.get_data(as_text=True)
    assert removed.status_code == 200 and "材料磨损试验" not in page and 'value="热处理工艺研究"' in page
    assert fresh(claim).service_lines == [] and fresh(claim).contract_amount_fen is None


def test_removing_the_last_line_leaves_an_empty_row(client, voucher_holder):
    claim = through_step_one(client)
    response = client.post(f"/me/offline-redemptions/{claim.id}/service/lines", data=service_step(remove_line="0"),
                           headers={"HX-Request": "true"})
    rows = response.get_data(as_text=True)
    assert "材料磨损试验" not in rows and rows.count("请输入购买服务的名称") == 1


def test_draft_saves_incomplete_input_and_returns_to_the_list(client, voucher_holder):
    claim = through_step_one(client)
    response = client.post(f"/me/offline-redemptions/{claim.id}/service", content_type="multipart/form-data",
                           data={"contract_amount_fen": "5000", "action": "draft"})
    assert response.status_code == 303 and response.headers["Location"].endswith("/me/offline-redemptions")
    claim = fresh(claim)
    assert claim.contract_amount_fen == 500_000 and claim.provider_unit_type == ""


# ---------------------------------------------------------------- lists, 继续填写 and 放弃填写

def test_drafts_are_listed_with_continue_and_abandon_here_and_on_my_orders(client, voucher_holder):
    claim = through_step_one(client)
    for path in ("/me/offline-redemptions", "/me/orders"):
        page = client.get(path).get_data(as_text=True)
        assert "南京某某大学" in page and "继续填写" in page and "放弃填写" in page and "线下订单申请兑付" in page
        assert f'href="/me/offline-redemptions/{claim.id}/service"' in page
        assert f"/me/offline-redemptions/{claim.id}/abandon" in page


def test_continue_leads_to_the_step_still_missing(client, voucher_holder, enterprise):
    claim = Redemption(kind="offline", enterprise_id=enterprise.id,  # a blank draft, as the button once made them
                       voucher_id=claims.voucher_for(enterprise.id).id)
    db.session.add(claim)
    db.session.commit()
    page = client.get("/me/offline-redemptions").get_data(as_text=True)
    assert f'href="/me/offline-redemptions/{claim.id}/provider"' in page
    early = client.get(f"/me/offline-redemptions/{claim.id}/service")
    assert (early.status_code == 302
            and early.headers["Location"].endswith(f"/me/offline-redemptions/{claim.id}/provider"))
    client.post(f"/me/offline-redemptions/{claim.id}/provider", data=PROVIDER_STEP)
    client.post(f"/me/offline-redemptions/{claim.id}/service", data=service_step(), content_type="multipart/form-data")
    page = client.get("/me/offline-redemptions").get_data(as_text=True)
    assert f'href="/me/redemptions/{claim.id}"' in page


def test_abandon_asks_first_then_deletes_the_draft_and_audits(client, voucher_holder):
    claim_id = through_step_one(client).id
    confirm = client.get(f"/me/offline-redemptions/{claim_id}/abandon?back=orders")
    assert confirm.status_code == 200 and "确定放弃" in confirm.get_data(as_text=True)
    db.session.commit()
    response = client.post(f"/me/offline-redemptions/{claim_id}/abandon", data={"back": "orders"})
    assert response.status_code == 303 and response.headers["Location"].endswith("/me/orders")
    db.session.commit()
    db.session.expire_all()
    assert db.session.get(Redemption, claim_id) is None
    assert audit_actions(claim_id)[-1] == "abandon"
    assert db.session.scalar(select(func.count()).select_from(RedemptionServiceLine)) == 0


def test_submitted_claim_cannot_be_abandoned_or_changed(client, make, voucher_holder):
    claim = complete_offline_claim(client, make, voucher_holder)
    claims.submit(claim, voucher_holder, readiness.DECLARATIONS)
    db.session.commit()
    assert client.post(f"/me/offline-redemptions/{claim.id}/abandon").status_code == 409
    assert client.post(f"/me/offline-redemptions/{claim.id}/provider", data=PROVIDER_STEP).status_code == 409
    refused = client.get(f"/me/offline-redemptions/{claim.id}/service")
    assert refused.status_code == 409 and "兑付申请当前为“审核中”，不能修改" in refused.get_data(as_text=True)
    assert fresh(claim).status == RedemptionStatus.SUBMITTED


@pytest.mark.parametrize("path,method", [
    ("/provider", "get"), ("/provider", "post"), ("/service", "get"), ("/service", "post"),
    ("/service/lines", "post"), ("/estimate", "get"), ("/abandon", "get"), ("/abandon", "post")])
def test_someone_elses_claim_is_not_found(client, make, auth, voucher_holder, path, method):
    claim = through_step_one(client)
    other = make.enterprise()
    make.voucher(other)
    auth.logout()
    auth.login(other)
    response = getattr(client, method)(f"/me/offline-redemptions/{claim.id}{path}")
    assert response.status_code == 404
    assert fresh(claim).provider_name == "南京某某大学"


# ---------------------------------------------------------------- the claim afterwards

def complete_offline_claim(client, make, user) -> Redemption:
    """An offline claim through both steps (a third-party lab with a CMA qualification), its materials filled
    in directly as Factory.claim does."""
    claim = through_step_one(client)
    client.post(f"/me/offline-redemptions/{claim.id}/service", content_type="multipart/form-data",
                data=service_step(provider_unit_type="third_party", qualification_kind="CMA",
                                  qualification_expires_on=(china_today() + timedelta(days=90)).isoformat(),
                                  qualification_file=pdf_upload("CMA证书.pdf")))
    claim = fresh(claim)
    for kind in ("contract", "report", "rnd_proof"):
        claim.materials.append(Material(kind=kind, file_id=make.stored_pdf(user, f"{kind}.pdf").id))
    amount = claim.contract_amount_fen
    claim.invoices.append(Invoice(number=f"2632{claim.id:016d}", amount_fen=amount,
                                  file_id=make.stored_png(user, "发票.png").id))
    claim.receipts.append(BankReceipt(amount_fen=amount, file_id=make.stored_png(user).id))
    db.session.commit()
    return claim


def test_complete_offline_claim_is_submitted_at_the_estimated_amount(client, make, voucher_holder):
    claim = complete_offline_claim(client, make, voucher_holder)
    assert readiness.problems(claim, readiness.DECLARATIONS) == []
    claims.submit(claim, voucher_holder, readiness.DECLARATIONS)
    db.session.commit()
    claim = fresh(claim)
    assert (claim.status, claim.requested_fen) == (RedemptionStatus.SUBMITTED, 3_500_000)
    assert claim.submitted_at is not None


def test_qualification_that_expired_after_step_two_blocks_submission(client, make, voucher_holder):
    claim = complete_offline_claim(client, make, voucher_holder)
    expired = china_today() - timedelta(days=2)
    claim.qualification_expires_on = expired
    db.session.commit()
    messages = [p.message for p in readiness.problems(claim, readiness.DECLARATIONS)]
    assert f"资质已于 {expired:%Y-%m-%d} 过期，不能申请兑付" in messages
    with pytest.raises(claims.Refused):
        claims.submit(claim, voucher_holder, readiness.DECLARATIONS)
    db.session.rollback()


def test_summary_for_the_editor_shows_the_provider_and_qualification_with_change_links(app, client, make,
                                                                                     voucher_holder):
    claim = complete_offline_claim(client, make, voucher_holder)
    with app.test_request_context():
        html = render_template("redemption/partials/offline_summary.html", claim=claim)
    for text in ("南京某某大学", OUTSIDE_CODE, "王林", "025-83235635", "第三方检验检测机构", "CMA", "¥140,000.00",
                 "材料磨损试验", f"/files/{claim.qualification_file_id}",
                 f"/me/offline-redemptions/{claim.id}/provider", f"/me/offline-redemptions/{claim.id}/service"):
        assert text in html
