"""拨付 (SPEC 7.4, 1.3): the reviewer records a payment batch for claims 待兑付; each claim becomes 已兑付, its
voucher's approved amount is disbursed and the city's 地方配套 is recorded; the batch page and its Excel export
show the same rows and totals."""
import re
from io import BytesIO
from urllib.parse import quote

import openpyxl
import pytest
from sqlalchemy import select

from marketplace.extensions import db
from marketplace.models import CitySetting, PaymentBatch, Redemption, RedemptionStatus as R, Voucher, china_today
from marketplace.redemption import settlement

from .conftest import NOT_REVIEWERS, sign_in_as

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def without_labels(html: str) -> str:
    """The page without the column names a phone shows beside each stacked cell (data-label)."""
    return re.sub(r' data-label="[^"]*"', "", html)


def fresh(claim_id: int) -> Redemption:
    db.session.commit()
    db.session.expire_all()
    return db.session.get(Redemption, claim_id)


def awaiting(make, city: str = "南京") -> Redemption:
    """A claim 待兑付 of a new enterprise registered in `city`."""
    user = make.enterprise(city=city)
    make.voucher(user)
    return make.claim(user, status=R.AWAITING_PAYMENT)


def pay(client, *claim_list, paid_on=None, reference="GK2026-0001"):
    return client.post("/admin/payments", data={"claim_id": [str(c.id) for c in claim_list],
                                                "paid_on": (paid_on or china_today()).isoformat(),
                                                "reference": reference})


def batch_id_of(response) -> int:
    return int(response.headers["Location"].rsplit("/", 1)[1])


