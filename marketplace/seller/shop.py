"""The provider's workbench home and its 开店申请 / 单位信息修改 page (SPEC 3.1)."""
from dataclasses import dataclass
from datetime import UTC, datetime

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import func, select

from .. import audit, uploads, validators
from ..accounts.access import roles_required
from ..errors import render_error
from ..extensions import db
from ..models import (
    CHINA,
    Instrument,
    Order,
    OrderStatus,
    Provider,
    Redemption,
    RedemptionStatus,
    Service,
    ServiceStatus,
    ShopStatus,
    StoredFile,
    UnitType,
    china_today,
    utcnow,
)
from ..orders import lifecycle
from ..orders.messages import unread_count
from ..redemption.publicity import publicity_batch
from ..workbench.desks import Todo
from . import bp
from .shop_forms import ATTACHMENTS, QUALIFICATION_KINDS, ShopApplicationForm, ShopProfileForm

EDITABLE = (ShopStatus.DRAFT, ShopStatus.REJECTED)
# Services that travel with the application: drafts are submitted with it, pending ones wait for it.
APPLICATION_SERVICES = (ServiceStatus.DRAFT, ServiceStatus.PENDING)
SHOP_LABELS = {"unit_type": UnitType.LABELS, "id_type": validators.ID_TYPES, "qualification": QUALIFICATION_KINDS}
SERVICE_COUNT_LABELS = {ServiceStatus.DRAFT: "草稿", ServiceStatus.PENDING: "审核中", ServiceStatus.LISTED: "已上架",
                        ServiceStatus.REJECTED: "未通过", ServiceStatus.DELISTED: "已下架"}


@dataclass
class Attachment:
    label: str
    file: StoredFile

    @property
    def url(self) -> str:
        return uploads.url_for_file(self.file)

    @property
    def is_image(self) -> bool:
        return uploads.is_image(self.file)


def attachments(provider: Provider) -> dict[str, Attachment]:
    """The application's uploaded files by form field, in form order, loaded in one query."""
    ids = {name: getattr(provider, column) for name, (column, _label) in ATTACHMENTS.items()}
    files = {f.id: f for f in db.session.scalars(select(StoredFile).where(StoredFile.id.in_(
        [file_id for file_id in ids.values() if file_id])))}
    return {name: Attachment(label, files[ids[name]]) for name, (_column, label) in ATTACHMENTS.items()
            if ids[name] in files}


def my_provider() -> Provider:
    """The signed-in provider's own unit: the only shop a provider can reach here, whatever ids are sent."""
    provider = current_user.provider
    if provider is None:
        abort(404)
    return provider


def service_counts(provider: Provider) -> dict[str, int]:
    rows = db.session.execute(select(Service.status, func.count()).where(Service.provider_id == provider.id)
                              .group_by(Service.status)).all()
    counts = dict.fromkeys(SERVICE_COUNT_LABELS, 0)
    counts.update({status: count for status, count in rows})
    return counts


def application_service_count(counts: dict[str, int]) -> int:
    return sum(counts[status] for status in APPLICATION_SERVICES)


# ---------------------------------------------------------------- GET /seller

@bp.get("")
@roles_required("provider")
def home():
    provider = my_provider()
    counts = service_counts(provider)
    instrument_count = db.session.scalar(select(func.count(Instrument.id)).where(Instrument.provider_id == provider.id))
    orders, unread = order_panel(provider), unread_count(current_user, lifecycle.PROVIDER)
    return render_template("seller/home.html", provider=provider, counts=counts, labels=SERVICE_COUNT_LABELS,
                           application_services=application_service_count(counts),
                           instrument_count=instrument_count, batch=publicity_batch(provider),
                           orders=orders, unread=unread, todos=seller_todos(provider, orders, counts, unread))


# ---------------------------------------------------------------- /seller/shop

@bp.route("/shop", methods=["GET", "POST"])
@roles_required("provider")
def shop_application():
    provider = my_provider()
    if provider.status in EDITABLE:
        return _application(provider)
    if provider.status == ShopStatus.OPEN:
        return _profile(provider)
    if request.method == "POST":
        return render_error(409, f"开店申请{provider.status_label}，当前不能修改。")
    return _render("seller/shop_status.html", provider)


def _application(provider: Provider):
    form = ShopApplicationForm(obj=provider, provider=provider)
    if request.method == "GET":
        form.hold_current_files({name: attachment.file for name, attachment in attachments(provider).items()})
        return _render("seller/shop_application.html", provider, form=form)
    submitting = request.form.get("action") == "submit"
    # Validation stores (and commits) newly uploaded files, so a 422 answer keeps them for the next submit.
    valid = form.validate_complete() if submitting else form.validate()
    service_problem = _service_problem(provider) if submitting else None
    if not valid or service_problem:
        return _render("seller/shop_application.html", provider, form=form, service_problem=service_problem), 422
    form.apply_to(provider)
    if submitting:
        _submit(provider)
        flash("开店申请已提交，请等待省统筹中心审核。", "success")
    else:
        flash("店铺信息已保存（尚未提交审核）。", "success")
    db.session.commit()
    return redirect(url_for("seller.shop_application"), 303)


