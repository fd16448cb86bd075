"""Reviewing claims in /admin (SPEC 7.4, 11): the queue with its flags and pilot marks, one claim with every
material previewed, the decisions (approve ≤ requested, 待补正 with notes per material, reject with a reason)
moving the voucher's ledger, and the expert review batches."""
import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from marketplace.admin.queues import QUEUES
from marketplace.extensions import db
from marketplace.models import (
    AuditLog,
    Redemption,
    RedemptionServiceLine,
    RedemptionStatus,
    ReviewBatch,
    Voucher,
    china_today,
    utcnow,
)
from marketplace.redemption import claims, readiness

from .conftest import NOT_REVIEWERS, sign_in_as

R = RedemptionStatus
HTMX = {"HX-Request": "true"}
REQUESTED = 250_000  # make.claim's 10,000 元 in 南京 (苏南, 25%)


@pytest.fixture
def claimant(make, enterprise):
    make.voucher(enterprise)
    return enterprise


@pytest.fixture
def submitted(make, claimant) -> Redemption:
    return make.claim(claimant)


@pytest.fixture
def as_reviewer(auth, reviewer):
    auth.login(reviewer)
    return reviewer


def fresh(claim_id: int) -> Redemption:
    db.session.commit()
    db.session.expire_all()
    return db.session.get(Redemption, claim_id)


def ledger_of(claim: Redemption) -> tuple[int, int, int]:
    db.session.commit()
    db.session.expire_all()
    voucher = db.session.get(Voucher, claim.voucher_id)
    return voucher.reserved_fen, voucher.approved_fen, voucher.remaining_fen


def text_of(response) -> str:
    return response.get_data(as_text=True)


def row_order(html: str) -> list[int]:
    return [int(n) for n in re.findall(r'<tr id="redemption-(\d+)">', html)]


# ---------------------------------------------------------------- access

ROUTES = [("get", "/admin/redemptions"), ("get", "/admin/redemptions/{id}"),
          ("post", "/admin/redemptions/{id}/approve"), ("post", "/admin/redemptions/{id}/corrections"),
          ("post", "/admin/redemptions/{id}/reject"), ("get", "/admin/review-batches"),
          ("post", "/admin/review-batches")]


@pytest.mark.parametrize("who, expected", NOT_REVIEWERS)
@pytest.mark.parametrize("method, path", ROUTES)
def test_only_approved_reviewers_reach_claim_review(client, auth, make, submitted, who, expected, method, path):
    sign_in_as(auth, make, who)
    data = {"amount": "100", "reason": "不符合", "title": "批次", "experts": "王教授"}
    response = getattr(client, method)(path.format(id=submitted.id), data=data)
    assert response.status_code == expected
    if expected == 302:
        assert response.headers["Location"].startswith("/auth/login")
    assert fresh(submitted.id).status == R.SUBMITTED
    assert db.session.scalars(select(ReviewBatch)).all() == []


@pytest.mark.parametrize("action", ["approve", "corrections", "reject"])
def test_a_decision_posted_without_the_csrf_token_is_refused(client, as_reviewer, submitted, action):
    response = client.post(f"/admin/redemptions/{submitted.id}/{action}", data={"reason": "不符合"}, csrf=False)
    assert response.status_code == 400
    assert fresh(submitted.id).status == R.SUBMITTED


def test_drafts_stay_with_the_enterprise(client, make, claimant, as_reviewer):
    draft = make.claim(claimant, status=R.DRAFT)
    assert client.get(f"/admin/redemptions/{draft.id}").status_code == 404
    assert client.post(f"/admin/redemptions/{draft.id}/approve", data={"amount": "1"}).status_code == 404
    assert row_order(text_of(client.get("/admin/redemptions?status=all"))) == []


# ---------------------------------------------------------------- the queue

def test_the_queue_lists_submitted_claims_oldest_first_by_default(client, make, claimant, as_reviewer):
    newer, older = make.claim(claimant), make.claim(claimant)
    older.submitted_at = utcnow() - timedelta(days=3)
    make.claim(claimant, status=R.APPROVED)
    db.session.commit()
    html = text_of(client.get("/admin/redemptions"))
    assert row_order(html) == [older.id, newer.id]
    assert "已等待 3 天" in html
    assert newer.order.order_no in html and claimant.enterprise.name in html and newer.order.provider.name in html
    assert "2,500.00" in html and "10,000.00" in html


