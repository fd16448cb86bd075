"""Risk flags on claims (SPEC 7.4, 11): each one appears when its risk is in the data and stays away from a clean
claim, and a whole queue page is flagged with a fixed number of queries."""
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from marketplace.extensions import db
from marketplace.models import Material, Redemption, RedemptionServiceLine, RedemptionStatus, ShopStatus, china_today
from marketplace.redemption import claims
from marketplace.redemption.flags import EAGER, flags, flags_for

from .conftest import queries_sent

R = RedemptionStatus
MID_YEAR = datetime(china_today().year, 6, 1, 2, 0)  # UTC; a submission date far from year end


def codes(claim: Redemption) -> list[str]:
    return [flag.code for flag in flags(claim)]


def submitted_mid_year(claim: Redemption) -> Redemption:
    """Tests run on any day of the year: pin the submission away from the year-end window."""
    claim.submitted_at = MID_YEAR
    db.session.commit()
    return claim


@pytest.fixture
def claimant(make, enterprise):
    make.voucher(enterprise)
    return enterprise


@pytest.fixture
def clean(make, claimant) -> Redemption:
    return submitted_mid_year(make.claim(claimant))


def second_claimant(make):
    user = make.enterprise()
    make.voucher(user)
    return user


def claim_reusing(make, user, number: str, status: str = R.SUBMITTED) -> Redemption:
    """A claim with an invoice number already claimed elsewhere, explained under 其他材料 so it can be submitted."""
    claim = make.claim(user, status=R.DRAFT, invoice_number=number)
    claim.materials.append(Material(kind="other", file_id=make.stored_pdf(user, "情况说明.pdf").id))
    db.session.commit()
    make.advance(claim, status, user)
    return claim


def test_a_clean_claim_has_no_flags(clean):
    assert flags(clean) == []


# ---------------------------------------------------------------- totals

def test_receipts_that_do_not_add_up_to_the_invoices_are_flagged(clean):
    clean.receipts[0].amount_fen -= 100
    db.session.commit()
    [flag] = flags(clean)
    assert (flag.code, flag.level) == ("totals", "danger")
    assert "9,999.00" in flag.message and "10,000.00" in flag.message


# ---------------------------------------------------------------- duplicate invoices

def test_an_invoice_number_claimed_in_another_claim_is_flagged_on_both_naming_the_other(make, claimant):
    first = submitted_mid_year(make.claim(claimant, invoice_number="04400170011112345678"))
    other_user = second_claimant(make)
    second = submitted_mid_year(claim_reusing(make, other_user, "04400170011112345678"))
    [on_first] = flags(first)
    assert (on_first.code, on_first.level) == ("duplicate_invoice", "danger")
    assert other_user.enterprise.name in on_first.message and second.order.order_no in on_first.message
    [on_second] = flags(second)
    assert claimant.enterprise.name in on_second.message and f"#{first.id}" in on_second.message


def test_an_invoice_number_on_someone_elses_draft_is_not_a_duplicate(make, claimant, clean):
    make.claim(second_claimant(make), status=R.DRAFT, invoice_number=clean.invoices[0].number)
    assert flags(clean) == []


def test_an_invoice_number_only_on_a_rejected_claim_is_a_warning(make, claimant):
    rejected = make.claim(claimant, status=R.REJECTED, invoice_number="26320000000000000001")
    again = submitted_mid_year(claim_reusing(make, claimant, "26320000000000000001"))
    [flag] = flags(again)
    assert (flag.code, flag.level) == ("duplicate_invoice", "warn")
    assert f"#{rejected.id}" in flag.message and "审核不通过" in flag.message


# ---------------------------------------------------------------- the provider

def test_a_provider_with_the_enterprises_legal_representative_is_flagged_as_related(clean, claimant):
    clean.order.provider.legal_rep_id_number = claimant.enterprise.legal_rep_id_number.lower()
    db.session.commit()
    [flag] = flags(clean)
    assert (flag.code, flag.level) == ("related_party", "danger")
    assert clean.order.provider.name in flag.message and "法定代表人证件号码相同" in flag.message


def test_a_provider_with_another_legal_representative_is_not_related(clean):
    clean.order.provider.legal_rep_id_number = "110101199003071234"
    db.session.commit()
    assert flags(clean) == []


@pytest.mark.parametrize("status", [ShopStatus.REMOVED, ShopStatus.REJECTED])
def test_a_provider_no_longer_open_is_flagged(clean, status):
    clean.order.provider.status = status
    db.session.commit()
    [flag] = flags(clean)
    assert flag.code == "provider_closed"
    assert clean.order.provider.status_label in flag.message


def test_an_online_third_party_provider_with_an_expired_qualification_is_flagged(clean):
    provider = clean.order.provider
    provider.unit_type, provider.qualification_kind = "third_party", "CMA"
    provider.qualification_expires_on = china_today() - timedelta(days=1)
    db.session.commit()
    assert codes(clean) == ["qualification_expired"]
    provider.qualification_expires_on = china_today() + timedelta(days=30)
    db.session.commit()
    assert flags(clean) == []


