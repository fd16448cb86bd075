"""The materials rules of a claim (SPEC 7.1): counts, totals, the computed voucher, duplicate invoices."""
import pytest

from marketplace.extensions import db
from marketplace.models import ApplicationStatus, Invoice, Redemption, RedemptionStatus
from marketplace.redemption import checks
from marketplace.vouchers import lifecycle

YUAN = 100


@pytest.fixture
def voucher(make, enterprise, reviewer):
    issued = lifecycle.approve(make.voucher_application(enterprise, status=ApplicationStatus.SUBMITTED), reviewer.id)
    db.session.commit()
    return issued


def claim(enterprise, voucher, status, *numbers) -> Redemption:
    redemption = Redemption(kind="online", enterprise_id=enterprise.enterprise.id, voucher_id=voucher.id,
                            status=status, invoices=[Invoice(number=n, amount_fen=1_000 * YUAN) for n in numbers])
    db.session.add(redemption)
    db.session.commit()
    return redemption


def test_the_voucher_is_computed_from_the_lesser_of_contract_and_invoices(voucher):
    found = checks.amounts(15_000 * YUAN, [10_000 * YUAN, 2_000 * YUAN], [12_000 * YUAN], voucher)
    assert found.eligible_fen == 12_000 * YUAN and found.requested_fen == 3_000 * YUAN
    assert found.requested_in_words == "叁仟元整"


def test_the_voucher_never_exceeds_what_is_left_of_the_year(voucher):
    voucher.disbursed_fen = 97_000 * YUAN
    found = checks.amounts(140_000 * YUAN, [140_000 * YUAN], [140_000 * YUAN], voucher)
    assert found.requested_fen == 3_000 * YUAN


def test_without_a_contract_amount_nothing_is_requested_and_it_is_asked_for(voucher):
    found = checks.amounts(None, [500 * YUAN], [500 * YUAN], voucher)
    assert found.requested_fen == 0
    assert [p.field for p in checks.amount_problems(found, 1, 1)] == ["contract_amount"]


def test_receipts_must_add_up_to_the_invoices(voucher):
    found = checks.amounts(1_000 * YUAN, [1_000 * YUAN], [999 * YUAN], voucher)
    (problem,) = checks.amount_problems(found, 1, 1)
    assert problem.field == "receipts" and "¥999.00" in problem.message and "¥1,000.00" in problem.message


@pytest.mark.parametrize("counts, fields", [
    ({"contract": 1, "report": 2, "rnd_proof": 1}, []),
    ({"report": 1, "rnd_proof": 1}, ["contract"]),
    ({"contract": 2, "report": 1, "rnd_proof": 1}, ["contract"]),
    ({"contract": 1, "rnd_proof": 1}, ["report"]),
    ({"contract": 1, "report": 1, "rnd_proof": 2, "other": 3}, ["rnd_proof"]),
])
def test_a_claim_carries_one_contract_one_rnd_proof_and_at_least_one_report(counts, fields):
    assert [p.field for p in checks.file_count_problems(counts)] == fields


def test_an_invoice_claimed_elsewhere_needs_an_explanation(make, enterprise, voucher):
    claim(make.enterprise(), voucher, RedemptionStatus.SUBMITTED, "26320000000004400001")
    claim(make.enterprise(), voucher, RedemptionStatus.DRAFT, "26320000000004400002")
    mine = claim(enterprise, voucher, RedemptionStatus.DRAFT, "26320000000004400001", "26320000000004400002")
    (problem,) = checks.invoice_problems(["2632 0000 0000 0440 0001", "26320000000004400002"], mine.id,
                                        explained=False)
    assert "26320000000004400001" in problem.message and "26320000000004400002" not in problem.message, \
        "drafts do not count"
    assert checks.invoice_problems(["26320000000004400001"], mine.id, explained=True) == []


def test_an_invoice_may_appear_only_once_in_a_claim(app):
    (problem,) = checks.invoice_problems(["26320000000000000001", "2632-0000-0000-0000-0001 "], None, explained=True)
    assert "26320000000000000001" in problem.message and "重复" in problem.message
