"""The enterprise's yearly voucher application (SPEC 1.4, 6): fill, check eligibility, print the sheet,
upload the stamped scan, submit; corrections keep earlier input; 我的创新券 shows the ledger."""
import io
import re
from datetime import date, timedelta

import pytest
from pypdf import PdfReader
from sqlalchemy import func, select

from marketplace import policy
from marketplace.extensions import db
from marketplace.models import (
    AccountStatus,
    ApplicationStatus,
    AuditLog,
    KexiaoEntry,
    Role,
    SmsCode,
    Voucher,
    VoucherApplication,
    china_today,
)
from marketplace.vouchers import lifecycle
from marketplace.vouchers.forms import incomplete

from .samples import pdf_upload, png_upload

HTMX = {"HX-Request": "true"}
YEAR = china_today().year


def form(user, **overrides) -> dict:
    """A complete, eligible 科小 application as the browser posts it; `None` leaves a field out."""
    enterprise = user.enterprise
    data = {
        "unit_name": enterprise.name, "credit_code": enterprise.credit_code, "founded_on": "2018-05-20",
        "email": "office@example.cn", "identity": "kexiao", "kexiao_number": "20263201000123",
        "gaoqi_certificate_number": "", "gaoqi_valid_until": "", "employees": "56", "phone": "025-83792000",
        "legal_rep_name": "张三", "legal_rep_mobile": "13912345678", "legal_rep_id_type": "id_card",
        "legal_rep_id_number": enterprise.legal_rep_id_number, "contact_name": "李四",
        "contact_phone": "13812345678", "sms_code": "", "registered_province": "江苏省",
        "registered_city": enterprise.city, "registered_district": "玄武区", "postal_province": "江苏省",
        "postal_city": enterprise.city, "postal_district": "玄武区", "postal_detail": "珠江路88号",
        "in_hightech_zone": "1", "hightech_zone_name": "南京高新区", "industry": "制造业", "product_field": "新材料",
        "supervising_department": "南京市科学技术局", "revenue_fen": "2345.67", "bank_account_name": enterprise.name,
        "bank_name": "中国银行南京分行", "bank_account_number": "6217000012345678901",
        "business_licence": png_upload("营业执照.png"), "financial_statement": pdf_upload("财务报表.pdf"),
        "action": "complete",
    }
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


def fresh() -> None:
    """End the test's read snapshot and forget loaded rows, so the requests' commits are seen."""
    db.session.commit()
    db.session.expire_all()


def the_application(user) -> VoucherApplication:
    fresh()
    return db.session.scalar(select(VoucherApplication).where(VoucherApplication.enterprise_id ==
                                                              user.enterprise.id))


def sms_code_from(caplog) -> str:
    return re.findall(r"验证码为(\d{6})", caplog.text)[-1]


@pytest.fixture
def signed_in(auth, enterprise):
    auth.login(enterprise)
    return enterprise


# ---------------------------------------------------------------- the form

def test_a_new_form_is_prefilled_from_the_enterprise_account(client, signed_in):
    page = client.get("/me/vouchers/apply")
    assert page.status_code == 200
    assert signed_in.enterprise.name in page.text and signed_in.enterprise.credit_code in page.text
    assert "江苏省科技创新券企业申请信息表" in page.text
    assert the_application(signed_in) is None, "looking at the form creates nothing"


def test_saving_a_partial_draft_keeps_it_for_later(client, signed_in):
    response = client.post("/me/vouchers/apply", data=form(signed_in, action="save", employees="",
                                                             financial_statement=None),
                           content_type="multipart/form-data")
    assert response.status_code == 303
    application = the_application(signed_in)
    assert application.status == ApplicationStatus.DRAFT and application.employees is None
    assert application.revenue_fen == 2_345_670_000 and application.kexiao_number == "20263201000123"
    assert db.session.scalar(select(AuditLog.action).where(AuditLog.object_type == "voucher_application")) == "create"


