"""我的购物车 (/cart): add from the service page, change quantities, remove lines.

Lines are grouped by provider, as checkout will split them into orders. A signed-in enterprise also sees the live
voucher estimate and the exclusions known before ordering (SPEC 1.5): services without the 创新券 mark, a related
provider (关联方: an identity in common, see related_parties), no voucher this year or none left. Each change answers
htmx with the cart body and the header badge (out of band), and everyone else with a redirect and a flash message."""
from dataclasses import dataclass, field, replace

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import joinedload
from werkzeug.exceptions import NotFound

from .. import policy, related_parties
from ..accounts.access import cart_pieces, roles_required
from ..catalog import estimate
from ..catalog.estimate import MAX_QUANTITY, Estimate
from ..extensions import db
from ..htmx import is_htmx, render_either
from ..ids import as_id
from ..models import Cart, CartLine, Provider, Role, Service, ServiceStatus, ShopStatus
from ..validators import whole_number
from . import bp
from .numbers import on_conflict_insert

# A provider buys too, as an individual does: 非创新券订单 only (estimate.is_enterprise), never from its own shop.
BUYER_ROLES = (Role.ENTERPRISE, Role.INDIVIDUAL, Role.PROVIDER)
QUANTITY_RANGE = f"数量应为1至{MAX_QUANTITY}之间的整数。"
LINE_GONE = "该服务已不在购物车中（可能刚刚下单或已删除），请刷新购物车查看。"


class Unavailable(Exception):
    """A service that can no longer be ordered; the message names it in Chinese."""


def orderable(service: Service) -> bool:
    return service.status == ServiceStatus.LISTED and service.provider.status == ShopStatus.OPEN


@bp.app_template_global()
def may_buy(user) -> bool:
    """Whether `user` has a cart and may order: an approved account of BUYER_ROLES."""
    return user.is_authenticated and user.role in BUYER_ROLES and user.is_approved


@bp.app_template_global()
def own_shop(service: Service, user) -> str | None:
    """Why `user` may not order from `service`'s shop as its own: "本单位" (its own shop), "关联单位" (the user is a
    provider unit sharing an identity with the shop: related_parties, the comparison claims use); None otherwise."""
    if not user.is_authenticated:
        return None
    if service.provider.user_id == user.id:
        return "本单位"
    unit = user.provider
    if unit is not None and related_parties.shared(related_parties.of_provider(unit),
                                                   related_parties.of_provider(service.provider)):
        return "关联单位（与本单位登记信息相同）"
    return None


def check_orderable(service: Service) -> None:
    if not orderable(service):
        raise Unavailable(f"「{service.name}」已下架或所属店铺已关闭，不能下单。")
    whose = own_shop(service, current_user)
    if whose is not None:
        raise Unavailable(f"「{service.name}」是{whose}店铺的服务，不能向自己下单。")


def quantity_of(raw: str | None) -> int | None:
    """A whole number within 1..MAX_QUANTITY, else None. The digits are counted before int() sees them: Python
    refuses to convert more than 4,300 (a 500), and a long number costs time for nothing."""
    quantity = whole_number((raw or "").strip(), digits=len(str(MAX_QUANTITY)))
    return quantity if quantity is not None and 1 <= quantity <= MAX_QUANTITY else None


def lock_cart(user_id: int) -> int | None:
    """Hold the user's cart row until commit. Checkout, adding, changing and removing lines all take it first, so
    each reads the lines the one before left: a line becomes one order, a piece added during a checkout lands in the
    emptied cart instead of vanishing with the ordered line, and a change to a line just ordered finds it gone
    (PostgreSQL; SQLite's POSTs are serialised by BEGIN IMMEDIATE). FOR NO KEY UPDATE: lines referencing the cart
    need not wait for it. The cart's id, None when the user has none."""
    return db.session.scalar(select(Cart.id).where(Cart.user_id == user_id).with_for_update(key_share=True))


# ---------------------------------------------------------------- lines grouped by provider

