"""服务管理 (/seller/services): a provider's listings, the 添加服务信息 form and the listing states.

States (SPEC 3.2): 草稿 → 提交审核 → 上架审核中 → 上架审核通过 | 审核不通过; 服务下架 at any time from
on sale; re-listing and editing an on-sale listing go through review again.
"""
from dataclasses import dataclass

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import or_, select
from sqlalchemy.orm import joinedload, selectinload

from .. import audit
from ..accounts.access import roles_required
from ..catalog.queries import category_tree
from ..errors import forbidden, render_error
from ..extensions import db
from ..htmx import is_htmx, render_either
from ..ids import as_id
from ..models import (
    Category,
    Field,
    Instrument,
    NonEligibleKind,
    Provider,
    Service,
    ServiceImage,
    ServiceStatus,
    ShopStatus,
)
from ..pagination import paginate
from . import bp
from .listing_lifecycle import SHOP_NOT_OPEN, TRANSITIONS, IllegalTransition, change_status
from .service_forms import ServiceForm, description_length_problem, excluded_categories, normalize_tags

NO_SHOP_DETAIL = "请先提交开店申请，再添加服务。"
REMOVED_DETAIL = "您的服务单位已被清退出平台，不能新增、修改或上架服务。"


# ---------------------------------------------------------------- who may touch what

def current_provider() -> Provider:
    provider = current_user.provider
    if provider is None:
        raise forbidden(NO_SHOP_DETAIL)
    return provider


def writable_provider() -> Provider:
    """The signed-in provider, unless it was removed from the platform (it keeps read access)."""
    provider = current_provider()
    if provider.status == ShopStatus.REMOVED:
        raise forbidden(REMOVED_DETAIL)
    return provider


def own_service(service_id: int, lock: bool = False) -> Service:
    """The signed-in provider's listing (row-locked for a move, so two requests cannot move it at once)."""
    stmt = (select(Service).where(Service.id == service_id)
            .options(joinedload(Service.category), joinedload(Service.instrument),
                     selectinload(Service.images).joinedload(ServiceImage.file)))
    service = db.session.scalar(stmt.with_for_update(of=Service) if lock else stmt)
    if service is None or service.provider_id != current_provider().id:
        abort(404)
    return service


# ---------------------------------------------------------------- the list (服务管理)

@dataclass
class ListFilters:
    name: str = ""
    category: int | None = None
    status: str = ""

    @classmethod
    def from_args(cls, args) -> "ListFilters":
        status = args.get("status", "")
        return cls(name=args.get("name", "").strip()[:100], category=as_id(args.get("category")),
                   status=status if status in ServiceStatus.LABELS else "")

    def params(self) -> dict:
        return {k: v for k, v in {"name": self.name, "category": self.category, "status": self.status}.items() if v}

    def apply(self, stmt):
        if self.name:
            stmt = stmt.where(Service.name.contains(self.name, autoescape=True))
        if self.category:
            stmt = stmt.where(Service.category_id.in_(
                select(Category.id).where(or_(Category.id == self.category, Category.parent_id == self.category))))
        if self.status:
            stmt = stmt.where(Service.status == self.status)
        return stmt


@bp.get("/services")
@roles_required("provider")
def services():
    provider = current_provider()
    filters = ListFilters.from_args(request.args)
    stmt = filters.apply(select(Service).where(Service.provider_id == provider.id)
                         .options(joinedload(Service.category), joinedload(Service.instrument))
                         .order_by(Service.updated_at.desc(), Service.id.desc()))
    page = paginate(stmt, current_app.config["PER_PAGE"])
    return render_either("seller/services.html", "seller/partials/service_list.html", page=page, filters=filters,
                         provider=provider, categories=category_tree(), statuses=ServiceStatus.LABELS)


# ---------------------------------------------------------------- 添加服务信息 / edit

def _form_data(service: Service) -> dict:
    return {
        "nature": service.nature, "name": service.name, "instrument_id": service.instrument_id,
        "description": service.description, "service_type": service.service_type, "cycle": service.cycle,
        "has_qualification": "1" if service.has_qualification else "0", "category_id": service.category_id,
        "field_ids": [f.id for f in service.fields], "price": service.price_fen, "price_unit": service.price_unit,
        "negotiable": service.negotiable, "tags": service.tags, "qualification_desc": service.qualification_desc,
        "standards": service.standards, "sample_requirements": service.sample_requirements,
        "voucher_eligible": service.voucher_eligible, "display_image": service.display_image,
        "images": [image.file for image in service.images],
    }


