"""One-shot actions (issue 15), twenty requests at the same moment through the real routes, each a client of its own
(its own session and database connection; on PostgreSQL twenty pooled connections). SQLite's single writer hides
these races; PostgreSQL's READ COMMITTED lets every request read "nothing there yet" and insert. A unique index or a
row lock must decide, and every loser is told why (or sent to what the winner made), never a 500."""
import threading
from datetime import timedelta

import pytest
from alembic import command
from alembic.config import Config as AlembicConfig
from sqlalchemy import create_engine, func, select, text

from marketplace import policy
from marketplace.config import ROOT
from marketplace.extensions import db
from marketplace.models import (
    ApplicationStatus,
    AuditLog,
    Cart,
    CartLine,
    Category,
    Complaint,
    NonEligibleKind,
    Objection,
    Order,
    OrderEvent,
    OrderStatus,
    PaymentBatch,
    PublicityBatch,
    Rating,
    Redemption,
    RedemptionStatus,
    Voucher,
    VoucherApplication,
    china_today,
)
from marketplace.orders import lifecycle as order_lifecycle
from marketplace.redemption import claims, settlement

from .conftest import posted_at_once, run_at_once, signed_in_cookie
from .hostile import voucher_application

THREADS = 20
R = RedemptionStatus
SMALL_FEN = 100_000  # ¥1,000 a claim: twenty fit one voucher


def statuses_of(answers) -> list[int]:
    return sorted(status for status, _ in answers)


