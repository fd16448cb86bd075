"""Invoice numbers are canonical (SPEC 7.1): one invoice re-typed with invisible characters, full-width or
Arabic-Indic digits, soft hyphens, dashes or look-alike letters is still the same invoice — refused at submission
when another claim holds it, and flagged on the reviewer's page; only the real formats are accepted; the numbers
stored before are rewritten by migration 0008."""
import importlib.util
import subprocess
import sys

import pytest
from alembic.operations import Operations
from alembic.runtime.migration import MigrationContext
from hypothesis import given, strategies as st
from markupsafe import escape
from sqlalchemy import select

from marketplace.config import ROOT
from marketplace.extensions import db
from marketplace.models import Invoice, Redemption, RedemptionStatus as R
from marketplace.redemption import claims, readiness
from marketplace.redemption.invoice_numbers import FORMAT_HINT, FORMAT_MESSAGE, MISSING_MESSAGE, canonical, problem

from .samples import pdf_upload, png_upload

NUMBER = "26321234567890123456"  # a 20-digit 数电发票 number
FULL_WIDTH = str.maketrans("0123456789", "０１２３４５６７８９")
ARABIC_INDIC = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")

# The same invoice as someone could type it so that it looks the same, or nearly.
TRAPS = {
    "zero-width space": "2632\u200b1234567890\u200b123456",
    "full-width digits": NUMBER.translate(FULL_WIDTH),
    "soft hyphen": "2632\u00ad1234\u00ad5678\u00ad9012\u00ad3456",
    "arabic-indic digits": NUMBER.translate(ARABIC_INDIC),
    "spaces and dashes": " 2632 1234\u30005678\uff0d9012\u20133456 ",  # ideographic space, full-width hyphen, en dash
}


# ---------------------------------------------------------------- the canonical form

@pytest.mark.parametrize("typed", TRAPS.values(), ids=TRAPS.keys())
def test_each_trap_has_the_plain_numbers_canonical_form(typed):
    assert canonical(typed) == NUMBER


@pytest.mark.parametrize("typed, plain", [
    ("АВСЕНКМОРТХ", "ABCEHKMOPTX"),      # Cyrillic capitals
    ("авсеорху", "ABCEOPXY"),            # Cyrillic small letters
    ("ΑΒΕΖΗΙΚΜΝΟΡΤΥΧ", "ABEZHIKMNOPTYX"),  # Greek capitals
    ("inv-ΟΟ1", "INVOO1"),
])
def test_look_alike_letters_are_the_latin_ones_upper_cased(typed, plain):
    assert canonical(typed) == plain


@pytest.mark.parametrize("typed", ["3200.1234/5678_9012-34", "3200\u20131234\u20145678\u2212901234",
                                   "3200\u00a01234\u30005678\t9012\n34", "3200\ufeff1234\u20605678\u034f901234"])
def test_separators_spaces_and_invisible_characters_are_dropped(typed):
    assert canonical(typed) == "320012345678901234"


@given(st.text())
def test_the_canonical_form_is_its_own_canonical_form(text):
    assert canonical(canonical(text)) == canonical(text)


# ---------------------------------------------------------------- the accepted formats

@pytest.mark.parametrize("typed", [
    NUMBER,                               # 数电发票
    "3200123456 12345678",                # 10-digit 发票代码 + 8-digit 发票号码
    "3200123456-12345678",
    "320012345612345678",
    "032001900111 12345678",              # 12-digit 发票代码 + 8-digit 发票号码
    *TRAPS.values(),
])
def test_a_digital_invoice_number_or_an_invoice_code_with_its_number_is_accepted(typed):
    assert problem(typed) is None


@pytest.mark.parametrize("typed", [
    NUMBER[:-1],                          # 19 digits
    NUMBER + "7",                         # 21 digits
    "12345678",                           # the 发票号码 without its 发票代码
    "3200123456 1234567",                 # 10 + 7
    NUMBER[:-1] + "A",
    NUMBER[:-2] + "АВ",                   # Cyrillic letters are letters too
    "发票" + NUMBER,
])
def test_any_other_number_is_refused_with_the_accepted_formats(typed):
    assert problem(typed) == FORMAT_MESSAGE


@pytest.mark.parametrize("typed", ["", "   ", "\u200b\u00ad", None])
def test_an_empty_number_is_refused_as_missing(typed):
    assert problem(typed) == MISSING_MESSAGE


ISOLATION_CHECK = """
import importlib.util, sys
spec = importlib.util.spec_from_file_location("invoice_numbers", {path!r})
spec.loader.exec_module(importlib.util.module_from_spec(spec))
print(",".join(sorted(name for name in sys.modules
                      if name.split(".")[0] in ("flask", "sqlalchemy", "werkzeug", "marketplace"))))
"""


def test_the_rule_module_loads_without_flask_or_the_database():
    path = str(ROOT / "marketplace" / "redemption" / "invoice_numbers.py")
    result = subprocess.run([sys.executable, "-I", "-c", ISOLATION_CHECK.format(path=path)],
                            capture_output=True, text=True, check=True)
    assert result.stdout.strip() == ""


# ---------------------------------------------------------------- through the claim editor and the reviewer

def voucher_holder(make):
    user = make.enterprise()
    make.voucher(user)
    return user


@pytest.fixture
def claimed_elsewhere(make) -> Redemption:
    """Another enterprise's submitted claim holding NUMBER."""
    return make.claim(voucher_holder(make), invoice_number=NUMBER)


