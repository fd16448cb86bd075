"""The 评价与投诉 panel of one order (templates/orders/partials/feedback.html): its two forms, whether the buyer
may rate yet, and what the panel shows each reader. The full conversation page (messages.py) and the panel's own
posts (feedback.py) both build it from here."""
from dataclasses import dataclass

from sqlalchemy import select
from wtforms import RadioField, TextAreaField
from wtforms.validators import DataRequired, Length

from ..extensions import db
from ..forms import Form, choices, tidy
from ..models import Complaint, Order, OrderStatus, Rating
from ..models.orders import COMPLAINT_LABELS
from . import lifecycle

COMMENT_MAX = 500
REASON_MIN, REASON_MAX = 10, 1000
ALREADY_RATED = "该订单已经评价过了，每个订单只能评价一次。"
SCORES = choices((score, "★" * score + "☆" * (5 - score) + f" {score}分") for score in (5, 4, 3, 2, 1))


def _score(value) -> int | None:
    """A posted score as a number; anything else as no choice, so every bad score gets the one message."""
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


class RatingForm(Form):
    score = RadioField("评分", choices=SCORES, coerce=_score, invalid_choice_message="请选择1至5星的评分")
    comment = TextAreaField("评价内容（可选）", filters=[tidy], validators=[
        Length(max=COMMENT_MAX, message=f"评价内容不能超过{COMMENT_MAX}字")])


class ComplaintForm(Form):
    reason = TextAreaField("投诉原因", filters=[tidy], validators=[
        DataRequired(message="请填写投诉原因"),
        Length(min=REASON_MIN, max=REASON_MAX, message=f"投诉原因应为{REASON_MIN}至{REASON_MAX}字")])


@dataclass
class Feedback:
    order: Order
    role: str | None                   # lifecycle.BUYER / PROVIDER; None for a reviewer
    rating: Rating | None
    rating_form: RatingForm | None     # only while the buyer may rate
    complaints: list[Complaint]           # the buyer's and the reviewer's view; the provider sees none
    complaint_form: ComplaintForm | None
    notice: str | None = None
    refusal: str | None = None
    labels = COMPLAINT_LABELS


def is_finished(order: Order) -> bool:
    return order.finished_at is not None or order.status in (OrderStatus.COMPLETED, OrderStatus.PAID)


def rating_refusal(order: Order, rating: Rating | None) -> str | None:
    """Why the buyer may not rate `order` now (None: they may)."""
    if rating is not None:
        return ALREADY_RATED
    if not is_finished(order):
        return "服务完成后才能评价。"
    return None


def feedback_context(order: Order, user, rating_form: RatingForm | None = None,
                     complaint_form: ComplaintForm | None = None, notice: str | None = None,
                     refusal: str | None = None) -> dict:
    """What templates/orders/partials/feedback.html needs for `order` as seen by `user`; forms passed in
    (with the user's input and errors) replace the blank ones."""
    role = lifecycle.role_in(order, user)
    buyer = role == lifecycle.BUYER
    rating = db.session.scalar(select(Rating).where(Rating.order_id == order.id))
    if buyer and rating_refusal(order, rating) is None:
        rating_form = rating_form or RatingForm(prefix="rating", formdata=None)
    else:
        rating_form = None
    complaints = [] if role == lifecycle.PROVIDER else db.session.scalars(
        select(Complaint).where(Complaint.order_id == order.id).order_by(Complaint.id)).all()
    complaint_form = (complaint_form or ComplaintForm(prefix="complaint", formdata=None)) if buyer else None
    return {"feedback": Feedback(order, role, rating, rating_form, list(complaints), complaint_form,
                                 notice, refusal)}