# ---------------------------------------------------------------- offline qualifications

@pytest.fixture
def offline(claimant, make) -> Redemption:
    claim = claims.start_offline(claimant, "91320300MA1XYZ1234")
    claim.provider_name = "徐州某检测有限公司"
    claim.provider_unit_type, claim.qualification_kind = "third_party", "CNAS"
    claim.qualification_file_id = make.stored_pdf(claimant, "资质.pdf").id
    claim.qualification_expires_on = china_today() + timedelta(days=10)
    claim.service_lines.append(RedemptionServiceLine(position=0, service_name="盐雾试验"))
    claim.submitted_at = MID_YEAR
    db.session.commit()
    return claim


def test_an_offline_provider_with_a_valid_qualification_is_not_flagged(offline):
    assert flags(offline) == []


def test_an_offline_provider_whose_qualification_has_expired_is_flagged(offline):
    offline.qualification_expires_on = china_today() - timedelta(days=1)
    db.session.commit()
    [flag] = flags(offline)
    assert (flag.code, flag.level) == ("qualification_expired", "danger")
    assert f"{offline.qualification_expires_on:%Y-%m-%d}" in flag.message


def test_an_offline_provider_without_its_qualification_file_is_flagged(offline):
    offline.qualification_file_id = None
    db.session.commit()
    assert codes(offline) == ["qualification_missing"]


def test_a_university_needs_no_qualification(offline):
    offline.provider_unit_type = "university"
    offline.qualification_file_id, offline.qualification_expires_on = None, None
    db.session.commit()
    assert flags(offline) == []


# ---------------------------------------------------------------- amounts at the cap

def test_a_claim_limited_by_what_is_left_of_the_voucher_is_flagged(make, claimant):
    submitted_mid_year(make.claim(claimant, amount_fen=30_000_000))    # 300,000 元 × 25% = 75,000 of 100,000
    capped = submitted_mid_year(make.claim(claimant, amount_fen=20_000_000))  # 50,000 by rate, 25,000 left
    assert capped.requested_fen == 2_500_000
    [flag] = flags(capped)
    assert (flag.code, flag.level) == ("at_cap", "warn")
    assert "50,000.00" in flag.message and "25,000.00" in flag.message


def test_one_claim_taking_the_whole_annual_cap_is_flagged(make, claimant):
    whole = submitted_mid_year(make.claim(claimant, amount_fen=50_000_000))  # 125,000 by rate, capped at 100,000
    assert whole.requested_fen == 10_000_000
    assert codes(whole) == ["at_cap"]


def test_a_claim_well_within_the_voucher_is_not_at_the_cap(make, claimant):
    assert flags(submitted_mid_year(make.claim(claimant, amount_fen=20_000_000))) == []


# ---------------------------------------------------------------- services the catalog does not support

def test_an_order_line_whose_service_is_marked_not_eligible_is_flagged(clean):
    clean.order.items[0].service.voucher_eligible = False
    db.session.commit()
    [flag] = flags(clean)
    assert (flag.code, flag.level) == ("ineligible_service", "danger")
    assert clean.order.items[0].service_name in flag.message


# ---------------------------------------------------------------- year-end clustering

def submitted_on(claim: Redemption, moment: datetime) -> Redemption:
    claim.submitted_at = moment
    db.session.commit()
    return claim


def test_a_claim_submitted_in_the_last_fifteen_days_of_december_is_noted(clean):
    submitted_on(clean, datetime(2025, 12, 20, 2, 0))
    [flag] = flags(clean)
    assert (flag.code, flag.level) == ("year_end", "info")
    assert "共提交 1 笔" in flag.message


def test_the_window_starts_on_december_17_china_time(clean):
    submitted_on(clean, datetime(2025, 12, 16, 15, 59))    # 23:59 on the 16th in China
    assert flags(clean) == []
    submitted_on(clean, datetime(2025, 12, 16, 16, 0))     # 00:00 on the 17th in China
    assert codes(clean) == ["year_end"]


def test_three_claims_of_one_enterprise_at_year_end_are_a_cluster(make, claimant):
    rushed = [submitted_on(make.claim(claimant, amount_fen=100_000), datetime(2025, 12, 18 + n, 3, 0))
              for n in range(3)]
    submitted_on(make.claim(claimant, amount_fen=100_000), MID_YEAR)  # not in the window: not counted
    for claim in rushed:
        [flag] = flags(claim)
        assert (flag.code, flag.level) == ("year_end", "danger")
        assert "共提交 3 笔" in flag.message


# ---------------------------------------------------------------- cost

def test_flagging_a_page_costs_the_same_queries_for_two_claims_or_six(make, claimant):
    for n in range(6):
        submitted_on(make.claim(claimant, amount_fen=100_000), datetime(2025, 12, 20, 3, n))

    def flag_page(size):
        db.session.expire_all()
        page = db.session.scalars(select(Redemption).options(*EAGER).order_by(Redemption.id).limit(size)).all()
        with queries_sent() as sent:
            flags_for(page)
        return len(sent)

    assert flag_page(2) == flag_page(6) <= 3
