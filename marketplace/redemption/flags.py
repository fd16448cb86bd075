"""Risk flags on submitted claims (SPEC 7.4, 11): what the platform can see that a reviewer should weigh.

`flags_for(claims)` answers a whole queue page with a fixed number of queries, whatever the number of claims or
invoices: the per-claim relations (invoices, receipts, the voucher with its application, the enterprise with its
account, the order with its lines and its provider with the provider's account) come from the caller's eager loads
(`EAGER`), and the cross-claim facts (invoice numbers claimed elsewhere, non-eligible order lines, year-end
submissions, the providers on the platform holding the credit codes offline claims name) are read in one batch each.

Year-end rule: a claim submitted (China time) in the last `YEAR_END_DAYS` days of December is flagged; the
message says how many claims the same enterprise submitted in that window, and the flag turns to danger from
`YEAR_END_CLUSTER` claims on — vouchers lapse on 12-31, so claims rushed in at the end deserve a second look.
"""
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime

from flask import current_app
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload, selectinload

from .. import policy, related_parties
from ..extensions import db
from ..models import (
    CHINA,
    Enterprise,
    Invoice,
    Order,
    OrderItem,
    Provider,
    Redemption,
    RedemptionStatus,
    Service,
    ShopStatus,
    UnitType,
    Voucher,
    china_today,
)
from ..validators import normalize_credit_code
from . import checks, invoice_numbers

YEAR_END_DAYS = 15
YEAR_END_CLUSTER = 3
LEVELS = ("danger", "warn", "info")
# A pilot provider's 确认材料 approves a claim on its own only when it carries none of these (SPEC 7.4, issue 14).
BLOCKING = frozenset({"danger", "warn"})

# Loader options that make flags_for() query-free per claim; use them on the statement that loads the claims.
EAGER = (selectinload(Redemption.invoices), selectinload(Redemption.receipts),
         joinedload(Redemption.voucher).joinedload(Voucher.application),
         joinedload(Redemption.enterprise).joinedload(Enterprise.user),
         joinedload(Redemption.order).joinedload(Order.provider).joinedload(Provider.user),
         joinedload(Redemption.order).selectinload(Order.items))


@dataclass(frozen=True)
class Flag:
    code: str
    level: str      # "danger" | "warn" | "info"
    message: str


@dataclass(frozen=True)
class OtherUse:
    """An invoice number found on another (non-draft) claim."""
    number: str
    redemption_id: int
    status: str
    enterprise_name: str
    order_no: str | None

    @property
    def described(self) -> str:
        where = f"订单 {self.order_no}" if self.order_no else "线下订单"
        return (f"{self.enterprise_name}（{where}，兑付申请 #{self.redemption_id}，"
                f"{RedemptionStatus.LABELS[self.status]}）")


def flags(claim: Redemption, today: date | None = None) -> list[Flag]:
    return flags_for([claim], today)[claim.id]


def blocking(claim: Redemption) -> list[Flag]:
    """The flags that keep a pilot provider's 确认材料 from approving the claim without a reviewer."""
    return [flag for flag in flags(claim) if flag.level in BLOCKING]


def flags_for(found_claims: Iterable[Redemption], today: date | None = None) -> dict[int, list[Flag]]:
    """Each claim's flags, the most serious first."""
    found_claims = list(found_claims)
    today = today or china_today()
    elsewhere = _invoice_uses(found_claims)
    ineligible = _ineligible_lines(found_claims)
    year_end = _year_end_counts(found_claims)
    on_platform = _providers_named_offline(found_claims)
    result = {}
    for claim in found_claims:
        found = [*_amount_flags(claim), *_confirmation_flags(claim), *_duplicate_flags(claim, elsewhere),
                 *_related_flags(claim, on_platform), *_provider_flags(claim, today),
                 *_qualification_flags(claim, today), *_eligibility_flags(claim, ineligible),
                 *_year_end_flags(claim, year_end)]
        result[claim.id] = sorted(found, key=lambda flag: LEVELS.index(flag.level))
    return result


# ---- one claim -------------------------------------------------------------------------------------------------

