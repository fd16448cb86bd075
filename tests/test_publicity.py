"""公示 and 异议 (SPEC 7.4): the reviewer publishes approved claims, the public sees them with their period, a
signed-in user's objection pauses a claim until the reviewer dismisses it (→ 待兑付) or upholds it (→ rejected,
the approved amount back on the voucher); `flask close-publicity` moves the claims that are due."""
import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from marketplace.extensions import db
from marketplace.models import (
    AuditLog,
    Objection,
    PublicityBatch,
    Redemption,
    RedemptionStatus as R,
    Voucher,
    china_today,
)
from marketplace.redemption import settlement

from .conftest import NOT_REVIEWERS, sign_in_as

HTMX = {"HX-Request": "true"}


def fresh(claim_id: int) -> Redemption:
    db.session.commit()
    db.session.expire_all()
    return db.session.get(Redemption, claim_id)


def objections_of(claim_id: int) -> list[Objection]:
    db.session.expire_all()
    return list(db.session.scalars(select(Objection).where(Objection.redemption_id == claim_id)))


@pytest.fixture
def voucher(make, enterprise) -> Voucher:
    return make.voucher(enterprise)


@pytest.fixture
def in_publicity(make, enterprise, voucher) -> Redemption:
    return make.claim(enterprise, status=R.PUBLICITY)


def close_after_period(claim: Redemption) -> int:
    """close_publicity as the daily job would run it the day after the claim's period ends."""
    batch = db.session.get(PublicityBatch, claim.publicity_batch_id)
    moved = settlement.close_publicity(today=batch.ends_on + timedelta(days=1))
    db.session.commit()
    return moved


def object_to(client, claim_id: int, reason: str = "该企业与服务单位为同一法定代表人"):
    return client.post(f"/publicity/{claim_id}/objection", data={"reason": reason})


# ---------------------------------------------------------------- publishing

def test_reviewer_publishes_approved_claims_and_the_public_page_lists_them_with_the_period(
        client, auth, make, enterprise, voucher, reviewer):
    claim = make.claim(enterprise, status=R.APPROVED)
    auth.login(reviewer)
    page = client.get("/admin/publicity").get_data(as_text=True)
    assert f'name="claim_id" value="{claim.id}"' in page and 'value="5"' in page  # PUBLICITY_DAYS default

    response = client.post("/admin/publicity", data={"claim_id": [str(claim.id)], "days": "7"})
    assert response.status_code == 303
    claim = fresh(claim.id)
    batch = db.session.get(PublicityBatch, claim.publicity_batch_id)
    assert claim.status == R.PUBLICITY and batch.kind == "redemption"
    assert (batch.ends_on - batch.starts_on).days == 6
    assert "已公示 1 项兑付" in client.get("/admin/publicity").get_data(as_text=True)

    auth.logout()
    public = client.get("/publicity").get_data(as_text=True)
    assert enterprise.enterprise.name in public and claim.order.provider.name in public
    assert f"{batch.starts_on:%Y-%m-%d} 至 {batch.ends_on:%Y-%m-%d}（7天）" in public
    assert "5 天" not in public and "登录后提出异议" in public


def test_the_public_page_tells_the_period_of_each_batch_not_the_default(client, make, enterprise, voucher, reviewer):
    """A 1-day batch says so; the page used to say 公示 5 天 (the default) whatever the reviewer chose (issue 16)."""
    claim = make.claim(enterprise, status=R.APPROVED)
    batch = settlement.publish([claim], reviewer, days=1)
    db.session.commit()
    public = client.get("/publicity").get_data(as_text=True)
    assert f"{batch.starts_on:%Y-%m-%d} 至 {batch.ends_on:%Y-%m-%d}（1天）" in public
    assert not re.search(r"公示\s*\d+\s*天", public)


def test_select_all_ticks_every_approved_claim_without_javascript(client, auth, make, enterprise, voucher, reviewer):
    first, second = make.claim(enterprise, status=R.APPROVED), make.claim(enterprise, status=R.APPROVED)
    auth.login(reviewer)
    page = client.get("/admin/publicity?all=1").get_data(as_text=True)
    for claim in (first, second):
        assert f'name="claim_id" value="{claim.id}" id="choose-{claim.id}" checked' in page


def test_publishing_without_a_choice_or_with_bad_days_answers_422_next_to_the_field(
        client, auth, make, enterprise, voucher, reviewer):
    claim = make.claim(enterprise, status=R.APPROVED)
    auth.login(reviewer)
    nothing = client.post("/admin/publicity", data={"days": "5"})
    assert nothing.status_code == 422 and "请勾选要公示的兑付申请" in nothing.get_data(as_text=True)
    bad_days = client.post("/admin/publicity", data={"claim_id": [str(claim.id)], "days": "0"})
    page = bad_days.get_data(as_text=True)
    assert bad_days.status_code == 422 and "公示天数应为1至30天" in page
    assert f'value="{claim.id}" id="choose-{claim.id}" checked' in page  # the choice is kept
    assert fresh(claim.id).status == R.APPROVED


