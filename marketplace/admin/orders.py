"""Orders that must end can end (issue 14): the reviewer's list of orders in service whose 申请取消 waits for an
answer, or that were accepted long ago and never finished; one order with its timeline and claim; and 关闭订单
with a recorded reason (orders.lifecycle's "close", refused while the order has a live claim).

The list's tabs: 取消申请待答复 (the home's 订单取消申请 queue), 接单超过30天未完成, and 全部 (either); waiting the
longest first (since the request, else since acceptance).
"""
from datetime import timedelta

from flask import abort, current_app, render_template, url_for
from flask_login import current_user
from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.orm import joinedload
from wtforms import TextAreaField
from wtforms.validators import DataRequired, Length

from .. import policy
from ..extensions import db
from ..forms import Form, tidy
from ..htmx import is_htmx, render_either
from ..models import Enterprise, Order, OrderStatus, Provider, User, utcnow
from ..orders import lifecycle
from ..orders.numbers import ORDER_NO_MAX
from ..pagination import paginate
from ..redemption import claims
from . import bp, queue_filters
from .decisions import Desk, decide
from .queues import register_queue

WAITING, STUCK, ALL = "cancel", "stuck", "all"
TABS = {WAITING: "取消申请待答复", STUCK: f"接单超过{policy.ORDER_STUCK_DAYS}天未完成", ALL: "全部"}

register_queue("订单取消申请", "admin.orders", Order.cancel_requested_at, Order.cancel_pending, area="订单",
               position=1, status=WAITING)


class CloseForm(Form):
    reason = TextAreaField("关闭原因", filters=[tidy], validators=[
        DataRequired(message="请填写关闭订单的原因"),
        Length(max=lifecycle.REASON_MAX, message=f"原因不能超过{lifecycle.REASON_MAX}字")])


@bp.get("/orders")
def orders():
    status = queue_filters.tab(TABS, ALL)
    q = queue_filters.search_text()
    tabs, found = _tabs(), _search(q)
    stmt = (select(Order).where(tabs[status], *found)
            .options(joinedload(Order.enterprise), joinedload(Order.buyer).joinedload(User.provider),
                     joinedload(Order.provider))
            .order_by(func.coalesce(Order.cancel_requested_at, Order.accepted_at).asc(), Order.id.asc()))
    page = paginate(stmt, current_app.config["PER_PAGE"])
    counted = db.session.execute(select(*(func.count(case((where, 1))) for where in tabs.values())).where(*found)).one()
    return render_either("admin/orders.html", "admin/partials/order_list.html", page=page, status=status,
                         labels=TABS, q=q, args=queue_filters.kept_args(status, q),
                         counts=dict(zip(tabs, counted, strict=True)), now=utcnow(), stuck_days=policy.ORDER_STUCK_DAYS)


def _tabs() -> dict:
    """Each tab's WHERE clause: a 申请取消 waiting, or accepted more than ORDER_STUCK_DAYS ago and not finished, or
    either."""
    stuck = and_(Order.status == OrderStatus.IN_SERVICE, Order.finished_at.is_(None),
                 Order.accepted_at < utcnow() - timedelta(days=policy.ORDER_STUCK_DAYS))
    return {WAITING: Order.cancel_pending, STUCK: stuck, ALL: or_(Order.cancel_pending, stuck)}


def _search(q: str) -> list:
    """Text matched against the order number, the enterprise, provider unit or person who bought, and the provider."""
    if not q:
        return []
    units = select(Provider.id, Provider.user_id).where(Provider.name.contains(q, autoescape=True)).subquery()
    return [or_(Order.order_no.contains(q.upper(), autoescape=True),
                Order.enterprise_id.in_(select(Enterprise.id).where(Enterprise.name.contains(q, autoescape=True))),
                Order.buyer_id.in_(select(User.id).where(User.name.contains(q, autoescape=True))),
                Order.buyer_id.in_(select(units.c.user_id)), Order.provider_id.in_(select(units.c.id)))]


@bp.get("/orders/<order_no>")
def order_detail(order_no: str):
    return render_template("admin/order_detail.html", **_case(_order(order_no)))


@bp.post("/orders/<order_no>/close")
def close_order(order_no: str):
    """关闭订单: the state first (409), then the reason next to its field (422), then the order's claim (409)."""
    order, form = _order(order_no, lock=True), CloseForm()
    return decide(DESK, order, lambda: lifecycle.require(order, "close", current_user), form.validate_on_submit,
                  lambda: _close(order, form.reason.data), form=form)


def _close(order: Order, reason: str) -> str:
    lifecycle.act(order, "close", current_user, reason)
    return f"订单 {order.order_no} 已关闭。"


def _order(order_no: str, lock: bool = False) -> Order:
    """Any order by its number (row-locked for a move); an unknown number is 404."""
    stmt = select(Order).where(Order.order_no == order_no[:ORDER_NO_MAX])
    order = db.session.scalar(stmt.with_for_update() if lock else stmt)
    if order is None:
        abort(404)
    return order


def _case(order: Order, form: CloseForm | None = None, **shown) -> dict:
    """The order page's context; `shown`: what an answer adds (notice, refusal)."""
    return dict(order=order, steps=lifecycle.progress(order), event_labels=lifecycle.EVENT_LABELS,
                claim=claims.claim_of_order(order, with_rejected=True),
                may_close=lifecycle.allowed(order, "close", current_user), form=form or CloseForm(formdata=None),
                **{"notice": None, "refusal": None, **shown})


def _answer(order: Order, status: int, form: CloseForm | None = None, **shown):
    """The order's case alone (htmx), or its whole page, answered with `status`."""
    template = "admin/partials/order_case.html" if is_htmx() else "admin/order_detail.html"
    return render_template(template, **_case(order, form, **shown)), status


DESK = Desk(_answer, lambda order, _came_from: url_for("admin.order_detail", order_no=order.order_no))