def test_completing_with_fields_missing_names_each_and_keeps_the_input(client, signed_in):
    response = client.post("/me/vouchers/apply", data=form(signed_in, employees="", bank_name="",
                                                             financial_statement=None),
                           content_type="multipart/form-data")
    assert response.status_code == 422
    assert "请填写职工人数" in response.text and "请填写开户银行" in response.text
    assert "请上传上年度财务报表" in response.text
    assert "珠江路88号" in response.text and "南京市科学技术局" in response.text
    assert the_application(signed_in) is None


def test_bad_formats_are_refused_next_to_the_field(client, signed_in):
    response = client.post("/me/vouchers/apply", data=form(signed_in, action="save", credit_code="91320100MA1ABCDEF",
                                                             legal_rep_mobile="12345", revenue_fen="很多"),
                           content_type="multipart/form-data")
    assert response.status_code == 422
    assert "统一社会信用代码" in response.text and "91320100MA1ABCDEF" in response.text
    assert 'id="legal_rep_mobile-error"' in response.text and 'id="revenue_fen-error"' in response.text


# ---------------------------------------------------------------- eligibility: each refusal names its rule

@pytest.mark.parametrize("overrides, field, message", [
    ({"registered_province": "浙江省"}, "registered_province", "注册地不在江苏省的企业不能申领"),
    ({"revenue_fen": "40000"}, "revenue_fen", "须低于4亿元"),
    ({"revenue_fen": "52000.5"}, "revenue_fen", "须低于4亿元"),
    ({"identity": "gaoqi", "gaoqi_certificate_number": "GR202332001234",
      "gaoqi_valid_until": (china_today() - timedelta(days=1)).isoformat()}, "gaoqi_valid_until", "过期"),
    ({"identity": "gaoqi", "gaoqi_certificate_number": ""}, "gaoqi_certificate_number", "证书编号"),
    ({"identity": "kexiao", "kexiao_number": ""}, "kexiao_number", "入库编号"),
    ({"identity": "incubated"}, "identity_proof", "孵化证明或入孵协议"),
    ({"identity": "talent", "identity_proof": png_upload("人才证明.png")}, "relation_proof", "关系证明"),
    ({"identity": ""}, "identity", "请选择企业身份"),
])
def test_an_ineligible_enterprise_is_refused_with_the_rule_named(client, signed_in, overrides, field, message):
    response = client.post("/me/vouchers/apply", data=form(signed_in, **overrides), content_type="multipart/form-data")
    assert response.status_code == 422
    error = re.search(rf'<p class="error" id="{field}-error">([^<]*)</p>', response.text)
    assert error and message in error.group(1), response.text
    assert "珠江路88号" in response.text, "the rest of the input is kept"


def test_revenue_just_under_the_limit_is_eligible(client, signed_in):
    response = client.post("/me/vouchers/apply", data=form(signed_in, revenue_fen="39999.999999"),
                           content_type="multipart/form-data")
    assert response.status_code == 303
    assert the_application(signed_in).revenue_fen == policy.REVENUE_LIMIT_FEN - 1


def test_a_talent_enterprise_with_both_proofs_and_an_incubated_one_with_its_proof_are_eligible(client, signed_in):
    response = client.post("/me/vouchers/apply", data=form(signed_in, identity="talent",
                                                             identity_proof=png_upload("人才证明.png"),
                                                             relation_proof=pdf_upload("关系证明.pdf")),
                           content_type="multipart/form-data")
    assert response.status_code == 303
    application = the_application(signed_in)
    assert application.identity_proof_file_id and application.relation_proof_file_id


