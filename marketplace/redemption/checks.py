"""The rules every claim's materials must meet (SPEC 7.1), as plain checks the forms and the reviewer share.

The requested voucher is never typed in: it is computed from the eligible spend (the least of the contract amount,
the invoice and receipt totals, the 实际服务金额 the provider confirmed and the 可兑付服务费 of a mixed contract) and
what is left of the year's voucher, by the policy module."""
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select

from .. import policy
from ..extensions import db
from ..models import Invoice, Redemption, RedemptionStatus, Voucher
from ..policy import Problem
from . import invoice_numbers

# How many files of each kind a claim carries: (at least, at most); None = no upper limit.
# A 补充协议 is required only when the claim's 可兑付服务费 is less than its contract (supplement_problems).
FILE_COUNTS = {"contract": (1, 1), "supplement": (0, None), "report": (1, None), "rnd_proof": (1, 1),
               "other": (0, None)}
FILE_LABELS = {"contract": "合同", "supplement": "补充协议", "report": "服务完成证明或检验检测报告",
               "rnd_proof": "研发活动证明", "other": "其他材料"}
# Unit types (SPEC 7.3) whose qualification is not asked for: universities, institutes, state-owned units.
QUALIFICATION_FREE = frozenset({"university", "institute", "soe", "public_institution"})


@dataclass(frozen=True)
class Amounts:
    contract_fen: int | None
    invoices_fen: int
    receipts_fen: int
    eligible_fen: int     # the least of contract, invoices, receipts, confirmed amount and eligible fee
    requested_fen: int    # what the voucher pays towards it, within the remaining balance
    confirmed_fen: int | None = None     # 实际服务金额 the provider confirmed (online claims)
    eligible_fee_fen: int | None = None  # 可兑付服务费 of a mixed contract (None: the whole contract)

    @property
    def requested_in_words(self) -> str:
        return policy.uppercase_rmb(self.requested_fen)

    @property
    def capped_by_confirmation(self) -> bool:
        """The contract or the invoices claim more than the provider confirmed: the confirmed amount counts."""
        return self.confirmed_fen is not None and claimed_fen(self.contract_fen, self.invoices_fen) > self.confirmed_fen


def claimed_fen(contract_fen: int | None, invoices_fen: int) -> int:
    """What the enterprise's papers say was spent: the larger of the contract and the invoice total."""
    return max(contract_fen or 0, invoices_fen)


def amounts(contract_fen: int | None, invoice_fens: Iterable[int], receipt_fens: Iterable[int],
            voucher: Voucher | None, confirmed_fen: int | None = None, eligible_fee_fen: int | None = None,
            own_reserved_fen: int = 0) -> Amounts:
    """The claim's totals and the voucher it may request; `own_reserved_fen` (what the claim itself holds reserved)
    counts as still available."""
    invoices, receipts = sum(invoice_fens), sum(receipt_fens)
    eligible = policy.eligible_spend(contract_fen, invoices, receipts, confirmed_fen, eligible_fee_fen)
    requested = 0
    if voucher is not None:
        used = max(voucher.total_fen - voucher.remaining_fen - own_reserved_fen, 0)
        requested = policy.voucher_amount(eligible, voucher.region, used)
    return Amounts(contract_fen, invoices, receipts, eligible, requested, confirmed_fen, eligible_fee_fen)


def needs_qualification(unit_type: str) -> bool:
    return unit_type not in QUALIFICATION_FREE


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
    fee, contract = found.eligible_fee_fen, found.contract_fen
    if fee is not None and contract is not None and fee > contract:
        problems.append(Problem("eligible_fee", f"可兑付服务费不能超过合同金额 ¥{policy.format_yuan(contract)}"))
    return problems


def is_mixed(contract_fen: int | None, eligible_fee_fen: int | None) -> bool:
    """Only part of the contract (its 可兑付服务费) is eligible: a 补充协议 must say which part."""
    return eligible_fee_fen is not None and contract_fen is not None and eligible_fee_fen < contract_fen


def supplement_problems(contract_fen: int | None, eligible_fee_fen: int | None,
                        counts: dict[str, int]) -> list[Problem]:
    if is_mixed(contract_fen, eligible_fee_fen) and not counts.get("supplement"):
        return [Problem("supplement", "可兑付服务费低于合同金额：请上传双方约定该部分费用的补充协议（PDF）")]
    return []


def repeated_within(numbers: Iterable[str]) -> set[str]:
    seen: set[str] = set()
    repeated: set[str] = set()
    for number in map(invoice_numbers.canonical, numbers):
        (repeated if number in seen else seen).add(number)
    return repeated


def used_elsewhere(numbers: Iterable[str], redemption_id: int | None) -> set[str]:
    """Invoice numbers already claimed in another submitted claim (anyone's; drafts do not count), compared in
    their canonical form, which is the one stored."""
    wanted = {invoice_numbers.canonical(n) for n in numbers} - {""}
    if not wanted:
        return set()
    stmt = (select(Invoice.number).join(Redemption, Invoice.redemption_id == Redemption.id)
            .where(Invoice.number.in_(wanted), Redemption.status != RedemptionStatus.DRAFT))
    if redemption_id is not None:
        stmt = stmt.where(Redemption.id != redemption_id)
    return set(db.session.scalars(stmt))


def invoice_problems(numbers: list[str], redemption_id: int | None, explained: bool) -> list[Problem]:
    """Each invoice in a real format (one typed before the formats were enforced must be corrected), once per claim;
    one claimed elsewhere only with an explanation under 其他材料."""
    problems = [Problem("invoices", f"发票号码 {n}：{invoice_numbers.problem(n)}") for n in numbers
                if invoice_numbers.problem(n)]
    problems += [Problem("invoices", f"发票号码 {n} 重复填写") for n in sorted(repeated_within(numbers))]
    elsewhere = used_elsewhere(numbers, redemption_id)
    if elsewhere and not explained:
        listed = "、".join(sorted(elsewhere))
        problems.append(Problem("invoices", f"发票 {listed} 已在其他兑付申请中使用；如确需再次使用，"
                                            "请在“其他材料”中上传情况说明"))
    return problems
