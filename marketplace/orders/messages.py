"""和我联系 (SPEC 5): one message thread per order between its buyer and the provider's user.

The two sides read and write; reviewers only read. Showing the thread to one side marks the other
side's messages read. An open page polls for new messages every few seconds while it is visible; the
poll carries the last message id it has and is answered 204 (htmx swaps nothing) until a newer one exists.
"""
from dataclasses import dataclass

from flask import abort, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy import func, or_, select, update
from wtforms import TextAreaField
from wtforms.validators import DataRequired, Length

from ..errors import forbidden
from ..extensions import db
from ..forms import Form, tidy
from ..htmx import is_htmx
from ..ids import as_id
from ..models import Message, Order, Provider, utcnow
from . import bp, lifecycle
from .feedback_panel import feedback_context
from .numbers import ORDER_NO_MAX

MESSAGE_MAX = 1000


class MessageForm(Form):
    body = TextAreaField("留言", filters=[tidy], validators=[
        DataRequired(message="请输入消息内容"),
        Length(max=MESSAGE_MAX, message=f"消息不能超过{MESSAGE_MAX}字")])


@dataclass
class Thread:
    order: Order
    role: str | None            # lifecycle.BUYER or PROVIDER; None for a reviewer, who only reads
    messages: list[Message]
    form: MessageForm | None    # the box to write in, for the two sides only

    @property
    def poll_url(self) -> str:
        last_id = self.messages[-1].id if self.messages else 0
        return url_for("orders.messages", order_no=self.order.order_no, after=last_id)

    @property
    def send_url(self) -> str:
        return url_for("orders.send_message", order_no=self.order.order_no)

    def side(self, message: Message) -> str:
        return "买家" if message.sender_id == self.order.buyer_id else "卖家"


def thread_context(order: Order, user, form: MessageForm | None = None) -> dict:
    """What templates/orders/partials/thread.html needs for `order` as seen by `user`. Showing the thread
    to the buyer or the provider marks what the other side wrote as read."""
    role = lifecycle.role_in(order, user)
    if role is not None:
        _mark_read(order, user)
    messages = db.session.scalars(select(Message).where(Message.order_id == order.id).order_by(Message.id)).all()
    box = (form or MessageForm(prefix="message", formdata=None)) if role is not None else None
    return {"thread": Thread(order, role, list(messages), box)}


def unread_count(user, side: str | None = None) -> int:
    """Messages to `user` not read yet, in one query: on the orders they bought (`side` lifecycle.BUYER, what /me
    counts), sold (lifecycle.PROVIDER, what /seller counts), or either (None)."""
    if not getattr(user, "is_authenticated", False):
        return 0
    bought = Order.buyer_id == user.id
    sold = Order.provider_id.in_(select(Provider.id).where(Provider.user_id == user.id))
    mine = {lifecycle.BUYER: bought, lifecycle.PROVIDER: sold, None: or_(bought, sold)}[side]
    return db.session.scalar(
        select(func.count(Message.id)).join(Order, Message.order_id == Order.id)
        .where(mine, Message.sender_id != user.id, Message.read_at.is_(None)))


def reachable(order_no: str) -> tuple[Order, str | None]:
    """The order and the signed-in user's part in it; 404 for all but its two sides and reviewers."""
    order = db.session.scalar(select(Order).where(Order.order_no == order_no[:ORDER_NO_MAX]))
    role = lifecycle.role_in(order, current_user) if order is not None else None
    if order is None or (role is None and not current_user.is_reviewer):
        abort(404)
    return order, role


def order_page(order: Order, role: str | None) -> tuple[str, str]:
    """Where "back to the order" leads each reader: (url, label)."""
    if role == lifecycle.BUYER:
        return url_for("orders.my_order", order_no=order.order_no), "返回订单详情"
    if role == lifecycle.PROVIDER:
        return url_for("seller.order_detail", order_no=order.order_no), "返回订单详情"
    return url_for("admin.complaints"), "返回投诉处理"


@bp.get("/orders/<order_no>/messages")
@login_required
def messages(order_no: str):
    order, role = reachable(order_no)
    after = as_id(request.args.get("after"))
    if is_htmx() and after is not None and not _newer_than(order, after):
        return "", 204
    return _render(order, role)


@bp.post("/orders/<order_no>/messages")
@login_required
def send_message(order_no: str):
    order, role = reachable(order_no)
    if role is None:
        raise forbidden("审核员只能查看双方的沟通记录，不能发送消息。")
    form = MessageForm(prefix="message")
    if not form.validate_on_submit():
        return _render(order, role, form), 422
    db.session.add(Message(order_id=order.id, sender_id=current_user.id, body=form.body.data))
    db.session.commit()
    if is_htmx():
        return _render(order, role)
    return redirect(order_page(order, role)[0] + "#order-thread", 303)


def order_conversation(order: Order, role: str | None, message_form: MessageForm | None = None,
                       **feedback_forms) -> str:
    """The full page of one order's thread, rating and complaints: the page of /orders/<no>/messages and
    the answer without JavaScript when one of their forms has errors (passed in to be shown again)."""
    back_url, back_label = order_page(order, role)
    return render_template("orders/messages.html", order=order, back_url=back_url, back_label=back_label,
                           **thread_context(order, current_user, message_form),
                           **feedback_context(order, current_user, **feedback_forms))


def _render(order: Order, role: str | None, form: MessageForm | None = None) -> str:
    if is_htmx():
        return render_template("orders/partials/thread.html", **thread_context(order, current_user, form))
    return order_conversation(order, role, form)


def _newer_than(order: Order, message_id: int) -> bool:
    return db.session.scalar(select(Message.id).where(Message.order_id == order.id, Message.id > message_id)
                             .limit(1)) is not None


def _mark_read(order: Order, reader) -> None:
    marked = db.session.execute(
        update(Message).where(Message.order_id == order.id, Message.sender_id != reader.id,
                              Message.read_at.is_(None))
        .values(read_at=utcnow()).execution_options(synchronize_session=False))
    if marked.rowcount:
        db.session.commit()
