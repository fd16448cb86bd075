"""Nobody sees or acts on an order that is not theirs: every order route × every kind of outsider."""
import pytest
from sqlalchemy import func, select

from marketplace.extensions import db
from marketplace.models import Complaint, Message, Order, OrderStatus, Rating, Role, utcnow

ROUTES = [
    ("get", "/me/orders/{no}"), ("post", "/me/orders/{no}/withdraw"),
    ("get", "/seller/orders/{no}"), ("post", "/seller/orders/{no}/accept"), ("post", "/seller/orders/{no}/decline"),
    ("post", "/seller/orders/{no}/finish"),
    ("post", "/me/orders/{no}/request_cancel"), ("post", "/me/orders/{no}/agree_cancel"),
    ("post", "/seller/orders/{no}/request_cancel"), ("post", "/seller/orders/{no}/agree_cancel"),
    ("get", "/orders/{no}/messages"), ("post", "/orders/{no}/messages"),
    ("post", "/orders/{no}/rating"), ("post", "/orders/{no}/complaint"),
]
OUTSIDERS = ["anonymous", "other_enterprise", "other_individual", "other_provider", "pending_enterprise"]
# A reviewer may read the thread (complaints are about it), and nothing else on these routes.
REVIEWER_READS = {("get", "/orders/{no}/messages")}
FORM = {"reason": "不想要了，理由足够长的一段话", "message-body": "你好", "rating-score": "5",
        "complaint-reason": "服务与描述严重不符，要求处理。"}


def outsider(make, who):
    if who == "other_enterprise":
        return make.enterprise()
    if who == "pending_enterprise":
        from marketplace.models import AccountStatus
        return make.enterprise(status=AccountStatus.PENDING)
    if who == "other_provider":
        return make.provider()
    user = make.user(Role.INDIVIDUAL)
    db.session.commit()
    return user


@pytest.fixture
def finished_order(make, enterprise, listed_service):
    """A pending order with a finished date: every action (rating included) is open to its own parties."""
    return make.order(enterprise, listed_service, finished_at=utcnow())


def listed_service_name(order: Order) -> str:
    return order.items[0].service_name


def untouched(order_id: int) -> bool:
    db.session.commit()
    db.session.expire_all()
    counts = [db.session.scalar(select(func.count()).select_from(model)) for model in (Message, Rating, Complaint)]
    return db.session.get(Order, order_id).status == OrderStatus.PENDING and counts == [0, 0, 0]


@pytest.mark.parametrize("method, path", ROUTES)
@pytest.mark.parametrize("who", OUTSIDERS)
def test_outsiders_neither_see_nor_change_an_order(client, auth, make, finished_order, who, method, path):
    if who != "anonymous":
        auth.login(outsider(make, who))
    response = getattr(client, method)(path.format(no=finished_order.order_no), data=FORM)
    assert response.status_code in (302, 403, 404)
    if who == "anonymous":
        assert response.status_code == 302 and "/auth/login" in response.headers["Location"]
    else:  # an error page that says nothing about the order
        assert listed_service_name(finished_order) not in response.get_data(as_text=True)
    assert untouched(finished_order.id)


@pytest.mark.parametrize("method, path", ROUTES)
def test_a_reviewer_only_reads_the_thread(client, auth, reviewer, finished_order, method, path):
    auth.login(reviewer)
    response = getattr(client, method)(path.format(no=finished_order.order_no), data=FORM)
    assert response.status_code in ((200,) if (method, path) in REVIEWER_READS else (403, 404))
    assert untouched(finished_order.id)


def test_the_buyer_and_the_seller_each_reach_their_own_pages(client, auth, enterprise, listed_service, make):
    order = make.order(enterprise, listed_service, finished_at=utcnow())
    auth.login(enterprise)
    assert client.get(f"/me/orders/{order.order_no}").status_code == 200
    assert client.get(f"/seller/orders/{order.order_no}").status_code == 403
    auth.logout()
    auth.login(listed_service.provider.user)
    assert client.get(f"/seller/orders/{order.order_no}").status_code == 200
    assert client.get(f"/me/orders/{order.order_no}").status_code in (403, 404)
