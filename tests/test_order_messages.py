"""和我联系: one thread per order between its buyer and its provider, read-only for reviewers, polled by htmx."""
import re

import pytest
from sqlalchemy import select

from marketplace.extensions import db
from marketplace.models import Message, Role
from marketplace.orders import messages

HTMX = {"HX-Request": "true"}


@pytest.fixture
def order(make, enterprise, listed_service):
    return make.order(enterprise, listed_service)


def url(order) -> str:
    return f"/orders/{order.order_no}/messages"


def say(client, order, body, headers=None):
    return client.post(url(order), data={"message-body": body}, headers=headers or {})


def thread(order) -> list[Message]:
    db.session.commit()
    db.session.expire_all()
    return db.session.scalars(select(Message).where(Message.order_id == order.id).order_by(Message.id)).all()


def unread_count(user) -> int:
    db.session.commit()  # end the test's read snapshot: requests wrote since
    return messages.unread_count(user)


def last_seen(page: str) -> str:
    return re.search(r'hx-get="[^"]*after=(\d+)"', page).group(1)


def test_buyer_and_provider_exchange_messages_on_the_order(client, auth, order, enterprise, provider):
    auth.login(enterprise)
    sent = say(client, order, "请问样品需要预处理吗？\n第二行")
    assert sent.status_code == 303
    assert sent.headers["Location"] == f"/me/orders/{order.order_no}#order-thread"
    auth.logout()

    auth.login(provider)
    page = client.get(url(order)).get_data(as_text=True)
    assert "请问样品需要预处理吗？<br>\n第二行" in page and "买家" in page
    assert f'href="/seller/orders/{order.order_no}"' in page
    assert say(client, order, "不需要，直接寄送即可。").headers["Location"] == \
        f"/seller/orders/{order.order_no}#order-thread"
    auth.logout()

    auth.login(enterprise)
    page = client.get(url(order)).get_data(as_text=True)
    assert page.index("请问样品需要预处理吗") < page.index("不需要，直接寄送即可。")
    assert f'href="/me/orders/{order.order_no}"' in page
    assert [(m.sender_id, m.body) for m in thread(order)] == [
        (enterprise.id, "请问样品需要预处理吗？\n第二行"), (provider.id, "不需要，直接寄送即可。")]


def test_message_bodies_are_escaped(client, auth, order, enterprise):
    auth.login(enterprise)
    say(client, order, "<script>alert(1)</script>")
    page = client.get(url(order)).get_data(as_text=True)
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_the_thread_is_on_both_order_detail_pages(client, auth, order, enterprise, provider):
    auth.login(enterprise)
    say(client, order, "麻烦尽快安排检测")
    assert "麻烦尽快安排检测" in client.get(f"/me/orders/{order.order_no}").get_data(as_text=True)
    auth.logout()
    auth.login(provider)
    assert "麻烦尽快安排检测" in client.get(f"/seller/orders/{order.order_no}").get_data(as_text=True)


@pytest.mark.parametrize("outsider", ["other_enterprise", "other_provider", "individual"])
def test_nobody_else_reaches_the_thread(client, auth, make, order, enterprise, outsider):
    auth.login(enterprise)
    say(client, order, "只给服务单位看的内容")
    auth.logout()
    other = {"other_enterprise": make.enterprise, "other_provider": make.provider,
             "individual": lambda: make.user(Role.INDIVIDUAL)}[outsider]()
    db.session.commit()
    auth.login(other)
    for headers in ({}, HTMX):
        assert client.get(url(order), headers=headers).status_code == 404
        assert say(client, order, "插一句", headers).status_code == 404
    assert len(thread(order)) == 1


def test_signed_out_visitors_are_sent_to_log_in(client, order):
    response = client.get(url(order))
    assert response.status_code == 302 and "/auth/login" in response.headers["Location"]
    assert say(client, order, "你好").status_code == 302


def test_reviewer_reads_the_thread_but_cannot_post(client, auth, order, enterprise, reviewer):
    auth.login(enterprise)
    say(client, order, "请问报告几天出？")
    auth.logout()
    auth.login(reviewer)
    page = client.get(url(order)).get_data(as_text=True)
    assert "请问报告几天出？" in page and 'name="message-body"' not in page
    assert say(client, order, "审核员插话").status_code == 403
    assert say(client, order, "审核员插话", HTMX).status_code == 403
    assert len(thread(order)) == 1
    assert thread(order)[0].read_at is None  # a reviewer's look is not the provider's


