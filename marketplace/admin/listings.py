"""待审核服务上架 (/admin/listings): the reviewer approves or rejects listings of open shops.

Services of shops still under shop review are decided together with the shop application, so the
queue shows only those whose provider is open. Several waiting listings can be approved at once (each
through change_status, as alone); rejection always needs its own reason.
"""
from flask import abort, current_app, flash, redirect, render_template, url_for
from flask_login import current_user
from sqlalchemy import or_, select
from sqlalchemy.orm import joinedload, selectinload

from ..errors import render_error
from ..extensions import db
from ..htmx import is_htmx
from ..models import Category, Provider, Service, ServiceImage, ServiceStatus, ShopStatus
from ..pagination import paginate
from ..seller.listing_lifecycle import IllegalTransition, change_status, require
from . import bp, queue_filters, queues
from .decisions import Desk, button, decide
from .forms import DecisionForm, RejectForm
from .queues import register_queue

OPEN_PROVIDERS = select(Provider.id).where(Provider.status == ShopStatus.OPEN)

register_queue("待审核服务上架", "admin.listings", Service.updated_at, Service.status == ServiceStatus.PENDING,
               Service.provider_id.in_(OPEN_PROVIDERS), area="服务上架", position=1)


def _with_everything(stmt):
    return stmt.options(joinedload(Service.provider), joinedload(Service.instrument),
                        joinedload(Service.category).joinedload(Category.parent), joinedload(Service.display_image),
                        selectinload(Service.fields), selectinload(Service.images).joinedload(ServiceImage.file))


# Tabs of the queue: what waits, then what was decided (for a second look or a question from a provider).
TABS = {status: ServiceStatus.LABELS[status] for status in (ServiceStatus.PENDING, ServiceStatus.LISTED,
                                                             ServiceStatus.REJECTED)}
# Waiting listings oldest first; decided ones most recent first.
WAITING_ORDER = (Service.updated_at.asc(), Service.id.asc())
DECIDED_ORDER = (Service.updated_at.desc(), Service.id.desc())


@bp.get("/listings")
def listings():
    return _listings_page()


def _listings_page(selection_error: str | None = None, checked: list[int] | None = None):
    status = queue_filters.tab(TABS, ServiceStatus.PENDING)
    q = queue_filters.search_text()
    waiting = status == ServiceStatus.PENDING
    stmt = _with_everything(select(Service).where(Service.status == status, *_listing_filters(waiting, q))
                            .order_by(*(WAITING_ORDER if waiting else DECIDED_ORDER)))
    page = paginate(stmt, current_app.config["PER_PAGE"])
    return render_template("admin/listings.html", page=page, status=status, labels=TABS, q=q,
                           args={"status": status, "q": q or None}, checked=queues.ticked(page.items, checked),
                           selection_error=selection_error, reject_form=RejectForm())


def _listing_filters(waiting: bool, q: str) -> list:
    """Waiting listings only of open shops (see the module's docstring); text matched against the
    service's name and its provider's name and 统一社会信用代码."""
    filters = [Service.provider_id.in_(OPEN_PROVIDERS)] if waiting else []
    if q:
        providers = select(Provider.id).where(or_(Provider.name.contains(q, autoescape=True),
                                                  Provider.credit_code.contains(q.upper(), autoescape=True)))
        filters.append(or_(Service.name.contains(q, autoescape=True), Service.provider_id.in_(providers)))
    return filters


@bp.post("/listings/approve")
def approve_listings():
    """批量通过: each chosen listing through the same change_status() as one alone (one audit row each);
    listings decided meanwhile, or whose shop closed, are skipped."""
    if not DecisionForm().validate_on_submit():
        abort(400)
    ids = queues.selected_ids("service_id")
    if not ids:
        return _listings_page("请勾选要通过的服务", []), 422
    found = db.session.scalars(select(Service).where(Service.id.in_(ids)).options(selectinload(Service.provider))
                               .order_by(Service.id).with_for_update()).all()
    approved = sum(_approved(service) for service in found)
    db.session.commit()
    flash(queues.bulk_outcome(approved, len(ids) - approved), "success")
    return redirect(url_for("admin.listings", **queues.list_args("status", "q")), 303)


def _approved(service: Service) -> bool:
    try:
        change_status(service, "approve", current_user.id)
    except IllegalTransition:  # refused before anything changed: decided meanwhile, or its shop closed
        return False
    return True


def _service(service_id: int) -> Service:
    """The listing, row-locked for a decision so two reviewers cannot decide it at once."""
    service = db.session.scalar(_with_everything(select(Service).where(Service.id == service_id))
                                .with_for_update(of=Service))
    if service is None:
        abort(404)
    return service


def _panel(service: Service, status: int, reject_form: RejectForm | None = None, refusal: str | None = None,
           notice: str | None = None):
    """For htmx the listing as the queue shows it (its checkbox included); without JS a refusal is an error page
    and a refused form the listing alone."""
    reject_form = reject_form or RejectForm(formdata=None)
    if is_htmx():
        return render_template("admin/partials/listing_item.html", service=service, reject_form=reject_form,
                               error=refusal, checked=set()), status
    if refusal:
        return render_error(409, refusal)
    return render_template("admin/listings_decision.html", service=service, reject_form=reject_form), status


DESK = Desk(_panel, lambda _service, _came_from: url_for("admin.listings"))


def _decided(service: Service, action: str, reason: str | None = None) -> str:
    change_status(service, action, current_user.id, reason)
    return f"「{service.name}」{service.status_label}。"


@bp.post("/listings/<int:service_id>/approve")
def approve_listing(service_id: int):
    service = _service(service_id)
    return decide(DESK, service, lambda: require(service, "approve"), button(DecisionForm()),
                  lambda: _decided(service, "approve"))


@bp.post("/listings/<int:service_id>/reject")
def reject_listing(service_id: int):
    service, form = _service(service_id), RejectForm()
    return decide(DESK, service, lambda: require(service, "reject"), form.validate_on_submit,
                  lambda: _decided(service, "reject", form.reason.data.strip()), reject_form=form)
