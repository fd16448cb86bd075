"""The 科技型中小企业 registry the reviewer imports (CSV in /admin/kexiao), matched to applications."""
import unicodedata

from sqlalchemy import select

from .. import validators
from ..extensions import db
from ..models import KexiaoEntry


def normalize_number(text: str) -> str:
    """入库编号 as stored and matched: full-width characters typed with an IME made ASCII, upper-cased."""
    return unicodedata.normalize("NFKC", text or "").strip().upper()


def registry_entry(year: int, number: str = "", credit_code: str = "") -> KexiaoEntry | None:
    """The year's row for this credit code, else for this 入库编号 — whoever it belongs to (the reviewer's
    check uses it to point out a number that belongs to another company)."""
    code = validators.normalize_credit_code(credit_code)
    for column, value in ((KexiaoEntry.credit_code, code), (KexiaoEntry.number, normalize_number(number))):
        if value:
            entry = db.session.scalar(select(KexiaoEntry).where(KexiaoEntry.year == year, column == value)
                                      .order_by(KexiaoEntry.id).limit(1))
            if entry is not None:
                return entry
    return None


def kexiao_match(year: int, number: str = "", credit_code: str = "") -> KexiaoEntry | None:
    """The applicant's own registry row: found by its credit code, or by number when that row names no other
    company (typing another company's number matches nothing)."""
    entry = registry_entry(year, number, credit_code)
    code = validators.normalize_credit_code(credit_code)
    if entry is None or (entry.credit_code and entry.credit_code != code):
        return None
    return entry
