"""The numbers behind the statistics page: one function per chart, each a few grouped queries returning plain rows.

Definitions the page and the workbooks share:
- A voucher's city is the 注册地 the reviewer confirmed at approval (local.VOUCHER_CITY; the registered city as filed
  for vouchers approved before that), the address the region, the rate and the local matching were decided by
  (SPEC 1.1) and the one the payment batch reports per city.
- "Used" (已兑付) is the voucher's disbursed money; approved-but-unpaid and reserved money are shown apart.
- Months and years are China time (Asia/Shanghai, UTC+8, no DST); datetimes are stored as naive UTC, so a China
  month is compared as a UTC range, which works on every dialect and uses the column's index.
- Orders count when placed in the year (inactive ones are left out: withdrawn, declined, expired, cancelled by both
  sides or closed by a reviewer, OrderStatus.INACTIVE); an order counts once
  for every field its services belong to, with its whole quote, so the fields' totals may exceed all orders'.
"""
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from sqlalchemy import case, func, select

from .. import policy
from ..extensions import db
from ..models import (
    Field,
    Order,
    OrderItem,
    OrderStatus,
    PaymentBatch,
    Provider,
    Redemption,
    RedemptionStatus,
    Voucher,
    VoucherApplication,
    service_fields,
)
from ..orders.ratings import ratings_for
from ..redemption.export import city_of
from ..vouchers.local import VOUCHER_CITY

CHINA_OFFSET = timedelta(hours=8)
MONTHS = range(1, 13)
TOP_PROVIDERS = 10


@dataclass(frozen=True)
class CityVouchers:
    city: str
    issued_count: int
    issued_fen: int
    disbursed_fen: int
    approved_fen: int
    reserved_fen: int

    @property
    def remaining_fen(self) -> int:
        return self.issued_fen - self.disbursed_fen - self.approved_fen - self.reserved_fen


@dataclass(frozen=True)
class MonthFlow:
    month: int
    issued_count: int
    issued_fen: int
    paid_count: int
    paid_fen: int


@dataclass(frozen=True)
class StatusClaims:
    status: str
    label: str
    count: int
    requested_fen: int
    approved_fen: int


@dataclass(frozen=True)
class FieldOrders:
    field: str
    order_count: int
    quote_fen: int


@dataclass(frozen=True)
class ProviderRank:
    provider_id: int
    name: str
    order_count: int
    rating_average: Decimal | None
    rating_count: int


@dataclass(frozen=True)
class CityMatching:
    city: str
    paid_count: int
    provincial_fen: int
    local_fen: int


def vouchers_by_city(year: int) -> list[CityVouchers]:
    """The year's vouchers per city: how many, their total, and how much is disbursed, approved or reserved."""
    rows = db.session.execute(
        select(VOUCHER_CITY, func.count(Voucher.id), func.sum(Voucher.total_fen),
               func.sum(Voucher.disbursed_fen), func.sum(Voucher.approved_fen), func.sum(Voucher.reserved_fen))
        .join(VoucherApplication, Voucher.application_id == VoucherApplication.id)
        .where(Voucher.year == year).group_by(VOUCHER_CITY))
    return [CityVouchers(city, *sums) for city, sums in _per_city(rows, width=5)]


def vouchers_by_month(year: int) -> list[MonthFlow]:
    """Per China month: vouchers issued (issued_at) and claims paid (the payment batch's paid_on, approved_fen)."""
    issued_month = _month_of(Voucher.issued_at, year, _china_month_start)
    issued = _by_month(db.session.execute(
        select(issued_month, func.count(Voucher.id), func.sum(Voucher.total_fen))
        .where(*_within(Voucher.issued_at, year, _china_month_start)).group_by(issued_month)))
    paid_month = _month_of(PaymentBatch.paid_on, year, _first_day)
    paid = _by_month(db.session.execute(
        select(paid_month, func.count(Redemption.id), func.sum(Redemption.approved_fen))
        .join(PaymentBatch, Redemption.payment_batch_id == PaymentBatch.id)
        .where(Redemption.status == RedemptionStatus.PAID, *_within(PaymentBatch.paid_on, year, _first_day))
        .group_by(paid_month)))
    return [MonthFlow(month, *issued.get(month, (0, 0)), *paid.get(month, (0, 0))) for month in MONTHS]