def _apply(form: ServiceForm, service: Service) -> None:
    service.nature = form.nature.data
    service.name = form.name.data.strip()
    service.instrument = db.session.get(Instrument, form.instrument_id.data) if form.instrument_id.data else None
    service.description = form.description.data.strip()
    service.service_type = form.service_type.data
    service.cycle = form.cycle.data.strip()
    service.has_qualification = form.has_qualification.data == "1"
    service.category = db.session.get(Category, form.category_id.data)
    service.fields = list(db.session.scalars(select(Field).where(Field.id.in_(form.field_ids.data))))
    service.price_fen = form.price_fen
    if not service.negotiable:
        service.price_unit = form.price_unit.data
    service.tags = normalize_tags(form.tags.data)
    service.qualification_desc = (form.qualification_desc.data or "").strip()  # optional: a client may leave it out
    service.standards = (form.standards.data or "").strip()  # optional: a client may leave it out
    service.sample_requirements = (form.sample_requirements.data or "").strip()  # optional: a client may leave it out
    service.voucher_eligible = form.voucher_eligible.data and not form.voucher_exclusion
    service.display_image = form.display_image.data  # none: the system's default image
    service.images = [ServiceImage(file=file, position=n) for n, file in enumerate(form.images.data)]
    # Search tokens follow by themselves: catalog.search_index refreshes them on flush.


def _render_form(form: ServiceForm, service: Service | None, provider: Provider):
    status = 422 if form.is_submitted() else 200
    kinds = db.session.scalars(select(NonEligibleKind.name).order_by(NonEligibleKind.position, NonEligibleKind.id))
    return render_template("seller/service_form.html", form=form, service=service, provider=provider,
                           excluded=excluded_categories().values(), kinds=list(kinds)), status


def _saved(service: Service, provider: Provider, form: ServiceForm, wants_review: bool) -> str:
    """Apply the review step the provider asked for, and say what happened."""
    if service.status == ServiceStatus.LISTED:
        change_status(service, "edit", current_user.id)
        message = f"已保存「{service.name}」，修改后的服务需重新审核，审核通过前不在商城展示。"
    elif wants_review and service.status in (ServiceStatus.DRAFT, ServiceStatus.REJECTED) and provider.is_open:
        change_status(service, "submit", current_user.id)
        message = f"已提交「{service.name}」的上架审核。"
    elif wants_review and not provider.is_open:
        message = f"已保存草稿「{service.name}」。{SHOP_NOT_OPEN}"
    else:
        message = f"已保存「{service.name}」。"
    if form.voucher_eligible.data and form.voucher_exclusion:
        message += f"{form.voucher_exclusion}，已取消创新券标识。"
    return message


@bp.route("/services/new", methods=["GET", "POST"])
@roles_required("provider")
def service_new():
    provider = writable_provider()
    form = ServiceForm(provider.id)
    if not form.validate_on_submit():
        return _render_form(form, None, provider)
    service = Service(provider=provider, status=ServiceStatus.DRAFT)
    with db.session.no_autoflush:  # the new row is complete only once every field is applied
        _apply(form, service)
    db.session.add(service)
    db.session.flush()
    audit.record("service", service.id, "create", None, ServiceStatus.DRAFT)
    message = _saved(service, provider, form, request.form.get("action") == "submit")
    db.session.commit()
    flash(message, "success")
    return redirect(url_for("seller.services"), 303)


@bp.route("/services/<int:service_id>/edit", methods=["GET", "POST"])
@roles_required("provider")
def service_edit(service_id: int):
    provider = writable_provider()
    service = own_service(service_id)
    form = ServiceForm(provider.id, data=_form_data(service))
    if not form.validate_on_submit():
        return _render_form(form, service, provider)
    _apply(form, service)
    message = _saved(service, provider, form, request.form.get("action") == "submit")
    db.session.commit()
    flash(message, "success")
    return redirect(url_for("seller.services"), 303)


@bp.get("/services/description-count")
@roles_required("provider")
def service_description_count():
    """The live character counter under 服务描述 (htmx, while typing)."""
    text = request.args.get("description", "")
    return render_template("seller/partials/service_description_count.html", count=len(text.strip()),
                           in_range=description_length_problem(text) is None)


# ---------------------------------------------------------------- row actions

def _row(service: Service, error: str | None = None):
    return render_template("seller/partials/service_row.html", service=service, provider=service.provider,
                           error=error)


def _refuse(service: Service, message: str):
    db.session.rollback()
    if is_htmx():
        return _row(service, message), 409
    return render_error(409, message)


@bp.post("/services/<int:service_id>/<any(submit, relist, delist):action>")
@roles_required("provider")
def service_action(service_id: int, action: str):
    writable_provider()
    service = own_service(service_id, lock=True)
    try:
        change_status(service, action, current_user.id)
    except IllegalTransition as refused:
        return _refuse(service, str(refused))
    db.session.commit()
    if is_htmx():
        return _row(service)
    flash(f"「{service.name}」已{TRANSITIONS[action].verb}，当前状态：{service.status_label}。", "success")
    return redirect(url_for("seller.services"), 303)


@bp.route("/services/<int:service_id>/delete", methods=["GET", "POST"])
@roles_required("provider")
def service_delete(service_id: int):
    """GET asks for confirmation (the no-JS path); POST deletes a draft."""
    writable_provider()
    service = own_service(service_id, lock=request.method == "POST")
    if request.method == "GET":
        return render_template("seller/service_delete.html", service=service)
    name = service.name
    try:
        change_status(service, "delete", current_user.id)
    except IllegalTransition as refused:
        return _refuse(service, str(refused))
    db.session.commit()
    if is_htmx():
        return ""
    flash(f"已删除草稿「{name}」。", "success")
    return redirect(url_for("seller.services"), 303)
