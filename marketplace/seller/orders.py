"""订单管理 (/seller/orders): the provider's 创新券 / 非创新券 orders by state, one order, and its moves.

Every move (接单, 拒绝接单, 服务完成, and after acceptance 申请取消 / 同意取消 / 拒绝取消 / 撤回取消申请) goes
through orders.lifecycle, which checks state × action × who and writes the timeline and the audit log. A
provider reaches only the orders placed with its own shop; any other order number answers 404, as if it did
not exist. A 服务承诺制 pilot provider also confirms its buyers' 兑付 materials here (确认材料, SPEC 7.4)
through redemption.claims.
"""
from dataclasses import dataclass
from datetime import timedelta

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import or_, select
from sqlalchemy.orm import joinedload, selectinload
from wtforms import TextAreaField
from wtforms.validators import Length

from .. import policy
from ..accounts.access import roles_required
from ..errors import render_error
from ..extensions import db
from ..forms import Form, MoneyField, own_ids
from ..htmx import is_htmx, render_either
from ..models import Enterprise, MaterialKind, Order, OrderStatus, Provider, User
from ..orders import lifecycle, listing
from ..orders.feedback_panel import feedback_context
from ..orders.messages import thread_context
from ..orders.numbers import ORDER_NO_MAX
from ..redemption import claims, ledger, readiness
from . import bp
from .shop import my_provider

SELLER_ACTIONS = ("accept", "decline", "finish", *lifecycle.CANCELLATION)
# The row answers a 申请取消 too; asking for one (like 服务完成) takes the order page.
ROW_ACTIONS = ("accept", "decline", "agree_cancel", "refuse_cancel", "retract_cancel")
DONE = {"accept": "已接单，订单进入服务中。", "decline": "已拒绝接单。", "finish": "已确认服务完成和实际服务金额。",
        **lifecycle.CANCEL_DONE}


class FinishForm(Form):
    """服务完成: the 实际服务金额 the provider confirms (the order amount by default) and, when it differs, why.
    A claim on the order can never be worth more than this amount."""

    class Meta:
        csrf = False  # the request's CSRF token is checked once by CSRFProtect

    final_amount = MoneyField("实际服务金额（元）")
    final_amount_note = TextAreaField("金额差异说明", validators=[
        Length(max=lifecycle.REASON_MAX, message=f"说明不超过{lifecycle.REASON_MAX}字")])

    def __init__(self, order: Order, **kwargs):
        super().__init__(**kwargs)
        self.order = order
        own_ids(self, f"finish-{order.order_no}")

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        for problem in policy.final_amount_problems(self.final_amount.data, self.order.quote_fen,
                                                    self.final_amount_note.data, lifecycle.order_ceiling()):
            if not self[problem.field].errors:
                self.fail(self[problem.field], problem.message)
                valid = False
        return valid


@bp.app_template_global()
def finish_form_for(order: Order) -> FinishForm:
    """The 服务完成 form as first shown: the order amount filled in."""
    return FinishForm(order, formdata=None, data={"final_amount": order.quote_fen})


# ---------------------------------------------------------------- whose order

def own_order(order_no: str, lock: bool = False) -> Order:
    """An order placed with the signed-in provider's shop (locked for a move); anything else is 404."""
    stmt = select(Order).where(Order.order_no == order_no[:ORDER_NO_MAX], Order.provider_id == my_provider().id)
    order = db.session.scalar(stmt.with_for_update() if lock else stmt)
    if order is None:
        abort(404)
    return order


def actions_for(order: Order, names=SELLER_ACTIONS) -> list[tuple[str, str]]:
    """The moves (action, label) among `names` the signed-in provider may make on `order` now."""
    return lifecycle.available(order, current_user, names)


# ---------------------------------------------------------------- the list (订单管理)

@dataclass
class SellerFilters(listing.OrderFilters):
    """The lists' filters (listing.OrderFilters: ?kind=cxq / ?kind=ord, tab, 兑付状态, number) and the buyer's name."""
    buyer: str = ""    # part of the enterprise's, the provider unit's or the person's name

    @classmethod
    def more_from_args(cls, args) -> dict:
        return {"buyer": args.get("buyer", "").strip()[:100]}

    @property
    def searching(self) -> bool:
        return super().searching or bool(self.buyer)

    def searched(self) -> list:
        where = super().searched()
        if self.buyer:
            enterprises = select(Enterprise.id).where(Enterprise.name.contains(self.buyer, autoescape=True))
            people = select(User.id).where(User.name.contains(self.buyer, autoescape=True))
            units = select(Provider.user_id).where(Provider.name.contains(self.buyer, autoescape=True))
            where.append(or_(Order.enterprise_id.in_(enterprises), Order.buyer_id.in_(people),
                             Order.buyer_id.in_(units)))
        return where


def sold_by(provider: Provider):
    return Order.provider_id == provider.id


@bp.get("/orders")
@roles_required("provider")
def orders():
    provider = my_provider()
    filters = SellerFilters.from_args(request.args)
    stmt = (select(Order).where(sold_by(provider), *filters.where(), lifecycle.in_tab(filters.tab))
            .options(joinedload(Order.enterprise), joinedload(Order.buyer).joinedload(User.provider),
                     selectinload(Order.items))
            .order_by(Order.created_at.desc(), Order.id.desc()))
    shown = listing.list_context(filters, sold_by(provider), stmt)
    return render_either("seller/orders.html", "seller/partials/order_list.html", provider=provider,
                         actions_for=actions_for, row_actions=ROW_ACTIONS,
                         accept_days=current_app.config["ORDER_ACCEPT_DAYS"],
                         referred=claims.referred(order.id for order in shown["page"].items), **shown)


