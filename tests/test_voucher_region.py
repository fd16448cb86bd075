"""The voucher's region follows the evidence (issue 14): the application carries the 营业执照; a registered city
that the account's city or the credit code's registering authority contradicts is flagged beside the licence on
the review page, as is a missing licence; and the voucher is issued for the registered city the reviewer confirms
from the licence, not for whatever city the form names. Queues and claims show the voucher's city."""
import io
import re

import pytest
from sqlalchemy import select

from marketplace import policy
from marketplace.extensions import db
from marketplace.models import (
    ApplicationStatus,
    AuditLog,
    RedemptionStatus,
    StoredFile,
    User,
    Voucher,
    VoucherApplication,
    china_today,
)
from marketplace.stats import queries
from marketplace.validators import make_credit_code
from marketplace.vouchers import lifecycle

from .conftest import sign_in_as
from .test_catalog_pages import section
from .test_vouchers import form, the_application

HTMX = {"HX-Request": "true"}
YEAR = china_today().year
FLAG = "注册地不一致"
AGREED = "填写的注册地、账号所在地与信用代码登记机关所在地一致"
NANJING_CODE = make_credit_code("91320100MA1NJ0001")  # registered by 南京's authority


@pytest.fixture
def signed_in(auth, enterprise):
    auth.login(enterprise)
    return enterprise


@pytest.fixture
def picked_xuzhou(make) -> VoucherApplication:
    """A 南京 (苏南) enterprise's submitted application naming 徐州 (苏北) as its registered city."""
    return make.voucher_application(make.enterprise(city="南京"), status=ApplicationStatus.SUBMITTED,
                                    registered_city="徐州")


def fresh(application_id: int) -> VoucherApplication:
    db.session.commit()
    db.session.expire_all()
    return db.session.get(VoucherApplication, application_id)


def vouchers_of(application_id: int) -> list[Voucher]:
    return db.session.scalars(select(Voucher).where(Voucher.application_id == application_id)).all()


def audit_reasons(object_type: str, object_id) -> list[tuple[str, str]]:
    return [(e.action, e.reason) for e in db.session.scalars(
        select(AuditLog).where(AuditLog.object_type == object_type, AuditLog.object_id == str(object_id))
        .order_by(AuditLog.id))]


def preset_city(page: str) -> str:
    """The city the approval form's 确认注册地 select comes with, "" for none."""
    select_html = page[page.index('<select id="confirmed_city"'):]
    found = re.search(r'<option selected value="([^"]*)">', select_html[:select_html.index("</select>")])
    return found.group(1) if found else ""


def flags(page: str) -> list[tuple[str, str]]:
    """The review page's automatic checks as (class, text) pairs, tags stripped."""
    return [(kind, re.sub(r"<[^>]+>", " ", body)) for kind, body in
            re.findall(r'<li class="flag( ok| problem|)">(.*?)</li>', page, flags=re.S)]


# ---------------------------------------------------------------- the application carries the licence

def test_the_application_cannot_be_completed_without_the_business_licence(client, signed_in):
    response = client.post("/me/vouchers/apply", data=form(signed_in, business_licence=None),
                           content_type="multipart/form-data")
    assert response.status_code == 422
    assert '<p class="error" id="business_licence-error">请上传营业执照</p>' in response.text
    assert "珠江路88号" in response.text and "南京市科学技术局" in response.text
    assert 'name="financial_statement__kept"' in response.text, "the other upload is kept for the next try"
    assert the_application(signed_in) is None


def test_a_file_renamed_to_pdf_is_refused_by_its_content(client, signed_in):
    fake = (io.BytesIO(b"PK\x03\x04" + b"\x00" * 200), "营业执照.pdf")
    response = client.post("/me/vouchers/apply", data=form(signed_in, business_licence=fake),
                           content_type="multipart/form-data")
    assert response.status_code == 422
    assert re.search(r'<p class="error" id="business_licence-error">文件格式无法识别', response.text)
    assert "珠江路88号" in response.text
    assert the_application(signed_in) is None
    assert db.session.scalar(select(StoredFile.id).where(StoredFile.original_name == "营业执照.pdf")) is None


