"""评价与投诉 (SPEC 5): once an order is finished its buyer rates the provider, once (1–5 and a comment);
the buyer may complain about an order at any time, for the reviewer to resolve (admin/complaints.py).
Ratings and complaints feed the providers' exit review (SPEC 1.6)."""

from flask import flash, redirect, render_template
from flask_login import current_user, login_required
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from .. import audit, policy, quotas
from ..errors import forbidden, render_error
from ..extensions import db
from ..htmx import is_htmx
from ..models import Complaint, Order, Rating
from . import bp, lifecycle
from .feedback_panel import ALREADY_RATED, ComplaintForm, RatingForm, feedback_context, rating_refusal
from .messages import order_conversation, order_page, reachable
from .ratings import shop_rating

bp.add_app_template_global(shop_rating)  # the shop page: {{ rating_summary(shop_rating(provider.id)) }}

ALREADY_COMPLAINED = "您对该订单的投诉正在处理中，处理完成前不能重复投诉。"


@bp.post("/orders/<order_no>/rating")
@login_required
def rate(order_no: str):
    order = _buyers_order(order_no)
    refusal = rating_refusal(order, db.session.scalar(select(Rating).where(Rating.order_id == order.id)))
    if refusal:
        return _refuse(order, refusal)
    form = RatingForm(prefix="rating")
    if not form.validate_on_submit():
        return _invalid(order, rating_form=form)
    db.session.add(Rating(order_id=order.id, provider_id=order.provider_id, user_id=current_user.id,
                          score=form.score.data, comment=form.comment.data or ""))
    audit.record("order", order.order_no, "rate", None, None, f"{form.score.data}分")
    try:
        db.session.commit()
    except IntegrityError:  # the same buyer's second submit won the race: ratings are unique per order
        db.session.rollback()
        return _refuse(order, ALREADY_RATED)
    return _done(order, "感谢您的评价！")


@bp.post("/orders/<order_no>/complaint")
@login_required
def complain(order_no: str):
    order = _buyers_order(order_no)
    form = ComplaintForm(prefix="complaint")
    if not form.validate_on_submit():
        return _invalid(order, complaint_form=form)
    refusal, status = _complaint_refusal(order)
    if refusal:
        db.session.rollback()
        form.fail(form.reason, refusal)
        return _invalid(order, status, complaint_form=form)
    complaint = Complaint(order_id=order.id, provider_id=order.provider_id, user_id=current_user.id,
                          reason=form.reason.data, status="open")
    db.session.add(complaint)
    try:
        db.session.flush()
    except IntegrityError:  # only without the account's lock: uq_complaints_open_order_user decides
        db.session.rollback()
        form.fail(form.reason, ALREADY_COMPLAINED)
        return _invalid(order, 409, complaint_form=form)
    audit.record("complaint", complaint.id, "file", None, "open", complaint.reason)
    db.session.commit()
    return _done(order, "投诉已提交，省统筹中心将尽快处理。")


def _complaint_refusal(order: Order) -> tuple[str | None, int]:
    """Why the buyer may not file a complaint now, with the status to answer (None: they may). Counted under the
    account's row lock, so complaints sent at the same moment count each other."""
    quotas.lock_account(current_user.id)
    if db.session.scalar(select(Complaint.id).where(Complaint.order_id == order.id,
                                                    Complaint.user_id == current_user.id,
                                                    Complaint.status == "open").limit(1)) is not None:
        return ALREADY_COMPLAINED, 409
    if quotas.lodged_today(Complaint, current_user.id) >= policy.COMPLAINTS_PER_DAY:
        return f"每个账号每天最多提交{policy.COMPLAINTS_PER_DAY}条投诉，今天的次数已用完，请明天再提交。", 429
    return None, 200


def _buyers_order(order_no: str) -> Order:
    order, role = reachable(order_no)
    if role != lifecycle.BUYER:
        raise forbidden("只有下单的买家可以评价或投诉该订单。")
    return order


def _fragment(order: Order, **context) -> str:
    return render_template("orders/partials/feedback.html", **feedback_context(order, current_user, **context))


def _invalid(order: Order, status: int = 422, **forms):
    if is_htmx():
        return _fragment(order, **forms), status
    return order_conversation(order, lifecycle.BUYER, **forms), status


def _refuse(order: Order, refusal: str):
    if is_htmx():
        return _fragment(order, refusal=refusal), 409
    return render_error(409, refusal)


def _done(order: Order, notice: str):
    if is_htmx():
        return _fragment(order, notice=notice)
    flash(notice, "success")
    return redirect(order_page(order, lifecycle.BUYER)[0] + "#order-feedback", 303)
