"""结算 (/checkout): the cart — or one service straight from its page (立即购买, GET /checkout?service_id=&quantity=,
which leaves the cart alone) — becomes one order per provider.

A provider's lines a voucher can pay for (services with the 创新券 mark, bought by an enterprise that is not a
related party) form its voucher order (CXQ…), the rest a non-voucher order (ORD…). Each order has its contact,
amount (线上报价; empty while a 面议 price is negotiated) and note; a voucher order shows and keeps 拟兑创新券 and
asks the buyer to confirm the declarations of SPEC 1.5 the platform cannot check itself."""
from dataclasses import dataclass
from datetime import timedelta

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import joinedload
from wtforms import BooleanField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length

from .. import audit, policy, quotas
from ..accounts.access import roles_required
from ..catalog import estimate
from ..catalog.estimate import Estimate
from ..extensions import db
from ..forms import Form, MoneyField, problem_check
from ..htmx import is_htmx
from ..ids import id_arg
from ..models import CartLine, Order, OrderItem, Provider, Service, utcnow
from ..validators import phone_problem
from . import bp, lifecycle
from .cart import (
    BUYER_ROLES,
    QUANTITY_RANGE,
    Group,
    Unavailable,
    cart_lines,
    check_orderable,
    lock_cart,
    priced_total,
    provider_groups,
    quantity_of,
    voucher_estimates,
)
from .numbers import next_order_no


class OrderForm(Form):
    class Meta:
        csrf = False  # the page holds one form per order; the request's CSRF token is checked once for all

    contact_name = StringField("联系人", validators=[Length(max=50, message="联系人不超过50字")])
    contact_phone = StringField("联系电话", validators=[problem_check(phone_problem)])
    amount = MoneyField("订单金额（线上报价，元）")
    # Asked only when the amount is far from the listed price × quantity (Planned.amount_problem).
    confirm_amount = BooleanField("我已与服务单位核实，订单金额无误")
    note = TextAreaField("备注", validators=[Length(max=500, message="备注不超过500字")])

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        return self.require_filled(("contact_name", "contact_phone")) and valid


def _declaration(text: str) -> BooleanField:
    return BooleanField(text, validators=[DataRequired("请确认此项声明")])


class VoucherOrderForm(OrderForm):
    """What the platform cannot check of SPEC 1.5, the buyer of a voucher order declares."""
    declares_innovation = _declaration("本次服务用于本企业的科技创新活动，"
                                       "不属于法定认证、执法检验、强制检测、商业检验等")
    declares_unrelated = _declaration("本企业与该服务单位无直接股权关系，非同一法定代表人，"
                                      "无同一股东同时持有双方50%以上股份")
    declares_direct = _declaration("该服务由该服务单位直接提供，不存在第三方接单后转包")
    declares_unfunded = _declaration("本次服务费用不使用政府财政资金支付")

    DECLARATIONS = ("declares_innovation", "declares_unrelated", "declares_direct", "declares_unfunded")

    def declared(self) -> str:
        return "买家确认：" + "；".join(self[name].label.text for name in self.DECLARATIONS)


@dataclass
class Planned:
    """One order to be placed: a provider's voucher lines, or its other lines."""
    key: str                 # names its form's fields and its elements apart from the other orders on the page
    group: Group
    is_voucher: bool
    lines: list[CartLine]
    form: OrderForm
    estimate: Estimate | None = None  # 拟兑创新券 of a voucher order

    @property
    def provider(self):
        return self.group.provider

    @property
    def negotiable(self) -> bool:
        return any(line.service.negotiable for line in self.lines)

    @property
    def priced_fen(self) -> int:
        return priced_total(self.lines)

    @property
    def voucher_fen(self) -> int:
        """What the order keeps as 拟兑创新券 (0 while the amount is open, and for non-voucher orders)."""
        return (self.estimate.voucher_fen or 0) if self.estimate else 0

    def amount_problem(self) -> str | None:
        """Missing, not positive, over the ceiling (ORDER_MAX_FEN), or far from the listed prices and not confirmed
        (ORDER_CONFIRM_FACTOR): each a reason to show the page again."""
        amount = self.form.amount.data
        if amount is None and not self.negotiable and not self.form.amount.errors:
            return "请填写订单金额"
        problem = policy.order_amount_problem(amount, current_app.config["ORDER_MAX_FEN"])
        if problem:
            return problem
        if self.needs_confirmation and not self.form.confirm_amount.data:
            return (f"订单金额与服务参考价合计 ¥{policy.format_yuan(self.priced_fen)} 相差"
                    f"{current_app.config['ORDER_CONFIRM_FACTOR']}倍以上，请核对；确认无误请勾选下方确认项")
        return None

    @property
    def needs_confirmation(self) -> bool:
        """The amount is far from the listed price × quantity (only priced lines can say what to expect)."""
        return not self.negotiable and policy.far_from_price(self.form.amount.data, self.priced_fen,
                                                             current_app.config["ORDER_CONFIRM_FACTOR"])


