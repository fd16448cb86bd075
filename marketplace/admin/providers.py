"""Provider exit (SPEC 1.6): the list a reviewer decides from, one provider in full, removal and reinstatement.

Removing a provider only changes its status; everything else follows from that one column:
- its listings go offline at once: search (the SQLite FTS view and its triggers, the PostgreSQL filter), the home
  page counters, 本地服务 and the service page show only services of open shops;
- new orders are refused: the cart and checkout accept only services of open shops (orders.cart.orderable);
- history stays: the shop page /shops/<id> still shows, with a 已退出 notice; orders, claims and ratings stay.
Orders still waiting for acceptance are left as they are: the buyer may withdraw them and they expire unless
accepted in time; the detail page shows how many there are. A pilot (承诺制) provider stops being one: a pilot
confirms its own buyers' claims without a reviewer (redemption.claims.is_pilot_claim looks at the flag only), which
a removed provider must not do; its claims go back to the reviewer's queue, and a reinstatement does not restore
the pilot — the reviewer decides that again on the shop page.

The kind of reason is kept in `status_reason` as "类别：说明" (REMOVAL_REASONS); every move is in the audit log.
"""
from dataclasses import dataclass

from flask import abort, current_app, url_for
from flask_login import current_user
from sqlalchemy import Select, case, func, or_, select
from sqlalchemy.orm import joinedload
from wtforms import RadioField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length

from ..extensions import db
from ..forms import Form, choices, tidy
from ..htmx import render_either
from ..models import (
    AuditLog,
    Complaint,
    Instrument,
    Order,
    OrderStatus,
    Provider,
    Rating,
    Service,
    ServiceStatus,
    ShopStatus,
)
from ..models.orders import COMPLAINT_LABELS
from ..orders.complaints import OPEN as COMPLAINT_OPEN
from ..orders.ratings import ShopRating, ratings_for, shop_rating
from ..pagination import Page, paginate
from ..seller import shop_lifecycle
from . import bp, queue_filters
from .decisions import Desk, decide

# The grounds SPEC 1.6 names for removing a provider; the label leads the stored status_reason.
REMOVAL_REASONS = {"cheating": "弄虚作假", "complaints": "投诉多、评价差", "other": "其他原因"}
REASON_MAX = 500
STATUSES = {"open": "已开店", "removed": "已退出", "all": "全部"}
SORTS = {"complaints": "投诉多的在前", "rating": "评分低的在前", "orders": "订单多的在前", "opened": "开店时间新的在前",
         "name": "按名称"}


class RemovalForm(Form):
    kind = RadioField("退出原因类别", choices=choices(REMOVAL_REASONS.items()),
                      validators=[InputRequired(message="请选择退出原因类别")])
    reason = TextAreaField("说明", filters=[tidy], validators=[
        DataRequired(message="请填写退出的具体说明"), Length(max=REASON_MAX, message=f"说明不超过{REASON_MAX}字")])

    def status_reason(self) -> str:
        return f"{REMOVAL_REASONS[self.kind.data]}：{self.reason.data}"


class ReinstateForm(Form):
    reason = TextAreaField("恢复原因", filters=[tidy], validators=[
        DataRequired(message="请填写恢复的原因"), Length(max=REASON_MAX, message=f"原因不超过{REASON_MAX}字")])


# ---------------------------------------------------------------- the list

@dataclass
class ProviderRow:
    provider: Provider
    rating: ShopRating
    open_complaints: int
    complaints: int
    orders: int


@bp.get("/providers")
def providers():
    status = queue_filters.tab(STATUSES, "open")
    sort = queue_filters.tab(SORTS, "complaints", name="sort")
    q = queue_filters.search_text()
    page = paginate(_listing(status, q, sort), current_app.config["PER_PAGE"], scalars=False)
    args = {key: value for key, value in (("status", status), ("q", q), ("sort", sort)) if value}
    return render_either("admin/providers.html", "admin/partials/provider_list.html", page=page, rows=_rows(page),
                         status=status, sort=sort, q=q, args=args, statuses=STATUSES, sorts=SORTS)


def _listing(status: str, q: str, sort: str) -> Select:
    """Providers with their complaint and order counts, from grouped subqueries joined once (not per row)."""
    complaints = (select(Complaint.provider_id, func.count(Complaint.id).label("total"),
                         func.sum(case((Complaint.status == COMPLAINT_OPEN, 1), else_=0)).label("open"))
                  .group_by(Complaint.provider_id).subquery())
    orders = select(Order.provider_id, func.count(Order.id).label("total")).group_by(Order.provider_id).subquery()
    ratings = (select(Rating.provider_id, func.avg(Rating.score).label("average"))
               .group_by(Rating.provider_id).subquery())
    open_complaints, all_complaints = func.coalesce(complaints.c.open, 0), func.coalesce(complaints.c.total, 0)
    order_count = func.coalesce(orders.c.total, 0)
    stmt = (select(Provider, open_complaints, all_complaints, order_count)
            .outerjoin(complaints, complaints.c.provider_id == Provider.id)
            .outerjoin(orders, orders.c.provider_id == Provider.id)
            .outerjoin(ratings, ratings.c.provider_id == Provider.id))
    wanted = (ShopStatus.OPEN, ShopStatus.REMOVED) if status == "all" else (status,)
    stmt = stmt.where(Provider.status.in_(wanted))
    if q:
        stmt = stmt.where(or_(Provider.name.contains(q, autoescape=True),
                              Provider.credit_code.contains(q.upper(), autoescape=True)))
    order = {
        "complaints": [open_complaints.desc(), all_complaints.desc()],
        "rating": [ratings.c.average.is_(None), ratings.c.average.asc()],
        "orders": [order_count.desc()],
        "opened": [Provider.opened_at.is_(None), Provider.opened_at.desc()],
        "name": [Provider.name.asc()],
    }[sort]
    return stmt.order_by(*order, Provider.id.asc())