@pytest.fixture
def draft(make, enterprise) -> Redemption:
    make.voucher(enterprise)
    return make.claim(enterprise, status=R.DRAFT)


def fresh(claim: Redemption) -> Redemption:
    """The claim as the database holds it now, after the requests' own sessions changed it."""
    db.session.commit()
    db.session.expire_all()
    return db.session.get(Redemption, claim.id)


def editor(claim: Redemption) -> str:
    return f"/me/redemptions/{claim.id}"


def submit(client, claim: Redemption):
    return client.post(f"{editor(claim)}/submit", data={"contract_amount": "10000",
                                                       "declarations": list(readiness.DECLARATIONS)})


@pytest.mark.parametrize("typed", TRAPS.values(), ids=TRAPS.keys())
def test_an_invoice_claimed_elsewhere_retyped_with_a_trap_is_refused_at_submission_and_flagged_for_the_reviewer(
        client, auth, enterprise, reviewer, claimed_elsewhere, draft, typed):
    auth.login(enterprise)
    edited = client.post(f"{editor(draft)}/invoices/{draft.invoices[0].id}", content_type="multipart/form-data",
                         data={"number": typed, "amount": "10000"})
    assert edited.status_code == 303
    assert [i.number for i in fresh(draft).invoices] == [NUMBER]
    refused = submit(client, draft)
    assert refused.status_code == 422
    assert f"发票 {NUMBER} 已在其他兑付申请中使用" in refused.get_data(as_text=True)
    explained = client.post(f"{editor(draft)}/materials", content_type="multipart/form-data",
                            data={"kind": "other", "files": [pdf_upload("情况说明.pdf")]})
    assert explained.status_code == 303
    assert submit(client, draft).status_code == 303
    auth.logout()
    auth.login(reviewer)
    page = client.get(f"/admin/redemptions/{draft.id}").get_data(as_text=True)
    assert 'data-flag="duplicate_invoice"' in page and f"兑付申请 #{claimed_elsewhere.id}" in page
    assert "发票号码未在其他申请中使用" not in page


@pytest.mark.parametrize("typed", [NUMBER[:-1], NUMBER[:-2] + "АВ", "12345678", "<b>" + NUMBER])
def test_a_number_of_no_accepted_format_is_refused_next_to_the_field_with_the_input_kept(
        client, auth, enterprise, draft, typed):
    auth.login(enterprise)
    response = client.post(f"{editor(draft)}/invoices", content_type="multipart/form-data",
                           data={"number": typed, "amount": "100", "image": png_upload("发票.png")})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert f'<p class="error" id="new-invoices-number-error">{FORMAT_MESSAGE}</p>' in page
    assert f'value="{escape(typed)}"' in page
    assert len(fresh(draft).invoices) == 1


def test_the_invoice_form_says_which_formats_are_accepted(client, auth, enterprise, draft):
    auth.login(enterprise)
    assert FORMAT_HINT in client.get(editor(draft)).get_data(as_text=True)


def test_the_demos_invoice_numbers_are_stored_canonical_in_an_accepted_format(runner):
    assert runner.invoke(args=["seed-demo", "--services", "120"]).exit_code == 0
    numbers = db.session.scalars(select(Invoice.number)).all()
    assert numbers and all(problem(n) is None and canonical(n) == n for n in numbers), numbers


# ---------------------------------------------------------------- numbers stored before: migration 0008

def run_migration_0008() -> None:
    """The migration's upgrade() on the test database as it is (already at head, so no stamp moves)."""
    path = ROOT / "migrations" / "versions" / "20261207_0008_canonical_invoice_numbers.py"
    spec = importlib.util.spec_from_file_location("migration_0008", path)
    migration = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(migration)
    db.session.commit()  # end the session's transaction: SQLite lets no other connection write under a reader
    with db.engine.begin() as connection, Operations.context(MigrationContext.configure(connection)):
        migration.upgrade()


def test_a_draft_typed_before_the_formats_cannot_be_submitted_with_its_old_number(make):
    user = voucher_holder(make)
    draft = make.claim(user, status=R.DRAFT, invoice_number="INV-0001")
    with pytest.raises(claims.Refused, match="发票号码 INV-0001：发票号码应为20位数电发票号码"):
        claims.submit(draft, user, readiness.DECLARATIONS)


def test_migration_0008_stores_old_spellings_canonical_so_the_reviewer_sees_the_duplicate(
        client, auth, make, reviewer):
    """Before 0008 the form kept a zero-width space or a soft hyphen, and the two spellings passed as two
    invoices; a number of no accepted format is canonicalised too, not deleted."""
    first = make.claim(voucher_holder(make), invoice_number=TRAPS["zero-width space"])
    claimant = voucher_holder(make)
    second = make.claim(claimant, invoice_number=TRAPS["soft hyphen"])
    off_format = make.claim(claimant, status=R.DRAFT, invoice_number="inv-ΟΟ1 ")
    auth.login(reviewer)
    review = f"/admin/redemptions/{second.id}"
    assert 'data-flag="duplicate_invoice"' not in client.get(review).get_data(as_text=True)
    run_migration_0008()
    assert [fresh(claim).invoices[0].number for claim in (first, second, off_format)] == [NUMBER, NUMBER, "INVOO1"]
    page = client.get(review).get_data(as_text=True)
    assert 'data-flag="duplicate_invoice"' in page and f"兑付申请 #{first.id}" in page