@dataclass
class Checkout:
    orders: list[Planned]
    outlook: Estimate | None   # the enterprise's voucher standing and total 拟兑创新券; None for individuals
    args: dict                    # 立即购买's service_id and quantity (kept in the URL); empty for the cart
    cart_lines: list[CartLine]    # removed from the cart once ordered

    def validate(self) -> bool:
        valid = True
        for planned in self.orders:
            valid = planned.form.validate() and valid
            problem = planned.amount_problem()
            if problem:
                planned.form.fail(planned.form.amount, problem)
                valid = False
        return valid


# A 提交订单 repeated within this time (a double click, a resent form, requests at the same moment) finds the
# order the first one placed and is sent to it instead of placing another.
JUST_PLACED = timedelta(minutes=1)
ALREADY_PLACED = "订单已提交，无需重复提交。"


class NothingToCheckOut(Exception):
    """Nothing can be checked out; the buyer is sent to `back` with the message (a flash of `category`)."""

    def __init__(self, message: str, back: str, category: str = "warning"):
        super().__init__(message)
        self.back, self.category = back, category


@bp.errorhandler(NothingToCheckOut)
def _nothing_to_check_out(refused: NothingToCheckOut):
    flash(str(refused), refused.category)
    return redirect(refused.back, 303)


# ---------------------------------------------------------------- routes

@bp.route("/checkout", methods=["GET", "POST"])
@roles_required(*BUYER_ROLES)
def checkout():
    plan = _checkout(placing=request.method == "POST")
    if request.method == "POST" and plan.validate():
        orders = _place(plan)
        db.session.commit()
        flash(f"已提交{len(orders)}个订单：{'、'.join(order.order_no for order in orders)}。", "success")
        return redirect(url_for("orders.my_orders"), 303)
    return _page(plan), 422 if request.method == "POST" else 200


@bp.post("/checkout/estimate")
@roles_required(*BUYER_ROLES)
def checkout_estimate():
    """拟兑创新券 for the amounts being typed: htmx gets each estimate out of band; without JavaScript the
    重新估算 button gets the whole page again, input kept."""
    plan = _checkout()
    if is_htmx():
        return render_template("orders/partials/checkout_estimates.html", checkout=plan)
    return _page(plan)


# ---------------------------------------------------------------- what is checked out

def _checkout(placing: bool = False) -> Checkout:
    """What is checked out; `placing` (提交订单): under the lock that makes a repeat of this checkout wait for the
    first and find what it placed (the cart's row for the cart, the account's row for 立即购买)."""
    service_id = id_arg("service_id")
    if service_id is None:
        lines, args = _cart(placing), {}
    else:
        lines = _buy_now(service_id, placing)
        args = {"service_id": service_id, "quantity": lines[0].quantity}
    for line in lines:
        try:
            check_orderable(line.service)
        except Unavailable as unavailable:
            raise NothingToCheckOut(f"{unavailable}未生成任何订单。", url_for("orders.cart")) from None
    orders = [_planned(group, is_voucher, group_lines) for group in provider_groups(lines, current_user)
              for is_voucher, group_lines in ((True, group.voucher_lines), (False, group.other_lines)) if group_lines]
    return Checkout(orders, _estimate(orders), args, [] if args else lines)


def _cart(placing: bool) -> list[CartLine]:
    """The cart's lines. Checkouts of one cart queue on its row (lock_cart), so a line becomes one order and a
    repeated 提交订单 finds the cart emptied: sent to 我的订单 when an order was just placed, else told it is empty."""
    if placing:
        lock_cart(current_user.id)
    lines = cart_lines(current_user.id)
    if not lines:
        if placing and _just_placed() is not None:
            raise NothingToCheckOut(ALREADY_PLACED, url_for("orders.my_orders"), "info")
        raise NothingToCheckOut("购物车是空的，请先挑选服务。", url_for("orders.cart"))
    return lines


