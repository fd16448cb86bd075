"""店铺设置 (/seller/settings): the 自动接单 switch (SPEC 5). With it on, lifecycle.place accepts each new
order at once and the timeline says so; only an open shop may turn it on."""
from flask import current_app, flash, redirect, request, url_for

from .. import audit
from ..accounts.access import roles_required
from ..errors import render_error
from ..extensions import db
from ..htmx import is_htmx, render_either
from ..models import Provider
from . import bp
from .shop import my_provider

SAVED = {True: "已开启自动接单：新订单提交后将立即自动接单。", False: "已关闭自动接单：新订单需要您手动接单。"}


@bp.route("/settings", methods=["GET", "POST"])
@roles_required("provider")
def settings():
    provider = my_provider()
    if request.method == "GET":
        return _render(provider)
    wanted = request.form.get("auto_accept")
    if wanted not in ("0", "1"):
        return render_error(400)
    turn_on = wanted == "1"
    if turn_on and not provider.is_open:
        return _render(provider), 409
    if provider.auto_accept != turn_on:
        audit.record("provider", provider.id, "auto_accept_on" if turn_on else "auto_accept_off",
                     _state(provider.auto_accept), _state(turn_on))
        provider.auto_accept = turn_on
        db.session.commit()
    if is_htmx():
        return _render(provider, saved=SAVED[turn_on])
    flash(SAVED[turn_on], "success")
    return redirect(url_for("seller.settings"), 303)


def _state(on: bool) -> str:
    return "on" if on else "off"


def _render(provider: Provider, saved: str | None = None):
    closed = None if provider.is_open else f"店铺当前为“{provider.status_label}”，店铺开通后才能开启自动接单。"
    return render_either("seller/settings.html", "seller/partials/order_auto_accept.html", provider=provider,
                         closed=closed, saved=saved, accept_days=current_app.config["ORDER_ACCEPT_DAYS"])
