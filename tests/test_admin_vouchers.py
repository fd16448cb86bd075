"""Reviewing 创新券 applications in /admin (SPEC 6): the queue, every field and upload of one application,
and the decisions — approve (the voucher is issued), return for correction, reject — each audited."""
import io
import re
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select
from werkzeug.datastructures import FileStorage

from marketplace import uploads
from marketplace.extensions import db
from marketplace.models import ApplicationStatus, AuditLog, KexiaoEntry, Voucher, VoucherApplication, china_today
from marketplace.vouchers import display

from .conftest import NOT_REVIEWERS, sign_in_as
from .samples import png_bytes

HTMX = {"HX-Request": "true"}
PANEL = '<section class="panel voucher-decision" id="voucher-decision">'


@pytest.fixture
def submitted(make, enterprise) -> VoucherApplication:
    return make.voucher_application(enterprise, status=ApplicationStatus.SUBMITTED)


def fresh(application_id: int) -> VoucherApplication:
    db.session.expire_all()
    return db.session.get(VoucherApplication, application_id)


def vouchers_of(application_id: int) -> list[Voucher]:
    return db.session.scalars(select(Voucher).where(Voucher.application_id == application_id)).all()


def audit_trail(object_type: str, object_id) -> list[tuple]:
    return [(e.action, e.from_state, e.to_state, e.actor_id, e.reason) for e in db.session.scalars(
        select(AuditLog).where(AuditLog.object_type == object_type, AuditLog.object_id == str(object_id))
        .order_by(AuditLog.id))]


def text_of(response) -> str:
    return response.get_data(as_text=True)


# ---------------------------------------------------------------- access

@pytest.mark.parametrize("who, expected", NOT_REVIEWERS)
@pytest.mark.parametrize("method, path", [("get", "/admin/vouchers"), ("get", "/admin/vouchers/{id}"),
                                          ("post", "/admin/vouchers/{id}/approve"),
                                          ("post", "/admin/vouchers/{id}/return"),
                                          ("post", "/admin/vouchers/{id}/reject")])
def test_only_approved_reviewers_reach_voucher_review(client, auth, make, submitted, who, expected, method, path):
    sign_in_as(auth, make, who)
    response = getattr(client, method)(path.format(id=submitted.id), data={"reason": "不符合"})
    assert response.status_code == expected
    if expected == 302:
        assert response.headers["Location"].startswith("/auth/login")
    assert fresh(submitted.id).status == ApplicationStatus.SUBMITTED
    assert vouchers_of(submitted.id) == []


@pytest.mark.parametrize("action", ["approve", "return", "reject"])
def test_a_decision_posted_without_the_csrf_token_is_refused(client, auth, reviewer, submitted, action):
    auth.login(reviewer)
    response = client.post(f"/admin/vouchers/{submitted.id}/{action}", data={"reason": "不符合"}, csrf=False)
    assert response.status_code == 400
    assert fresh(submitted.id).status == ApplicationStatus.SUBMITTED
    assert vouchers_of(submitted.id) == []


def test_drafts_stay_with_the_enterprise(client, auth, make, reviewer):
    draft = make.voucher_application(make.enterprise())
    auth.login(reviewer)
    assert client.get(f"/admin/vouchers/{draft.id}").status_code == 404
    assert client.post(f"/admin/vouchers/{draft.id}/approve").status_code == 404
    assert draft.unit_name not in text_of(client.get("/admin/vouchers"))


# ---------------------------------------------------------------- the queue

def test_the_queue_lists_submitted_applications_and_shows_on_the_admin_home_with_its_count(client, auth, make,
                                                                                           reviewer, submitted):
    other = make.voucher_application(make.enterprise(city="徐州"), status=ApplicationStatus.SUBMITTED)
    auth.login(reviewer)
    home = text_of(client.get("/admin/"))
    card = re.search(r'<a class="queue" href="/admin/vouchers">\s*<strong>(\d+)</strong>'
                     r'<span>待审核创新券申请</span>', home)
    assert card and card.group(1) == "2"

    page = text_of(client.get("/admin/vouchers"))
    for application in (submitted, other):
        assert application.unit_name in page and application.credit_code in page
        assert f'href="/admin/vouchers/{application.id}"' in page
    assert "南京市 · 苏南" in page and "徐州市 · 苏北" in page
    assert "科技型中小企业" in page and "2345" in page  # identity, revenue in 万元
    assert 'aria-current="page">审核中（2）' in page
    assert page.index(submitted.unit_name) < page.index(other.unit_name)  # oldest first


