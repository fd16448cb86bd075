"""开店申请 (SPEC 1.6, 3.1): a provider applies with its documents and at least one service; the reviewer
opens direct-eligible units at once and third-party labs after publicity; rejection comes with a reason."""
import io
import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from marketplace import policy
from marketplace.extensions import db
from marketplace.models import (
    AccountStatus,
    AuditLog,
    Objection,
    Provider,
    PublicityBatch,
    RedemptionStatus,
    Role,
    Service,
    ServiceStatus,
    ShopStatus,
    china_today,
)
from marketplace.redemption import settlement
from marketplace.validators import make_id_number

from .samples import pdf_bytes, png_bytes

HTMX = {"HX-Request": "true"}


def application(provider: Provider, **overrides) -> dict:
    """A complete 开店申请 for a university, with fresh files; `None` leaves a field out."""
    data = {
        "name": provider.name, "credit_code": provider.credit_code, "unit_type": "university",
        "is_new_rnd": "0", "intro": "省属高校分析测试中心，面向社会开放大型科研仪器。",
        "registered_address": "江苏省徐州市云龙区大学路1号", "founded_on": "1952-09-01",
        "has_website": "1", "website": "https://atc.example.edu.cn",
        "contact_name": "王老师", "contact_phone": "0516-83590000",
        "city": "徐州", "district": "云龙区", "address_detail": "大学路1号分析测试中心",
        "legal_rep_name": "李四", "legal_rep_phone": "13912345678", "legal_rep_id_type": "id_card",
        "legal_rep_id_number": make_id_number("32030219700101001"),
        "bank_account_name": provider.name, "bank_name": "中国工商银行徐州分行",
        "bank_branch_code": "102303000011", "bank_account_number": "1106020109000012345",
        "last_year_revenue_fen": "1234.5", "last_year_tax_fen": "56.78", "last_year_net_profit_fen": "-12.3",
        "qualification_kind": "", "qualification_expires_on": "",
        "licence": (io.BytesIO(pdf_bytes()), "执照.pdf"),
        "tax_certificate": (io.BytesIO(png_bytes()), "纳税证明.png"),
    }
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


def third_party(provider: Provider, **overrides) -> dict:
    years_ago = china_today().replace(year=china_today().year - 8)
    lab = dict(unit_type="third_party", founded_on=years_ago.isoformat(), qualification_kind="CMA",
               qualification=(io.BytesIO(png_bytes()), "CMA证书.png"),
               qualification_expires_on=(china_today() + timedelta(days=400)).isoformat())
    return application(provider, **{**lab, **overrides})


def send(client, data: dict, action: str = "submit", headers=None):
    return client.post("/seller/shop", data={**data, "action": action}, content_type="multipart/form-data",
                       headers=headers or {})


def error_of(page: str, field: str) -> str:
    found = re.search(rf'<p class="error" id="{field}-error">([^<]*)</p>', page)
    return found.group(1) if found else ""


def reread() -> None:
    """End the test's own transaction and forget loaded rows, so reads see what requests committed."""
    db.session.commit()
    db.session.expire_all()


def fresh(provider_id: int) -> Provider:
    reread()
    return db.session.get(Provider, provider_id)


def audit_actions(object_type: str, object_id: int) -> list[tuple]:
    reread()
    rows = db.session.scalars(select(AuditLog).where(AuditLog.object_type == object_type,
                                                     AuditLog.object_id == str(object_id)).order_by(AuditLog.id))
    return [(row.action, row.from_state, row.to_state) for row in rows]


@pytest.fixture
def applicant(make):
    """An approved provider account whose shop is still a draft, with one draft service."""
    user = make.provider(shop_status=ShopStatus.DRAFT)
    make.service(user.provider, status=ServiceStatus.DRAFT)
    return user


def submit_and_sign_out(client, auth, user, data=None):
    auth.login(user)
    response = send(client, data or application(user.provider))
    assert response.status_code == 303, error_summary(response)
    auth.logout()


def error_summary(response) -> str:
    return " | ".join(re.findall(r'<p class="error"[^>]*>([^<]*)</p>', response.get_data(as_text=True)))


