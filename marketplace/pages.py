"""Public information pages: the policy explained, and the publicity (公示) list."""
from flask import Blueprint, current_app, render_template
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from .models import Order, Redemption, RedemptionStatus
from .pagination import paginate

bp = Blueprint("pages", __name__)


@bp.get("/policy")
def policy():
    return render_template("pages/policy.html")


@bp.get("/publicity")
def publicity():
    stmt = (select(Redemption).where(Redemption.status == RedemptionStatus.PUBLICITY)
            .options(joinedload(Redemption.enterprise), joinedload(Redemption.order).joinedload(Order.provider))
            .order_by(Redemption.decided_at.desc(), Redemption.id.desc()))
    return render_template("pages/publicity.html", page=paginate(stmt, current_app.config["PER_PAGE"]))