def test_an_enterprise_on_the_imported_kexiao_list_finds_kexiao_preselected(client, signed_in):
    db.session.add(KexiaoEntry(year=YEAR, number="2026320100088", name=signed_in.enterprise.name,
                               credit_code=signed_in.enterprise.credit_code))
    db.session.commit()
    page = client.get("/me/vouchers/apply")
    assert re.search(r'<option selected value="kexiao">|<option value="kexiao" selected', page.text)
    assert 'value="2026320100088"' in page.text


# ---------------------------------------------------------------- live checks (htmx)

def test_live_checks_answer_the_field_with_its_message(client, signed_in):
    bad = client.post("/me/vouchers/apply/check/credit_code", data={"credit_code": "91320100MA1ABCDEF"}, headers=HTMX)
    assert bad.status_code == 422 and "<html" not in bad.text and 'id="live-credit_code"' in bad.text
    good = client.post("/me/vouchers/apply/check/credit_code", data={"credit_code": signed_in.enterprise.credit_code},
                       headers=HTMX)
    assert good.status_code == 200 and 'class="error"' not in good.text
    revenue = client.post("/me/vouchers/apply/check/revenue_fen", data={"revenue_fen": "40000"}, headers=HTMX)
    assert "须低于4亿元" in revenue.text
    province = client.post("/me/vouchers/apply/check/registered_province", data={"registered_province": "上海市"},
                           headers=HTMX)
    assert "注册地不在江苏省" in province.text
    assert client.post("/me/vouchers/apply/check/unit_name", data={}, headers=HTMX).status_code == 404


def test_a_live_check_says_whether_the_kexiao_number_is_on_the_imported_list(client, signed_in):
    db.session.add(KexiaoEntry(year=YEAR, number="2026320100088", name="江苏示例科技有限公司", credit_code=""))
    db.session.commit()
    found = client.post("/me/vouchers/apply/check/kexiao_number", data={"kexiao_number": "2026320100088"},
                        headers=HTMX)
    assert "江苏示例科技有限公司" in found.text
    missing = client.post("/me/vouchers/apply/check/kexiao_number", data={"kexiao_number": "999"}, headers=HTMX)
    assert "未在已导入的科技型中小企业库中" in missing.text


# ---------------------------------------------------------------- SMS verification of the contact phone

def test_the_contact_phone_is_verified_by_sms_code(client, signed_in, caplog):
    sent = client.post("/me/vouchers/apply/sms", data={"contact_phone": "13812345678"}, headers=HTMX)
    assert sent.status_code == 200 and "验证码已发送至138****5678" in sent.text
    wrong = client.post("/me/vouchers/apply", data=form(signed_in, sms_code="000000" if sms_code_from(caplog) !=
                                                        "000000" else "111111"), content_type="multipart/form-data")
    assert wrong.status_code == 422 and "验证码不正确" in wrong.text
    right = client.post("/me/vouchers/apply", data=form(signed_in, sms_code=sms_code_from(caplog)),
                        content_type="multipart/form-data")
    assert right.status_code == 303
    assert the_application(signed_in).contact_phone_verified_at is not None


def test_a_right_code_survives_a_completion_refused_for_another_field(client, signed_in, caplog):
    """完成填写 with the right code and a field missing is refused; the code is still good for the next try, so
    nobody waits a minute for a new one (issue 16)."""
    client.post("/me/vouchers/apply/sms", data={"contact_phone": "13812345678"}, headers=HTMX)
    code = sms_code_from(caplog)
    refused = client.post("/me/vouchers/apply", data=form(signed_in, sms_code=code, employees=""),
                          content_type="multipart/form-data")
    assert refused.status_code == 422 and "请填写职工人数" in refused.text and "验证码不正确" not in refused.text
    fresh()
    assert db.session.scalar(select(SmsCode.used_at)) is None
    accepted = client.post("/me/vouchers/apply", data=form(signed_in, sms_code=code),
                           content_type="multipart/form-data")
    assert accepted.status_code == 303
    assert the_application(signed_in).contact_phone_verified_at is not None
    assert db.session.scalar(select(SmsCode.used_at)) is not None