def test_publishing_a_claim_that_is_no_longer_approved_is_a_conflict(client, auth, in_publicity, reviewer):
    auth.login(reviewer)
    response = client.post("/admin/publicity", data={"claim_id": [str(in_publicity.id)], "days": "5"})
    assert response.status_code == 409
    assert db.session.scalar(select(PublicityBatch.id)
                             .where(PublicityBatch.id != in_publicity.publicity_batch_id)) is None


def test_batches_show_how_many_claims_are_in_publicity_passed_or_objected(
        client, auth, make, enterprise, voucher, individual, reviewer):
    quiet = make.claim(enterprise, status=R.APPROVED)
    objected = make.claim(enterprise, status=R.APPROVED)
    settlement.publish([quiet, objected], reviewer, days=5)
    settlement.lodge_objection(objected, individual, "服务未实际发生")
    db.session.commit()
    auth.login(reviewer)
    page = client.get("/admin/publicity").get_data(as_text=True)
    row = page.split(f'id="publicity-batch-{quiet.publicity_batch_id}"')[1]
    assert ('兑付数">2</td><td data-label="公示中">2</td><td data-label="已期满">0</td>' in row
            and 'objections">1</a>' in row)


# ---------------------------------------------------------------- objections from the public page

def test_a_signed_in_individual_objects_and_the_claim_shows_as_paused(client, auth, in_publicity, individual):
    auth.login(individual)
    page = client.get("/publicity").get_data(as_text=True)
    assert "<summary>提出异议</summary>" in page and "异议处理中" not in page
    response = object_to(client, in_publicity.id)
    assert response.status_code == 303 and response.headers["Location"].endswith(f"#claim-{in_publicity.id}")
    page = client.get("/publicity").get_data(as_text=True)
    assert "异议已提交，平台将核实处理" in page and "异议处理中" in page
    [objection] = objections_of(in_publicity.id)
    assert objection.user_id == individual.id and objection.status == "open"
    assert db.session.scalar(select(AuditLog.id).where(AuditLog.object_type == "objection",
                                                       AuditLog.action == "lodge")) is not None


def test_an_empty_objection_answers_422_next_to_its_field_with_the_text_kept(client, auth, in_publicity, individual):
    auth.login(individual)
    response = object_to(client, in_publicity.id, reason="   ")
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert f'<p class="error" id="objection-{in_publicity.id}-error">请填写异议的内容和理由</p>' in page
    assert "<details open>" in page
    assert objections_of(in_publicity.id) == []
    too_long = object_to(client, in_publicity.id, reason="异" * 2001)
    assert too_long.status_code == 422 and "异" * 2001 in too_long.get_data(as_text=True)


def test_an_anonymous_objection_goes_to_the_login_page(client, in_publicity):
    response = object_to(client, in_publicity.id)
    assert response.status_code == 302 and response.headers["Location"].startswith("/auth/login")
    assert objections_of(in_publicity.id) == []


def test_objecting_to_a_claim_not_in_publicity_is_a_conflict(client, auth, make, enterprise, voucher, individual):
    approved = make.claim(enterprise, status=R.APPROVED)
    auth.login(individual)
    assert object_to(client, approved.id).status_code == 409
    assert object_to(client, 999999).status_code == 404
    assert objections_of(approved.id) == []


# ---------------------------------------------------------------- the objection pauses, the reviewer decides

def test_an_open_objection_keeps_the_claim_in_publicity_after_the_period(in_publicity, individual):
    settlement.lodge_objection(in_publicity, individual, "服务未实际发生")
    db.session.commit()
    assert close_after_period(in_publicity) == 0
    assert fresh(in_publicity.id).status == R.PUBLICITY


def test_dismissing_the_objection_after_the_period_moves_the_claim_to_awaiting_payment(
        client, auth, in_publicity, individual, reviewer):
    objection = settlement.lodge_objection(in_publicity, individual, "服务未实际发生")
    db.session.commit()
    batch = db.session.get(PublicityBatch, in_publicity.publicity_batch_id)
    batch.ends_on = china_today() - timedelta(days=1)  # the period is over
    db.session.commit()
    auth.login(reviewer)
    response = client.post(f"/admin/objections/{objection.id}/resolve",
                           data={"upheld": "0", "resolution": "经核实服务真实发生"})
    assert response.status_code == 303
    assert fresh(in_publicity.id).status == R.AWAITING_PAYMENT
    assert objections_of(in_publicity.id)[0].status == "dismissed"


