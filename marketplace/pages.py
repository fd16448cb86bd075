"""Public information pages: the policy explained, and the publicity (公示) list."""
from flask import Blueprint, current_app, make_response, redirect, render_template, request, url_for
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from . import calculator
from .extensions import db
from .htmx import is_htmx
from .models import Order, Provider, PublicityBatch, Redemption, RedemptionStatus, ShopStatus, UnitType
from .pagination import paginate

bp = Blueprint("pages", __name__)


@bp.get("/policy")
def policy():
    form, calculation = calculator.from_query(request.args)
    return render_template("pages/policy.html", form=form, calc=calculation), 422 if form.errors else 200


@bp.get("/policy/calculate")
def policy_calculate():
    """The calculator's result for htmx (errors swapped out-of-band next to their fields); the URL
    bar follows the policy page's own URL for the same inputs, which is also where non-htmx requests go."""
    page_url = url_for("pages.policy", **request.args.to_dict())
    if not is_htmx():
        return redirect(page_url)
    form, calculation = calculator.from_query(request.args)
    response = make_response(render_template("pages/partials/calculator.html", form=form, calc=calculation),
                             422 if form.errors else 200)
    response.headers["HX-Replace-Url"] = page_url
    return response


@bp.get("/publicity")
def publicity():
    stmt = (select(Redemption).where(Redemption.status == RedemptionStatus.PUBLICITY)
            .options(joinedload(Redemption.enterprise), joinedload(Redemption.order).joinedload(Order.provider))
            .order_by(Redemption.decided_at.desc(), Redemption.id.desc()))
    return render_template("pages/publicity.html", page=paginate(stmt, current_app.config["PER_PAGE"]),
                           shops=_shops_in_publicity(), unit_types=UnitType.LABELS)


def _shops_in_publicity():
    """服务单位入库公示: third-party units approved by the reviewer, during their publicity period."""
    return db.session.execute(
        select(Provider, PublicityBatch).join(PublicityBatch, Provider.publicity_batch_id == PublicityBatch.id)
        .where(Provider.status == ShopStatus.PUBLICITY).order_by(PublicityBatch.starts_on.desc(), Provider.id)).all()
