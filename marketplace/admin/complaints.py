"""Buyers' complaints about orders (SPEC 5): the reviewer's queue and the resolution of each.

Each row shows the provider's complaint count and average rating: together they feed the exit review
(SPEC 1.6); removing a provider is decided elsewhere.
"""
from dataclasses import dataclass
from typing import Optional

from flask import abort, current_app, flash, redirect, render_template, url_for
from sqlalchemy import func, or_, select
from sqlalchemy.orm import joinedload
from wtforms import TextAreaField
from wtforms.validators import DataRequired, Length

from .. import audit
from ..errors import render_error
from ..extensions import db
from ..forms import Form
from ..htmx import is_htmx, render_either
from ..models import Complaint, Enterprise, Order, Provider, User, utcnow
from ..orders.feedback import COMPLAINT_LABELS
from ..orders.messages import tidy
from ..orders.ratings import ShopRating, ratings_for
from ..pagination import paginate
from . import bp, queue_filters
from .queue_filters import SETTLEMENT_TABS
from .queues import register_queue

OPEN, RESOLVED = "open", "resolved"
RESOLUTION_MAX = 1000

register_queue("待处理投诉", "admin.complaints", Complaint.created_at, Complaint.status == OPEN, area="投诉", position=1)


class ResolveForm(Form):
    resolution = TextAreaField("处理结果", filters=[tidy], validators=[
        DataRequired(message="请填写处理结果"),
        Length(max=RESOLUTION_MAX, message=f"处理结果不能超过{RESOLUTION_MAX}字")])


@dataclass
class Row:
    complaint: Complaint
    order_no: Optional[str]
    buyer: User
    provider: Provider
    provider_complaints: int
    provider_rating: ShopRating
    form: ResolveForm
    refusal: Optional[str] = None
    labels = COMPLAINT_LABELS


@bp.get("/complaints")
def complaints():
    status = queue_filters.tab(SETTLEMENT_TABS, OPEN)
    q = queue_filters.search_text()
    stmt = _listing(status).where(*queue_filters.settlement_filter(Complaint.status, status), *_search(q))
    page = paginate(stmt, current_app.config["PER_PAGE"], scalars=False)
    return render_either("admin/complaints.html", "admin/partials/complaint_list.html", page=page,
                         rows=_rows(page.items), status=status, labels=SETTLEMENT_TABS, q=q,
                         args=queue_filters.kept_args(status, q))


@bp.post("/complaints/<int:complaint_id>/resolve")
def resolve_complaint(complaint_id: int):
    complaint = db.session.get(Complaint, complaint_id, with_for_update=True)
    if complaint is None:
        abort(404)
    if complaint.status != OPEN:
        db.session.rollback()
        return _refuse(complaint_id, "该投诉已经处理过了。")
    form = ResolveForm()
    if not form.validate_on_submit():
        return _answer(complaint_id, form), 422
    audit.record("complaint", complaint.id, "resolve", OPEN, RESOLVED, form.resolution.data)
    complaint.status, complaint.resolution, complaint.resolved_at = RESOLVED, form.resolution.data, utcnow()
    db.session.commit()
    if is_htmx():
        return _answer(complaint_id)
    flash("投诉已处理。", "success")
    return redirect(url_for("admin.complaints"), 303)


def _listing(status: str = queue_filters.ALL):
    """Complaints with their order, buyer and provider, in the order of the tab (see queue_filters)."""
    return (select(Complaint, Order.order_no, User, Provider)
            .outerjoin(Order, Complaint.order_id == Order.id)
            .join(User, Complaint.user_id == User.id).join(Provider, Complaint.provider_id == Provider.id)
            .options(joinedload(User.enterprise), joinedload(User.provider))
            .order_by(*queue_filters.settlement_order(status, Complaint.status, Complaint.created_at,
                                                      Complaint.resolved_at, Complaint.id)))


def _search(q: str) -> list:
    """Text matched against the order number, the provider's name and the buyer (person or enterprise name)."""
    if not q:
        return []
    buyers = select(Enterprise.user_id).where(Enterprise.name.contains(q, autoescape=True))
    return [or_(Order.order_no.contains(q.upper(), autoescape=True), Provider.name.contains(q, autoescape=True),
                User.name.contains(q, autoescape=True), Complaint.user_id.in_(buyers))]


def _rows(items, form: Optional[ResolveForm] = None, refusal: Optional[str] = None) -> list[Row]:
    provider_ids = {provider.id for *_, provider in items}
    ratings = ratings_for(provider_ids)
    counts = _complaint_counts(provider_ids)
    return [Row(complaint, order_no, buyer, provider, counts.get(provider.id, 0), ratings[provider.id],
                form or ResolveForm(formdata=None), refusal)
            for complaint, order_no, buyer, provider in items]


def _complaint_counts(provider_ids) -> dict[int, int]:
    if not provider_ids:
        return {}
    return dict(db.session.execute(select(Complaint.provider_id, func.count(Complaint.id))
                                   .where(Complaint.provider_id.in_(provider_ids))
                                   .group_by(Complaint.provider_id)).all())


def _answer(complaint_id: int, form: Optional[ResolveForm] = None, refusal: Optional[str] = None):
    """The complaint's row alone (htmx), or the queue page holding just that row (without JavaScript)."""
    rows = _rows(db.session.execute(_listing().where(Complaint.id == complaint_id)).all(), form, refusal)
    if is_htmx():
        return render_template("admin/partials/complaint_row.html", row=rows[0])
    return render_template("admin/complaints.html", page=None, rows=rows)


def _refuse(complaint_id: int, refusal: str):
    if is_htmx():
        return _answer(complaint_id, refusal=refusal), 409
    return render_error(409, refusal)