def test_the_queue_filters_by_year_status_and_name_or_credit_code(client, auth, make, reviewer, submitted):
    year = china_today().year
    last_year = make.voucher_application(make.enterprise(), status=ApplicationStatus.SUBMITTED, year=year - 1)
    approved = make.voucher_application(make.enterprise(), status=ApplicationStatus.APPROVED)
    auth.login(reviewer)

    page = text_of(client.get("/admin/vouchers"))
    assert submitted.unit_name in page
    assert last_year.unit_name not in page and approved.unit_name not in page
    assert f'<option value="{year - 1}">' in page and f'<option value="{year}" selected>' in page

    page = text_of(client.get(f"/admin/vouchers?year={year - 1}"))
    assert last_year.unit_name in page and submitted.unit_name not in page

    page = text_of(client.get("/admin/vouchers?status=approved"))
    assert approved.unit_name in page and submitted.unit_name not in page
    assert 'aria-current="page">审核通过（1）' in page

    page = text_of(client.get("/admin/vouchers", query_string={"q": submitted.credit_code[-6:].lower()}))
    assert submitted.unit_name in page
    page = text_of(client.get("/admin/vouchers", query_string={"q": "没有这家公司"}))
    assert submitted.unit_name not in page and "没有审核中的创新券申请" in page

    page = text_of(client.get("/admin/vouchers?status=returned"))
    assert f"{year}年度没有退回修改的创新券申请" in page


def test_the_queue_pages_through_long_lists(client, auth, make, reviewer, app):
    app.config["PER_PAGE"] = 2
    names = [make.voucher_application(make.enterprise(), status=ApplicationStatus.SUBMITTED).unit_name
             for _ in range(3)]
    auth.login(reviewer)
    first, second = text_of(client.get("/admin/vouchers")), text_of(client.get("/admin/vouchers?page=2"))
    assert names[0] in first and names[1] in first and names[2] not in first
    assert names[2] in second and 'rel="prev"' in second


# ---------------------------------------------------------------- one application in full

def test_the_detail_shows_every_field_and_the_uploads_the_reviewer_can_open(client, auth, make, reviewer, enterprise):
    photo = uploads.save(FileStorage(io.BytesIO(png_bytes()), filename="孵化协议.png", content_type="image/png"),
                         accept=(uploads.IMAGE,), owner_id=enterprise.id)
    db.session.commit()
    application = make.voucher_application(enterprise, status=ApplicationStatus.SUBMITTED, identity="incubated",
                                           identity_proof_file_id=photo.id)
    auth.login(reviewer)
    page = text_of(client.get(f"/admin/vouchers/{application.id}"))

    for section in display.sections(application):
        assert f"<h2>{section.title}</h2>" in page
        for row in section.rows:
            assert f'<dt>{row.label}</dt><dd data-field="{row.name}">{row.value}</dd>' in page
    assert "2345 万元" in page and application.bank_account_number in page

    files = display.attachments(application)
    assert {a.name for a in files} == {"business_licence", "financial_statement", "identity_proof", "stamped_sheet"}
    for attachment in files:
        assert attachment.label in page and attachment.file.original_name in page
        served = client.get(f"/files/{attachment.file.id}")
        assert served.status_code == 200 and served.mimetype == attachment.file.content_type
    assert f'<img src="/files/{photo.id}?thumb=400"' in page and f'href="/files/{photo.id}"' in page
    assert client.get(f"/files/{photo.id}?thumb=400").status_code == 200
    assert f'<iframe src="/files/{application.financial_statement_file_id}"' in page
    assert 'download="财务报表.pdf"' in page
    assert 'href="/admin/vouchers?status=submitted' in page


def test_the_detail_lists_the_automatic_checks(client, auth, make, reviewer, enterprise):
    year = china_today().year
    application = make.voucher_application(enterprise, status=ApplicationStatus.SUBMITTED,
                                           gaoqi_certificate_number="GR202332001234",
                                           gaoqi_valid_until=china_today() - timedelta(days=1),
                                           contact_phone_verified_at=None)
    db.session.add(KexiaoEntry(year=year, number="OTHER-1", name="别的企业", credit_code="91320100MA1XXXXX0X"))
    db.session.commit()
    auth.login(reviewer)
    page = text_of(client.get(f"/admin/vouchers/{application.id}"))
    assert "✓ 符合申领条件" in page
    assert f"✗ 不在已导入的{year}年度科技型中小企业名单中（入库编号 {application.kexiao_number}）" in page
    assert (f"✓ 填写的注册地、账号所在地与信用代码登记机关所在地一致：南京市，属苏南，通过后发放创新券 100,000.00 元，"
            f"有效期至 {year}-12-31") in page
    assert "✗ 高新技术企业证书 GR202332001234 有效期至" in page and "已过期" in page
    assert "✗ 联系人手机 13812345678 未通过短信验证" in page
    assert "✓ 已上传加盖公章的申请信息表" in page

    db.session.add(KexiaoEntry(year=year, number=application.kexiao_number, name=application.unit_name,
                               credit_code=application.credit_code))
    db.session.commit()
    page = text_of(client.get(f"/admin/vouchers/{application.id}"))
    assert f"✓ 在{year}年度科技型中小企业名单中：入库编号 {application.kexiao_number}" in page