def test_a_used_code_is_refused_the_second_time(client, signed_in, caplog):
    client.post("/me/vouchers/apply/sms", data={"contact_phone": "13812345678"}, headers=HTMX)
    code = sms_code_from(caplog)
    assert client.post("/me/vouchers/apply", data=form(signed_in, action="save", sms_code=code),
                       content_type="multipart/form-data").status_code == 303
    again = client.post("/me/vouchers/apply", data=form(signed_in, action="save", sms_code=code),
                        content_type="multipart/form-data")
    assert again.status_code == 422 and "验证码不正确或已过期" in again.text


def test_the_unit_landline_is_optional_but_checked_when_given(client, signed_in):
    """单位电话 (the seed's 固定电话, no star): 完成填写 without it succeeds; a malformed one is refused beside it."""
    page = client.get("/me/vouchers/apply").text
    assert not re.search(r'<div class="field[^"]*required[^"]*">\s*<label for="phone"', page)
    assert client.post("/me/vouchers/apply", data=form(signed_in, phone=""),
                       content_type="multipart/form-data").status_code == 303
    application = the_application(signed_in)
    assert application.phone == "" and not incomplete(application)
    wrong = client.post("/me/vouchers/apply", data=form(signed_in, phone="12"), content_type="multipart/form-data")
    assert wrong.status_code == 422 and 'id="phone-error"' in wrong.text and 'value="12"' in wrong.text


def test_changing_the_contact_phone_needs_a_new_verification(client, signed_in, make):
    make.voucher_application(signed_in)
    client.post("/me/vouchers/apply", data=form(signed_in, action="save", contact_phone="13700001111",
                                                financial_statement=None), content_type="multipart/form-data")
    assert the_application(signed_in).contact_phone_verified_at is None


def test_a_code_is_not_sent_to_a_malformed_number(client, signed_in, caplog):
    response = client.post("/me/vouchers/apply/sms", data={"contact_phone": "12345"}, headers=HTMX)
    assert response.status_code == 422 and "验证码为" not in caplog.text


def test_send_code_without_javascript_saves_the_draft_and_sends(client, signed_in, caplog):
    response = client.post("/me/vouchers/apply", data=form(signed_in, action="send_code"),
                           content_type="multipart/form-data")
    assert response.status_code == 303 and response.headers["Location"].endswith("/me/vouchers/apply#contact")
    assert sms_code_from(caplog) and the_application(signed_in) is not None


# ---------------------------------------------------------------- sheet, stamped scan, submit

def test_the_sheet_is_offered_only_once_the_application_is_complete(client, signed_in, make):
    client.post("/me/vouchers/apply", data=form(signed_in, action="save", employees=""),
                content_type="multipart/form-data")
    assert client.get(f"/me/vouchers/{YEAR}/sheet.pdf").status_code == 409
    kept = {"financial_statement__kept": str(the_application(signed_in).financial_statement_file_id)}
    client.post("/me/vouchers/apply", data=form(signed_in, financial_statement=None, **kept),
                content_type="multipart/form-data")
    sheet = client.get(f"/me/vouchers/{YEAR}/sheet.pdf")
    assert sheet.status_code == 200 and sheet.mimetype == "application/pdf"
    text = PdfReader(io.BytesIO(sheet.data)).pages[0].extract_text()
    assert signed_in.enterprise.name in text


def test_submitting_needs_the_stamped_scan_and_the_promise(client, signed_in, make):
    make.voucher_application(signed_in, stamped=False)
    missing = client.post("/me/vouchers/apply/submit", data={"promise": "y"}, content_type="multipart/form-data")
    assert missing.status_code == 422 and "请上传加盖公章的申请信息表扫描件" in missing.text
    no_promise = client.post("/me/vouchers/apply/submit", data={"stamped_sheet": png_upload("盖章.png")},
                             content_type="multipart/form-data")
    assert no_promise.status_code == 422 and "请阅读并勾选承诺" in no_promise.text
    assert the_application(signed_in).status == ApplicationStatus.DRAFT