def _amount_flags(claim: Redemption) -> list[Flag]:
    found = []
    invoices, receipts = sum(i.amount_fen for i in claim.invoices), sum(r.amount_fen for r in claim.receipts)
    if invoices != receipts:
        found.append(Flag("totals", "danger", f"银行回单合计 ¥{policy.format_yuan(receipts)} 与发票合计 "
                                             f"¥{policy.format_yuan(invoices)} 不一致"))
    voucher = claim.voucher
    if voucher is None or claim.requested_fen <= 0:
        return found
    by_rate = policy.voucher_amount(claim.eligible_spend_fen, voucher.region)
    cap = policy.annual_cap(voucher.region)
    if claim.requested_fen < by_rate:
        found.append(Flag("at_cap", "warn", f"申请金额受剩余额度限制：按比例可兑 ¥{policy.format_yuan(by_rate)}，"
                                           f"实际申请 ¥{policy.format_yuan(claim.requested_fen)}，用尽本年度创新券"))
    elif claim.requested_fen >= cap:
        found.append(Flag("at_cap", "warn", f"一笔申请即达年度上限 ¥{policy.format_yuan(cap)}"))
    return found


def _confirmation_flags(claim: Redemption) -> list[Flag]:
    """What the claim says against what the provider confirmed and the listed prices (online claims), and the
    eligible part of a mixed contract."""
    found = []
    order = claim.order
    if order is not None:
        found += _final_amount_flags(claim, order)
        found += _price_flags(order)
    if checks.is_mixed(claim.contract_amount_fen, claim.eligible_fee_fen):
        found.append(Flag("mixed_contract", "warn", f"混合合同：合同金额 {_yuan(claim.contract_amount_fen)}，"
                                                    f"可兑付服务费 {_yuan(claim.eligible_fee_fen)}，请核对补充协议"))
    return found


def _final_amount_flags(claim: Redemption, order: Order) -> list[Flag]:
    confirmed = order.final_amount_fen
    if confirmed is None:
        return [Flag("unconfirmed", "danger", "服务单位尚未确认服务完成和实际服务金额")]
    found = []
    claimed = checks.claimed_fen(claim.contract_amount_fen, sum(i.amount_fen for i in claim.invoices))
    if claimed > confirmed:
        found.append(Flag("above_confirmed", "warn", f"合同或发票金额 {_yuan(claimed)} 高于服务单位确认的实际服务金额 "
                                                     f"{_yuan(confirmed)}，按 {_yuan(confirmed)} 计算"))
    if order.final_amount_note:
        raised = order.quote_fen is not None and confirmed > order.quote_fen
        found.append(Flag("final_differs", "warn" if raised else "info",
                          f"服务单位确认的实际服务金额 {_yuan(confirmed)} 与订单金额 {_yuan(order.quote_fen)} 不一致，"
                          f"说明：{order.final_amount_note}"))
    return found


def _price_flags(order: Order) -> list[Flag]:
    """The order's amount and the 实际服务金额 against the listed price × quantity (the buyer confirmed a far one at
    checkout). With a 面议 line there is nothing to compare with: the amounts stand on the two parties' word."""
    if any(item.unit_price_fen is None for item in order.items):
        agreed = "下单时未填写订单金额" if order.quote_fen is None else f"订单金额 {_yuan(order.quote_fen)}"
        return [Flag("negotiated", "warn", f"订单含面议服务，{agreed}，实际服务金额 {_yuan(order.final_amount_fen)} "
                                           "无标价可比")]
    priced = sum(item.unit_price_fen * item.quantity for item in order.items)
    factor = current_app.config["ORDER_CONFIRM_FACTOR"]
    far = [f"{name} {_yuan(amount)}" for name, amount in (("订单金额", order.quote_fen),
                                                          ("实际服务金额", order.final_amount_fen))
           if policy.far_from_price(amount, priced, factor)]
    if not far:
        return []
    return [Flag("far_from_price", "warn", f"{'、'.join(far)} 与服务标价合计 {_yuan(priced)} 相差{factor}倍以上")]