# ---------------------------------------------------------------- access

@pytest.mark.parametrize("who, expected", [("anonymous", 302), ("enterprise", 403), ("individual", 403),
                                           ("pending_provider", 403), ("reviewer", 403)])
@pytest.mark.parametrize("method, path", [("get", "/seller"), ("get", "/seller/shop"), ("post", "/seller/shop")])
def test_only_approved_provider_accounts_reach_the_shop_application(client, auth, make, who, expected, method, path):
    if who == "pending_provider":
        user = make.provider(status=AccountStatus.PENDING, shop_status=ShopStatus.DRAFT)
    elif who == "individual":
        user = make.user(Role.INDIVIDUAL)
        db.session.commit()
    elif who != "anonymous":
        user = getattr(make, who)()
    if who != "anonymous":
        auth.login(user)
    response = getattr(client, method)(path, data={"action": "submit"})
    assert response.status_code == expected
    if expected == 302:
        assert response.headers["Location"].startswith("/auth/login")


def test_a_provider_only_ever_edits_its_own_application(client, auth, make, applicant):
    other = make.provider(shop_status=ShopStatus.DRAFT, name="别人的检测中心")
    auth.login(applicant)
    page = client.get(f"/seller/shop?provider_id={other.provider.id}").get_data(as_text=True)
    assert applicant.provider.name in page and "别人的检测中心" not in page
    response = send(client, application(applicant.provider, intro="我的简介", provider_id=str(other.provider.id),
                                        id=str(other.provider.id)), action="save")
    assert response.status_code == 303
    assert fresh(applicant.provider.id).intro == "我的简介"
    assert fresh(other.provider.id).intro == ""


# ---------------------------------------------------------------- the direct path

def test_university_applies_and_opens_when_the_reviewer_approves(client, auth, applicant, reviewer):
    provider_id = applicant.provider.id
    service_id = db.session.scalar(select(Service.id).where(Service.provider_id == provider_id))
    auth.login(applicant)
    assert "提交审核" in client.get("/seller/shop").get_data(as_text=True)
    response = send(client, application(applicant.provider))
    assert response.status_code == 303, error_summary(response)

    provider = fresh(provider_id)
    assert provider.status == ShopStatus.PENDING and provider.submitted_at is not None
    assert provider.licence_file_id and provider.tax_certificate_file_id
    assert provider.last_year_revenue_fen == 1_234_500_000
    assert provider.last_year_tax_fen == 56_780_000
    assert provider.last_year_net_profit_fen == -12_300_000
    assert (provider.contact_phone, provider.bank_branch_code, provider.has_website) == ("0516-83590000",
                                                                                         "102303000011", True)
    assert db.session.get(Service, service_id).status == ServiceStatus.PENDING
    page = client.get("/seller/shop").get_data(as_text=True)
    assert "审核中" in page and 'name="action"' not in page  # read-only while under review
    auth.logout()

    auth.login(reviewer)
    queue = client.get("/admin/shops").get_data(as_text=True)
    assert provider.name in queue
    assert "待审核开店申请" in client.get("/admin/").get_data(as_text=True)
    detail = client.get(f"/admin/shops/{provider_id}").get_data(as_text=True)
    assert f'<iframe src="/files/{provider.licence_file_id}"' in detail
    assert f'<img src="/files/{provider.tax_certificate_file_id}"' in detail
    assert "1234.5 万元" in detail and "-12.3 万元" in detail
    with client.get(f"/files/{provider.licence_file_id}") as licence:
        assert licence.status_code == 200 and licence.mimetype == "application/pdf"
    response = client.post(f"/admin/shops/{provider_id}/approve")
    assert response.status_code == 303

    provider = fresh(provider_id)
    assert provider.status == ShopStatus.OPEN and provider.opened_at is not None
    assert db.session.get(Service, service_id).status == ServiceStatus.PENDING  # waits for listing review
    assert audit_actions("provider", provider_id) == [("submit_application", "draft", "pending"),
                                                      ("approve_application", "pending", "open")]
    assert audit_actions("service", service_id) == [("submit_with_shop", "draft", "pending")]
    auth.logout()
    auth.login(applicant)
    home = client.get("/seller").get_data(as_text=True)
    assert "已开店" in home and f"/shops/{provider_id}" in home


