"""待审核服务上架 (/admin/listings): the reviewer approves or rejects listings of open shops.

Services of shops still under shop review are decided together with the shop application, so the
queue shows only those whose provider is open.
"""
from flask import abort, current_app, flash, redirect, render_template, url_for
from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload

from ..errors import render_error
from ..extensions import db
from ..htmx import is_htmx
from ..models import Category, Provider, Service, ServiceImage, ServiceStatus, ShopStatus
from ..pagination import paginate
from ..seller.services import IllegalTransition, change_status
from . import bp
from .forms import DecisionForm, RejectForm
from .queues import register_queue

OPEN_PROVIDERS = select(Provider.id).where(Provider.status == ShopStatus.OPEN)

register_queue("待审核服务上架", "admin.listings", Service.updated_at, Service.status == ServiceStatus.PENDING,
               Service.provider_id.in_(OPEN_PROVIDERS))


def _with_everything(stmt):
    return stmt.options(joinedload(Service.provider), joinedload(Service.instrument),
                        joinedload(Service.category).joinedload(Category.parent), joinedload(Service.display_image),
                        selectinload(Service.fields), selectinload(Service.images).joinedload(ServiceImage.file))


@bp.get("/listings")
def listings():
    stmt = _with_everything(select(Service).where(Service.status == ServiceStatus.PENDING,
                                                  Service.provider_id.in_(OPEN_PROVIDERS))
                            .order_by(Service.updated_at.asc(), Service.id.asc()))
    page = paginate(stmt, current_app.config["PER_PAGE"])
    return render_template("admin/listings.html", page=page, reject_form=RejectForm())


def _service(service_id: int) -> Service:
    service = db.session.scalar(_with_everything(select(Service).where(Service.id == service_id)))
    if service is None:
        abort(404)
    return service


def _item(service: Service, reject_form: RejectForm, error: str | None = None):
    return render_template("admin/partials/listing_item.html", service=service, reject_form=reject_form, error=error)


def _decide(service: Service, action: str, reason: str | None = None):
    try:
        change_status(service, action, reason)
    except IllegalTransition as refused:
        db.session.rollback()
        if is_htmx():
            return _item(service, RejectForm(formdata=None), refused.message), 409
        return render_error(409, refused.message)
    db.session.commit()
    if is_htmx():
        return _item(service, RejectForm(formdata=None))
    flash(f"「{service.name}」{service.status_label}。", "success")
    return redirect(url_for("admin.listings"), 303)


@bp.post("/listings/<int:service_id>/approve")
def approve_listing(service_id: int):
    if not DecisionForm().validate_on_submit():
        abort(400)
    return _decide(_service(service_id), "approve")


@bp.post("/listings/<int:service_id>/reject")
def reject_listing(service_id: int):
    form = RejectForm()
    service = _service(service_id)
    if not form.validate_on_submit():
        if is_htmx():
            return _item(service, form), 422
        return render_template("admin/listings_decision.html", service=service, reject_form=form), 422
    return _decide(service, "reject", form.reason.data.strip())