def test_the_queue_tabs_show_each_state_and_all(client, make, claimant, as_reviewer):
    waiting = make.claim(claimant)
    approved = make.claim(claimant, status=R.APPROVED)
    rejected = make.claim(claimant, status=R.REJECTED)
    assert row_order(text_of(client.get("/admin/redemptions?status=approved"))) == [approved.id]
    assert row_order(text_of(client.get("/admin/redemptions?status=rejected"))) == [rejected.id]
    assert (set(row_order(text_of(client.get("/admin/redemptions?status=all"))))
            == {waiting.id, approved.id, rejected.id})
    assert row_order(text_of(client.get("/admin/redemptions?status=bogus"))) == [waiting.id]


def test_the_queue_searches_by_enterprise_name_or_order_number(client, make, claimant, as_reviewer):
    mine = make.claim(claimant)
    other_user = make.enterprise()
    make.voucher(other_user)
    theirs = make.claim(other_user)
    by_name = text_of(client.get("/admin/redemptions", query_string={"q": other_user.enterprise.name}))
    assert row_order(by_name) == [theirs.id]
    by_order = text_of(client.get("/admin/redemptions", query_string={"q": mine.order.order_no.lower()}))
    assert row_order(by_order) == [mine.id]
    assert "没有审核中的兑付申请" in text_of(client.get("/admin/redemptions", query_string={"q": "没有这家"}))


def test_the_queue_pages(app, client, make, claimant, as_reviewer):
    app.config["PER_PAGE"] = 2
    made = [make.claim(claimant, amount_fen=100_000) for _ in range(3)]
    first, second = (text_of(client.get(f"/admin/redemptions?page={n}")) for n in (1, 2))
    assert row_order(first) + row_order(second) == [c.id for c in made]
    assert 'rel="next"' in first and "共 2 页" in first


def test_the_filter_answers_htmx_with_the_list_alone_and_the_same_url_with_the_page(client, submitted, as_reviewer):
    fragment = text_of(client.get("/admin/redemptions?status=submitted", headers=HTMX))
    assert fragment.lstrip().startswith('<div id="redemption-list" hx-swap="outerHTML">') and "<html" not in fragment
    assert row_order(fragment) == [submitted.id]
    page = text_of(client.get("/admin/redemptions?status=submitted"))
    assert "<html" in page and 'hx-push-url="true"' in page and row_order(page) == [submitted.id]


def test_each_row_counts_its_flags(client, make, claimant, submitted, as_reviewer):
    submitted.receipts[0].amount_fen -= 1
    submitted.order.provider.legal_rep_id_number = claimant.enterprise.legal_rep_id_number
    db.session.commit()
    html = text_of(client.get("/admin/redemptions"))
    assert re.search(r'class="flag problem danger"[^>]*>2 项', html)


def test_pilot_claims_are_listed_for_the_provider_to_confirm_and_left_out_of_the_reviewers_count(
        client, make, claimant, as_reviewer):
    ordinary = make.claim(claimant)
    pilot = make.claim(claimant, status=R.DRAFT)
    pilot.order.provider.is_pilot = True
    db.session.commit()
    make.advance(pilot, R.SUBMITTED, claimant)
    html = text_of(client.get("/admin/redemptions"))
    assert set(row_order(html)) == {ordinary.id, pilot.id}
    assert "待服务单位确认" in html and "另有 1 笔服务承诺制试点单位订单" in html
    [queue] = [q for q in QUEUES if q.endpoint == "admin.redemptions"]
    assert queue.summary()[0] == 1
    assert re.search(r"<strong>1</strong><span>兑付审核</span>", text_of(client.get("/admin/")))


# ---------------------------------------------------------------- one claim

def test_the_claim_shows_every_material_previewed_inline(client, submitted, as_reviewer):
    html = text_of(client.get(f"/admin/redemptions/{submitted.id}"))
    for material in submitted.materials:
        assert f'<iframe src="/files/{material.file_id}' in html
    invoice, receipt = submitted.invoices[0], submitted.receipts[0]
    assert re.search(rf'<img src="/files/{invoice.file_id}[^"]*400', html)
    assert re.search(rf'<a href="/files/{receipt.file_id}"[^>]*><img', html)
    assert "新窗口打开" in html
    assert f"发票号码 {invoice.number}" in html and "合同" in html and "研发活动证明" in html


def test_the_claim_shows_the_enterprise_voucher_order_amounts_and_declarations(client, claimant, submitted,
                                                                               as_reviewer):
    html = text_of(client.get(f"/admin/redemptions/{submitted.id}"))
    enterprise = claimant.enterprise
    assert enterprise.name in html and enterprise.credit_code in html and "苏南" in html
    assert "100,000.00" in html and "97,500.00" in html  # total and remaining after the reservation
    assert submitted.order.order_no in html and submitted.order.items[0].service_name in html
    assert "贰仟伍佰元整" in html
    assert readiness.DECLARATIONS["unrelated"] in html and "声明时间" in html