# ---------------------------------------------------------------- the third-party path

def test_third_party_lab_is_published_then_opened_after_the_period(client, auth, applicant, reviewer):
    provider_id = applicant.provider.id
    submit_and_sign_out(client, auth, applicant, third_party(applicant.provider))
    assert fresh(provider_id).qualification_kind == "CMA"

    auth.login(reviewer)
    detail = client.get(f"/admin/shops/{provider_id}").get_data(as_text=True)
    assert "成立满2年，资质在有效期内" in detail
    assert client.post(f"/admin/shops/{provider_id}/approve").status_code == 303
    provider = fresh(provider_id)
    batch = db.session.get(PublicityBatch, provider.publicity_batch_id)
    assert provider.status == ShopStatus.PUBLICITY
    assert (batch.kind, batch.starts_on) == ("shop", china_today())
    # 5 days counting the first and the last, as a claim's publicity (settlement.publish)
    assert batch.ends_on == china_today() + timedelta(days=policy.PUBLICITY_DAYS_DEFAULT - 1)
    assert batch.days == policy.PUBLICITY_DAYS_DEFAULT

    publicity = client.get("/publicity").get_data(as_text=True)
    shops_section = publicity.split("服务单位入库公示")[1]
    assert provider.name in shops_section and f"（{policy.PUBLICITY_DAYS_DEFAULT}天）" in shops_section

    early = client.post(f"/admin/shops/{provider_id}/open")
    assert early.status_code == 409 and "公示期满后才能开店" in early.get_data(as_text=True)
    batch.ends_on = china_today()  # the period's last day is still in publicity
    db.session.commit()
    last_day = client.post(f"/admin/shops/{provider_id}/open")
    assert last_day.status_code == 409 and "公示期满后才能开店" in last_day.get_data(as_text=True)
    assert fresh(provider_id).status == ShopStatus.PUBLICITY

    batch = db.session.get(PublicityBatch, provider.publicity_batch_id)
    batch.ends_on = china_today() - timedelta(days=1)
    db.session.commit()
    assert client.post(f"/admin/shops/{provider_id}/open").status_code == 303
    provider = fresh(provider_id)
    assert provider.status == ShopStatus.OPEN
    assert db.session.get(PublicityBatch, provider.publicity_batch_id).closed_at is not None
    shops_section = client.get("/publicity").get_data(as_text=True).split("服务单位入库公示")[1]
    assert provider.name not in shops_section
    assert [a for a, _f, _t in audit_actions("provider", provider_id)] == [
        "submit_application", "approve_application", "open_after_publicity"]


def test_a_shop_and_claims_published_for_the_same_days_share_one_period(app, client, auth, make, applicant,
                                                                       reviewer, enterprise):
    """Both honour PUBLICITY_DAYS and count the first and the last day (policy.publicity_period)."""
    app.config["PUBLICITY_DAYS"] = 7
    submit_and_sign_out(client, auth, applicant, third_party(applicant.provider))
    auth.login(reviewer)
    assert client.post(f"/admin/shops/{applicant.provider.id}/approve").status_code == 303
    shop = db.session.get(PublicityBatch, fresh(applicant.provider.id).publicity_batch_id)
    make.voucher(enterprise)
    claims = settlement.publish([make.claim(enterprise, status=RedemptionStatus.APPROVED)], reviewer, days=7)
    assert (shop.starts_on, shop.ends_on, shop.days) == (claims.starts_on, claims.ends_on, claims.days)
    assert (shop.starts_on, shop.ends_on, shop.days) == (china_today(), china_today() + timedelta(days=6), 7)


