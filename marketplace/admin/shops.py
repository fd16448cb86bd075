"""Reviewing 开店申请 (SPEC 1.6, 3.1): the queue, one application in full, and the decisions.

Direct-eligible units open on approval; third-party units go to publicity (公示) first and open when
the reviewer confirms after the period, unless an objection is still open.
"""
from flask import abort, current_app, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import or_, select

from .. import related_parties
from ..extensions import db
from ..htmx import is_htmx, render_either
from ..models import Provider, PublicityBatch, Service, ShopStatus, User
from ..pagination import paginate
from ..redemption.publicity import publicity_batch, publicity_over
from ..seller import shop_lifecycle
from ..seller.shop import SHOP_LABELS, attachments
from ..seller.shop_lifecycle import entry_problems
from . import bp, queue_filters
from .decisions import Desk, button, decide
from .forms import DecisionForm, RejectForm
from .queues import register_queue

register_queue("待审核开店申请", "admin.shops", Provider.submitted_at, Provider.status == ShopStatus.PENDING,
               area="账号与开店", position=2)
register_queue("公示中的开店申请", "admin.shops", Provider.submitted_at, Provider.status == ShopStatus.PUBLICITY,
               area="账号与开店", position=3, status=ShopStatus.PUBLICITY)


# Tabs of the queue, in the order a reviewer works through them.
TABS = {status: ShopStatus.LABELS[status] for status in (
    ShopStatus.PENDING, ShopStatus.PUBLICITY, ShopStatus.REJECTED, ShopStatus.OPEN, ShopStatus.DRAFT,
    ShopStatus.REMOVED)}


@bp.get("/shops")
def shops():
    status = queue_filters.tab(TABS, ShopStatus.PENDING)
    q = queue_filters.search_text()
    stmt = (select(Provider, PublicityBatch)
            .outerjoin(PublicityBatch, Provider.publicity_batch_id == PublicityBatch.id)
            .where(Provider.status == status, *_shop_search(q))
            .order_by(Provider.submitted_at.asc(), Provider.id.asc()))
    page = paginate(stmt, current_app.config["PER_PAGE"], scalars=False)
    return render_either("admin/shops.html", "admin/partials/shop_list.html", page=page, status=status, labels=TABS,
                         q=q, args=queue_filters.kept_args(status, q), shop_labels=SHOP_LABELS,
                         entry_problems=entry_problems)


def _shop_search(q: str) -> list:
    """Text matched against the unit (name, 统一社会信用代码), its contact person and its account's email."""
    if not q:
        return []
    accounts = select(User.id).where(User.email.contains(q, autoescape=True))
    return [or_(Provider.name.contains(q, autoescape=True), Provider.credit_code.contains(q.upper(), autoescape=True),
                Provider.contact_name.contains(q, autoescape=True), Provider.user_id.in_(accounts))]


@bp.get("/shops/<int:provider_id>")
def shop_detail(provider_id: int):
    return render_template("admin/shops_detail.html", **_context(_provider(provider_id)))


@bp.post("/shops/<int:provider_id>/approve")
def approve_shop(provider_id: int):
    provider = _provider(provider_id, lock=True)
    return decide(DESK, provider, lambda: shop_lifecycle.require(provider, ShopStatus.PENDING), button(DecisionForm()),
                  lambda: _approve(provider, current_app.config["PUBLICITY_DAYS"]))


@bp.post("/shops/<int:provider_id>/reject")
def reject_shop(provider_id: int):
    provider, form = _provider(provider_id, lock=True), RejectForm()
    return decide(DESK, provider, lambda: shop_lifecycle.require(provider, *shop_lifecycle.REJECTABLE),
                  form.validate_on_submit, lambda: _reject(provider, form.reason.data.strip()), reject_form=form)


@bp.post("/shops/<int:provider_id>/open")
def open_shop(provider_id: int):
    provider = _provider(provider_id, lock=True)
    return decide(DESK, provider, lambda: shop_lifecycle.require(provider, ShopStatus.PUBLICITY),
                  button(DecisionForm()), lambda: _open(provider))


@bp.post("/shops/<int:provider_id>/pilot")
def shop_pilot(provider_id: int):
    """服务承诺制 pilots (SPEC 7.4): their services show 免审 and the provider confirms its buyers' materials."""
    provider = _provider(provider_id, lock=True)
    on = request.form.get("pilot") == "1"
    return decide(DESK, provider, lambda: shop_lifecycle.require(provider, ShopStatus.OPEN), button(DecisionForm()),
                  lambda: _set_pilot(provider, on))


# ---------------------------------------------------------------- decisions (the rules: seller.shop_lifecycle)

def _approve(provider: Provider, days: int) -> str:
    shop_lifecycle.approve(provider, current_user.id, days)
    return f"已通过开店申请：{provider.name}（{provider.status_label}）"


def _reject(provider: Provider, reason: str) -> str:
    shop_lifecycle.reject(provider, current_user.id, reason)
    return f"已驳回开店申请：{provider.name}"


def _open(provider: Provider) -> str:
    shop_lifecycle.open_after_publicity(provider, current_user.id)
    return f"公示期满，已开店：{provider.name}"


def _set_pilot(provider: Provider, on: bool) -> str:
    shop_lifecycle.set_pilot(provider, current_user.id, on)
    return ("已列为服务承诺制试点：" if on else "已取消服务承诺制试点：") + provider.name


# ---------------------------------------------------------------- responses

def _render(provider: Provider, status: int, **extra):
    template = "admin/partials/shop_decision.html" if is_htmx() else "admin/shops_detail.html"
    return render_template(template, **_context(provider, **extra)), status


DESK = Desk(_render, lambda _provider, came_from: url_for("admin.shops", status=came_from))


def _context(provider: Provider, reject_form=None, refusal=None, notice=None) -> dict:
    services = db.session.scalars(select(Service).where(Service.provider_id == provider.id)
                                  .order_by(Service.id)).all()
    batch = publicity_batch(provider)
    return dict(provider=provider, attachments=attachments(provider), problems=entry_problems(provider),
                related=related_parties.enterprises_related_to([provider])[provider.id],
                services=services, batch=batch, open_objections=shop_lifecycle.open_objections(provider),
                publicity_over=batch is not None and publicity_over(batch),
                reject_form=reject_form or RejectForm(), refusal=refusal, notice=notice,
                shop_labels=SHOP_LABELS, embed=True)


def _provider(provider_id: int, lock: bool = False) -> Provider:
    """The provider (row-locked for a decision, so two reviewers cannot decide it at once)."""
    provider = db.session.get(Provider, provider_id, with_for_update=lock)
    if provider is None:
        abort(404)
    return provider