def test_a_fake_scan_is_refused_by_its_content(client, signed_in, make):
    make.voucher_application(signed_in, stamped=False)
    response = client.post("/me/vouchers/apply/submit",
                           data={"stamped_sheet": (io.BytesIO(b"MZ\x90\x00 not a pdf"), "盖章.pdf"), "promise": "y"},
                           content_type="multipart/form-data")
    assert response.status_code == 422 and the_application(signed_in).stamped_sheet_file_id is None


def test_submitting_a_complete_application_sends_it_for_review(client, signed_in, make):
    make.voucher_application(signed_in, stamped=False)
    response = client.post("/me/vouchers/apply/submit", data={"stamped_sheet": png_upload("盖章.png"), "promise": "y"},
                           content_type="multipart/form-data")
    assert response.status_code == 303
    application = the_application(signed_in)
    assert application.status == ApplicationStatus.SUBMITTED and application.submitted_at
    assert client.get("/me/vouchers/apply").status_code == 302, "a submitted application opens read-only"
    again = client.post("/me/vouchers/apply", data=form(signed_in), content_type="multipart/form-data")
    assert again.status_code == 409
    assert "审核中" in client.get("/me/vouchers").text


def test_an_unverified_contact_phone_stops_the_submission_and_keeps_the_scan(client, signed_in, make):
    make.voucher_application(signed_in, stamped=False, contact_phone_verified_at=None)
    response = client.post("/me/vouchers/apply/submit", data={"stamped_sheet": png_upload("盖章.png"), "promise": "y"},
                           content_type="multipart/form-data")
    assert response.status_code == 409 and "短信验证" in response.text
    application = the_application(signed_in)
    assert application.status == ApplicationStatus.DRAFT and application.stamped_sheet_file_id


@pytest.mark.parametrize("status", [ApplicationStatus.SUBMITTED, ApplicationStatus.APPROVED])
def test_a_submit_of_an_application_no_longer_editable_leaves_its_stamped_sheet(client, signed_in, make, status):
    application = make.voucher_application(signed_in, status=status)
    stamped = application.stamped_sheet_file_id
    response = client.post("/me/vouchers/apply/submit",
                           data={"stamped_sheet": png_upload("另一份.png"), "promise": "y"},
                           content_type="multipart/form-data")
    application = the_application(signed_in)
    assert (application.status, application.stamped_sheet_file_id) == (status, stamped)
    assert response.status_code == 409 and "不能再提交" in response.text
    assert db.session.scalar(select(func.count(AuditLog.id)).where(AuditLog.action == "submit")) == 0


def test_editing_after_stamping_voids_the_stamped_sheet(client, signed_in, make):
    make.voucher_application(signed_in)
    client.post("/me/vouchers/apply", data=form(signed_in, action="save", financial_statement=None,
                                                bank_account_number="6217000099999999999"),
                content_type="multipart/form-data")
    assert the_application(signed_in).stamped_sheet_file_id is None


def test_one_application_per_enterprise_per_year(client, signed_in, make):
    make.voucher_application(signed_in, status=ApplicationStatus.SUBMITTED)
    client.post("/me/vouchers/apply", data=form(signed_in), content_type="multipart/form-data")
    count = db.session.scalar(select(func.count(VoucherApplication.id))
                              .where(VoucherApplication.enterprise_id == signed_in.enterprise.id))
    assert count == 1


# ---------------------------------------------------------------- correction and resubmission