def test_an_open_objection_keeps_the_shop_closed(client, auth, make, reviewer):
    user = make.provider(shop_status=ShopStatus.PUBLICITY)
    provider = user.provider
    batch = PublicityBatch(kind="shop", title="公示", starts_on=china_today() - timedelta(days=9),
                           ends_on=china_today() - timedelta(days=4), created_by_id=reviewer.id)
    db.session.add(batch)
    db.session.flush()
    provider.unit_type, provider.publicity_batch_id = "third_party", batch.id
    db.session.add(Objection(provider_id=provider.id, user_id=make.enterprise().id, reason="资质证书造假"))
    db.session.commit()
    auth.login(reviewer)
    response = client.post(f"/admin/shops/{provider.id}/open")
    assert response.status_code == 409 and "异议" in response.get_data(as_text=True)
    assert fresh(provider.id).status == ShopStatus.PUBLICITY


# ---------------------------------------------------------------- refusals

def _bad_checksum(provider):
    code = provider.credit_code
    return code[:-1] + ("1" if code[-1] != "1" else "2")


def _founded_last_year(_provider):
    return (china_today() - timedelta(days=365)).isoformat()


REFUSALS = [
    ("credit_code", lambda p: application(p, credit_code=_bad_checksum(p)), "校验位不正确"),
    ("founded_on", lambda p: third_party(p, founded_on=_founded_last_year(p)), "须注册成立满2年"),
    ("qualification_expires_on",
     lambda p: third_party(p, qualification_expires_on=(china_today() - timedelta(days=1)).isoformat()), "已于"),
    ("licence", lambda p: application(p, licence=None), "请上传营业执照/法人(登记)证书"),
    ("rnd_approval", lambda p: application(p, unit_type="new_rnd", is_new_rnd="1"), "请上传市级新型研发机构立项批件"),
    ("legal_rep_phone", lambda p: application(p, legal_rep_phone="12345"), "手机号码应为11位"),
    ("bank_branch_code", lambda p: application(p, bank_branch_code="1023"), "联行号应为12位数字"),
    ("last_year_revenue_fen", lambda p: application(p, last_year_revenue_fen="-1"), "金额不能为负数"),
    ("last_year_tax_fen", lambda p: application(p, last_year_tax_fen="1.1234567"), "最多保留6位小数"),
]


@pytest.mark.parametrize("field, build, message", REFUSALS, ids=[r[0] for r in REFUSALS])
def test_a_refused_application_says_why_next_to_the_field_and_keeps_the_input(client, auth, applicant, field, build,
                                                                              message):
    before = applicant.provider.contact_name
    auth.login(applicant)
    response = send(client, build(applicant.provider))
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert message in error_of(page, field)
    assert "王老师" in page and "大学路1号分析测试中心" in page
    assert re.search(r'name="tax_certificate__kept" value="\d+"', page)  # the uploaded file is kept
    provider = fresh(applicant.provider.id)
    assert (provider.status, provider.contact_name) == (ShopStatus.DRAFT, before)  # nothing saved


def test_an_application_without_a_service_is_refused_with_a_link_to_add_one(client, auth, make):
    user = make.provider(shop_status=ShopStatus.DRAFT)
    auth.login(user)
    response = send(client, application(user.provider))
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "至少包含一项服务" in page and 'href="/seller/services/new"' in page
    assert fresh(user.provider.id).status == ShopStatus.DRAFT


def test_a_file_uploaded_with_a_failed_submit_is_used_by_the_next(client, auth, applicant):
    auth.login(applicant)
    failed = send(client, application(applicant.provider, credit_code=_bad_checksum(applicant.provider)))
    assert failed.status_code == 422
    kept = re.search(r'name="licence__kept" value="(\d+)"', failed.get_data(as_text=True)).group(1)
    tax_kept = re.search(r'name="tax_certificate__kept" value="(\d+)"', failed.get_data(as_text=True)).group(1)
    retry = application(applicant.provider, licence=None, tax_certificate=None, licence__kept=kept,
                        tax_certificate__kept=tax_kept)
    response = send(client, retry)
    assert response.status_code == 303, error_summary(response)
    provider = fresh(applicant.provider.id)
    assert (provider.licence_file_id, provider.tax_certificate_file_id) == (int(kept), int(tax_kept))