def count(model, *where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def audited(object_type: str, object_id, action: str) -> int:
    return count(AuditLog, AuditLog.object_type == object_type, AuditLog.object_id == str(object_id),
                 AuditLog.action == action)


def postgres_only() -> None:
    if db.engine.dialect.name != "postgresql":
        pytest.skip("row locks are PostgreSQL's (SQLite's POSTs hold the whole database's write lock)")


def post_in_background(app, user, path: str, data: dict) -> tuple[threading.Thread, list]:
    """A request started in a thread of its own, to be joined later; its (status, Location, text) lands in the list."""
    cookie, answers = signed_in_cookie(app, user), []

    def post():
        with app.app_context():
            client = app.test_client()
            client.set_cookie("session", cookie)
            response = client.post(path, data=data)
            answers.append((response.status_code, response.location or "", response.text))

    worker = threading.Thread(target=post)
    worker.start()
    return worker, answers


# ---- claims ------------------------------------------------------------------------------------------------------

def test_twenty_starts_at_once_make_one_claim_on_an_order(app, make, enterprise, provider):
    make.voucher(enterprise)
    order = make.order(enterprise, make.service(provider.provider, price_fen=16_000), status=OrderStatus.IN_SERVICE)
    answers = posted_at_once(app, [(enterprise, f"/me/orders/{order.order_no}/redemption/start", {})] * THREADS)
    assert statuses_of(answers) == [303] * THREADS
    assert {location for _, location in answers} == {f"/me/orders/{order.order_no}/redemption"}
    assert count(Redemption, Redemption.order_id == order.id) == 1
    assert count(AuditLog, AuditLog.object_type == "redemption", AuditLog.action == "create") == 1


def test_a_start_on_an_order_whose_draft_a_submit_holds_does_not_wait_for_the_draft(app, make, enterprise, provider):
    """A submit locks the claim, then the order (orders/lifecycle.py); a start holding the order must not then wait
    for the claim, or the two deadlock."""
    postgres_only()
    make.voucher(enterprise)
    order = make.order(enterprise, make.service(provider.provider, price_fen=16_000), status=OrderStatus.IN_SERVICE)
    claim = make.claim(enterprise, order=order, status=R.DRAFT)
    db.session.execute(Redemption.__table__.update().values(eligible_spend_fen=0, requested_fen=0))  # a stale preview
    db.session.commit()
    with db.engine.connect() as submit:
        submit.execute(select(Redemption.id).where(Redemption.id == claim.id).with_for_update())
        worker, answers = post_in_background(app, enterprise, f"/me/orders/{order.order_no}/redemption/start", {})
        worker.join(timeout=3)
        waited = worker.is_alive()
        if not waited:
            submit.execute(select(Order.id).where(Order.id == order.id).with_for_update())
        submit.rollback()
    worker.join()
    assert not waited, "the start waited for the claim while holding the order"
    assert [location for _, location, _ in answers] == [f"/me/orders/{order.order_no}/redemption"]


def test_a_start_holding_the_order_lets_events_and_messages_on_it_through(app, make, enterprise, provider):
    postgres_only()
    make.voucher(enterprise)
    order = make.order(enterprise, make.service(provider.provider, price_fen=16_000), status=OrderStatus.IN_SERVICE)
    claims.start_online(order, enterprise)  # holds the order's row until this session commits
    with db.engine.connect() as other_request:
        other_request.execute(text("SET lock_timeout = '2s'"))
        other_request.execute(OrderEvent.__table__.insert().values(order_id=order.id, kind="message", note=""))
        other_request.commit()
    db.session.commit()
    assert count(OrderEvent, OrderEvent.order_id == order.id, OrderEvent.kind == "message") == 1


OFFLINE_PROVIDER = {"provider_name": "南京某某大学", "provider_credit_code": "123200004660000004",
                    "provider_contact": "王林", "provider_phone": "025-83235635"}


def test_twenty_offline_starts_at_once_leave_no_draft(app, make, enterprise):
    make.voucher(enterprise)
    answers = posted_at_once(app, [(enterprise, "/me/offline-redemptions/new", {})] * THREADS)
    assert statuses_of(answers) == [303] * THREADS
    assert {location for _, location in answers} == {"/me/offline-redemptions/new/provider"}
    assert count(Redemption, Redemption.kind == "offline") == 0


def test_twenty_first_steps_at_once_make_one_draft(app, make, enterprise):
    make.voucher(enterprise)
    answers = posted_at_once(app, [(enterprise, "/me/offline-redemptions/new/provider", OFFLINE_PROVIDER)] * THREADS)
    assert statuses_of(answers) == [303] * THREADS
    claim_id = db.session.scalar(select(Redemption.id).where(Redemption.kind == "offline"))
    assert {location for _, location in answers} == {f"/me/offline-redemptions/{claim_id}/service"}
    assert count(Redemption, Redemption.kind == "offline") == 1
    assert audited("redemption", claim_id, "create") == 1


# ---- orders and the cart -------------------------------------------------------------------------------------------

def checkout_form(provider_id: int) -> dict:
    key = f"p{provider_id}v"
    declarations = ("declares_innovation", "declares_unrelated", "declares_direct", "declares_unfunded")
    return {f"{key}-contact_name": "李四", f"{key}-contact_phone": "13812345678", f"{key}-amount": "400",
            **{f"{key}-{name}": "y" for name in declarations}}


def test_twenty_checkouts_at_once_turn_a_cart_line_into_one_order(app, make, enterprise, provider):
    service = make.service(provider.provider)
    db.session.add(Cart(user_id=enterprise.id, lines=[CartLine(service_id=service.id, quantity=1)]))
    db.session.commit()
    answers = posted_at_once(app, [(enterprise, "/checkout", checkout_form(provider.provider.id))] * THREADS)
    assert statuses_of(answers) == [303] * THREADS
    assert {location for _, location in answers} == {"/me/orders"}  # the repeats are told 订单已提交, not 购物车是空的
    assert count(Order, Order.buyer_id == enterprise.id) == 1
    assert count(CartLine) == 0


def test_twenty_buy_nows_at_once_place_one_order_and_send_the_repeats_to_it(app, make, enterprise, provider):
    service = make.service(provider.provider)
    buy_now = f"/checkout?service_id={service.id}&quantity=2"
    answers = posted_at_once(app, [(enterprise, buy_now, checkout_form(provider.provider.id))] * THREADS)
    assert statuses_of(answers) == [303] * THREADS
    [order] = db.session.scalars(select(Order).where(Order.buyer_id == enterprise.id)).all()
    assert sorted(location for _, location in answers) == (["/me/orders"]
                                                           + [f"/me/orders/{order.order_no}"] * (THREADS - 1))
    assert count(AuditLog, AuditLog.object_type == "order", AuditLog.action == "place") == 1


def test_the_same_buy_now_a_while_after_the_first_places_a_second_order(app, make, enterprise, provider, client,
                                                                         auth):
    service = make.service(provider.provider)
    buy_now = f"/checkout?service_id={service.id}&quantity=2"
    auth.login(enterprise)
    assert client.post(buy_now, data=checkout_form(provider.provider.id)).location == "/me/orders"
    repeated = client.post(buy_now, data=checkout_form(provider.provider.id))
    assert repeated.location.startswith("/me/orders/") and "订单已提交" in client.get(repeated.location).text
    db.session.execute(Order.__table__.update().values(created_at=Order.created_at - timedelta(minutes=2)))
    db.session.commit()
    assert client.post(buy_now, data=checkout_form(provider.provider.id)).location == "/me/orders"
    assert count(Order, Order.buyer_id == enterprise.id) == 2


def hold_the_cart(checkout, user) -> list[int]:
    """What a checkout does first, on a connection of its own: lock the user's cart row and read its line ids."""
    cart_id = checkout.execute(select(Cart.id).where(Cart.user_id == user.id).with_for_update(key_share=True)).scalar()
    return list(checkout.execute(select(CartLine.id).where(CartLine.cart_id == cart_id)).scalars())


def test_an_add_while_a_checkout_holds_the_cart_waits_and_lands_in_the_emptied_cart(app, make, enterprise, provider):
    postgres_only()
    service = make.service(provider.provider)
    db.session.add(Cart(user_id=enterprise.id, lines=[CartLine(service_id=service.id, quantity=1)]))
    db.session.commit()
    with db.engine.connect() as checkout:
        ordered = hold_the_cart(checkout, enterprise)
        worker, answers = post_in_background(app, enterprise, "/cart/add", {"service_id": service.id, "quantity": "2"})
        worker.join(timeout=1)
        checkout.execute(CartLine.__table__.delete().where(CartLine.id.in_(ordered)))
        checkout.commit()
    worker.join()
    assert [status for status, _, _ in answers] == [303]
    assert db.session.scalars(select(CartLine.quantity)).all() == [2]  # not lost with the ordered line


@pytest.mark.parametrize("change", ["quantity", "remove"])
def test_a_cart_change_on_a_line_a_checkout_just_ordered_is_told_the_line_is_gone(app, make, enterprise, provider,
                                                                                   change):
    postgres_only()
    service = make.service(provider.provider)
    line = CartLine(service_id=service.id, quantity=1)
    db.session.add(Cart(user_id=enterprise.id, lines=[line]))
    db.session.commit()
    with db.engine.connect() as checkout:
        hold_the_cart(checkout, enterprise)
        checkout.execute(CartLine.__table__.delete().where(CartLine.id == line.id))
        worker, answers = post_in_background(app, enterprise, f"/cart/lines/{line.id}/{change}", {"quantity": "3"})
        worker.join(timeout=1)
        checkout.commit()
    worker.join()
    [(status, _, text)] = answers
    assert status == 404 and "已不在购物车中" in text
    assert count(CartLine) == 0


def test_twenty_adds_at_once_keep_one_cart_line_with_every_piece(app, make, enterprise, provider):
    service = make.service(provider.provider)
    answers = posted_at_once(app, [(enterprise, "/cart/add", {"service_id": service.id, "quantity": "1"})] * THREADS)
    assert statuses_of(answers) == [303] * THREADS
    assert db.session.scalars(select(CartLine.quantity)).all() == [THREADS]


# ---- objections --------------------------------------------------------------------------------------------------

def in_publicity(make, enterprise) -> Redemption:
    return make.claim(enterprise, status=R.PUBLICITY, amount_fen=SMALL_FEN)


def objection(claim: Redemption) -> str:
    return f"/publicity/{claim.id}/objection"


def test_twenty_objections_at_once_from_one_account_open_one_on_a_claim(app, make, enterprise):
    make.voucher(enterprise)
    claim = in_publicity(make, enterprise)
    objector = make.enterprise()
    answers = posted_at_once(app, [(objector, objection(claim), {"reason": f"金额与合同不符{n}"})
                                   for n in range(THREADS)])
    assert statuses_of(answers) == [303] + [409] * (THREADS - 1)
    assert count(Objection, Objection.redemption_id == claim.id) == 1
    assert audited("redemption", claim.id, "object") == 1


def test_twenty_objections_at_once_from_one_account_on_twenty_claims_keep_the_daily_cap(app, make, enterprise):
    make.voucher(enterprise)
    claims = [in_publicity(make, enterprise) for _ in range(THREADS)]
    objector = make.enterprise()
    answers = posted_at_once(app, [(objector, objection(claim), {"reason": "金额与合同不符"}) for claim in claims])
    assert statuses_of(answers) == [303] * policy.OBJECTIONS_PER_DAY + [429] * (THREADS - policy.OBJECTIONS_PER_DAY)
    assert count(Objection, Objection.user_id == objector.id) == policy.OBJECTIONS_PER_DAY


def test_an_account_may_object_again_once_its_objection_is_resolved(app, make, enterprise, client, auth):
    make.voucher(enterprise)
    claim = in_publicity(make, enterprise)
    objector = make.enterprise()
    auth.login(objector)
    assert client.post(objection(claim), data={"reason": "金额与合同不符"}).status_code == 303
    again = client.post(objection(claim), data={"reason": "再次提出：金额与合同不符"})
    assert again.status_code == 409
    assert "再次提出：金额与合同不符" in again.get_data(as_text=True)  # the text is kept next to the field
    assert settlement.ALREADY_OBJECTED in again.get_data(as_text=True)
    db.session.execute(Objection.__table__.update().values(status="dismissed"))
    db.session.commit()
    assert client.post(objection(claim), data={"reason": "新的证据：金额与合同不符"}).status_code == 303


def test_an_objection_reads_the_claim_afresh_and_is_refused_once_publicity_is_over(app, make, enterprise):
    make.voucher(enterprise)
    claim = in_publicity(make, enterprise)  # as loaded before another request moved it on
    db.session.execute(Redemption.__table__.update().where(Redemption.id == claim.id)
                       .values(status=R.AWAITING_PAYMENT).execution_options(synchronize_session=False))
    assert claim.status == R.PUBLICITY
    with pytest.raises(settlement.Refused, match="待兑付"):
        settlement.lodge_objection(claim, make.enterprise(), "金额与合同不符")
    db.session.rollback()
    assert count(Objection) == 0


def test_twenty_closes_at_once_move_a_claim_out_of_publicity_once(app, make, enterprise, reviewer):
    make.voucher(enterprise)
    claim = in_publicity(make, enterprise)
    db.session.execute(PublicityBatch.__table__.update().values(ends_on=china_today() - timedelta(days=1)))
    db.session.commit()
    answers = posted_at_once(app, [(reviewer, "/admin/publicity/close", {})] * THREADS)
    assert statuses_of(answers) == [303] * THREADS
    assert db.session.get(Redemption, claim.id).status == R.AWAITING_PAYMENT
    assert audited("redemption", claim.id, "publicity_passed") == 1


def test_objections_and_closes_at_once_never_pass_a_claim_with_an_open_objection(app, make, enterprise, reviewer):
    make.voucher(enterprise)
    claim = in_publicity(make, enterprise)
    db.session.execute(PublicityBatch.__table__.update().values(ends_on=china_today() - timedelta(days=1)))
    db.session.commit()
    half = THREADS // 2
    objectors = [make.enterprise() for _ in range(half)]
    posted_at_once(app, [(reviewer, "/admin/publicity/close", {})] * half
                   + [(objector, objection(claim), {"reason": "金额与合同不符"}) for objector in objectors])
    open_objections = count(Objection, Objection.redemption_id == claim.id, Objection.status == "open")
    status = db.session.get(Redemption, claim.id).status
    assert (status, open_objections > 0) in ((R.PUBLICITY, True), (R.AWAITING_PAYMENT, False))


def test_two_objections_upheld_at_once_give_a_claims_money_back_once(app, make, enterprise, reviewer):
    voucher = make.voucher(enterprise)
    objected = in_publicity(make, enterprise)
    other = make.claim(enterprise, status=R.APPROVED, amount_fen=SMALL_FEN)
    first = settlement.lodge_objection(objected, make.enterprise(), "金额与合同不符")
    second = settlement.lodge_objection(objected, make.enterprise(), "服务未实际发生")
    db.session.commit()
    upheld = {"upheld": "1", "resolution": "经核实异议成立"}
    half = THREADS // 2
    answers = posted_at_once(app, [(reviewer, f"/admin/objections/{first.id}/resolve", upheld)] * half
                             + [(reviewer, f"/admin/objections/{second.id}/resolve", upheld)] * half)
    assert statuses_of(answers) == [303] * 2 + [409] * (THREADS - 2)
    assert db.session.get(Voucher, voucher.id).approved_fen == db.session.get(Redemption, other.id).approved_fen
    assert audited("redemption", objected.id, "objection_upheld") == 1


# ---- complaints and ratings ------------------------------------------------------------------------------------

def complaint(order: Order) -> str:
    return f"/orders/{order.order_no}/complaint"


def test_twenty_complaints_at_once_from_the_buyer_open_one_on_an_order(app, make, enterprise, provider):
    order = make.order(enterprise, make.service(provider.provider), status=OrderStatus.IN_SERVICE)
    answers = posted_at_once(app, [(enterprise, complaint(order),
                                    {"complaint-reason": f"报告迟迟未出，多次催促无果{n}"})
                                   for n in range(THREADS)])
    assert statuses_of(answers) == [303] + [409] * (THREADS - 1)
    assert count(Complaint, Complaint.order_id == order.id) == 1


def test_twenty_complaints_at_once_on_twenty_orders_keep_the_daily_cap(app, make, enterprise, provider):
    service = make.service(provider.provider)
    orders = [make.order(enterprise, service, status=OrderStatus.IN_SERVICE) for _ in range(THREADS)]
    answers = posted_at_once(app, [(enterprise, complaint(order), {"complaint-reason": "报告迟迟未出，多次催促无果"})
                                   for order in orders])
    assert statuses_of(answers) == [303] * policy.COMPLAINTS_PER_DAY + [429] * (THREADS - policy.COMPLAINTS_PER_DAY)
    assert count(Complaint, Complaint.user_id == enterprise.id) == policy.COMPLAINTS_PER_DAY


def test_twenty_ratings_at_once_rate_an_order_once(app, make, enterprise, provider):
    order = make.order(enterprise, make.service(provider.provider))
    order_lifecycle.act(order, "accept", provider)
    order_lifecycle.act(order, "finish", provider, amount_fen=order.quote_fen)
    db.session.commit()
    answers = posted_at_once(app, [(enterprise, f"/orders/{order.order_no}/rating", {"rating-score": "5"})] * THREADS)
    assert statuses_of(answers) == [303] + [409] * (THREADS - 1)
    assert count(Rating, Rating.order_id == order.id) == 1


# ---- the reviewer's batches ------------------------------------------------------------------------------------

def test_twenty_payment_batches_at_once_pay_a_claim_once(app, make, enterprise, reviewer):
    voucher = make.voucher(enterprise)
    claim = make.claim(enterprise, status=R.AWAITING_PAYMENT, amount_fen=SMALL_FEN)
    data = {"claim_id": [str(claim.id)], "paid_on": china_today().isoformat(), "reference": "GK-2026-001"}
    answers = posted_at_once(app, [(reviewer, "/admin/payments", data)] * THREADS)
    assert statuses_of(answers) == [303] + [409] * (THREADS - 1)
    assert count(PaymentBatch) == 1
    voucher = db.session.get(Voucher, voucher.id)
    assert (voucher.approved_fen, voucher.disbursed_fen) == (0, db.session.get(Redemption, claim.id).approved_fen)
    assert audited("redemption", claim.id, "pay") == 1


def test_twenty_publications_at_once_publish_a_claim_once(app, make, enterprise, reviewer):
    make.voucher(enterprise)
    claim = make.claim(enterprise, status=R.APPROVED, amount_fen=SMALL_FEN)
    answers = posted_at_once(app, [(reviewer, "/admin/publicity", {"claim_id": [str(claim.id)], "days": "5"})]
                             * THREADS)
    assert statuses_of(answers) == [303] + [409] * (THREADS - 1)
    assert count(PublicityBatch) == 1
    assert audited("redemption", claim.id, "publish") == 1



# ---- the voucher application -------------------------------------------------------------------------------------

def test_twenty_first_saves_at_once_open_one_voucher_application(app, make):
    setup = voucher_application(make)
    db.session.commit()
    answers = posted_at_once(app, [(setup.user, setup.url, setup.data)] * THREADS)
    assert statuses_of(answers) == [303] * THREADS  # each save after the first edits the application it made
    assert count(VoucherApplication) == 1
    assert count(AuditLog, AuditLog.object_type == "voucher_application", AuditLog.action == "create") == 1
    assert count(AuditLog, AuditLog.object_type == "voucher_application", AuditLog.action == "edit") == THREADS - 1


def test_a_save_that_waited_for_a_submit_is_refused_and_leaves_the_submitted_application(app, make):
    postgres_only()
    setup = voucher_application(make)
    application = make.voucher_application(setup.user)
    with db.engine.connect() as submit:
        submit.execute(select(VoucherApplication.id).where(VoucherApplication.id == application.id).with_for_update())
        submit.execute(VoucherApplication.__table__.update().values(status=ApplicationStatus.SUBMITTED))
        worker, answers = post_in_background(app, setup.user, setup.url, {**setup.data, "postal_detail": "改过的地址"})
        worker.join(timeout=1)
        submit.commit()
    worker.join()
    assert [status for status, _, _ in answers] == [409]
    assert db.session.get(VoucherApplication, application.id).postal_detail == "珠江路88号"
    assert audited("voucher_application", application.id, "edit") == 0


def test_twenty_submissions_at_once_submit_a_voucher_application_once(app, make, enterprise):
    application = make.voucher_application(enterprise)
    data = {"promise": "y", "stamped_sheet__kept": str(application.stamped_sheet_file_id)}
    answers = posted_at_once(app, [(enterprise, "/me/vouchers/apply/submit", data)] * THREADS)
    assert statuses_of(answers) == [303] + [409] * (THREADS - 1)
    assert db.session.get(VoucherApplication, application.id).status == ApplicationStatus.SUBMITTED
    assert audited("voucher_application", application.id, "submit") == 1



# ---- the reviewer's reference data -----------------------------------------------------------------------------

def test_twenty_adds_at_once_add_one_top_level_category(app, reviewer):
    answers = posted_at_once(app, [(reviewer, "/admin/reference/categories", {"name": "微区分析", "parent_id": ""})]
                             * THREADS)
    assert statuses_of(answers) == [303] + [422] * (THREADS - 1)
    assert count(Category, Category.name == "微区分析") == 1


def test_twenty_default_kind_lists_at_once_add_each_kind_once(app, reviewer):
    answers = posted_at_once(app, [(reviewer, "/admin/reference/kinds/defaults", {})] * THREADS)
    assert statuses_of(answers) == [303] * THREADS
    assert count(NonEligibleKind) == len(policy.NON_ELIGIBLE_KINDS)


# ---- the migration -------------------------------------------------------------------------------------------

def test_the_upgrade_names_duplicate_open_objections_instead_of_dropping_them(tmp_path):
    config = AlembicConfig(str(ROOT / "alembic.ini"))
    config.set_main_option("sqlalchemy.url", f"sqlite:///{tmp_path / 'before.db'}")
    config.attributes["skip_logging"] = True
    command.upgrade(config, "0008")
    engine = create_engine(config.get_main_option("sqlalchemy.url"))
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO objections (redemption_id, user_id, reason, status, created_at) VALUES "
                          "(7, 3, '金额不符', 'open', '2026-12-01'), (7, 3, '金额不符', 'open', '2026-12-01')"))
    with pytest.raises(RuntimeError, match="多个待处理异议.*共 2 条"):
        command.upgrade(config, "head")
    with engine.begin() as conn:
        assert conn.execute(text("SELECT COUNT(*) FROM objections")).scalar() == 2
    engine.dispose()


# ---- registration ------------------------------------------------------------------------------------------------

def test_twenty_identical_sign_ups_at_once_open_one_account(app):
    from marketplace.models import User

    from .test_accounts import VALID_CODE
    data = {"account_type": "enterprise", "email": "race@corp.cn", "phone": "13912345678", "name": "王林",
            "password": "s3cret-pass", "confirm": "s3cret-pass", "org_name": "南京新材料科技有限公司",
            "credit_code": VALID_CODE, "city": "南京", "unit_type": ""}
    statuses = []

    def sign_up():
        statuses.append(app.test_client().post("/auth/register", data=data).status_code)

    assert run_at_once(app, sign_up, THREADS) == []
    assert sorted(statuses) == [303] + [422] * (THREADS - 1)
    assert count(User, User.email == "race@corp.cn") == 1