def test_reading_the_thread_marks_the_other_sides_messages_read(client, auth, order, enterprise, provider):
    auth.login(enterprise)
    say(client, order, "第一条")
    say(client, order, "第二条")
    auth.logout()
    assert unread_count(provider) == 2
    assert unread_count(enterprise) == 0  # one's own messages are never unread

    auth.login(provider)
    say(client, order, "收到")
    assert unread_count(provider) == 2  # writing is not reading
    client.get(url(order))
    assert unread_count(provider) == 0
    assert unread_count(enterprise) == 1
    assert [m.read_at is not None for m in thread(order)] == [True, True, False]


def test_unread_count_covers_every_order_bought_or_sold(client, auth, make, enterprise, provider, listed_service):
    first, second = make.order(enterprise, listed_service), make.order(enterprise, listed_service)
    auth.login(enterprise)
    say(client, first, "订单一")
    say(client, second, "订单二")
    auth.logout()
    assert unread_count(provider) == 2
    auth.login(provider)
    client.get(f"/seller/orders/{first.order_no}")  # the detail page shows the thread: it counts as reading
    assert unread_count(provider) == 1


def test_polling_answers_204_until_something_new_arrives(client, auth, order, enterprise, provider):
    auth.login(enterprise)
    say(client, order, "在吗")
    fragment = client.get(url(order), headers=HTMX).get_data(as_text=True)
    assert fragment.lstrip().startswith('<section class="panel thread" id="order-thread"')
    assert "<html" not in fragment
    assert 'hx-trigger="every 5s [document.visibilityState === \'visible\']"' in fragment
    seen = last_seen(fragment)
    assert client.get(url(order), query_string={"after": seen}, headers=HTMX).status_code == 204
    auth.logout()

    auth.login(provider)
    say(client, order, "在的，请讲")
    auth.logout()
    auth.login(enterprise)
    fresh = client.get(url(order), query_string={"after": seen}, headers=HTMX)
    assert fresh.status_code == 200 and "在的，请讲" in fresh.get_data(as_text=True)
    assert last_seen(fresh.get_data(as_text=True)) != seen
    assert unread_count(enterprise) == 0  # the poll showed it: read


def test_without_htmx_the_poll_url_is_the_full_page(client, auth, order, enterprise):
    auth.login(enterprise)
    response = client.get(url(order), query_string={"after": 10 ** 6})
    assert response.status_code == 200 and "<html" in response.get_data(as_text=True)
    assert "HX-Request" in response.headers["Vary"]


def test_sending_with_htmx_answers_the_updated_thread_with_an_empty_box(client, auth, order, enterprise):
    auth.login(enterprise)
    response = say(client, order, "样品明天寄出", HTMX)
    body = response.get_data(as_text=True)
    assert response.status_code == 200 and "<html" not in body
    assert "样品明天寄出" in body
    box = re.search(r'<textarea[^>]*name="message-body"[^>]*>(.*?)</textarea>', body, re.S).group(1)
    assert box.strip() == ""


@pytest.mark.parametrize("body, message", [("", "请输入消息内容"), ("   \n ", "请输入消息内容"),
                                           ("长" * 1001, "消息不能超过1000字")])
@pytest.mark.parametrize("headers", [{}, HTMX], ids=["page", "htmx"])
def test_empty_or_too_long_messages_are_refused_with_the_input_kept(client, auth, order, enterprise, body, message,
                                                                    headers):
    auth.login(enterprise)
    response = say(client, order, body, headers)
    page = response.get_data(as_text=True)
    assert response.status_code == 422 and message in page
    assert ("<html" in page) == (not headers)
    if body.strip():
        assert body in page
    assert thread(order) == []


def test_a_message_of_exactly_1000_characters_is_sent(client, auth, order, enterprise):
    auth.login(enterprise)
    assert say(client, order, "字" * 1000).status_code == 303
    assert len(thread(order)[0].body) == 1000


def test_sending_without_the_csrf_token_is_refused(client, auth, order, enterprise):
    auth.login(enterprise)
    response = client.post(url(order), data={"message-body": "你好"}, csrf=False)
    assert response.status_code == 400
    assert thread(order) == []