def test_saving_a_draft_checks_formats_only(client, auth, make):
    user = make.provider(shop_status=ShopStatus.DRAFT)
    auth.login(user)
    response = send(client, {"intro": "先保存简介", "city": "徐州"}, action="save")
    assert response.status_code == 303
    provider = fresh(user.provider.id)
    assert (provider.intro, provider.status, provider.name) == ("先保存简介", ShopStatus.DRAFT, user.provider.name)
    bad = send(client, {"intro": "改了简介", "contact_phone": "abc"}, action="save")
    assert bad.status_code == 422 and "请填写手机号码或带区号的固定电话" in error_of(bad.get_data(as_text=True),
                                                                                 "contact_phone")
    assert fresh(user.provider.id).intro == "先保存简介"


def test_a_saved_draft_shows_its_files_and_keeps_them_on_submit(client, auth, applicant):
    auth.login(applicant)
    assert send(client, application(applicant.provider), action="save").status_code == 303
    provider = fresh(applicant.provider.id)
    page = client.get("/seller/shop").get_data(as_text=True)
    assert f'name="licence__kept" value="{provider.licence_file_id}"' in page and "执照.pdf" in page
    data = application(applicant.provider, licence=None, tax_certificate=None,
                       licence__kept=str(provider.licence_file_id),
                       tax_certificate__kept=str(provider.tax_certificate_file_id))
    response = send(client, data)
    assert response.status_code == 303, error_summary(response)
    assert fresh(applicant.provider.id).status == ShopStatus.PENDING


def test_a_pending_application_cannot_be_changed(client, auth, applicant):
    submit_and_sign_out(client, auth, applicant)
    auth.login(applicant)
    response = send(client, application(applicant.provider, intro="偷偷修改"), action="save")
    assert response.status_code == 409 and "不能修改" in response.get_data(as_text=True)
    assert fresh(applicant.provider.id).intro != "偷偷修改"


# ---------------------------------------------------------------- rejection and resubmission

def test_rejection_reason_reaches_the_provider_who_edits_and_resubmits(client, auth, applicant, reviewer):
    provider_id = applicant.provider.id
    submit_and_sign_out(client, auth, applicant)
    auth.login(reviewer)
    response = client.post(f"/admin/shops/{provider_id}/reject", data={"reason": "营业执照扫描件不清晰"})
    assert response.status_code == 303
    provider = fresh(provider_id)
    assert (provider.status, provider.status_reason) == (ShopStatus.REJECTED, "营业执照扫描件不清晰")
    service = db.session.scalar(select(Service).where(Service.provider_id == provider_id))
    assert service.status == ServiceStatus.DRAFT  # back with the application, to be resubmitted with it
    auth.logout()

    auth.login(applicant)
    page = client.get("/seller/shop").get_data(as_text=True)
    assert "营业执照扫描件不清晰" in page and "提交审核" in page
    assert "营业执照扫描件不清晰" in client.get("/seller").get_data(as_text=True)
    response = send(client, application(provider))
    assert response.status_code == 303, error_summary(response)
    provider = fresh(provider_id)
    assert (provider.status, provider.status_reason) == (ShopStatus.PENDING, None)
    assert [a for a, _f, _t in audit_actions("provider", provider_id)] == [
        "submit_application", "reject_application", "submit_application"]


def test_rejection_needs_a_reason(client, auth, applicant, reviewer):
    submit_and_sign_out(client, auth, applicant)
    auth.login(reviewer)
    for headers in ({}, HTMX):
        response = client.post(f"/admin/shops/{applicant.provider.id}/reject", data={"reason": "  "},
                               headers=headers)
        assert response.status_code == 422
        assert "请填写不通过的原因" in response.get_data(as_text=True)
    assert fresh(applicant.provider.id).status == ShopStatus.PENDING


def test_a_decision_over_htmx_returns_the_updated_panel(client, auth, applicant, reviewer):
    submit_and_sign_out(client, auth, applicant)
    auth.login(reviewer)
    response = client.post(f"/admin/shops/{applicant.provider.id}/approve", headers=HTMX)
    body = response.get_data(as_text=True)
    assert response.status_code == 200
    assert body.lstrip().startswith('<section class="panel shop-decision" id="shop-decision">')
    assert "已开店" in body and "<html" not in body


