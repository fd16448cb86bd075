"""The order lists as the seed shows them (SPEC 5), shared by the buyer's 我的订单 (/me/orders) and the provider's
订单管理 (/seller/orders): the two kinds (创新券订单 / 非创新券订单, ?kind=cxq / ?kind=ord, absent: both), the
订单状态 tabs, the 兑付状态 filter (?pay=), and each row's claim (申请兑付, 审核认定, 拨付) fetched for the whole
page in one query. Filters are plain GET arguments, so a list works without JavaScript at the URL htmx pushes.
"""
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from urllib.parse import parse_qsl, urlsplit

from flask import current_app, request, url_for
from sqlalchemy import Select, func, select
from werkzeug.datastructures import MultiDict

from ..extensions import db
from ..models import Order, Redemption, RedemptionStatus
from ..pagination import Page, page_number
from . import lifecycle
from .numbers import ORDER_NO_MAX

KINDS = {"cxq": "创新券订单", "ord": "非创新券订单"}
OLD_KINDS = {"voucher": "cxq", "other": "ord"}  # the provider's list before the buyer had kinds too
# 兑付状态: key -> (label, the claim states it means; None: no claim submitted yet, a draft at most).
PAYOUT = {
    "none": ("未申请兑付", None),
    "submitted": ("审核中", frozenset({RedemptionStatus.SUBMITTED})),
    "correction": ("待补正", frozenset({RedemptionStatus.CORRECTION})),
    "approved": ("审核通过 / 公示中", frozenset({RedemptionStatus.APPROVED, RedemptionStatus.PUBLICITY})),
    "awaiting_payment": ("待兑付", frozenset({RedemptionStatus.AWAITING_PAYMENT})),
    "paid": ("已兑付", frozenset({RedemptionStatus.PAID})),
    "rejected": ("审核不通过", frozenset({RedemptionStatus.REJECTED})),
}
DECIDED = frozenset({RedemptionStatus.APPROVED, RedemptionStatus.PUBLICITY, RedemptionStatus.AWAITING_PAYMENT,
                     RedemptionStatus.PAID})  # 审核认定 has an amount


@dataclass
class OrderFilters:
    kind: str = ""     # "", "cxq" or "ord"
    tab: str = "all"   # one of lifecycle.BUYER_TABS
    pay: str = ""      # one of PAYOUT: 创新券订单 only
    q: str = ""        # part of the order number

    @classmethod
    def from_args(cls, args) -> "OrderFilters":
        """The filters a URL asks for; anything unknown falls back to its default, never to an error."""
        kind = OLD_KINDS.get(args.get("kind", ""), args.get("kind", ""))
        kind = kind if kind in KINDS else ""
        tab = args.get("tab", "")
        pay = args.get("pay", "") if kind != "ord" else ""
        return cls(kind=kind, tab=tab if tab in lifecycle.tabs_for(kind != "ord") else "all",
                   pay=pay if pay in PAYOUT else "", q=args.get("q", "").strip().upper()[:ORDER_NO_MAX],
                   **cls.more_from_args(args))

    @classmethod
    def more_from_args(cls, args) -> dict:
        """What a subclass adds (the provider's search by buyer)."""
        return {}

    @classmethod
    def from_url(cls, url: str) -> "OrderFilters":
        return cls.from_args(MultiDict(parse_qsl(urlsplit(url).query)))

    def params(self, **changes) -> dict:
        """URL arguments for this list with `changes`; defaults are left out so URLs stay short."""
        defaults = asdict(type(self)())
        return {key: value for key, value in {**asdict(self), **changes}.items() if value and value != defaults[key]}

    @property
    def with_claims(self) -> bool:
        """The list may hold 创新券订单, so it shows the 兑付 columns, tabs and filter."""
        return self.kind != "ord"

    @property
    def searching(self) -> bool:
        """Something narrows the list beyond its kind and tab."""
        return bool(self.q or self.pay)

    @property
    def tabs(self) -> dict:
        return lifecycle.tabs_for(self.with_claims)

    def searched(self) -> list:
        """WHERE clauses of the search alone (the kind's counts are taken within it)."""
        return [Order.order_no.contains(self.q, autoescape=True)] if self.q else []

    def where(self) -> list:
        """WHERE clauses of the kind, the 兑付状态 and the search (the tab's counts are taken within them)."""
        where = self.searched()
        if self.kind:
            where.append(Order.is_voucher.is_(self.kind == "cxq"))
        if self.pay:
            where.append(payout_is(self.pay))
        return where


