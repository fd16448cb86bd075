"""Buyers' complaints about orders (SPEC 5): the reviewer's queue and the resolution of each.

Each row shows the provider's complaint count and average rating: together they feed the exit review
(SPEC 1.6); removing a provider is decided elsewhere.
"""
from dataclasses import dataclass

from flask import abort, current_app, render_template, url_for
from flask_login import current_user
from sqlalchemy import func, or_, select
from sqlalchemy.orm import joinedload
from wtforms import TextAreaField
from wtforms.validators import DataRequired, Length

from ..extensions import db
from ..forms import Form, tidy
from ..htmx import is_htmx, render_either
from ..models import Complaint, Enterprise, Order, Provider, User
from ..models.orders import COMPLAINT_LABELS
from ..orders import complaints as complaint_rules
from ..orders.complaints import OPEN, RESOLUTION_MAX
from ..orders.ratings import ShopRating, ratings_for
from ..pagination import paginate
from . import bp, queue_filters
from .decisions import Desk, decide
from .queue_filters import SETTLEMENT_TABS
from .queues import register_queue

register_queue("待处理投诉", "admin.complaints", Complaint.created_at, Complaint.status == OPEN, area="投诉",
               position=1)


class ResolveForm(Form):
    resolution = TextAreaField("处理结果", filters=[tidy], validators=[
        DataRequired(message="请填写处理结果"),
        Length(max=RESOLUTION_MAX, message=f"处理结果不能超过{RESOLUTION_MAX}字")])


@dataclass
class Row:
    complaint: Complaint
    order_no: str | None
    buyer: User
    provider: Provider
    provider_complaints: int
    provider_rating: ShopRating
    form: ResolveForm
    refusal: str | None = None
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
    complaint, form = db.session.get(Complaint, complaint_id, with_for_update=True), ResolveForm()
    if complaint is None:
        abort(404)
    return decide(DESK, complaint, lambda: complaint_rules.require_open(complaint), form.validate_on_submit,
                  lambda: _resolve(complaint, form.resolution.data), form=form)


def _resolve(complaint: Complaint, resolution: str) -> str:
    complaint_rules.resolve(complaint, current_user.id, resolution)
    return "投诉已处理。"


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


def _rows(items, form: ResolveForm | None = None, refusal: str | None = None) -> list[Row]:
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


def _answer(complaint: Complaint, status: int, form: ResolveForm | None = None, refusal: str | None = None,
            notice: str | None = None):
    """The complaint's row alone (htmx), or the queue page holding just that row (without JavaScript); the row
    shows the complaint's status, not the notice."""
    rows = _rows(db.session.execute(_listing().where(Complaint.id == complaint.id)).all(), form, refusal)
    if is_htmx():
        return render_template("admin/partials/complaint_row.html", row=rows[0]), status
    return render_template("admin/complaints.html", page=None, rows=rows), status


DESK = Desk(_answer, lambda _complaint, _came_from: url_for("admin.complaints"))
