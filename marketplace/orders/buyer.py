"""我的订单 (/me/orders): the buyer's tabs, one order with its timeline, withdrawing it before acceptance, and
申请取消 after it (asking, answering the provider's request, taking one's own back)."""
from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from ..errors import render_error
from ..extensions import db
from ..htmx import is_htmx, render_either
from ..models import Order
from ..redemption import claims
from . import bp, feedback_panel, lifecycle, listing, messages
from .numbers import ORDER_NO_MAX

PANEL = "orders/partials/my_order_panel.html"


@bp.get("/me/orders")
@login_required
def my_orders():
    """我的订单; ?kind=cxq 创新券订单, ?kind=ord 非创新券订单 (listing.OrderFilters has every argument)."""
    filters = listing.OrderFilters.from_args(request.args)
    mine = Order.buyer_id == current_user.id
    stmt = (select(Order).where(mine, *filters.where(), lifecycle.in_tab(filters.tab))
            .options(selectinload(Order.items), selectinload(Order.provider))
            .order_by(Order.created_at.desc(), Order.id.desc()))
    return render_either("orders/my_orders.html", "orders/partials/my_order_list.html", may_withdraw=_may_withdraw,
                         **listing.list_context(filters, mine, stmt))


def _may_withdraw(order: Order) -> bool:
    return lifecycle.allowed(order, "withdraw", current_user)


@bp.get("/me/orders/<order_no>")
@login_required
def my_order(order_no: str):
    return render_template("orders/my_order.html", **_detail(_my_order(order_no)))


@bp.post("/me/orders/<order_no>/withdraw")
@login_required
def withdraw(order_no: str):
    order = _my_order(order_no, lock=True)
    try:
        lifecycle.act(order, "withdraw", current_user, request.form.get("reason", "")[:lifecycle.REASON_MAX])
    except lifecycle.Refused as refusal:
        return _refuse(order, "withdraw", refusal)
    db.session.commit()
    return _moved(order, f"订单 {order.order_no} 已撤回。", listing.back_to("orders.my_orders"))


@bp.post("/me/orders/<order_no>/<any(request_cancel, agree_cancel, refuse_cancel, retract_cancel):action>")
@login_required
def cancellation(order_no: str, action: str):
    """申请取消 / 同意取消 / 拒绝取消 / 撤回取消申请 (lifecycle.CANCELLATION) on the buyer's order in service."""
    order = _my_order(order_no, lock=True)
    reason = request.form.get("reason", "").strip()
    try:
        lifecycle.act(order, action, current_user, reason)
    except lifecycle.Refused as refusal:
        return _refuse(order, action, refusal, reason)
    db.session.commit()
    return _moved(order, f"订单 {order.order_no}：{lifecycle.CANCEL_DONE[action]}")


def _moved(order: Order, message: str, back: str = ""):
    """After a move: htmx gets the order panel with the message; a plain form goes back to the order page, or to
    the list (`back`) a row's form came from."""
    if is_htmx():
        return render_template(PANEL, **_detail(order, notice=message))
    flash(message, "success")
    return redirect(back or url_for("orders.my_order", order_no=order.order_no), 303)


def _refuse(order: Order, action: str, refusal: lifecycle.Refused, reason: str = ""):
    """Only the typed reason at fault: 422 with it kept and the message next to its field. Anything else (the
    order's state, the user's part, its claim): 409, in the panel for htmx, on an error page without it."""
    db.session.rollback()
    if lifecycle.fixable(order, action, current_user, refusal):
        shown = _detail(order, reason=reason, reason_error=str(refusal))
        return render_template(PANEL if is_htmx() else "orders/my_order.html", **shown), 422
    if is_htmx():
        return render_template(PANEL, **_detail(order, error=str(refusal))), 409
    return render_error(409, str(refusal))


def _my_order(order_no: str, lock: bool = False) -> Order:
    """The signed-in buyer's own order; anyone else's number answers 404, as if it did not exist."""
    stmt = select(Order).where(Order.order_no == order_no[:ORDER_NO_MAX], Order.buyer_id == current_user.id)
    order = db.session.scalar(stmt.with_for_update() if lock else stmt)
    if order is None:
        abort(404)
    return order


def _detail(order: Order, **shown) -> dict:
    """The order page's context; `shown`: what an answer adds (notice, error, or the reason and its error)."""
    claim = claims.claim_of_order(order, with_rejected=True) if order.is_voucher else None
    return dict(order=order, steps=lifecycle.progress(order), event_labels=lifecycle.EVENT_LABELS,
                claim=claim, decided=listing.DECIDED, may_claim=claim is None and claims.may_claim(order),
                may_withdraw=lifecycle.allowed(order, "withdraw", current_user),
                cancel_actions=lifecycle.available(order, current_user, lifecycle.CANCELLATION),
                **messages.thread_context(order, current_user), **feedback_panel.feedback_context(order, current_user),
                **{"notice": None, "error": None, "reason": "", "reason_error": None, **shown})
