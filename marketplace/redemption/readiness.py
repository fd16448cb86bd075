"""Whether a claim can be submitted: its amounts as they stand, and every problem that keeps it back, each with the
field it belongs to (the editor shows them all; claims.submit refuses on the first)."""
from collections.abc import Iterable

from ..models import Order, OrderStatus, Redemption, RedemptionStatus
from ..policy import Problem
from . import checks
from .offline_checks import offline_problems

# The states in which the claim's requested_fen is held reserved on its voucher.
HOLDS_RESERVATION = frozenset({RedemptionStatus.SUBMITTED, RedemptionStatus.CORRECTION})

# SPEC 1.5: what the platform cannot check, the enterprise declares (stored on the claim with the time).
DECLARATIONS = {
    "innovation": "本次服务用于本企业的科技创新活动，不属于法定认证、执法检验、强制检测、商业检验等",
    "unrelated": "本企业与该服务单位无直接股权关系，非同一法定代表人，无同一股东同时持有双方50%以上股份",
    "direct": "该服务由该服务单位直接提供，不存在第三方接单后转包",
    "unfunded": "本次服务费用不使用政府财政资金支付",
    "truthful": "所提交的材料真实、准确、完整，如有虚假，愿承担相应责任",
}

UNCONFIRMED = "服务单位尚未确认服务完成和实际服务金额，确认后才能提交兑付"


def figures(claim: Redemption) -> checks.Amounts:
    """Totals and the requested voucher as they stand; an online claim never counts more than the 实际服务金额 its
    provider confirmed; the claim's own reservation counts as available."""
    return checks.amounts(claim.contract_amount_fen,
                          [i.amount_fen for i in claim.invoices], [r.amount_fen for r in claim.receipts],
                          claim.voucher, confirmed_amount(claim), claim.eligible_fee_fen,
                          own_reserved_fen=claim.requested_fen if claim.status in HOLDS_RESERVATION else 0)


def confirmed_amount(claim: Redemption) -> int | None:
    """The 实际服务金额 the provider confirmed on the claim's order (None: offline, or not confirmed yet)."""
    return claim.order.final_amount_fen if claim.order is not None else None


def refresh_amounts(claim: Redemption) -> checks.Amounts:
    """Store the eligible spend (and, for a draft, the requested voucher as a preview) on the claim."""
    found = figures(claim)
    claim.eligible_spend_fen = found.eligible_fen
    if claim.status == RedemptionStatus.DRAFT:
        claim.requested_fen = found.requested_fen
    return found


def material_counts(claim: Redemption) -> dict[str, int]:
    counts: dict[str, int] = {}
    for material in claim.materials:
        counts[material.kind] = counts.get(material.kind, 0) + 1
    return counts


def problems(claim: Redemption, declared: Iterable[str] = ()) -> list[Problem]:
    """Everything that keeps the claim from being submitted, each with the field it belongs to."""
    found = figures(claim)
    counts = material_counts(claim)
    found_problems = checks.file_count_problems(counts)
    found_problems += checks.supplement_problems(claim.contract_amount_fen, claim.eligible_fee_fen, counts)
    if claim.order is not None:
        found_problems += order_problems(claim.order)
    found_problems += checks.amount_problems(found, len(claim.receipts), len(claim.invoices))
    found_problems += [Problem("receipts", "银行回单还没有上传文件") for r in claim.receipts if r.file_id is None][:1]
    found_problems += [Problem("invoices", "发票还没有上传照片") for i in claim.invoices if i.file_id is None][:1]
    found_problems += checks.invoice_problems([i.number for i in claim.invoices], claim.id,
                                              explained=counts.get("other", 0) > 0)
    if claim.kind == "offline":
        found_problems += offline_problems(claim)
    missing = [code for code in DECLARATIONS if code not in set(declared)]
    if missing:
        found_problems.append(Problem("declarations", "请逐项确认以下声明"))
    if found.contract_fen is not None and found.requested_fen <= 0:
        found_problems.append(Problem("contract_amount", "按合同金额、可兑付服务费、发票和回单金额、"
                                                         "实际服务金额和创新券剩余可用金额计算，本次可兑付金额为零"))
    return found_problems


def order_problems(order: Order) -> list[Problem]:
    """What keeps an online claim's order from carrying a submission: it is no longer in service (cancelled, closed)
    or not back 待补正, a 申请取消 waits for an answer, or the provider has not confirmed the 实际服务金额."""
    if order.status not in (OrderStatus.IN_SERVICE, OrderStatus.CORRECTION):
        return [Problem("order", f"订单当前为“{order.status_label}”，不能提交兑付")]
    if order.cancel_pending:
        return [Problem("order", "订单有等待答复的取消申请，请先撤回或答复取消申请，再提交兑付")]
    if order.final_amount_fen is None:
        return [Problem("order", UNCONFIRMED)]
    return []