def test_the_licence_sits_beside_the_credit_code_and_is_kept_across_a_failed_submit(client, signed_in):
    page = client.get("/me/vouchers/apply").text
    assert page.index('name="credit_code"') < page.index('name="business_licence"') < page.index('name="founded_on"')
    response = client.post("/me/vouchers/apply", data=form(signed_in, bank_name=""),
                           content_type="multipart/form-data")
    assert response.status_code == 422 and "请填写开户银行" in response.text
    kept = re.search(r'name="business_licence__kept" value="(\d+)"', response.text)
    assert kept, "the licence uploaded with the refused form is held"
    retried = client.post("/me/vouchers/apply", data=form(signed_in, business_licence=None,
                                                          business_licence__kept=kept.group(1)),
                          content_type="multipart/form-data")
    assert retried.status_code == 303
    assert the_application(signed_in).business_licence_file_id == int(kept.group(1))


@pytest.mark.parametrize("who, status", [("owner", 200), ("reviewer", 200), ("enterprise", 404), ("provider", 404),
                                         ("anonymous", 404)])
def test_only_the_enterprise_and_reviewers_open_the_licence(client, auth, make, submitted_application, who, status):
    licence_id = submitted_application.business_licence_file_id
    if who == "owner":
        auth.login(db.session.get(User, submitted_application.enterprise.user_id))
    else:
        sign_in_as(auth, make, who)
    assert client.get(f"/files/{licence_id}").status_code == status


@pytest.fixture
def submitted_application(make, enterprise) -> VoucherApplication:
    return make.voucher_application(enterprise, status=ApplicationStatus.SUBMITTED)


def test_the_licence_is_listed_with_the_applications_attachments(client, auth, make, enterprise,
                                                                 submitted_application):
    licence = f'href="/files/{submitted_application.business_licence_file_id}"'
    auth.login(enterprise)
    mine = client.get(f"/me/vouchers/{YEAR}").text
    assert "营业执照" in mine and licence in mine
    auth.login(make.reviewer())
    review = client.get(f"/admin/vouchers/{submitted_application.id}").text
    files = review[review.index('<section class="panel voucher-files">'):]
    assert 'data-file="business_licence"' in files and licence in files


# ---------------------------------------------------------------- the review page flags the disagreement

def test_a_nanjing_enterprise_that_picks_xuzhou_is_flagged_beside_its_licence(client, auth, reviewer, picked_xuzhou):
    auth.login(reviewer)
    page = client.get(f"/admin/vouchers/{picked_xuzhou.id}").text
    (flag,) = [text for kind, text in flags(page) if FLAG in text]
    assert "✗" in flag and "徐州市 · 苏北" in flag and "南京市 · 苏南" in flag
    panel = page[page.index('id="voucher-decision"'):]
    beside = panel[panel.index(FLAG):panel.index("</li>", panel.index(FLAG))]
    licence_id = picked_xuzhou.business_licence_file_id
    assert f'href="/files/{licence_id}"' in beside and f'src="/files/{licence_id}?thumb=400"' in beside
    assert [text for kind, text in flags(page) if kind == " ok" and "苏北" in text] == []
    assert "140,000.00" not in page
    select_html = panel[panel.index('<select id="confirmed_city"'):panel.index("</select>")]
    assert "selected" not in select_html.replace('<option selected value="">', ""), "no city is preset"


def test_an_enterprise_whose_cities_agree_sees_them_confirmed_and_the_city_preset(client, auth, reviewer,
                                                                                  submitted_application):
    auth.login(reviewer)
    page = client.get(f"/admin/vouchers/{submitted_application.id}").text
    assert FLAG not in page
    (agreed,) = [text for kind, text in flags(page) if AGREED in text]
    assert agreed.startswith(f"✓ {AGREED}：南京市，属苏南，通过后发放创新券 100,000.00 元")
    beside = page[page.index(AGREED):page.index("</li>", page.index(AGREED))]
    assert f'href="/files/{submitted_application.business_licence_file_id}"' in beside
    assert re.search(r'<option selected value="南京">南京市</option>', page)


# ---------------------------------------------------------------- the credit code's registering authority

@pytest.mark.parametrize("code, city", [
    ("91320100MA1NJ0001", "南京"), ("91320106MA1NJ0001", "南京"), ("91320300MA1XU0001", "徐州"),
    ("12320382466000000", "徐州"), ("91321302MA1QA0001", "宿迁"), ("91320585MA1TC0001", "苏州"),
    ("91320000MA1JA0001", None), ("91310000MA1HA0001", None), ("91329900MA1XX0001", None),
    ("320100000123456", None), ("", None), (None, None),
])
def test_the_credit_codes_registering_authority_names_its_city_or_nothing(code, city):
    full = make_credit_code(code) if code and len(code) == 17 else code
    assert policy.city_of_credit_code(full) == city