def test_a_returned_application_is_corrected_and_resubmitted_with_earlier_input_kept(client, signed_in, make,
                                                                                      reviewer):
    application = make.voucher_application(signed_in, status=ApplicationStatus.SUBMITTED)
    lifecycle.return_for_correction(application, reviewer.id, "银行账号与开户名称不一致", ("bank_account_number",))
    db.session.commit()
    page = client.get("/me/vouchers/apply")
    assert page.status_code == 200 and "银行账号与开户名称不一致" in page.text
    assert 'value="珠江路88号"' in page.text and 'value="南京市科学技术局"' in page.text
    assert 'class="live-check needs-correction" id="live-bank_account_number"' in page.text
    assert 'class="live-check needs-correction" id="live-credit_code"' not in page.text
    fixed = form(signed_in, bank_account_number="6217000088888888888", financial_statement=None,
                 postal_detail="珠江路88号", kexiao_number=application.kexiao_number)
    fixed["financial_statement__kept"] = str(application.financial_statement_file_id)
    response = client.post("/me/vouchers/apply", data=fixed, content_type="multipart/form-data")
    assert response.status_code == 303, response.text
    corrected = the_application(signed_in)
    assert corrected.bank_account_number == "6217000088888888888"
    assert corrected.financial_statement_file_id == application.financial_statement_file_id
    assert corrected.stamped_sheet_file_id is None, "the old stamped sheet shows the old account"
    submitted = client.post("/me/vouchers/apply/submit", data={"stamped_sheet": pdf_upload("盖章.pdf"), "promise": "y"},
                            content_type="multipart/form-data")
    assert submitted.status_code == 303, submitted.text
    assert the_application(signed_in).status == ApplicationStatus.SUBMITTED
    history = client.get(f"/me/vouchers/{YEAR}/history").text
    assert history.index("退回修改") < history.rindex("提交审核") and "银行账号与开户名称不一致" in history


# ---------------------------------------------------------------- 我的创新券

def approved(make, reviewer, user, **fields) -> Voucher:
    application = make.voucher_application(user, status=ApplicationStatus.SUBMITTED, **fields)
    voucher = lifecycle.approve(application, reviewer.id)
    db.session.commit()
    return voucher


@pytest.mark.parametrize("city, total", [("南京", "100,000.00"), ("扬州", "100,000.00"), ("徐州", "140,000.00")])
def test_my_vouchers_shows_the_total_and_remaining_by_region(client, auth, make, reviewer, city, total):
    user = make.enterprise(city=city)
    approved(make, reviewer, user)
    auth.login(user)
    page = client.get("/me/vouchers").text
    assert f"创新券总金额：{total}元" in page and f"剩余可用金额：{total}元" in page
    assert f"{YEAR}-12-31" in page and "去使用" in page


def test_remaining_is_computed_from_the_ledger(client, auth, make, reviewer, enterprise):
    voucher = approved(make, reviewer, enterprise)
    voucher.reserved_fen, voucher.approved_fen, voucher.disbursed_fen = 100_000, 50_000, 65_300
    db.session.commit()
    auth.login(enterprise)
    assert "剩余可用金额：97,847.00元" in client.get("/me/vouchers").text


def test_expired_years_are_greyed_and_cannot_be_used(client, auth, make, reviewer, enterprise):
    approved(make, reviewer, enterprise, year=YEAR - 1)
    auth.login(enterprise)
    page = client.get("/me/vouchers").text
    assert '<tr class="expired">' in page and f"{YEAR - 1}-12-31" in page and "去使用" not in page
    assert "申请资格" in page, "this year's application is offered"


def test_the_voucher_page_shows_possible_local_matching(client, auth, make, reviewer):
    user = make.enterprise(city="徐州")
    approved(make, reviewer, user)
    auth.login(user)
    page = client.get("/me/vouchers").text
    assert "省:市 = 7:3" in page and "60,000.00" in page


def test_detail_and_history_pages_show_the_application(client, auth, make, reviewer, enterprise):
    approved(make, reviewer, enterprise)
    auth.login(enterprise)
    detail = client.get(f"/me/vouchers/{YEAR}")
    assert detail.status_code == 200 and "壹拾万元整" in detail.text and "珠江路88号" in detail.text
    history = client.get(f"/me/vouchers/{YEAR}/history").text
    assert "审核通过" in history and "省统筹中心" in history