def claims_by_status(year: int) -> list[StatusClaims]:
    """Claims on the year's vouchers per status (drafts are the enterprise's own business, so left out)."""
    rows = db.session.execute(
        select(Redemption.status, func.count(Redemption.id), func.sum(Redemption.requested_fen),
               func.sum(Redemption.approved_fen))
        .join(Voucher, Redemption.voucher_id == Voucher.id)
        .where(Voucher.year == year, Redemption.status != RedemptionStatus.DRAFT).group_by(Redemption.status))
    found = {status: (count, _int(requested), _int(approved)) for status, count, requested, approved in rows}
    return [StatusClaims(status, label, *found.get(status, (0, 0, 0)))
            for status, label in RedemptionStatus.LABELS.items() if status != RedemptionStatus.DRAFT]


def orders_by_field(year: int) -> list[FieldOrders]:
    """Orders placed in the year and their quotes per field, most orders first; an order counts once per field."""
    order_fields = (select(OrderItem.order_id, service_fields.c.field_id)
                    .join(service_fields, service_fields.c.service_id == OrderItem.service_id).distinct().subquery())
    rows = db.session.execute(
        select(Field.name, func.count(Order.id), func.sum(Order.quote_fen))
        .join(order_fields, order_fields.c.field_id == Field.id).join(Order, Order.id == order_fields.c.order_id)
        .where(*_placed_in(year)).group_by(Field.id, Field.name, Field.position)
        .order_by(func.count(Order.id).desc(), Field.position, Field.id))
    return [FieldOrders(name, count, _int(quotes)) for name, count, quotes in rows]


def top_providers(year: int) -> list[ProviderRank]:
    """The ten providers with most orders placed in the year, with the rating their shop page shows."""
    rows = db.session.execute(
        select(Provider.id, Provider.name, func.count(Order.id)).join(Order, Order.provider_id == Provider.id)
        .where(*_placed_in(year)).group_by(Provider.id, Provider.name)
        .order_by(func.count(Order.id).desc(), Provider.id).limit(TOP_PROVIDERS)).all()
    ratings = ratings_for(provider_id for provider_id, _, _ in rows)
    return [ProviderRank(provider_id, name, count, *ratings[provider_id]) for provider_id, name, count in rows]


def local_matching_by_city(year: int) -> list[CityMatching]:
    """Paid claims on the year's vouchers per city: the provincial money paid and the local matching the city owes."""
    rows = db.session.execute(
        select(VOUCHER_CITY, func.count(Redemption.id), func.sum(Redemption.approved_fen),
               func.sum(Redemption.local_match_fen))
        .join(Voucher, Redemption.voucher_id == Voucher.id)
        .join(VoucherApplication, Voucher.application_id == VoucherApplication.id)
        .where(Voucher.year == year, Redemption.status == RedemptionStatus.PAID)
        .group_by(VOUCHER_CITY))
    return [CityMatching(city, *sums) for city, sums in _per_city(rows, width=3)]


def _per_city(rows, width: int) -> list[tuple[str, list[int]]]:
    """Sums per voucher city (local.VOUCHER_CITY) in policy order (every Jiangsu city, zeros included, so cities
    compare), then any other city as stored; "南京市" and "南京" add up together."""
    sums = {city: [0] * width for city in policy.CITIES}
    for city, *values in rows:
        city_sums = sums.setdefault(city_of(city) or "未填写", [0] * width)
        for index, value in enumerate(values):
            city_sums[index] += _int(value)
    return list(sums.items())


def _by_month(rows) -> dict[int, tuple[int, int]]:
    return {int(month): (count, _int(total)) for month, count, total in rows}


def _china_month_start(year: int, month: int) -> datetime:
    """The UTC instant a China-time month begins (month 13 is January of the next year)."""
    return datetime(year + month // 13, (month - 1) % 12 + 1, 1) - CHINA_OFFSET


def _first_day(year: int, month: int) -> date:
    """The first day of a month, for date columns that already hold China dates."""
    return date(year + month // 13, (month - 1) % 12 + 1, 1)


def _within(column, year: int, month_start) -> tuple:
    return column >= month_start(year, 1), column < month_start(year, 13)


def _month_of(column, year: int, month_start):
    """The month number of a value already known to lie in `year`, as a CASE on the month boundaries."""
    return case(*[(column < month_start(year, month + 1), month) for month in MONTHS[:-1]], else_=MONTHS[-1])


def _placed_in(year: int) -> tuple:
    return (*_within(Order.created_at, year, _china_month_start), Order.status.not_in(OrderStatus.INACTIVE))


def _int(value) -> int:
    """SUM of nothing is NULL; PostgreSQL's SUM of BIGINT is NUMERIC. Both become a plain int."""
    return int(value or 0)