@pytest.fixture
def signed_up_as_xuzhou(make) -> VoucherApplication:
    """An enterprise whose account and form both say 徐州 (苏北) but whose credit code 南京's authority issued."""
    user = make.enterprise(city="徐州")
    user.enterprise.credit_code = NANJING_CODE
    return make.voucher_application(user, status=ApplicationStatus.SUBMITTED)


def test_a_credit_code_from_another_city_is_flagged_naming_all_three_and_nothing_is_preset(client, auth, reviewer,
                                                                                            signed_up_as_xuzhou):
    auth.login(reviewer)
    page = client.get(f"/admin/vouchers/{signed_up_as_xuzhou.id}").text
    (flag,) = [text for kind, text in flags(page) if FLAG in text]
    assert flag.startswith("✗ ") and "填写的注册地为徐州市 · 苏北" in flag and "账号所在地为徐州市 · 苏北" in flag
    assert "信用代码登记机关所在地为南京市 · 苏南" in flag
    assert [text for kind, text in flags(page) if kind == " ok" and "一致" in text] == []
    assert "140,000.00" not in page and preset_city(page) == ""
    response = client.post(f"/admin/vouchers/{signed_up_as_xuzhou.id}/approve")
    assert response.status_code == 422 and "请核对营业执照后确认注册地" in response.text
    assert vouchers_of(signed_up_as_xuzhou.id) == []


def test_a_disputed_page_claims_only_that_the_registered_city_is_in_jiangsu(client, auth, reviewer,
                                                                           signed_up_as_xuzhou):
    auth.login(reviewer)
    page = client.get(f"/admin/vouchers/{signed_up_as_xuzhou.id}").text
    (eligible,) = [text for kind, text in flags(page) if "符合申领条件" in text]
    assert eligible.startswith("✓ 符合申领条件：注册地在江苏省内，")
    assert [text for kind, text in flags(page) if kind == " ok" and "注册地" in text and text != eligible] == []


def test_a_province_registered_credit_code_leaves_the_account_and_the_form_to_agree(client, auth, make, reviewer):
    user = make.enterprise(city="徐州")
    user.enterprise.credit_code = make_credit_code("91320000MA1JA0001")
    application = make.voucher_application(user, status=ApplicationStatus.SUBMITTED)
    auth.login(reviewer)
    page = client.get(f"/admin/vouchers/{application.id}").text
    (agreed,) = [text for kind, text in flags(page) if kind == " ok" and "一致" in text]
    assert agreed.startswith("✓ 填写的注册地与账号所在地一致（信用代码未载明登记机关所在市）：徐州市，属苏北")
    assert preset_city(page) == "徐州"


def test_an_application_without_a_licence_cannot_have_its_city_checked_and_nothing_is_preset(client, auth, make,
                                                                                            reviewer, enterprise):
    application = make.voucher_application(enterprise, status=ApplicationStatus.SUBMITTED,
                                           business_licence_file_id=None)
    auth.login(reviewer)
    page = client.get(f"/admin/vouchers/{application.id}").text
    assert (" problem", "✗ 未上传营业执照，无法核对注册地") in [(kind, text.strip()) for kind, text in flags(page)]
    assert [text for kind, text in flags(page) if kind == " ok" and "一致" in text] == []
    assert preset_city(page) == ""
    assert client.post(f"/admin/vouchers/{application.id}/approve").status_code == 422
    assert vouchers_of(application.id) == []


# ---------------------------------------------------------------- approval issues the confirmed city's voucher