def _buy_now(service_id: int, placing: bool) -> list[CartLine]:
    """立即购买: one unsaved line, so the cart stays as it is. Nothing is emptied to tell a repeat from a new
    purchase, so 提交订单 queues on the account's row and an order of the same service and quantity placed within
    JUST_PLACED is taken for this one: the buyer is sent to it."""
    service = db.session.scalar(select(Service).where(Service.id == service_id)
                                .options(joinedload(Service.provider).joinedload(Provider.user),
                                         joinedload(Service.instrument)))
    if service is None:
        abort(404)
    quantity = quantity_of(request.args.get("quantity", "1"))
    if quantity is None:
        raise NothingToCheckOut(QUANTITY_RANGE, url_for("catalog.service_detail", service_id=service.id))
    if placing:
        quotas.lock_account(current_user.id)
        placed = _just_placed(Order.items.any((OrderItem.service_id == service.id) & (OrderItem.quantity == quantity)),
                              ~Order.items.any(OrderItem.service_id != service.id))
        if placed is not None:
            raise NothingToCheckOut(f"{ALREADY_PLACED}（{placed.order_no}）",
                                    url_for("orders.my_order", order_no=placed.order_no), "info")
    return [CartLine(service=service, quantity=quantity)]


def _just_placed(*where) -> Order | None:
    """The buyer's newest order placed within JUST_PLACED that matches `where`, if any."""
    return db.session.scalar(select(Order).where(Order.buyer_id == current_user.id,
                                                 Order.created_at >= utcnow() - JUST_PLACED, *where)
                             .order_by(Order.id.desc()).limit(1))


def _planned(group: Group, is_voucher: bool, lines: list[CartLine]) -> Planned:
    """The order with its form: contact from the account, amount prefilled unless a line is 面议."""
    key = f"p{group.provider.id}{'v' if is_voucher else 'n'}"
    negotiable = any(line.service.negotiable for line in lines)
    defaults = {"contact_name": current_user.name, "contact_phone": current_user.phone,
                "amount": None if negotiable else priced_total(lines)}
    form = (VoucherOrderForm if is_voucher else OrderForm)(prefix=key, data=defaults)
    return Planned(key, group, is_voucher, lines, form)


def _estimate(orders: list[Planned]) -> Estimate | None:
    """Each voucher order's 拟兑创新券 for its amount, taken in turn from this year's balance; the summary."""
    if not estimate.is_enterprise(current_user):
        return None
    voucher_orders = [planned for planned in orders if planned.is_voucher]
    outlook, each = voucher_estimates(current_user, [planned.form.amount.data for planned in voucher_orders])
    for planned, order_estimate in zip(voucher_orders, each, strict=True):
        planned.estimate = order_estimate
    return outlook


def _page(plan: Checkout):
    return render_template("orders/checkout.html", checkout=plan)


# ---------------------------------------------------------------- placing the orders

def _place(plan: Checkout) -> list[Order]:
    buyer = current_user
    orders = []
    for planned in plan.orders:
        form = planned.form
        order = Order(order_no=next_order_no(planned.is_voucher), buyer_id=buyer.id,
                      enterprise_id=buyer.enterprise.id if buyer.enterprise else None,
                      provider=planned.provider, is_voucher=planned.is_voucher,
                      contact_name=form.contact_name.data.strip(), contact_phone=form.contact_phone.data.strip(),
                      quote_fen=form.amount.data, note=(form.note.data or "").strip(),
                      estimated_voucher_fen=planned.voucher_fen,
                      items=[_item(line) for line in planned.lines])
        db.session.add(order)
        db.session.flush()
        lifecycle.place(order, buyer)
        if planned.is_voucher:
            audit.record("order", order.order_no, "declare", reason=form.declared(), actor_id=buyer.id)
        if planned.needs_confirmation:
            audit.record("order", order.order_no, "confirm_amount", actor_id=buyer.id,
                         reason=f"买家确认订单金额 ¥{policy.format_yuan(order.quote_fen)}"
                                f"（参考价合计 ¥{policy.format_yuan(planned.priced_fen)}）")
        orders.append(order)
    for line in plan.cart_lines:
        db.session.delete(line)
    return orders


def _item(line: CartLine) -> OrderItem:
    """The line as it was bought: name, instrument and price frozen."""
    service = line.service
    return OrderItem(service_id=service.id, service_name=service.name,
                     instrument_name=service.instrument.name if service.instrument else "",
                     unit_price_fen=service.price_fen, price_unit=service.price_unit, quantity=line.quantity)