def test_the_claim_shows_its_flags_at_the_top(client, submitted, as_reviewer):
    submitted.receipts[0].amount_fen -= 100
    db.session.commit()
    html = text_of(client.get(f"/admin/redemptions/{submitted.id}"))
    assert 'data-flag="totals"' in html
    assert html.index('data-flag="totals"') < html.index("上传材料")


def test_a_clean_claim_says_nothing_was_found(client, submitted, as_reviewer):
    submitted.submitted_at = submitted.submitted_at.replace(month=6, day=1)
    db.session.commit()
    assert "未发现风险" in text_of(client.get(f"/admin/redemptions/{submitted.id}"))


def test_the_history_names_who_did_what(client, claimant, submitted, as_reviewer):
    html = text_of(client.get(f"/admin/redemptions/{submitted.id}"))
    assert "提交兑付" in html and claimant.name in html and "审核中" in html


def test_an_offline_claim_shows_its_provider_service_lines_and_qualification(client, make, claimant, as_reviewer):
    claim = claims.start_offline(claimant, "91320300MA1XYZ1234")
    claim.provider_name, claim.provider_unit_type = "徐州某检测有限公司", "third_party"
    claim.qualification_kind, claim.qualification_expires_on = "CMA", china_today() + timedelta(days=90)
    claim.qualification_file_id = make.stored_pdf(claimant, "资质.pdf").id
    claim.service_lines.append(RedemptionServiceLine(position=0, service_name="盐雾试验", instrument_name="盐雾箱"))
    claim.status, claim.submitted_at = R.SUBMITTED, utcnow()  # shown as submitted; the wizard is not under test
    db.session.commit()
    html = text_of(client.get(f"/admin/redemptions/{claim.id}"))
    assert "线下订单" in html and "徐州某检测有限公司" in html and "第三方检验检测机构" in html
    assert "盐雾试验" in html and "盐雾箱" in html
    assert f'<iframe src="/files/{claim.qualification_file_id}' in html
    assert "线下" in text_of(client.get("/admin/redemptions"))


# ---------------------------------------------------------------- approve

def test_approving_the_requested_amount_moves_it_from_reserved_to_approved(client, submitted, as_reviewer):
    assert ledger_of(submitted) == (REQUESTED, 0, 10_000_000 - REQUESTED)
    response = client.post(f"/admin/redemptions/{submitted.id}/approve", data={"amount": "2500"})
    assert response.status_code == 303 and response.headers["Location"].endswith("/admin/redemptions?status=submitted")
    claim = fresh(submitted.id)
    assert (claim.status, claim.approved_fen, claim.decided_by_id) == (R.APPROVED, REQUESTED, as_reviewer.id)
    assert ledger_of(claim) == (0, REQUESTED, 10_000_000 - REQUESTED)
    assert "核定金额 ¥2,500.00" in text_of(client.get("/admin/redemptions"))


def test_approving_less_releases_the_rest(client, submitted, as_reviewer):
    client.post(f"/admin/redemptions/{submitted.id}/approve", data={"amount": "1,800.50"})
    assert fresh(submitted.id).approved_fen == 180_050
    assert ledger_of(submitted) == (0, 180_050, 10_000_000 - 180_050)


@pytest.mark.parametrize("amount, message", [("2500.01", "不能超过申请金额 ¥2,500.00"), ("0", "须大于零"),
                                             ("", "请填写核定金额"), ("两千", "请填写数字金额")])
def test_an_amount_above_the_request_or_not_positive_is_refused_next_to_the_field(
        client, submitted, as_reviewer, amount, message):
    response = client.post(f"/admin/redemptions/{submitted.id}/approve", data={"amount": amount})
    assert response.status_code == 422
    html = text_of(response)
    assert re.search(rf'<p class="error" id="amount-error">[^<]*{message}', html)
    assert f'value="{amount}"' in html  # what the reviewer typed comes back
    assert fresh(submitted.id).status == R.SUBMITTED
    assert ledger_of(submitted) == (REQUESTED, 0, 10_000_000 - REQUESTED)


def test_the_approve_form_defaults_to_the_requested_amount(client, submitted, as_reviewer):
    assert 'name="amount" type="text" value="2500.00"' in text_of(client.get(f"/admin/redemptions/{submitted.id}"))