def test_upholding_the_objection_rejects_the_claim_and_releases_the_approved_amount(
        client, auth, in_publicity, individual, reviewer, voucher):
    objection = settlement.lodge_objection(in_publicity, individual, "服务未实际发生")
    db.session.commit()
    assert fresh(in_publicity.id).voucher.approved_fen == in_publicity.approved_fen > 0
    auth.login(reviewer)
    response = client.post(f"/admin/objections/{objection.id}/resolve", headers=HTMX,
                           data={"upheld": "1", "resolution": "经核实服务未发生"})
    assert response.status_code == 200 and f'<tr id="objection-{objection.id}">' in response.get_data(as_text=True)
    claim = fresh(in_publicity.id)
    assert claim.status == R.REJECTED and claim.decision_reason == "经核实服务未发生"
    assert db.session.get(Voucher, voucher.id).approved_fen == 0
    assert objections_of(claim.id)[0].status == "upheld"


@pytest.mark.parametrize("headers", [{}, HTMX], ids=["plain", "htmx"])
def test_resolving_without_a_resolution_answers_422_and_changes_nothing(
        client, auth, in_publicity, individual, reviewer, headers):
    objection = settlement.lodge_objection(in_publicity, individual, "服务未实际发生")
    db.session.commit()
    auth.login(reviewer)
    response = client.post(f"/admin/objections/{objection.id}/resolve", headers=headers, data={"upheld": "1"})
    page = response.get_data(as_text=True)
    assert response.status_code == 422 and "请填写处理意见" in page
    assert 'value="1" checked' in page  # the chosen conclusion is kept
    assert objections_of(in_publicity.id)[0].status == "open" and fresh(in_publicity.id).status == R.PUBLICITY


def test_resolving_an_objection_twice_is_a_conflict(client, auth, in_publicity, individual, reviewer):
    objection = settlement.lodge_objection(in_publicity, individual, "服务未实际发生")
    db.session.commit()
    auth.login(reviewer)
    data = {"upheld": "0", "resolution": "经核实服务真实发生"}
    assert client.post(f"/admin/objections/{objection.id}/resolve", data=data).status_code == 303
    assert client.post(f"/admin/objections/{objection.id}/resolve", data=data).status_code == 409


def test_objections_list_open_ones_first_with_who_lodged_them(client, auth, make, enterprise, voucher, individual,
                                                              reviewer):
    older = make.claim(enterprise, status=R.PUBLICITY)
    newer = make.claim(enterprise, status=R.PUBLICITY)
    resolved = settlement.lodge_objection(older, individual, "第一条异议")
    settlement.lodge_objection(newer, individual, "第二条异议")
    settlement.resolve_objection(resolved, reviewer, False, "不成立")
    db.session.commit()
    auth.login(reviewer)
    page = client.get("/admin/objections?status=all").get_data(as_text=True)
    assert page.index("第二条异议") < page.index("第一条异议")
    assert individual.email in page and enterprise.enterprise.name in page


# ---------------------------------------------------------------- closing

def test_reviewer_closes_due_publicity_and_is_told_how_many_moved(client, auth, in_publicity, reviewer):
    batch = db.session.get(PublicityBatch, in_publicity.publicity_batch_id)
    batch.ends_on = china_today() - timedelta(days=1)
    db.session.commit()
    auth.login(reviewer)
    response = client.post("/admin/publicity/close")
    assert response.status_code == 303
    assert "1 项兑付转入待兑付" in client.get("/admin/publicity").get_data(as_text=True)
    assert fresh(in_publicity.id).status == R.AWAITING_PAYMENT


def test_close_publicity_command_moves_only_the_claims_whose_period_is_over(runner, make, enterprise, voucher):
    due, current = make.claim(enterprise, status=R.PUBLICITY), make.claim(enterprise, status=R.PUBLICITY)
    db.session.get(PublicityBatch, due.publicity_batch_id).ends_on = china_today() - timedelta(days=1)
    db.session.commit()
    result = runner.invoke(args=["close-publicity"])
    assert result.exit_code == 0, result.output
    assert "1 项兑付公示期满" in result.output
    assert fresh(due.id).status == R.AWAITING_PAYMENT and fresh(current.id).status == R.PUBLICITY


# ---------------------------------------------------------------- access

@pytest.mark.parametrize("who, expected", NOT_REVIEWERS)
@pytest.mark.parametrize("method, path", [
    ("get", "/admin/publicity"), ("post", "/admin/publicity"), ("post", "/admin/publicity/close"),
    ("get", "/admin/objections"), ("post", "/admin/objections/{objection}/resolve")])
def test_only_reviewers_publish_close_and_resolve(client, auth, make, in_publicity, individual, who, expected,
                                                  method, path):
    objection = settlement.lodge_objection(in_publicity, individual, "服务未实际发生")
    db.session.commit()
    sign_in_as(auth, make, who)
    response = getattr(client, method)(path.format(objection=objection.id),
                                       data={"upheld": "1", "resolution": "成立", "days": "5"})
    assert response.status_code == expected
    assert objections_of(in_publicity.id)[0].status == "open"