# ---------------------------------------------------------------- who may see what

def test_an_enterprise_cannot_see_or_change_another_enterprises_application_or_files(client, auth, make):
    owner = make.enterprise()
    theirs = make.voucher_application(owner, status=ApplicationStatus.SUBMITTED)
    other = make.enterprise()
    auth.login(other)
    assert client.get(f"/me/vouchers/{YEAR}").status_code == 404
    assert client.get(f"/me/vouchers/{YEAR}/sheet.pdf").status_code == 404
    assert client.get(f"/files/{theirs.financial_statement_file_id}").status_code in (403, 404)
    assert client.get(f"/files/{theirs.stamped_sheet_file_id}").status_code in (403, 404)
    client.post("/me/vouchers/apply", data=form(other, action="save"), content_type="multipart/form-data")
    fresh()
    assert db.session.get(VoucherApplication, theirs.id).unit_name == owner.enterprise.name
    assert the_application(other).unit_name == other.enterprise.name


def test_the_owner_reads_its_own_files(client, signed_in, make):
    mine = make.voucher_application(signed_in)
    assert client.get(f"/files/{mine.financial_statement_file_id}").status_code == 200


@pytest.mark.parametrize("who", ["anonymous", Role.PROVIDER, Role.INDIVIDUAL, "pending_enterprise"])
def test_only_approved_enterprises_apply(client, auth, make, who):
    if who == "pending_enterprise":
        auth.login(make.enterprise(status=AccountStatus.PENDING))
    elif who != "anonymous":
        user = make.provider() if who == Role.PROVIDER else make.user(who)
        db.session.commit()
        auth.login(user)
    response = client.get("/me/vouchers/apply")
    assert response.status_code in (302, 403)
    if who == "pending_enterprise":
        assert "审核" in response.text


def test_state_changes_need_the_csrf_token(client, signed_in):
    response = client.post("/me/vouchers/apply", data=form(signed_in), content_type="multipart/form-data", csrf=False)
    assert response.status_code == 400 and the_application(signed_in) is None


def test_the_workbench_menu_leads_to_my_vouchers(client, signed_in):
    assert 'href="/me/vouchers"' in client.get("/me").text


def test_the_founding_date_cannot_be_in_the_future(client, signed_in):
    response = client.post("/me/vouchers/apply", data=form(signed_in, founded_on=(date.today() + timedelta(days=30))
                                                             .isoformat()), content_type="multipart/form-data")
    assert response.status_code == 422 and "成立时间不能晚于今天" in response.text


def test_a_kexiao_number_typed_full_width_still_matches(client, signed_in):
    db.session.add(KexiaoEntry(year=YEAR, number="2026320100088", name=signed_in.enterprise.name,
                               credit_code=signed_in.enterprise.credit_code))
    db.session.commit()
    found = client.post("/me/vouchers/apply/check/kexiao_number", headers=HTMX,
                        data={"kexiao_number": "２０２６３２０１０００８８",
                              "credit_code": signed_in.enterprise.credit_code})
    assert f"科技型中小企业库中：{signed_in.enterprise.name}" in found.text


def test_another_companys_kexiao_number_is_not_taken_for_ours(client, signed_in, make):
    other = make.enterprise().enterprise
    db.session.add(KexiaoEntry(year=YEAR, number="2026320100099", name=other.name, credit_code=other.credit_code))
    db.session.commit()
    answer = client.post("/me/vouchers/apply/check/kexiao_number", headers=HTMX,
                         data={"kexiao_number": "2026320100099", "credit_code": signed_in.enterprise.credit_code})
    assert other.name not in answer.text and "未在已导入的科技型中小企业库中" in answer.text