def test_the_detail_names_eligibility_problems_found_today(client, auth, make, reviewer, enterprise):
    application = make.voucher_application(enterprise, status=ApplicationStatus.SUBMITTED,
                                           financial_statement_file_id=None)
    auth.login(reviewer)
    page = text_of(client.get(f"/admin/vouchers/{application.id}"))
    assert "✗ 请上传上年度财务报表" in page and "符合申领条件" not in page
    assert f"尚未导入{application.year}年度科技型中小企业名单" in page


# ---------------------------------------------------------------- approve

@pytest.mark.parametrize("city, region, total_fen, shown", [("南京", "苏南", 10_000_000, "100,000.00"),
                                                            ("徐州", "苏北", 14_000_000, "140,000.00")])
def test_approval_issues_the_regions_voucher_valid_until_the_year_end(client, auth, make, reviewer, city, region,
                                                                      total_fen, shown):
    application = make.voucher_application(make.enterprise(city=city), status=ApplicationStatus.SUBMITTED)
    auth.login(reviewer)
    response = client.post(f"/admin/vouchers/{application.id}/approve")
    assert response.status_code == 303
    assert response.headers["Location"] == f"/admin/vouchers?status=submitted&year={application.year}"

    application = fresh(application.id)
    (voucher,) = vouchers_of(application.id)
    assert (voucher.total_fen, voucher.remaining_fen) == (total_fen, total_fen)
    assert voucher.valid_until == date(application.year, 12, 31) and voucher.year == application.year
    assert (application.status, application.decided_by_id) == (ApplicationStatus.APPROVED, reviewer.id)
    assert audit_trail("voucher_application", application.id) == [
        ("approve", "submitted", "approved", reviewer.id, f"确认注册地：{city}市（{region}）")]
    assert application.confirmed_city == city
    assert [row[:4] for row in audit_trail("voucher", voucher.id)] == [("issue", None, "issued", reviewer.id)]

    queue = text_of(client.get(response.headers["Location"]))
    assert f"发放创新券 {shown} 元，有效期至 {application.year}-12-31" in queue  # the flash
    page = text_of(client.get(f"/admin/vouchers/{application.id}"))
    assert f"✓ 已发放{application.year}年度创新券 {shown} 元" in page
    assert "审核通过，发放创新券</button>" not in page
    history = page[page.index("<h3>审核记录</h3>"):]
    assert reviewer.name in history and "审核通过" in history and "审核中 → 审核通过" in history


def test_approval_over_htmx_returns_the_updated_panel_with_the_issued_total(client, auth, reviewer, submitted):
    auth.login(reviewer)
    response = client.post(f"/admin/vouchers/{submitted.id}/approve", headers=HTMX)
    body = text_of(response)
    assert response.status_code == 200
    assert body.lstrip().startswith(PANEL) and "<html" not in body
    assert "发放创新券 100,000.00 元" in body and '<span class="status approved">审核通过</span>' in body
    assert len(vouchers_of(submitted.id)) == 1


@pytest.mark.parametrize("headers", [{}, HTMX])
def test_approving_twice_is_refused_and_issues_one_voucher(client, auth, reviewer, submitted, headers):
    auth.login(reviewer)
    assert client.post(f"/admin/vouchers/{submitted.id}/approve").status_code == 303
    response = client.post(f"/admin/vouchers/{submitted.id}/approve", headers=headers)
    assert response.status_code == 409
    body = text_of(response)
    assert "只有“审核中”的申请可以执行此操作" in body
    assert body.lstrip().startswith(PANEL) if headers else "<html" in body
    assert len(vouchers_of(submitted.id)) == 1
    assert [row[0] for row in audit_trail("voucher_application", submitted.id)] == ["approve"]


@pytest.mark.parametrize("status", [ApplicationStatus.RETURNED, ApplicationStatus.REJECTED])
@pytest.mark.parametrize("action", ["approve", "return", "reject"])
def test_a_decided_application_cannot_be_decided_again(client, auth, make, reviewer, status, action):
    application = make.voucher_application(make.enterprise(), status=status)
    auth.login(reviewer)
    response = client.post(f"/admin/vouchers/{application.id}/{action}", data={"reason": ""})
    assert response.status_code == 409 and "只有“审核中”的申请可以执行此操作" in text_of(response)
    assert fresh(application.id).status == status and vouchers_of(application.id) == []