def _rows(page: Page) -> list[ProviderRow]:
    """The page's rows with their ratings, read in one grouped query (orders.ratings rounds them as shops show)."""
    ratings = ratings_for(provider.id for provider, *_ in page.items)
    return [ProviderRow(provider, ratings[provider.id], open_complaints, complaints, orders)
            for provider, open_complaints, complaints, orders in page.items]


# ---------------------------------------------------------------- one provider, removal, reinstatement

@bp.get("/providers/<int:provider_id>")
def provider_detail(provider_id: int):
    return _answer(_provider(provider_id))


@bp.post("/providers/<int:provider_id>/remove")
def remove_provider(provider_id: int):
    provider, form = _provider(provider_id, for_update=True), RemovalForm()
    return decide(DESK, provider, lambda: shop_lifecycle.require_removable(provider), form.validate_on_submit,
                  lambda: _remove(provider, form.status_reason()), removal_form=form)


@bp.post("/providers/<int:provider_id>/reinstate")
def reinstate_provider(provider_id: int):
    provider, form = _provider(provider_id, for_update=True), ReinstateForm()
    return decide(DESK, provider, lambda: shop_lifecycle.require_reinstatable(provider), form.validate_on_submit,
                  lambda: _reinstate(provider, form.reason.data), reinstate_form=form)


def _remove(provider: Provider, reason: str) -> str:
    shop_lifecycle.remove(provider, reason, current_user.id)
    return f"{provider.name} 已退出：服务已全部下架，不再接受新订单。"


def _reinstate(provider: Provider, reason: str) -> str:
    shop_lifecycle.reinstate(provider, reason, current_user.id)
    return f"{provider.name} 已恢复：店铺重新开放，上架的服务重新可以搜索和下单。"


def _answer(provider: Provider, status: int = 200, **extra):
    """The detail page, or (htmx) its exit panel alone: the same partial serves both."""
    return render_either("admin/provider_detail.html", "admin/partials/provider_exit.html",
                         **_context(provider, **extra)), status


DESK = Desk(_answer, lambda provider, _came_from: url_for("admin.provider_detail", provider_id=provider.id))


def _context(provider: Provider, removal_form: RemovalForm | None = None,
             reinstate_form: ReinstateForm | None = None, refusal: str | None = None,
             notice: str | None = None) -> dict:
    return dict(provider=provider, rating=shop_rating(provider.id), complaints=_complaints(provider),
                complaint_labels=COMPLAINT_LABELS, orders=_order_counts(provider), order_labels=OrderStatus.LABELS,
                listed=_listed_count(provider), instruments=_instrument_count(provider), history=_history(provider),
                removal_form=removal_form or RemovalForm(formdata=None),
                reinstate_form=reinstate_form or ReinstateForm(formdata=None), refusal=refusal, notice=notice)


def _complaints(provider: Provider) -> list:
    """(complaint, order number) pairs, newest first: the reviewer reads their text before deciding."""
    return db.session.execute(select(Complaint, Order.order_no).outerjoin(Order, Complaint.order_id == Order.id)
                              .where(Complaint.provider_id == provider.id)
                              .order_by(Complaint.created_at.desc(), Complaint.id.desc())).all()


def _order_counts(provider: Provider) -> dict[str, int]:
    return dict(db.session.execute(select(Order.status, func.count(Order.id)).where(Order.provider_id == provider.id)
                                   .group_by(Order.status)).all())


def _listed_count(provider: Provider) -> int:
    """Services listed by the provider: offline while it is removed, back online when it is reinstated."""
    return db.session.scalar(select(func.count(Service.id)).where(Service.provider_id == provider.id,
                                                                  Service.status == ServiceStatus.LISTED))


def _instrument_count(provider: Provider) -> int:
    return db.session.scalar(select(func.count(Instrument.id)).where(Instrument.provider_id == provider.id))


def _history(provider: Provider) -> list[AuditLog]:
    """Earlier removals and reinstatements, newest first, with who did them."""
    return db.session.scalars(select(AuditLog).options(joinedload(AuditLog.actor))
                              .where(AuditLog.object_type == "provider", AuditLog.object_id == str(provider.id),
                                     AuditLog.action.in_(("remove", "reinstate")))
                              .order_by(AuditLog.at.desc(), AuditLog.id.desc())).all()


def _provider(provider_id: int, for_update: bool = False) -> Provider:
    provider = db.session.get(Provider, provider_id, with_for_update=for_update)
    if provider is None:
        abort(404)
    return provider