@dataclass
class Group:
    """One provider's lines; `voucher_lines` are those a voucher could pay for (checkout's voucher order)."""
    provider: Provider
    voucher_buyer: bool   # an enterprise: individuals never use vouchers
    related: bool         # 关联方: the enterprise shares an identity with the provider (the buyer is not told which)
    lines: list[CartLine] = field(default_factory=list)
    estimate: Estimate | None = None

    def counts_for_voucher(self, line: CartLine) -> bool:
        return self.voucher_buyer and not self.related and line.service.voucher_eligible

    @property
    def related_refusal(self) -> str:
        return related_parties.refusal(self.related)

    @property
    def voucher_lines(self) -> list[CartLine]:
        return [line for line in self.lines if self.counts_for_voucher(line)]

    @property
    def other_lines(self) -> list[CartLine]:
        return [line for line in self.lines if not self.counts_for_voucher(line)]

    @property
    def total_fen(self) -> int:
        return priced_total(self.lines)

    @property
    def negotiable_count(self) -> int:
        return sum(line.service.negotiable for line in self.lines)

    @property
    def order_count(self) -> int:
        return bool(self.voucher_lines) + bool(self.other_lines)


def priced_total(lines) -> int:
    """The reference prices × quantities of the lines that have a price (面议 lines count for nothing)."""
    return sum(line.service.price_fen * line.quantity for line in lines if not line.service.negotiable)


def voucher_amount_of(lines) -> int | None:
    """What a voucher estimate is based on: the priced lines' total, None when every line is 面议."""
    return priced_total(lines) if any(not line.service.negotiable for line in lines) else None


def provider_groups(lines, user) -> list[Group]:
    """The lines by provider; load each service's provider and its user with them (the related-party check)."""
    buyer = related_parties.of_buyer(user.enterprise) if lines and estimate.is_enterprise(user) else None
    groups: dict[int, Group] = {}
    for line in lines:
        provider = line.service.provider
        if provider.id not in groups:
            related = bool(buyer and related_parties.shared(buyer, related_parties.of_provider(provider)))
            groups[provider.id] = Group(provider, buyer is not None, related)
        groups[provider.id].lines.append(line)
    return list(groups.values())


def voucher_estimates(user, amounts: list[int | None]) -> tuple[Estimate, list[Estimate]]:
    """The enterprise's estimate for each amount (None: 面议) in turn, each counting what the ones before it take
    from this year's balance so that together they never exceed it; and their sum as one summary."""
    base = estimate.estimate_for(user, None)
    used = 0 if base.remaining_fen is None else max(base.cap_fen - base.remaining_fen, 0)
    each = []
    for amount in amounts:
        if amount is None:
            each.append(replace(base, amount_fen=None, voucher_fen=None, message=estimate.NEGOTIABLE))
            continue
        voucher = policy.voucher_amount(amount, base.region, used)
        each.append(replace(base, amount_fen=amount, voucher_fen=voucher,
                            message=estimate.limit_note(amount, base.region, used, voucher, base.year)))
        used += voucher
    priced = [e for e in each if e.voucher_fen is not None]
    summary = replace(base, amount_fen=sum(e.amount_fen for e in priced) if priced else None,
                      voucher_fen=sum(e.voucher_fen for e in priced) if priced else None, message="")
    return summary, each


@dataclass
class CartView:
    groups: list[Group]
    unavailable: list[CartLine]    # delisted since, or the shop closed: to be removed before checkout
    outlook: Estimate | None    # the enterprise's summary estimate; None for individuals

    @property
    def empty(self) -> bool:
        return not self.groups and not self.unavailable

    @property
    def total_fen(self) -> int:
        return sum(group.total_fen for group in self.groups)

    @property
    def negotiable_count(self) -> int:
        return sum(group.negotiable_count for group in self.groups)

    @property
    def order_count(self) -> int:
        return sum(group.order_count for group in self.groups)


def cart_lines(user_id: int) -> list[CartLine]:
    return list(db.session.scalars(
        select(CartLine).join(Cart).where(Cart.user_id == user_id).order_by(CartLine.id)
        .options(joinedload(CartLine.service).options(joinedload(Service.provider).joinedload(Provider.user),
                                                      joinedload(Service.instrument)))))


def cart_view(user) -> CartView:
    lines = cart_lines(user.id)
    groups = provider_groups([line for line in lines if orderable(line.service)], user)
    outlook = None
    if estimate.is_enterprise(user):
        hopeful = [group for group in groups if group.voucher_lines]
        outlook, each = voucher_estimates(user, [voucher_amount_of(group.voucher_lines) for group in hopeful])
        for group, group_estimate in zip(hopeful, each, strict=True):
            group.estimate = group_estimate
    return CartView(groups, [line for line in lines if not orderable(line.service)], outlook)


# ---------------------------------------------------------------- routes

@bp.get("/cart")
@roles_required(*BUYER_ROLES)
def cart():
    return render_either("orders/cart.html", "orders/partials/cart_body.html", **_body_context())