def test_paying_a_batch_marks_claims_paid_disburses_and_records_local_matching_per_city(client, auth, make, reviewer):
    nanjing, xuzhou = awaiting(make, "南京"), awaiting(make, "徐州")
    auth.login(reviewer)
    page = client.get("/admin/payments").get_data(as_text=True)
    assert f'name="claim_id" value="{xuzhou.id}"' in page
    assert f"<td>徐州</td><td>{xuzhou.approved_fen * 3 // 7 / 100:,.2f}</td>" in without_labels(page)  # the preview

    response = pay(client, nanjing, xuzhou)
    assert response.status_code == 303 and response.headers["Location"].startswith("/admin/payments/")
    batch = db.session.get(PaymentBatch, batch_id_of(response))
    assert batch.reference == "GK2026-0001" and batch.total_fen == nanjing.approved_fen + xuzhou.approved_fen
    for claim, local in ((nanjing, nanjing.approved_fen), (xuzhou, xuzhou.approved_fen * 3 // 7)):  # 1:1, 7:3 floor
        claim = fresh(claim.id)
        assert claim.status == R.PAID and claim.payment_batch_id == batch.id and claim.local_match_fen == local
        voucher = db.session.get(Voucher, claim.voucher_id)
        assert (voucher.approved_fen, voucher.disbursed_fen) == (0, claim.approved_fen)
    assert "paid" in [event.kind for event in fresh(nanjing.id).order.events]


def test_a_city_that_excludes_the_enterprise_type_records_no_local_matching(client, auth, make, reviewer):
    claim = awaiting(make, "南京")
    db.session.add(CitySetting(city="南京", local_identities="gaoqi", local_ratio_num=1, local_ratio_den=1,
                               local_cap_fen=10_000_000))
    db.session.commit()
    auth.login(reviewer)
    assert pay(client, claim).status_code == 303
    assert fresh(claim.id).local_match_fen == 0


def test_the_batch_page_shows_bank_accounts_amounts_and_the_local_matching_per_city(client, auth, make, reviewer):
    nanjing, xuzhou = awaiting(make, "南京"), awaiting(make, "徐州")
    auth.login(reviewer)
    batch_id = batch_id_of(pay(client, nanjing, xuzhou))
    page = client.get(f"/admin/payments/{batch_id}").get_data(as_text=True)
    application = nanjing.voucher.application
    assert application.bank_name in page and application.bank_account_number in page
    assert nanjing.enterprise.name in page and "GK2026-0001" in page
    cities = page.split('class="list payment-cities"')[1]
    cities = without_labels(cities)
    assert (f"<td>南京</td><td>{nanjing.approved_fen / 100:,.2f}</td>"
            f"<td>{nanjing.approved_fen / 100:,.2f}</td>" in cities)
    assert (f"<td>徐州</td><td>{xuzhou.approved_fen / 100:,.2f}</td>"
            f"<td>{xuzhou.approved_fen * 3 // 7 / 100:,.2f}</td>" in cities)
    listing = client.get("/admin/payments").get_data(as_text=True)
    assert f"/admin/payments/{batch_id}.xlsx" in listing and "没有待兑付的兑付申请" in listing


def test_the_excel_export_holds_the_same_rows_and_totals_as_the_batch_page(client, auth, make, reviewer):
    nanjing, xuzhou = awaiting(make, "南京"), awaiting(make, "徐州")
    auth.login(reviewer)
    batch_id = batch_id_of(pay(client, nanjing, xuzhou))
    response = client.get(f"/admin/payments/{batch_id}.xlsx")
    assert response.status_code == 200 and response.mimetype == XLSX
    disposition = response.headers["Content-Disposition"]
    assert f'filename="payment-batch-{batch_id}.xlsx"' in disposition
    assert "filename*=UTF-8''" + quote("省创新券拨付批次") in disposition

    book = openpyxl.load_workbook(BytesIO(response.data))
    rows = [list(row) for row in book["拨付明细"].iter_rows(min_row=5, values_only=True)]
    *claim_rows, total = rows
    nanjing, xuzhou = fresh(nanjing.id), fresh(xuzhou.id)
    expected = [(nanjing, "南京"), (xuzhou, "徐州")]
    assert [(row[1], row[6], row[7], round(row[8] * 100), round(row[9] * 100)) for row in claim_rows] == [
        (claim.enterprise.name, claim.voucher.application.bank_account_number, city, claim.approved_fen,
         claim.local_match_fen) for claim, city in expected]
    batch = db.session.get(PaymentBatch, batch_id)
    assert total[0] == "合计" and round(total[8] * 100) == batch.total_fen
    assert round(total[9] * 100) == nanjing.local_match_fen + xuzhou.local_match_fen
    summary = list(book["地方配套汇总"].iter_rows(min_row=2, values_only=True))
    assert [(city, round(local * 100)) for city, _, local in summary] == [
        ("南京", nanjing.local_match_fen), ("徐州", xuzhou.local_match_fen)]


@pytest.mark.parametrize("data, field, message", [
    ({"paid_on": "", "reference": "GK-1"}, "paid_on", "请填写拨付日期"),
    ({"paid_on": "2026-13-40", "reference": "GK-1"}, "paid_on", "不是有效的日期值"),
    ({"paid_on": "2999-01-01", "reference": "GK-1"}, "paid_on", "拨付日期不能晚于今天"),
    ({"paid_on": "today", "reference": "  "}, "reference", "请填写拨付凭证号"),
])
def test_bad_payment_details_answer_422_next_to_the_field_and_pay_nothing(client, auth, make, reviewer, data, field,
                                                                          message):
    claim = awaiting(make)
    auth.login(reviewer)
    data = {**data, "paid_on": china_today().isoformat() if data["paid_on"] == "today" else data["paid_on"]}
    response = client.post("/admin/payments", data={**data, "claim_id": [str(claim.id)]})
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert f'<p class="error" id="{field}-error">{message}' in page
    assert f'value="{claim.id}" id="choose-{claim.id}" checked' in page
    assert fresh(claim.id).status == R.AWAITING_PAYMENT


def test_paying_without_choosing_a_claim_answers_422(client, auth, make, reviewer):
    claim = awaiting(make)
    auth.login(reviewer)
    response = client.post("/admin/payments", data={"paid_on": china_today().isoformat(), "reference": "GK-1"})
    assert response.status_code == 422 and "请勾选要拨付的兑付申请" in response.get_data(as_text=True)
    assert 'value="GK-1"' in response.get_data(as_text=True)
    assert fresh(claim.id).status == R.AWAITING_PAYMENT


def test_paying_a_claim_twice_is_a_conflict_and_records_no_second_batch(client, auth, make, reviewer):
    claim = awaiting(make)
    auth.login(reviewer)
    assert pay(client, claim).status_code == 303
    assert pay(client, claim, reference="GK-2").status_code == 409
    assert len(db.session.scalars(select(PaymentBatch)).all()) == 1


def test_payment_queue_appears_on_the_admin_home(client, auth, make, reviewer):
    awaiting(make)
    auth.login(reviewer)
    home = client.get("/admin/").get_data(as_text=True)
    assert "待拨付" in home and "待公示" in home and "兑付异议" in home


@pytest.mark.parametrize("who, expected", NOT_REVIEWERS)
@pytest.mark.parametrize("method, path", [("get", "/admin/payments"), ("post", "/admin/payments"),
                                          ("get", "/admin/payments/{batch}"), ("get", "/admin/payments/{batch}.xlsx")])
def test_only_reviewers_see_and_record_payments(client, auth, make, who, expected, method, path):
    claim, paid = awaiting(make), awaiting(make)
    batch = settlement.pay([paid], make.reviewer(), china_today(), "GK-0")
    db.session.commit()
    sign_in_as(auth, make, who)
    response = getattr(client, method)(path.format(batch=batch.id), data={
        "claim_id": [str(claim.id)], "paid_on": china_today().isoformat(), "reference": "GK-1"})
    assert response.status_code == expected
    assert fresh(claim.id).status == R.AWAITING_PAYMENT