def payout_is(key: str):
    """WHERE clause: the order's claim is in the 兑付状态 `key` (PAYOUT); "none": a 创新券订单 without a claim
    submitted. An order has one claim at most beside rejected ones, after which it never takes another."""
    states = PAYOUT[key][1]
    if states is None:
        sent = select(Redemption.order_id).where(Redemption.order_id.is_not(None),
                                                 Redemption.status != RedemptionStatus.DRAFT)
        return Order.is_voucher.is_(True) & Order.id.not_in(sent)
    return Order.id.in_(select(Redemption.order_id).where(Redemption.status.in_(states)))


def list_counts(filters: OrderFilters, owner) -> tuple[dict[str, int], dict[str, int]]:
    """The 订单状态 tabs' counts (within the kind, the 兑付状态 and the search) and the kinds' counts (within the search
    alone, and of both: ""), from one query grouped by status, kind and whether the order is in the 兑付状态."""
    paid = payout_is(filters.pay) if filters.pay else Order.id.is_not(None)
    orders = select(Order.status, Order.is_voucher, paid.label("paid")).where(owner, *filters.searched()).subquery()
    grouped = db.session.execute(select(orders.c.status, orders.c.is_voucher, orders.c.paid, func.count())
                                 .group_by(orders.c.status, orders.c.is_voucher, orders.c.paid))
    voucher = None if not filters.kind else filters.kind == "cxq"
    by_status: dict[str, int] = {}
    by_voucher: dict[bool, int] = {}
    for status, is_voucher, in_payout, count in grouped:
        by_voucher[bool(is_voucher)] = by_voucher.get(bool(is_voucher), 0) + count
        if in_payout and voucher in (None, bool(is_voucher)):
            by_status[status] = by_status.get(status, 0) + count
    kinds = {kind: by_voucher.get(kind == "cxq", 0) for kind in KINDS}
    return lifecycle.counts_by_tab(by_status), {"": sum(kinds.values()), **kinds}


def claims_by_order(orders: Iterable[Order]) -> dict[int, Redemption]:
    """Each order's newest claim (a rejected one included, as the order's page shows it), for a page of orders in
    one query."""
    ids = [order.id for order in orders if order.is_voucher]
    if not ids:
        return {}
    found = db.session.scalars(select(Redemption).where(Redemption.order_id.in_(ids)).order_by(Redemption.id))
    return {claim.order_id: claim for claim in found}


def payout_label(order: Order, claim: Redemption | None) -> str:
    """兑付状态 as a row shows it ("" for a 非创新券订单)."""
    if not order.is_voucher:
        return ""
    if claim is None or claim.submitted_at is None:
        return "未申请" + ("（已暂存）" if claim is not None else "")
    return claim.status_label


def list_context(filters: OrderFilters, owner, stmt: Select) -> dict:
    """What both lists' templates need: `owner` is the WHERE clause of whose orders they are, `stmt` the orders of
    the chosen tab, of which `page` holds one page; its count is the tab's (no count query of its own)."""
    tab_counts, kind_counts = list_counts(filters, owner)
    per_page, number = current_app.config["PER_PAGE"], page_number()
    rows = db.session.scalars(stmt.limit(per_page).offset((number - 1) * per_page)).all()
    page = Page(rows, number, per_page, tab_counts[filters.tab])
    return dict(filters=filters, page=page, back=request.full_path.rstrip("?"), kinds=KINDS, payouts=PAYOUT,
                decided=DECIDED, payout_label=payout_label, claims=claims_by_order(page.items), tabs=filters.tabs,
                tab_counts=tab_counts, kind_counts=kind_counts)


def back_to(endpoint: str) -> str:
    """Where a row's plain form came from (its hidden `back`): the list of `endpoint` with its filters, nothing
    else, so a posted URL never sends anyone away from the site."""
    back = request.form.get("back", "")
    parts = urlsplit(back)
    return back if not parts.scheme and not parts.netloc and parts.path == url_for(endpoint) else ""
