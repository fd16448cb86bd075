"""The rules every claim's materials must meet (SPEC 7.1), as plain checks the forms and the reviewer share.

The requested voucher is never typed in: it is computed from the eligible spend (the lesser of the contract
amount and the invoice total) and what is left of the year's voucher, by the policy module."""
from dataclasses import dataclass
from typing import Iterable, Optional

from sqlalchemy import select

from .. import policy
from ..extensions import db
from ..models import Invoice, Redemption, RedemptionStatus, Voucher
from ..policy import Problem

# How many files of each kind a claim carries: (at least, at most); None = no upper limit.
FILE_COUNTS = {"contract": (1, 1), "report": (1, None), "rnd_proof": (1, 1), "other": (0, None)}
FILE_LABELS = {"contract": "合同", "report": "服务完成证明或检验检测报告", "rnd_proof": "研发活动证明",
               "other": "其他材料"}


@dataclass(frozen=True)
class Amounts:
    contract_fen: Optional[int]
    invoices_fen: int
    receipts_fen: int
    eligible_fen: int     # the lesser of contract amount and invoice total
    requested_fen: int    # what the voucher pays towards it, within the remaining balance

    @property
    def requested_in_words(self) -> str:
        return policy.uppercase_rmb(self.requested_fen)


def amounts(contract_fen: Optional[int], invoice_fens: Iterable[int], receipt_fens: Iterable[int],
            voucher: Voucher) -> Amounts:
    invoices, receipts = sum(invoice_fens), sum(receipt_fens)
    eligible = min(contract_fen, invoices) if contract_fen is not None else 0
    used = voucher.total_fen - voucher.remaining_fen
    return Amounts(contract_fen, invoices, receipts, eligible, policy.voucher_amount(eligible, voucher.region, used))


def file_count_problems(counts: dict[str, int]) -> list[Problem]:
    """Exactly one contract and one R&D proof, at least one report (SPEC 7.1)."""
    problems = []
    for kind, (least, most) in FILE_COUNTS.items():
        have, label = counts.get(kind, 0), FILE_LABELS[kind]
        if have < least:
            problems.append(Problem(kind, f"请上传{label}（PDF）"))
        elif most is not None and have > most:
            problems.append(Problem(kind, f"{label}只能上传{most}个文件，当前{have}个"))
    return problems


def amount_problems(found: Amounts, receipt_count: int, invoice_count: int) -> list[Problem]:
    problems = []
    if found.contract_fen is None:
        problems.append(Problem("contract_amount", "请填写合同金额"))
    if not receipt_count:
        problems.append(Problem("receipts", "请至少上传一张银行回单并填写金额"))
    if not invoice_count:
        problems.append(Problem("invoices", "请至少上传一张发票并填写发票号码和金额"))
    if receipt_count and invoice_count and found.receipts_fen != found.invoices_fen:
        problems.append(Problem("receipts", f"银行回单合计 ¥{policy.format_yuan(found.receipts_fen)} 与发票合计 "
                                            f"¥{policy.format_yuan(found.invoices_fen)} 不一致，请核对"))
    return problems


def normalize_invoice_number(number: str) -> str:
    """Invoice numbers are stored and compared without spaces, upper-cased."""
    return "".join((number or "").split()).upper()


def repeated_within(numbers: Iterable[str]) -> set[str]:
    seen, repeated = set(), set()
    for number in map(normalize_invoice_number, numbers):
        (repeated if number in seen else seen).add(number)
    return repeated


def used_elsewhere(numbers: Iterable[str], redemption_id: Optional[int]) -> set[str]:
    """Invoice numbers already claimed in another submitted claim (anyone's; drafts do not count)."""
    wanted = {normalize_invoice_number(n) for n in numbers} - {""}
    if not wanted:
        return set()
    stmt = (select(Invoice.number).join(Redemption, Invoice.redemption_id == Redemption.id)
            .where(Invoice.number.in_(wanted), Redemption.status != RedemptionStatus.DRAFT))
    if redemption_id is not None:
        stmt = stmt.where(Redemption.id != redemption_id)
    return set(db.session.scalars(stmt))


def invoice_problems(numbers: list[str], redemption_id: Optional[int], explained: bool) -> list[Problem]:
    """Each invoice once per claim; one claimed elsewhere only with an explanation under 其他材料."""
    problems = [Problem("invoices", f"发票号码 {n} 重复填写") for n in sorted(repeated_within(numbers))]
    elsewhere = used_elsewhere(numbers, redemption_id)
    if elsewhere and not explained:
        listed = "、".join(sorted(elsewhere))
        problems.append(Problem("invoices", f"发票 {listed} 已在其他兑付申请中使用；如确需再次使用，"
                                            "请在“其他材料”中上传情况说明"))
    return problems