@bp.post("/cart/add")
@roles_required(*BUYER_ROLES)
def cart_add():
    service_id = as_id(request.form.get("service_id"))
    if not service_id:
        abort(404)
    service = db.session.scalar(select(Service).where(Service.id == service_id).options(joinedload(Service.provider)))
    if service is None:
        abort(404)
    back = url_for("catalog.service_detail", service_id=service.id)
    try:
        check_orderable(service)
    except Unavailable as refused:
        return _added(str(refused), url_for("orders.cart"), 409)
    quantity = quantity_of(request.form.get("quantity"))
    if quantity is None:
        return _added(QUANTITY_RANGE, back, 422)
    if _add(service, quantity) is None:
        db.session.rollback()
        return _added(f"购物车中「{service.name}」的数量合计不能超过{MAX_QUANTITY}。", back, 422)
    db.session.commit()
    return _added(f"已将「{service.name}」× {quantity} 加入购物车。", back)


@bp.post("/cart/lines/<int:line_id>/quantity")
@roles_required(*BUYER_ROLES)
def cart_quantity(line_id: int):
    lock_cart(current_user.id)
    line = _own_line(line_id)
    quantity = quantity_of(request.form.get("quantity"))
    if quantity is None:
        return _changed(QUANTITY_RANGE, 422, errors={line.id: QUANTITY_RANGE},
                        typed={line.id: request.form.get("quantity", "")})
    line.quantity = quantity
    db.session.commit()
    return _changed(f"「{line.service.name}」的数量已改为 {quantity}。")


@bp.post("/cart/lines/<int:line_id>/remove")
@roles_required(*BUYER_ROLES)
def cart_remove(line_id: int):
    lock_cart(current_user.id)
    line = _own_line(line_id)
    name = line.service.name
    db.session.delete(line)
    db.session.commit()
    return _changed(f"已从购物车删除「{name}」。")


@bp.app_context_processor
def cart_badge():
    if not may_buy(current_user):
        return {"cart_count": 0}
    loaded = getattr(current_user, "cart_pieces", None)  # with the user, by accounts/access.py
    if request.method == "GET" and loaded is not None:  # no GET changes a cart
        return {"cart_count": loaded}
    return {"cart_count": db.session.scalar(select(cart_pieces(current_user.id)))}


def _add(service: Service, quantity: int) -> int | None:
    """Add to the line of `service` (created if missing) in one statement, so two quick clicks cannot collide;
    the line's new quantity, or None when it would pass MAX_QUANTITY."""
    db.session.execute(on_conflict_insert(Cart).values(user_id=current_user.id)
                       .on_conflict_do_nothing(index_elements=[Cart.user_id]))
    cart_id = lock_cart(current_user.id)  # waits for a checkout of this cart, so the piece lands after it
    stmt = on_conflict_insert(CartLine).values(cart_id=cart_id, service_id=service.id, quantity=quantity)
    added = CartLine.quantity + stmt.excluded.quantity
    stmt = stmt.on_conflict_do_update(index_elements=[CartLine.cart_id, CartLine.service_id],
                                      set_={"quantity": added}, where=added <= MAX_QUANTITY)
    return db.session.execute(stmt.returning(CartLine.quantity)).scalar()


def _own_line(line_id: int) -> CartLine:
    """The user's line, read after lock_cart(); gone (or never theirs): 404, saying it may just have been ordered."""
    line = db.session.scalar(select(CartLine).join(Cart)
                             .where(CartLine.id == line_id, Cart.user_id == current_user.id)
                             .execution_options(populate_existing=True))
    if line is None:
        gone = NotFound()
        gone.chinese_detail = LINE_GONE
        raise gone
    return line


def _body_context(errors: dict | None = None, typed: dict | None = None) -> dict:
    return {"view": cart_view(current_user), "errors": errors or {}, "typed": typed or {},
            "max_quantity": MAX_QUANTITY}


def _added(message: str, back: str, status: int = 200):
    """The answer to 加入购物车: htmx gets the notice under the buy box (and the badge); a page goes `back`."""
    if is_htmx():
        return render_template("orders/partials/cart_added.html", message=message, ok=status == 200), status
    flash(message, "success" if status == 200 else "warning")
    return redirect(back, 303)


def _changed(message: str, status: int = 200, **problems):
    """The answer to a change on the cart page: htmx gets the new cart body (and the badge), a page /cart again."""
    if is_htmx():
        return render_template("orders/partials/cart_changed.html", **_body_context(**problems)), status
    flash(message, "success" if status == 200 else "warning")
    return redirect(url_for("orders.cart"), 303)