@pytest.mark.parametrize("headers", [{}, HTMX])
@pytest.mark.parametrize("data", [{}, {"confirmed_city": ""}])
def test_approving_a_disputed_city_without_confirming_one_answers_422_and_issues_nothing(
        client, auth, reviewer, picked_xuzhou, headers, data):
    auth.login(reviewer)
    response = client.post(f"/admin/vouchers/{picked_xuzhou.id}/approve", data=data, headers=headers)
    assert response.status_code == 422
    body = response.text
    assert '<p class="error" id="confirmed_city-error">请核对营业执照后确认注册地</p>' in body
    assert body.index('id="confirmed_city"') < body.index('id="confirmed_city-error"')
    assert ("<html" in body) != bool(headers)
    application = fresh(picked_xuzhou.id)
    assert (application.status, application.confirmed_city) == (ApplicationStatus.SUBMITTED, "")
    assert vouchers_of(picked_xuzhou.id) == [] and audit_reasons("voucher_application", picked_xuzhou.id) == []


def test_confirming_nanjing_issues_a_sunan_voucher_at_25_percent_and_audits_the_city(client, auth, make, reviewer,
                                                                                     picked_xuzhou):
    auth.login(reviewer)
    response = client.post(f"/admin/vouchers/{picked_xuzhou.id}/approve", data={"confirmed_city": "南京"})
    assert response.status_code == 303
    application = fresh(picked_xuzhou.id)
    (voucher,) = vouchers_of(application.id)
    assert (voucher.region, voucher.total_fen) == ("苏南", 10_000_000)
    assert (application.status, application.confirmed_city) == (ApplicationStatus.APPROVED, "南京")
    assert audit_reasons("voucher_application", application.id) == [("approve", "确认注册地：南京市（苏南）")]
    assert audit_reasons("voucher", voucher.id) == [("issue", f"{YEAR}年度 南京市 苏南 100,000.00元")]
    assert "注册地南京市 · 苏南" in client.get(f"/admin/vouchers/{application.id}").text

    user = db.session.get(User, application.enterprise.user_id)
    service = make.service(make.provider().provider)
    auth.login(user)
    assert "创新券总金额：100,000.00元" in client.get("/me/vouchers").text
    detail = client.get(f"/services/{service.id}").text
    assert "贵企业注册地属于<strong class=\"region\">苏南</strong>，按服务金额的 <strong>25%</strong> 兑付" in detail


def test_local_matching_follows_the_confirmed_city(client, auth, reviewer, picked_xuzhou):
    auth.login(reviewer)
    client.post(f"/admin/vouchers/{picked_xuzhou.id}/approve", data={"confirmed_city": "南京"})
    auth.login(db.session.get(User, fresh(picked_xuzhou.id).enterprise.user_id))
    page = client.get("/me/vouchers").text
    assert "省地联动 · 南京市配套" in page and "省:市 = 1:1" in page
    assert "徐州市配套" not in page


def test_statistics_and_the_payment_list_place_the_voucher_in_the_confirmed_city(client, auth, make, reviewer,
                                                                              picked_xuzhou):
    auth.login(reviewer)
    client.post(f"/admin/vouchers/{picked_xuzhou.id}/approve", data={"confirmed_city": "南京"})
    by_city = {row.city: row.issued_count for row in queries.vouchers_by_city(YEAR)}
    assert (by_city["南京"], by_city["徐州"]) == (1, 0)
    claim = make.claim(db.session.get(User, fresh(picked_xuzhou.id).enterprise.user_id),
                       status=RedemptionStatus.AWAITING_PAYMENT)
    assert f'id="choose-{claim.id}"' in client.get("/admin/payments?city=南京").text
    assert f'id="choose-{claim.id}"' not in client.get("/admin/payments?city=徐州").text


def test_the_queue_shows_the_city_as_filed_until_approval_then_the_confirmed_one_beside_it(client, auth, reviewer,
                                                                                            picked_xuzhou):
    auth.login(reviewer)
    row_id = f"voucher-application-{picked_xuzhou.id}"
    assert '注册地">徐州市 · 苏北</td>' in section(client.get("/admin/vouchers").text, row_id)
    client.post(f"/admin/vouchers/{picked_xuzhou.id}/approve", data={"confirmed_city": "南京"})
    approved = section(client.get("/admin/vouchers?status=approved").text, row_id)
    assert '注册地">填写 徐州 → 确认 南京市 · 苏南</td>' in approved


def test_an_application_approved_for_the_city_it_named_shows_that_city_alone_in_the_queue(client, auth, reviewer,
                                                                                          submitted_application):
    auth.login(reviewer)
    client.post(f"/admin/vouchers/{submitted_application.id}/approve")
    approved = section(client.get("/admin/vouchers?status=approved").text,
                       f"voucher-application-{submitted_application.id}")
    assert '注册地">南京市 · 苏南</td>' in approved and "→" not in approved


