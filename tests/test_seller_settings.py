"""店铺设置 (/seller/settings): the 自动接单 switch — only an open shop turns it on, every change audited, and
with it on a new order is accepted the moment it is placed."""
import pytest
from sqlalchemy import select

from marketplace.extensions import db
from marketplace.models import AuditLog, OrderEvent, OrderStatus, Provider, Role, ShopStatus

from .conftest import sign_in_as

HTMX = {"HX-Request": "true"}


@pytest.fixture
def seller(client, auth, provider):
    auth.login(provider)
    return provider


def shop(user) -> Provider:
    db.session.commit()
    db.session.expire_all()
    return db.session.get(Provider, user.provider.id)


def audit_trail(provider_id: int) -> list[tuple]:
    rows = db.session.execute(select(AuditLog.action, AuditLog.from_state, AuditLog.to_state)
                              .where(AuditLog.object_type == "provider", AuditLog.object_id == str(provider_id))
                              .order_by(AuditLog.id))
    return [tuple(row) for row in rows]


def test_the_settings_page_explains_auto_accept_and_offers_to_turn_it_on(client, seller):
    page = client.get("/seller/settings").get_data(as_text=True)

    assert "自动接单" in page and "立即自动接单" in page and "未开启" in page
    assert 'name="auto_accept" value="1"' in page and "开启自动接单</button>" in page
    assert 'href="/seller/settings" aria-current="page">店铺设置</a>' in page


def test_turning_auto_accept_on_is_saved_audited_and_flashed(client, seller):
    response = client.post("/seller/settings", data={"auto_accept": "1"})

    assert response.status_code == 303 and response.headers["Location"] == "/seller/settings"
    page = client.get("/seller/settings").get_data(as_text=True)
    assert "已开启自动接单" in page and "关闭自动接单</button>" in page
    provider = shop(seller)
    assert provider.auto_accept
    assert audit_trail(provider.id) == [("auto_accept_on", "off", "on")]


def test_with_auto_accept_on_a_new_order_is_in_service_at_once_and_the_timeline_says_so(client, seller, make,
                                                                                          enterprise):
    service = make.service(seller.provider)
    client.post("/seller/settings", data={"auto_accept": "1"})
    shop(seller)

    order = make.order(enterprise, service)

    assert order.status == OrderStatus.IN_SERVICE and order.auto_accepted and order.accepted_at is not None
    kinds = db.session.scalars(select(OrderEvent.kind).where(OrderEvent.order_id == order.id)
                               .order_by(OrderEvent.id)).all()
    assert kinds == ["placed", "auto_accepted"]
    page = client.get(f"/seller/orders/{order.order_no}").get_data(as_text=True)
    assert "卖家已开启自动接单，订单自动接单" in page and "（自动接单）" in page


def test_turning_it_off_with_htmx_answers_with_the_switch_and_new_orders_wait_again(client, seller, make,
                                                                                  enterprise):
    service = make.service(seller.provider)
    client.post("/seller/settings", data={"auto_accept": "1"})

    response = client.post("/seller/settings", data={"auto_accept": "0"}, headers=HTMX)

    body = response.get_data(as_text=True)
    assert response.status_code == 200 and "<html" not in body and 'id="auto-accept"' in body
    assert "已关闭自动接单" in body and "开启自动接单</button>" in body
    provider = shop(seller)
    assert not provider.auto_accept
    assert audit_trail(provider.id) == [("auto_accept_on", "off", "on"), ("auto_accept_off", "on", "off")]
    assert make.order(enterprise, service).status == OrderStatus.PENDING


def test_saving_the_setting_it_already_has_records_nothing_new(client, seller):
    client.post("/seller/settings", data={"auto_accept": "0"})

    assert not shop(seller).auto_accept and audit_trail(seller.provider.id) == []


@pytest.mark.parametrize("shop_status", [ShopStatus.DRAFT, ShopStatus.PENDING, ShopStatus.REMOVED])
def test_a_shop_that_is_not_open_cannot_turn_auto_accept_on(client, auth, make, shop_status):
    user = make.provider(shop_status=shop_status)
    auth.login(user)

    page = client.get("/seller/settings").get_data(as_text=True)
    response = client.post("/seller/settings", data={"auto_accept": "1"})

    assert "店铺开通后才能开启自动接单" in page and "开启自动接单</button>" not in page
    assert response.status_code == 409 and "店铺开通后才能开启自动接单" in response.get_data(as_text=True)
    assert not shop(user).auto_accept and audit_trail(user.provider.id) == []


def test_a_removed_shop_that_had_auto_accept_on_can_still_turn_it_off(client, auth, make):
    user = make.provider()
    user.provider.auto_accept, user.provider.status = True, ShopStatus.REMOVED
    db.session.commit()
    auth.login(user)

    response = client.post("/seller/settings", data={"auto_accept": "0"})

    assert response.status_code == 303 and not shop(user).auto_accept


def test_a_value_other_than_on_or_off_is_a_bad_request(client, seller):
    assert client.post("/seller/settings", data={"auto_accept": "yes"}).status_code == 400
    assert not shop(seller).auto_accept


def test_the_switch_refuses_a_post_without_the_csrf_token(client, seller):
    response = client.post("/seller/settings", data={"auto_accept": "1"}, csrf=False)

    assert response.status_code == 400 and not shop(seller).auto_accept


@pytest.mark.parametrize("who, expected", [("anonymous", 302), ("enterprise", 403), ("individual", 403),
                                           (Role.REVIEWER, 403), ("pending_provider", 403)])
@pytest.mark.parametrize("method", ["get", "post"])
def test_only_approved_providers_reach_the_settings(client, auth, make, who, expected, method):
    sign_in_as(auth, make, who)

    response = getattr(client, method)("/seller/settings", data={"auto_accept": "1"})

    assert response.status_code == expected
    if expected == 302:
        assert response.headers["Location"].startswith("/auth/login")


def test_the_home_shows_whether_auto_accept_is_on(client, seller):
    client.post("/seller/settings", data={"auto_accept": "1"})

    page = client.get("/seller").get_data(as_text=True)

    assert "已开启 · <a href=\"/seller/settings\">店铺设置</a>" in page