def test_approving_with_htmx_answers_the_review_with_a_notice(client, submitted, as_reviewer):
    response = client.post(f"/admin/redemptions/{submitted.id}/approve", data={"amount": "2500"}, headers=HTMX)
    assert response.status_code == 200
    html = text_of(response)
    assert html.lstrip().startswith('<div id="redemption-review">') and "<html" not in html
    assert "已通过" in html and "审核通过" in html and 'name="amount"' not in html


def test_an_invalid_amount_with_htmx_answers_the_review_with_the_error(client, submitted, as_reviewer):
    response = client.post(f"/admin/redemptions/{submitted.id}/approve", data={"amount": "9999"}, headers=HTMX)
    assert response.status_code == 422
    assert text_of(response).lstrip().startswith('<div id="redemption-review">')
    assert "不能超过申请金额" in text_of(response)


# ---------------------------------------------------------------- 待补正

def test_corrections_store_each_note_on_its_material_invoice_and_receipt(client, submitted, as_reviewer):
    contract, invoice, receipt = submitted.materials[0], submitted.invoices[0], submitted.receipts[0]
    response = client.post(f"/admin/redemptions/{submitted.id}/corrections", data={
        "reason": "材料不完整", f"note_material_{contract.id}": "合同缺少盖章页",
        f"note_invoice_{invoice.id}": "发票照片模糊", f"note_receipt_{receipt.id}": "  ",
        f"note_material_{submitted.materials[1].id}": ""})
    assert response.status_code == 303
    claim = fresh(submitted.id)
    assert (claim.status, claim.decision_reason) == (R.CORRECTION, "材料不完整")
    notes = {m.id: m.correction_note for m in claim.materials}
    assert notes == {contract.id: "合同缺少盖章页", claim.materials[1].id: None, claim.materials[2].id: None}
    assert (claim.invoices[0].correction_note, claim.receipts[0].correction_note) == ("发票照片模糊", None)
    assert ledger_of(claim)[0] == REQUESTED  # the reservation holds while the enterprise corrects
    html = text_of(client.get(f"/admin/redemptions/{submitted.id}"))
    assert "补正说明：合同缺少盖章页" in html and "补正原因：</strong>材料不完整" in html


def test_a_note_alone_is_enough_for_corrections(client, submitted, as_reviewer):
    client.post(f"/admin/redemptions/{submitted.id}/corrections",
                data={f"note_receipt_{submitted.receipts[0].id}": "回单金额与发票不符"})
    claim = fresh(submitted.id)
    assert claim.status == R.CORRECTION and claim.receipts[0].correction_note == "回单金额与发票不符"


def test_corrections_without_reason_or_notes_are_refused(client, submitted, as_reviewer):
    response = client.post(f"/admin/redemptions/{submitted.id}/corrections",
                           data={"reason": " ", f"note_material_{submitted.materials[0].id}": ""})
    assert response.status_code == 422
    assert "请填写需要补正的原因，或在相应材料旁填写补正说明" in text_of(response)
    assert fresh(submitted.id).status == R.SUBMITTED


def test_the_detail_has_a_note_box_beside_each_material_tied_to_the_corrections_form(client, submitted, as_reviewer):
    html = text_of(client.get(f"/admin/redemptions/{submitted.id}"))
    for kind, items in (("material", submitted.materials), ("invoice", submitted.invoices),
                        ("receipt", submitted.receipts)):
        for item in items:
            assert f'name="note_{kind}_{item.id}" form="redemption-corrections"' in html
    assert 'id="redemption-corrections"' in html


# ---------------------------------------------------------------- reject

def test_rejecting_needs_a_reason(client, submitted, as_reviewer):
    response = client.post(f"/admin/redemptions/{submitted.id}/reject", data={"reason": ""})
    assert response.status_code == 422
    assert "请填写不通过的原因" in text_of(response)
    assert fresh(submitted.id).status == R.SUBMITTED


def test_rejecting_releases_the_reservation(client, submitted, as_reviewer):
    response = client.post(f"/admin/redemptions/{submitted.id}/reject", data={"reason": "服务内容属于强制检测"})
    assert response.status_code == 303
    claim = fresh(submitted.id)
    assert (claim.status, claim.decision_reason) == (R.REJECTED, "服务内容属于强制检测")
    assert ledger_of(claim) == (0, 0, 10_000_000)
    entry = db.session.scalars(select(AuditLog).where(AuditLog.object_type == "redemption",
                                                      AuditLog.action == "reject")).one()
    assert (entry.actor_id, entry.reason) == (as_reviewer.id, "服务内容属于强制检测")