# ---------------------------------------------------------------- return for correction

@pytest.mark.parametrize("headers", [{}, HTMX])
def test_return_needs_a_reason_and_keeps_the_input(client, auth, reviewer, submitted, headers):
    auth.login(reviewer)
    response = client.post(f"/admin/vouchers/{submitted.id}/return", headers=headers,
                           data={"reason": "  ", "fields": ["revenue_fen", "financial_statement"]})
    body = text_of(response)
    assert response.status_code == 422
    assert '<p class="error" id="return-reason-error">请填写退回修改的原因</p>' in body
    assert '<details class="decision" open>' in body
    for name in ("revenue_fen", "financial_statement"):
        assert f'value="{name}" checked' in body
    assert 'value="bank_name" checked' not in body
    assert body.lstrip().startswith(PANEL) if headers else "<html" in body
    assert fresh(submitted.id).status == ApplicationStatus.SUBMITTED
    assert audit_trail("voucher_application", submitted.id) == []


@pytest.mark.parametrize("headers", [{}, HTMX])
def test_return_for_correction_names_the_fields_and_files_to_fix(client, auth, reviewer, submitted, headers):
    auth.login(reviewer)
    response = client.post(f"/admin/vouchers/{submitted.id}/return", headers=headers,
                           data={"reason": "营业收入与财务报表不一致",
                                 "fields": ["revenue_fen", "financial_statement"]})
    application = fresh(submitted.id)
    assert application.status == ApplicationStatus.RETURNED
    assert application.correction_fields == "revenue_fen,financial_statement"
    assert application.decision_reason == "营业收入与财务报表不一致"
    assert audit_trail("voucher_application", submitted.id) == [
        ("return", "submitted", "returned", reviewer.id, "营业收入与财务报表不一致")]
    assert vouchers_of(submitted.id) == []
    if headers:
        body = text_of(response)
        assert response.status_code == 200 and body.lstrip().startswith(PANEL)
    else:
        assert response.status_code == 303
        assert response.headers["Location"] == f"/admin/vouchers?status=submitted&year={application.year}"
        body = text_of(client.get(f"/admin/vouchers/{submitted.id}"))
    assert "需要修改：</strong>上年度营业收入、上年度财务报表" in body
    assert "营业收入与财务报表不一致" in body and "审核中 → 退回修改" in body


def test_return_refuses_a_field_the_form_does_not_have(client, auth, reviewer, submitted):
    auth.login(reviewer)
    response = client.post(f"/admin/vouchers/{submitted.id}/return",
                           data={"reason": "请修改", "fields": ["password_hash"]})
    assert response.status_code == 422
    assert fresh(submitted.id).status == ApplicationStatus.SUBMITTED


# ---------------------------------------------------------------- reject

@pytest.mark.parametrize("headers", [{}, HTMX])
def test_rejection_needs_a_reason(client, auth, reviewer, submitted, headers):
    auth.login(reviewer)
    response = client.post(f"/admin/vouchers/{submitted.id}/reject", data={"reason": " "}, headers=headers)
    body = text_of(response)
    assert response.status_code == 422
    assert '<p class="error" id="reject-reason-error">请填写不通过的原因</p>' in body
    assert body.lstrip().startswith(PANEL) if headers else "<html" in body
    assert fresh(submitted.id).status == ApplicationStatus.SUBMITTED


@pytest.mark.parametrize("headers", [{}, HTMX])
def test_rejection_keeps_the_reason_and_is_confirmed_first(client, auth, reviewer, submitted, headers):
    auth.login(reviewer)
    page = text_of(client.get(f"/admin/vouchers/{submitted.id}"))
    assert "<summary>审核不通过…</summary>" in page and "hx-confirm=" in page  # a confirm step, with or without JS
    response = client.post(f"/admin/vouchers/{submitted.id}/reject", data={"reason": "非独立法人"}, headers=headers)
    assert response.status_code == (200 if headers else 303)
    application = fresh(submitted.id)
    assert (application.status, application.decision_reason) == (ApplicationStatus.REJECTED, "非独立法人")
    assert audit_trail("voucher_application", submitted.id) == [
        ("reject", "submitted", "rejected", reviewer.id, "非独立法人")]
    assert vouchers_of(submitted.id) == []
    assert db.session.scalar(select(func.count()).select_from(Voucher)) == 0
    page = text_of(client.get("/admin/vouchers?status=rejected"))
    assert application.unit_name in page and "非独立法人" in page