def _yuan(fen: int | None) -> str:
    return "面议" if fen is None else f"¥{policy.format_yuan(fen)}"


def _duplicate_flags(claim: Redemption, elsewhere: dict[str, list[OtherUse]]) -> list[Flag]:
    found = []
    for number in sorted({invoice_numbers.canonical(i.number) for i in claim.invoices}):
        others = [use for use in elsewhere.get(number, ()) if use.redemption_id != claim.id]
        if not others:
            continue
        live = any(use.status != RedemptionStatus.REJECTED for use in others)
        found.append(Flag("duplicate_invoice", "danger" if live else "warn",
                          f"发票 {number} 已在其他兑付申请中使用：" + "；".join(use.described for use in others)))
    return found


def _related_flags(claim: Redemption, on_platform: dict[str, Provider]) -> list[Flag]:
    """The enterprise (with its voucher's application) against the order's provider; for an offline claim, against
    the credit code and phone it names and every identity of a provider on the platform holding that credit code,
    whatever its shop's state."""
    if claim.order is not None:
        name, theirs = claim.order.provider.name, related_parties.of_provider(claim.order.provider)
    else:
        name = claim.provider_name
        theirs = related_parties.of_unit(claim.provider_credit_code, claim.provider_phone)
        registered = on_platform.get(normalize_credit_code(claim.provider_credit_code or ""))
        if registered is not None:
            theirs |= related_parties.of_provider(registered)
    application = claim.voucher.application if claim.voucher is not None else None
    kinds = related_parties.shared(related_parties.of_enterprise(claim.enterprise, application), theirs)
    if not kinds:
        return []
    return [Flag("related_party", "danger", f"关联方：企业与服务单位{name}的{'、'.join(kinds)}相同")]


def _provider_flags(claim: Redemption, today: date) -> list[Flag]:
    """The order's provider as it stands today (online claims; an offline claim's unit is checked from what the
    claim says, see _qualification_flags)."""
    if claim.order is None:
        return []
    provider = claim.order.provider
    found = []
    if provider.status != ShopStatus.OPEN:
        found.append(Flag("provider_closed", "warn", f"服务单位{provider.name}当前为“{provider.status_label}”"))
    expires = provider.qualification_expires_on
    if provider.unit_type not in UnitType.NO_QUALIFICATION_NEEDED and expires is not None and expires < today:
        found.append(Flag("qualification_expired", "danger", f"服务单位资质已于 {expires:%Y-%m-%d} 过期"))
    return found


def _qualification_flags(claim: Redemption, today: date) -> list[Flag]:
    """Offline claims whose provider type needs a CMA/CNAS-style qualification (SPEC 7.3)."""
    unit_type = claim.provider_unit_type
    if claim.kind != "offline" or not unit_type or not checks.needs_qualification(unit_type):
        return []
    if claim.qualification_file_id is None or claim.qualification_expires_on is None:
        return [Flag("qualification_missing", "danger", "服务单位资质文件或有效期缺失")]
    if claim.qualification_expires_on < today:
        return [Flag("qualification_expired", "danger",
                     f"服务单位资质已于 {claim.qualification_expires_on:%Y-%m-%d} 过期")]
    return []


def _eligibility_flags(claim: Redemption, ineligible: dict[int, list[str]]) -> list[Flag]:
    names = ineligible.get(claim.order_id, []) if claim.order_id else []
    if not names:
        return []
    return [Flag("ineligible_service", "danger", "订单含不支持创新券的服务：" + "、".join(names))]


def _year_end_flags(claim: Redemption, counts: dict[tuple[int, int], int]) -> list[Flag]:
    submitted = _china_date(claim.submitted_at)
    if submitted is None or not _in_year_end(submitted):
        return []
    count = counts.get((claim.enterprise_id, submitted.year), 1)
    level = "danger" if count >= YEAR_END_CLUSTER else "info"
    return [Flag("year_end", level, f"年底集中申请：{submitted:%m-%d} 提交，本企业在 12 月最后 {YEAR_END_DAYS} 天"
                                    f"共提交 {count} 笔兑付申请")]