@pytest.mark.parametrize("shop_status, action", [(ShopStatus.DRAFT, "approve"), (ShopStatus.OPEN, "approve"),
                                                 (ShopStatus.PENDING, "open"), (ShopStatus.OPEN, "reject"),
                                                 (ShopStatus.REJECTED, "open")])
def test_illegal_decisions_are_refused_with_a_message(client, auth, make, reviewer, shop_status, action):
    user = make.provider(shop_status=shop_status)
    auth.login(reviewer)
    for headers in ({}, HTMX):
        response = client.post(f"/admin/shops/{user.provider.id}/{action}", data={"reason": "不符合"},
                               headers=headers)
        assert response.status_code == 409
        assert "只有" in response.get_data(as_text=True)
    assert fresh(user.provider.id).status == shop_status
    assert audit_actions("provider", user.provider.id) == []


def test_a_third_party_lab_that_no_longer_meets_the_rules_cannot_be_approved(client, auth, applicant, reviewer):
    submit_and_sign_out(client, auth, applicant, third_party(applicant.provider))
    provider = fresh(applicant.provider.id)
    provider.qualification_expires_on = china_today() - timedelta(days=1)
    db.session.commit()
    auth.login(reviewer)
    assert "已于" in client.get("/admin/shops").get_data(as_text=True)
    response = client.post(f"/admin/shops/{provider.id}/approve")
    assert response.status_code == 409 and "不符合入库条件" in response.get_data(as_text=True)
    assert fresh(provider.id).status == ShopStatus.PENDING


# ---------------------------------------------------------------- the open shop and the workbench

def test_an_open_shop_edits_its_contact_details_without_review(client, auth, provider):
    auth.login(provider)
    page = client.get("/seller/shop").get_data(as_text=True)
    assert "单位信息修改" in page and "已锁定" in page
    form = {"intro": "新的简介", "contact_name": "赵老师", "contact_phone": "025-83235635", "city": "南京",
            "district": "玄武区", "address_detail": "北京东路1号", "bank_account_name": "测试账户",
            "bank_name": "中国银行", "bank_branch_code": "104301000012", "bank_account_number": "12345678901",
            "name": "改名企图", "credit_code": "91320100MA0000001X", "unit_type": "third_party"}
    response = client.post("/seller/shop", data=form)
    assert response.status_code == 303
    shop = fresh(provider.provider.id)
    assert ((shop.status, shop.contact_name, shop.city, shop.bank_name)
            == (ShopStatus.OPEN, "赵老师", "南京", "中国银行"))
    assert (shop.name, shop.unit_type) == (provider.provider.name, "university")
    assert audit_actions("provider", shop.id) == [("edit_profile", "open", "open")]
    missing = client.post("/seller/shop", data={**form, "bank_branch_code": ""})
    assert missing.status_code == 422 and "请填写开户行联行号" in error_of(missing.get_data(as_text=True),
                                                                             "bank_branch_code")


def test_the_workbench_home_counts_services_by_status_and_instruments(client, auth, make, provider):
    shop = provider.provider
    make.service(shop)
    make.service(shop, name="透射电镜")
    make.service(shop, name="草稿服务", status=ServiceStatus.DRAFT)
    auth.login(provider)
    page = client.get("/seller").get_data(as_text=True)
    assert 'href="/seller/services?status=listed"><strong>2</strong><span>已上架</span>' in page
    assert 'href="/seller/services?status=draft"><strong>1</strong><span>草稿</span>' in page
    assert 'href="/seller/services?status=delisted"><strong>0</strong><span>已下架</span>' in page
    assert 'href="/seller/instruments"><strong>3</strong><span>仪器</span>' in page


def test_the_workbench_home_tells_a_draft_shop_what_to_do_next(client, auth, make):
    user = make.provider(shop_status=ShopStatus.DRAFT)
    auth.login(user)
    page = client.get("/seller").get_data(as_text=True)
    assert "填写店铺信息" in page and 'href="/seller/services/new"' in page and "当前 0 项" in page
