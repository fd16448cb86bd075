"""Our HTMX helper: fragment vs page, Vary, and header values a real server can send."""
from flask import Response

from marketplace.htmx import redirect_htmx, trigger


def test_every_response_varies_on_hx_request(client):
    for path in ("/", "/services", "/auth/login", "/healthz", "/no-such-page"):
        assert "HX-Request" in client.get(path).headers.get("Vary", "")


def test_search_answers_a_fragment_to_htmx_and_the_page_otherwise(client, listed_service):
    page = client.get("/services?q=电镜").get_data(as_text=True)
    fragment = client.get("/services?q=电镜", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "<html" in page and listed_service.name in page
    assert "<html" not in fragment and listed_service.name in fragment


def test_history_restore_gets_the_full_page(client, listed_service):
    response = client.get("/services?q=电镜", headers={"HX-Request": "true", "HX-History-Restore-Request": "true"})
    assert "<html" in response.get_data(as_text=True)


def test_trigger_header_is_ascii_even_for_chinese_messages(app):
    response = trigger(Response(), {"showMessage": "已加入购物车"})
    value = response.headers["HX-Trigger"]
    value.encode("latin-1")
    assert "\\u5df2" in value


def test_redirect_header_is_ascii_even_for_a_chinese_next(app):
    response = redirect_htmx(Response(), "/auth/login?next=/services?q=电镜")
    response.headers["HX-Redirect"].encode("ascii")
    assert response.headers["HX-Redirect"].startswith("/auth/login?next=/services?q=%E7%94%B5")


def test_pages_carry_the_csrf_header_for_htmx_and_the_htmx_config(client):
    page = client.get("/").get_data(as_text=True)
    assert 'hx-headers=\'{"X-CSRFToken": "' in page
    assert '"historyRestoreAsHxRequest": false' in page
    assert "/static/vendor/htmx.min.js" in page and "unpkg" not in page and "cdn" not in page.lower()