# ---- batched facts ---------------------------------------------------------------------------------------------

def _invoice_uses(found_claims: list[Redemption]) -> dict[str, list[OtherUse]]:
    """Every non-draft claim carrying one of these invoice numbers (one query, as checks.used_elsewhere counts)."""
    numbers = {invoice_numbers.canonical(i.number) for claim in found_claims for i in claim.invoices} - {""}
    if not numbers:
        return {}
    rows = db.session.execute(
        select(Invoice.number, Redemption.id, Redemption.status, Enterprise.name, Order.order_no)
        .join(Redemption, Invoice.redemption_id == Redemption.id)
        .join(Enterprise, Redemption.enterprise_id == Enterprise.id)
        .outerjoin(Order, Redemption.order_id == Order.id)
        .where(Invoice.number.in_(numbers), Redemption.status != RedemptionStatus.DRAFT)
        .order_by(Redemption.id))
    uses = defaultdict(list)
    for row in rows:
        uses[row[0]].append(OtherUse(*row))
    return uses


def _ineligible_lines(found_claims: list[Redemption]) -> dict[int, list[str]]:
    """Order lines whose service the catalog marks as not payable by voucher, by order id."""
    order_ids = {claim.order_id for claim in found_claims if claim.order_id}
    if not order_ids:
        return {}
    rows = db.session.execute(select(OrderItem.order_id, OrderItem.service_name)
                              .join(Service, OrderItem.service_id == Service.id)
                              .where(OrderItem.order_id.in_(order_ids), Service.voucher_eligible.is_(False))
                              .order_by(OrderItem.id))
    lines = defaultdict(list)
    for order_id, name in rows:
        lines[order_id].append(name)
    return lines


def _providers_named_offline(found_claims: list[Redemption]) -> dict[str, Provider]:
    """By credit code: the providers on the platform (any shop state) holding a credit code an offline claim names,
    with their accounts (one query)."""
    codes = {normalize_credit_code(claim.provider_credit_code) for claim in found_claims
             if claim.order_id is None and claim.provider_credit_code}
    if not codes:
        return {}
    found = db.session.scalars(select(Provider).where(Provider.credit_code.in_(codes))
                               .options(joinedload(Provider.user)))
    return {provider.credit_code: provider for provider in found}


def _year_end_counts(found_claims: list[Redemption]) -> dict[tuple[int, int], int]:
    """(enterprise, year) → claims it submitted in that year's last days, for the claims submitted then."""
    wanted = defaultdict(set)
    for claim in found_claims:
        submitted = _china_date(claim.submitted_at)
        if submitted is not None and _in_year_end(submitted):
            wanted[submitted.year].add(claim.enterprise_id)
    counts = {}
    for year, enterprise_ids in wanted.items():
        start, end = _year_end_window(year)
        rows = db.session.execute(select(Redemption.enterprise_id, func.count())
                                  .where(Redemption.enterprise_id.in_(enterprise_ids),
                                         Redemption.status != RedemptionStatus.DRAFT,
                                         Redemption.submitted_at >= start, Redemption.submitted_at < end)
                                  .group_by(Redemption.enterprise_id))
        counts.update({(enterprise_id, year): count for enterprise_id, count in rows})
    return counts


# ---- helpers ---------------------------------------------------------------------------------------------------

def _in_year_end(day: date) -> bool:
    return day.month == 12 and day.day > 31 - YEAR_END_DAYS


def _year_end_window(year: int) -> tuple[datetime, datetime]:
    """The last YEAR_END_DAYS days of `year` in China, as the naive UTC datetimes the database stores."""
    start = datetime(year, 12, 32 - YEAR_END_DAYS, tzinfo=CHINA)
    end = datetime(year + 1, 1, 1, tzinfo=CHINA)
    return _naive_utc(start), _naive_utc(end)


def _naive_utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(tzinfo=None)


def _china_date(moment: datetime | None) -> date | None:
    return None if moment is None else moment.replace(tzinfo=UTC).astimezone(CHINA).date()