# ---------------------------------------------------------------- one order

@bp.get("/orders/<order_no>")
@roles_required("provider")
def order_detail(order_no: str):
    return _detail(own_order(order_no))


def _detail(order: Order, reason: str = "", reason_error: str | None = None, status: int = 200,
            finish: FinishForm | None = None):
    accept_by = (order.created_at + timedelta(days=current_app.config["ORDER_ACCEPT_DAYS"])
                 if order.status == OrderStatus.PENDING else None)
    context = dict(order=order, steps=lifecycle.progress(order), event_labels=lifecycle.EVENT_LABELS,
                   kinds=listing.KINDS, accept_by=accept_by, actions_for=actions_for, back="", reason=reason,
                   reason_error=reason_error, finish=finish, **_claim_context(order))
    # The thread and feedback partials bring their own context; ours wins should a name repeat.
    shared = {**thread_context(order, current_user), **feedback_context(order, current_user)}
    return render_template("seller/order_detail.html", **{**shared, **context}), status


def _claim_context(order: Order) -> dict:
    """The order's 兑付 as the provider sees it: its status, and for a pilot provider the materials to confirm."""
    claim = claims.claim_of_order(order, with_rejected=True) if order.is_voucher else None
    pilot = claim is not None and claims.is_pilot_claim(claim)
    return dict(claim=claim, pilot_claim=pilot, claim_figures=readiness.figures(claim) if pilot else None,
                material_labels=MaterialKind.LABELS)


# ---------------------------------------------------------------- moves

@bp.post("/orders/<order_no>/<any(accept, decline, finish, request_cancel, agree_cancel, refuse_cancel, "
         "retract_cancel):action>")
@roles_required("provider")
def order_action(order_no: str, action: str):
    """接单 / 拒绝接单 / 服务完成 (with the 实际服务金额) / the 申请取消 moves: htmx gets the order's row back; a plain
    form goes back with a flash."""
    order = own_order(order_no, lock=True)
    if action == "finish":
        finish = FinishForm(order)
        # The state first (409 below); then the amount and its reason, next to their fields (422).
        if lifecycle.allowed(order, action, current_user) and not finish.validate():
            return _refuse(order, "", 422, "", finish=finish)
        reason, amount = (finish.final_amount_note.data or "").strip(), finish.final_amount.data
    else:
        reason, amount = request.form.get("reason", "").strip(), None
    try:
        lifecycle.act(order, action, current_user, reason, amount)
    except lifecycle.Refused as refusal:
        db.session.rollback()
        status = 422 if lifecycle.fixable(order, action, current_user, refusal) else 409
        return _refuse(order, str(refusal), status, reason)
    db.session.commit()
    if is_htmx():
        return _row(order)
    flash(f"订单 {order.order_no}：{DONE[action]}", "success")
    return redirect(_back() or url_for("seller.order_detail", order_no=order.order_no), 303)


@bp.post("/orders/<order_no>/confirm-materials")
@roles_required("provider")
def confirm_materials(order_no: str):
    """确认材料 (服务承诺制 pilot): the provider vouches for its buyer's claim, which then passes 形式审查."""
    order = own_order(order_no, lock=True)
    claim = claims.claim_of_order(order)
    try:
        if claim is None:
            raise claims.Refused("该订单还没有兑付申请。")
        approved = claims.provider_confirm(claim, current_user)
    except (claims.Refused, ledger.BalanceRefused) as refusal:
        db.session.rollback()
        return render_error(409, str(refusal))
    db.session.commit()
    if approved:
        flash(f"订单 {order.order_no}：已确认兑付材料，兑付申请通过形式审查，待平台公示。", "success")
    else:
        flash(f"订单 {order.order_no}：已确认兑付材料。系统发现风险提示，该申请已转省统筹中心审核。", "warning")
    return redirect(url_for("seller.order_detail", order_no=order.order_no), 303)


def _back() -> str:
    return listing.back_to("seller.orders")


def _row(order: Order, error: str | None = None, reason: str = "", reason_error: str | None = None):
    """The order's row (its columns as the list it came from has them), and the list's status tabs out of band so
    their counts follow the move."""
    back = _back()
    filters = SellerFilters.from_url(back)
    row = render_template("seller/partials/order_row.html", order=order, back=back, actions_for=actions_for,
                          referred=claims.referred([order.id]), filters=filters, decided=listing.DECIDED,
                          claim=listing.claims_by_order([order]).get(order.id), payout_label=listing.payout_label,
                          row_actions=ROW_ACTIONS, error=error, reason=reason, reason_error=reason_error)
    if not back:
        return row
    return row + render_template("orders/partials/order_tabs.html", filters=filters, tabs=filters.tabs,
                                 tab_counts=lifecycle.tab_counts(sold_by(my_provider()), *filters.where()),
                                 endpoint="seller.orders", target="#seller-orders", oob=True)


def _refuse(order: Order, message: str, status: int, reason: str, finish: FinishForm | None = None):
    if status == 422:
        reason_error = message or None
        if finish is not None:  # 服务完成 is posted from the order page, never from a row
            return _detail(order, status=422, finish=finish)
        if is_htmx():
            return _row(order, reason=reason, reason_error=reason_error), 422
        return _detail(order, reason=reason, reason_error=reason_error, status=422)
    if is_htmx():
        return _row(order, error=message), status
    return render_error(status, message)
