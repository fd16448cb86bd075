"""个人中心 (/me): the buyer's workbench home — this year's voucher, what waits for the buyer now, recent orders.

Every signed-in account can open it (a pending one reads here that it waits for approval); see desks.py for where
each role lands and what its header offers."""
from flask import Blueprint, render_template, url_for
from flask_login import current_user, login_required
from sqlalchemy import func, literal, select
from sqlalchemy.orm import joinedload

from ..extensions import db
from ..models import (
    ApplicationStatus,
    Order,
    OrderStatus,
    Redemption,
    RedemptionStatus,
    User,
    Voucher,
    VoucherApplication,
    china_today,
)
from ..orders import lifecycle
from ..orders.messages import unread_count
from .desks import SELLER, Todo, desk_of

bp = Blueprint("workbench", __name__)
RECENT = 5


@bp.app_context_processor
def header_entries():
    """The header's 工作台 link (我的工作台 / 卖家工作台 / 审核后台); None for a visitor."""
    return {"desk": desk_of(current_user) if current_user.is_authenticated else None}


@bp.app_template_global()
def sells(user) -> bool:
    """A provider with its shop: its workbench menus switch between 我是买家 and 我是卖家."""
    return user.is_authenticated and desk_of(user) is SELLER


@bp.get("/me")
@login_required
def home():
    mine = Order.buyer_id == current_user.id
    counts = lifecycle.tab_counts(mine)
    recent = db.session.scalars(select(Order).where(mine, Order.status.not_in(OrderStatus.INACTIVE))
                                .options(joinedload(Order.provider))
                                .order_by(Order.created_at.desc()).limit(RECENT)).all()
    voucher, application = _this_years_voucher()
    return render_template("workbench/home.html", user=current_user, voucher=voucher, application=application,
                           todos=buyer_todos(current_user, counts, application), recent=recent)


def buyer_todos(user: User, counts: dict[str, int], application: VoucherApplication | None) -> list[Todo]:
    """What waits now: orders with the provider or in service, the provider's 申请取消 to answer, claims sent back
    for correction (online on the order, offline in 线下订单申请兑付), a voucher application sent back, unread
    messages on the orders the user bought."""
    orders = "orders.my_orders"
    asking, offline = _waiting_counts(user)
    todos = [Todo("订单沟通中", counts["pending"], url_for(orders, tab="pending"), "等待服务单位接单"),
             Todo("服务中", counts["in_service"], url_for(orders, tab="in_service"),
                  "服务完成后申请兑付" if user.enterprise else "等待服务单位完成服务"),
             Todo("服务单位申请取消", asking, url_for(orders, tab="in_service"), "同意或拒绝服务单位的取消申请")]
    if user.enterprise:
        todos.append(Todo("兑付待补正", counts["correction"], url_for(orders, tab="correction"), "按审核意见补正材料"))
        if offline:
            todos.append(Todo("线下兑付待补正", offline, url_for("redemption.offline_list"), "按审核意见补正材料"))
        if application is not None and application.status == ApplicationStatus.RETURNED:
            todos.append(Todo("创新券申请退回修改", 1, url_for("vouchers.index"), "修改后重新提交"))
    todos.append(Todo("未读消息", unread_count(user, lifecycle.BUYER), url_for(orders)))
    return todos


def _waiting_counts(user: User) -> tuple[int, int]:
    """In one query: the buyer's orders whose provider asks to cancel (申请取消), and the enterprise's offline claims
    sent back for correction (0 for a buyer that is no enterprise)."""
    asking = select(func.count(Order.id)).where(
        Order.buyer_id == user.id, Order.cancel_pending, Order.cancel_requested_by == lifecycle.PROVIDER)
    offline = (select(func.count(Redemption.id)).where(
        Redemption.enterprise_id == user.enterprise.id, Redemption.order_id.is_(None),
        Redemption.status == RedemptionStatus.CORRECTION).scalar_subquery() if user.enterprise else literal(0))
    counts = db.session.execute(select(asking.scalar_subquery(), offline)).one()
    return counts[0], counts[1]


def _this_years_voucher() -> tuple[Voucher | None, VoucherApplication | None]:
    """The enterprise's voucher of this year and its application (either may be missing)."""
    enterprise = current_user.enterprise
    if enterprise is None:
        return None, None
    application = db.session.scalar(select(VoucherApplication).where(
        VoucherApplication.enterprise_id == enterprise.id, VoucherApplication.year == china_today().year)
        .options(joinedload(VoucherApplication.voucher)))
    return (application.voucher if application else None), application