def test_the_buyer_and_the_provider_see_a_rejected_claim_and_its_reason_on_the_order(client, auth, submitted,
                                                                                      as_reviewer):
    client.post(f"/admin/redemptions/{submitted.id}/reject", data={"reason": "服务内容属于强制检测"})
    order = fresh(submitted.id).order
    for who in (submitted.enterprise.user, order.provider.user):
        auth.logout()
        auth.login(who)
        url = f"/me/orders/{order.order_no}" if who is submitted.enterprise.user else f"/seller/orders/{order.order_no}"
        page = text_of(client.get(url))
        assert '<span class="status rejected">审核不通过</span>' in page, url
        if who is submitted.enterprise.user:
            assert "不通过原因" in page and "服务内容属于强制检测" in page


# ---------------------------------------------------------------- only while submitted

@pytest.mark.parametrize("status", [R.APPROVED, R.CORRECTION, R.REJECTED])
@pytest.mark.parametrize("action, data", [("approve", {"amount": "100"}), ("reject", {"reason": "不符合"}),
                                          ("corrections", {"reason": "补充材料"})])
def test_decisions_on_a_claim_no_longer_waiting_are_refused(client, make, claimant, as_reviewer, status, action, data):
    claim = make.claim(claimant, status=status)
    before = ledger_of(claim)
    response = client.post(f"/admin/redemptions/{claim.id}/{action}", data=data)
    assert response.status_code == 409
    assert "已不在待审核状态" in text_of(response)
    assert fresh(claim.id).status == status and ledger_of(claim) == before


def test_a_refused_decision_with_htmx_answers_the_review(client, make, claimant, as_reviewer):
    claim = make.claim(claimant, status=R.APPROVED)
    response = client.post(f"/admin/redemptions/{claim.id}/approve", data={"amount": "100"}, headers=HTMX)
    assert response.status_code == 409
    assert text_of(response).lstrip().startswith('<div id="redemption-review">')


# ---------------------------------------------------------------- expert review batches

def test_a_review_batch_is_created_with_its_experts_and_audited(client, as_reviewer):
    response = client.post("/admin/review-batches", data={"title": "2026年第1批专家评审",
                                                          "experts": "王教授\n李研究员，张工、王教授"})
    assert response.status_code == 303 and response.headers["Location"].endswith("/admin/review-batches")
    batch = db.session.scalars(select(ReviewBatch)).one()
    assert (batch.title, batch.experts, batch.created_by_id) == ("2026年第1批专家评审", "王教授、李研究员、张工",
                                                                 as_reviewer.id)
    entry = db.session.scalars(select(AuditLog).where(AuditLog.object_type == "review_batch")).one()
    assert (entry.object_id, entry.action, entry.actor_id) == (str(batch.id), "create", as_reviewer.id)
    assert "2026年第1批专家评审" in text_of(client.get("/admin/review-batches"))


@pytest.mark.parametrize("data, message", [({"title": "", "experts": "王教授"}, "请填写批次名称"),
                                           ({"title": "第2批", "experts": " ，\n "}, "请填写评审专家姓名")])
def test_a_review_batch_needs_a_title_and_experts(client, as_reviewer, data, message):
    response = client.post("/admin/review-batches", data=data)
    assert response.status_code == 422
    assert message in text_of(response)
    assert db.session.scalars(select(ReviewBatch)).all() == []


def test_approving_under_a_batch_records_it_and_the_claim_shows_its_experts(client, submitted, as_reviewer):
    client.post("/admin/review-batches", data={"title": "第3批", "experts": "赵教授,钱研究员"})
    batch = db.session.scalars(select(ReviewBatch)).one()
    assert f'<option value="{batch.id}">第3批</option>' in text_of(client.get(f"/admin/redemptions/{submitted.id}"))
    client.post(f"/admin/redemptions/{submitted.id}/approve", data={"amount": "2500", "review_batch": str(batch.id)})
    assert fresh(submitted.id).review_batch_id == batch.id
    html = text_of(client.get(f"/admin/redemptions/{submitted.id}"))
    assert "第3批" in html and "赵教授、钱研究员" in html
    assert re.search(r"<td[^>]*>第3批</td><td[^>]*>[^<]*</td><td[^>]*>1 笔</td>",
                     text_of(client.get("/admin/review-batches")))


def test_an_unknown_review_batch_is_refused(client, submitted, as_reviewer):
    response = client.post(f"/admin/redemptions/{submitted.id}/approve", data={"amount": "2500", "review_batch": "999"})
    assert response.status_code == 422
    assert "请选择列表中的审核批次" in text_of(response)
    assert fresh(submitted.id).status == R.SUBMITTED
