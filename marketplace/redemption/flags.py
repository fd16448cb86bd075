"""Risk flags on submitted claims (SPEC 7.4, 11): what the platform can see that a reviewer should weigh.

`flags_for(claims)` answers a whole queue page with a fixed number of queries, whatever the number of claims or
invoices: the per-claim relations (invoices, receipts, voucher, enterprise, order → provider) come from the
caller's eager loads (`EAGER`), and the cross-claim facts (invoice numbers claimed elsewhere, non-eligible order
lines, year-end submissions) are read in one batch each.

Year-end rule: a claim submitted (China time) in the last `YEAR_END_DAYS` days of December is flagged; the
message says how many claims the same enterprise submitted in that window, and the flag turns to danger from
`YEAR_END_CLUSTER` claims on — vouchers lapse on 12-31, so claims rushed in at the end deserve a second look.
"""
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timezone
from typing import Iterable, Optional

from sqlalchemy import func, select
from sqlalchemy.orm import joinedload, selectinload

from .. import policy
from ..extensions import db
from ..models import (CHINA, Enterprise, Invoice, Order, OrderItem, Redemption, RedemptionStatus, Service,
                      ShopStatus, UnitType, china_today)
from . import checks, claims

R = RedemptionStatus
YEAR_END_DAYS = 15
YEAR_END_CLUSTER = 3
LEVELS = ("danger", "warn", "info")

# Loader options that make flags_for() query-free per claim; use them on the statement that loads the claims.
EAGER = (selectinload(Redemption.invoices), selectinload(Redemption.receipts), joinedload(Redemption.voucher),
         joinedload(Redemption.enterprise), joinedload(Redemption.order).joinedload(Order.provider))


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
    order_no: Optional[str]

    @property
    def described(self) -> str:
        where = f"订单 {self.order_no}" if self.order_no else "线下订单"
        return f"{self.enterprise_name}（{where}，兑付申请 #{self.redemption_id}，{R.LABELS[self.status]}）"


def flags(claim: Redemption, today: Optional[date] = None) -> list[Flag]:
    return flags_for([claim], today)[claim.id]


def flags_for(found_claims: Iterable[Redemption], today: Optional[date] = None) -> dict[int, list[Flag]]:
    """Each claim's flags, the most serious first."""
    found_claims = list(found_claims)
    today = today or china_today()
    elsewhere = _invoice_uses(found_claims)
    ineligible = _ineligible_lines(found_claims)
    year_end = _year_end_counts(found_claims)
    result = {}
    for claim in found_claims:
        found = [*_amount_flags(claim), *_duplicate_flags(claim, elsewhere), *_provider_flags(claim, today),
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


def _duplicate_flags(claim: Redemption, elsewhere: dict[str, list[OtherUse]]) -> list[Flag]:
    found = []
    for number in sorted({checks.normalize_invoice_number(i.number) for i in claim.invoices}):
        others = [use for use in elsewhere.get(number, ()) if use.redemption_id != claim.id]
        if not others:
            continue
        live = any(use.status != R.REJECTED for use in others)
        found.append(Flag("duplicate_invoice", "danger" if live else "warn",
                          f"发票 {number} 已在其他兑付申请中使用：" + "；".join(use.described for use in others)))
    return found


def _provider_flags(claim: Redemption, today: date) -> list[Flag]:
    """Online claims only: an offline claim's provider has no row on the platform to compare with."""
    provider = claim.order.provider if claim.order is not None else None
    if provider is None:
        return []
    found = []
    rep = _id_number(provider.legal_rep_id_number)
    if rep and rep == _id_number(claim.enterprise.legal_rep_id_number):
        found.append(Flag("same_legal_rep", "danger", f"关联方：企业与服务单位{provider.name}的法定代表人证件号码相同"))
    if provider.status != ShopStatus.OPEN:
        found.append(Flag("provider_closed", "warn", f"服务单位{provider.name}当前为“{provider.status_label}”"))
    expires = provider.qualification_expires_on
    if provider.unit_type not in UnitType.NO_QUALIFICATION_NEEDED and expires is not None and expires < today:
        found.append(Flag("qualification_expired", "danger", f"服务单位资质已于 {expires:%Y-%m-%d} 过期"))
    return found


def _qualification_flags(claim: Redemption, today: date) -> list[Flag]:
    """Offline claims whose provider type needs a CMA/CNAS-style qualification (SPEC 7.3)."""
    if claim.kind != "offline" or not claim.provider_unit_type or not claims.needs_qualification(claim.provider_unit_type):
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
    numbers = {checks.normalize_invoice_number(i.number) for claim in found_claims for i in claim.invoices} - {""}
    if not numbers:
        return {}
    rows = db.session.execute(
        select(Invoice.number, Redemption.id, Redemption.status, Enterprise.name, Order.order_no)
        .join(Redemption, Invoice.redemption_id == Redemption.id)
        .join(Enterprise, Redemption.enterprise_id == Enterprise.id)
        .outerjoin(Order, Redemption.order_id == Order.id)
        .where(Invoice.number.in_(numbers), Redemption.status != R.DRAFT)
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
                                  .where(Redemption.enterprise_id.in_(enterprise_ids), Redemption.status != R.DRAFT,
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
    return moment.astimezone(timezone.utc).replace(tzinfo=None)


def _china_date(moment: Optional[datetime]) -> Optional[date]:
    return None if moment is None else moment.replace(tzinfo=timezone.utc).astimezone(CHINA).date()


def _id_number(value: Optional[str]) -> str:
    return "".join((value or "").split()).upper()
