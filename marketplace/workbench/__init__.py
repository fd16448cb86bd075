"""个人中心 (/me): the signed-in user's home — this year's voucher, orders needing attention, messages."""
from flask import Blueprint, render_template
from flask_login import current_user, login_required
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from ..extensions import db
from ..models import Order, OrderStatus, Voucher, china_today
from ..orders import lifecycle
from ..orders.messages import unread_count

bp = Blueprint("workbench", __name__)
RECENT = 5
# Orders the buyer should look at: waiting for the provider, in service (claim when done), to correct.
ATTENTION = ("pending", "in_service", "correction")


@bp.get("/me")
@login_required
def home():
    mine = Order.buyer_id == current_user.id
    counts = lifecycle.tab_counts(mine)
    recent = db.session.scalars(select(Order).where(mine, Order.status.not_in(OrderStatus.INACTIVE))
                                .options(joinedload(Order.provider))
                                .order_by(Order.created_at.desc()).limit(RECENT)).all()
    return render_template("workbench/home.html", user=current_user, voucher=_this_years_voucher(), counts=counts,
                           attention=[(key, lifecycle.BUYER_TABS[key][0], counts[key]) for key in ATTENTION],
                           recent=recent, unread=unread_count(current_user))


def _this_years_voucher():
    enterprise = current_user.enterprise
    if enterprise is None:
        return None
    return db.session.scalar(select(Voucher).where(Voucher.enterprise_id == enterprise.id,
                                                   Voucher.year == china_today().year)
                             .options(joinedload(Voucher.application)))