def _service_problem(provider: Provider) -> str | None:
    if application_service_count(service_counts(provider)):
        return None
    return "开店申请须至少包含一项服务，请先新增服务（可保存为草稿）再提交审核。"


def _submit(provider: Provider) -> None:
    audit.record("provider", provider.id, "submit_application", provider.status, ShopStatus.PENDING)
    provider.status, provider.status_reason, provider.submitted_at = ShopStatus.PENDING, None, utcnow()
    drafts = db.session.scalars(select(Service).where(Service.provider_id == provider.id,
                                                      Service.status == ServiceStatus.DRAFT))
    for service in drafts:
        audit.record("service", service.id, "submit_with_shop", service.status, ServiceStatus.PENDING)
        service.status = ServiceStatus.PENDING


def _profile(provider: Provider):
    form = ShopProfileForm(obj=provider, provider=provider)
    if request.method == "POST":
        if not form.validate_complete():
            return _render("seller/shop_profile.html", provider, form=form), 422
        form.apply_to(provider)
        audit.record("provider", provider.id, "edit_profile", provider.status, provider.status)
        db.session.commit()
        flash("单位信息已更新。", "success")
        return redirect(url_for("seller.shop_application"), 303)
    return _render("seller/shop_profile.html", provider, form=form)


def _render(template: str, provider: Provider, **context):
    context.setdefault("service_problem", None)
    return render_template(template, provider=provider, attachments=attachments(provider),
                           application_services=application_service_count(service_counts(provider)),
                           shop_labels=SHOP_LABELS, batch=publicity_batch(provider), **context)



# ---------------------------------------------------------------- the orders panel of GET /seller

@dataclass
class OrderPanel:
    waiting: dict[bool, int]     # 待接单, by Order.is_voucher
    in_service: dict[bool, int]  # 服务中, by Order.is_voucher
    month_count: int             # placed this month (China time), not inactive (OrderStatus.INACTIVE)
    month_amount_fen: int        # their quotes; orders still 面议 add nothing


def order_panel(provider: Provider) -> OrderPanel:
    mine = Order.provider_id == provider.id
    rows = db.session.execute(select(Order.is_voucher, Order.status, func.count())
                              .where(mine, Order.status.in_((OrderStatus.PENDING, OrderStatus.IN_SERVICE)))
                              .group_by(Order.is_voucher, Order.status)).all()
    counts = {(voucher, status): n for voucher, status, n in rows}
    month_count, month_amount = db.session.execute(
        select(func.count(Order.id), func.coalesce(func.sum(Order.quote_fen), 0))
        .where(mine, Order.created_at >= month_start(), Order.status.not_in(OrderStatus.INACTIVE))).one()
    return OrderPanel(waiting={v: counts.get((v, OrderStatus.PENDING), 0) for v in (True, False)},
                      in_service={v: counts.get((v, OrderStatus.IN_SERVICE), 0) for v in (True, False)},
                      month_count=month_count, month_amount_fen=int(month_amount))


def seller_todos(provider: Provider, orders: OrderPanel, counts: dict[str, int], unread: int) -> list[Todo]:
    """What waits for the provider now: new orders to accept, buyers' 申请取消 to answer, a pilot's claims to
    confirm (确认材料), listings the reviewer returned, unread messages."""
    mine = Order.provider_id == provider.id
    asking = db.session.scalar(select(func.count(Order.id)).where(
        mine, Order.status == OrderStatus.IN_SERVICE, Order.cancel_requested_by == "buyer"))
    todos = [Todo("新订单待接单", sum(orders.waiting.values()), url_for("seller.orders", tab="pending"),
                  "及时接单，超期订单自动失效"),
             Todo("买家申请取消", asking, url_for("seller.orders", tab="in_service"), "同意或拒绝买家的取消申请")]
    if provider.is_pilot:
        to_confirm = db.session.scalar(select(func.count(Redemption.id)).join(Order, Redemption.order_id == Order.id)
                                       .where(mine, Redemption.status == RedemptionStatus.SUBMITTED,
                                              Redemption.referral_reason.is_(None)))
        todos.append(Todo("兑付材料待确认", to_confirm, url_for("seller.orders", kind="cxq", tab="reviewing"),
                          "服务承诺制：确认买家的兑付材料"))
    todos += [Todo("上架未通过的服务", counts[ServiceStatus.REJECTED],
                   url_for("seller.services", status=ServiceStatus.REJECTED), "按意见修改后重新提交"),
              Todo("未读消息", unread, url_for("seller.orders"))]
    return todos


def month_start() -> datetime:
    """The first moment of this month in China, as the naive UTC the database stores."""
    today = china_today()
    return datetime(today.year, today.month, 1, tzinfo=CHINA).astimezone(UTC).replace(tzinfo=None)
