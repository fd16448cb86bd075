"""个人中心 and the cart page: the signed-in user's own pages, whatever the role."""
from flask import Blueprint, render_template
from flask_login import current_user, login_required
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from ..extensions import db
from ..models import Cart, CartLine, Service

bp = Blueprint("workbench", __name__)


@bp.get("/me")
@login_required
def home():
    return render_template("workbench/home.html", user=current_user)


@bp.get("/cart")
@login_required
def cart():
    lines = db.session.scalars(
        select(CartLine).join(Cart).where(Cart.user_id == current_user.id)
        .options(joinedload(CartLine.service).joinedload(Service.provider)).order_by(CartLine.id)).all()
    return render_template("workbench/cart.html", lines=lines)


@bp.app_context_processor
def cart_badge():
    if not current_user.is_authenticated:
        return {"cart_count": 0}
    count = db.session.scalar(select(func.coalesce(func.sum(CartLine.quantity), 0)).join(Cart)
                              .where(Cart.user_id == current_user.id))
    return {"cart_count": count}