@pytest.fixture
def confirmed_nanjing(client, auth, reviewer, signed_up_as_xuzhou) -> User:
    """The enterprise whose account says 徐州, with a voucher a reviewer issued for 南京 from its licence."""
    auth.login(reviewer)
    assert client.post(f"/admin/vouchers/{signed_up_as_xuzhou.id}/approve",
                       data={"confirmed_city": "南京"}).status_code == 303
    return db.session.get(User, fresh(signed_up_as_xuzhou.id).enterprise.user_id)


def test_a_claims_facts_show_the_vouchers_city_not_the_accounts(client, make, confirmed_nanjing):
    claim = make.claim(confirmed_nanjing)
    assert "<dt>注册地</dt><dd>南京 · 苏南</dd>" in client.get(f"/admin/redemptions/{claim.id}").text


def test_the_workbench_names_the_vouchers_city_and_region(client, auth, confirmed_nanjing):
    auth.login(confirmed_nanjing)
    page = client.get("/me").text
    assert f"{confirmed_nanjing.enterprise.name}（南京市 · 苏南）" in page and "苏北" not in page


def test_the_reviewer_may_confirm_the_city_the_licence_shows_even_against_the_account(client, auth, reviewer,
                                                                                      picked_xuzhou):
    auth.login(reviewer)
    response = client.post(f"/admin/vouchers/{picked_xuzhou.id}/approve", data={"confirmed_city": "徐州"},
                           headers=HTMX)
    assert response.status_code == 200 and "发放创新券 140,000.00 元" in response.text
    (voucher,) = vouchers_of(picked_xuzhou.id)
    assert (voucher.region, voucher.total_fen) == ("苏北", 14_000_000)


@pytest.mark.parametrize("city", ["上海", "南京<script>", "1"])
def test_a_city_outside_the_list_is_refused_next_to_the_select(client, auth, reviewer, picked_xuzhou, city):
    auth.login(reviewer)
    response = client.post(f"/admin/vouchers/{picked_xuzhou.id}/approve", data={"confirmed_city": city})
    assert response.status_code == 422
    assert '<p class="error" id="confirmed_city-error">请从江苏省13个设区市中选择注册地</p>' in response.text
    assert vouchers_of(picked_xuzhou.id) == []


def test_an_enterprise_whose_cities_agree_is_approved_as_before_with_the_default(client, auth, reviewer,
                                                                                 submitted_application):
    auth.login(reviewer)
    response = client.post(f"/admin/vouchers/{submitted_application.id}/approve")
    assert response.status_code == 303
    (voucher,) = vouchers_of(submitted_application.id)
    assert (voucher.region, voucher.total_fen) == ("苏南", 10_000_000)
    assert fresh(submitted_application.id).confirmed_city == "南京"


def test_the_lifecycle_refuses_a_disputed_city_nobody_confirmed(reviewer, picked_xuzhou):
    with pytest.raises(lifecycle.Refused, match="请核对营业执照后确认注册地"):
        lifecycle.approve(picked_xuzhou, reviewer.id)
    db.session.rollback()
    assert vouchers_of(picked_xuzhou.id) == []


# ---------------------------------------------------------------- the demo

def test_the_demo_applications_carry_a_licence_and_keep_their_vouchers(runner):
    result = runner.invoke(args=["seed-demo", "--services", "120"])
    assert result.exit_code == 0, result.output
    applications = db.session.scalars(select(VoucherApplication)).all()
    assert applications and all(a.business_licence_file_id for a in applications)
    for application in applications:
        licence = db.session.get(StoredFile, application.business_licence_file_id)
        assert licence.owner_id == application.enterprise.user_id and licence.content_type.startswith("image/")
        assert application.confirmed_city == application.registered_city
    current = {(v.enterprise.city, v.region, v.total_fen) for v in db.session.scalars(
        select(Voucher).where(Voucher.year == YEAR))}
    assert current == {("徐州", "苏北", 14_000_000)}
    earlier = {(v.enterprise.city, v.region, v.total_fen) for v in db.session.scalars(
        select(Voucher).where(Voucher.year < YEAR))}
    assert earlier == {("南京", "苏南", 10_000_000), ("徐州", "苏北", 14_000_000)}
