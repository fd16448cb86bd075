"""Every answer carries the security headers; the templates keep to what the Content-Security-Policy allows."""
import json
import re
from pathlib import Path

import pytest

from marketplace.security import PAGE_POLICY

TEMPLATES = Path(__file__).resolve().parents[1] / "templates"
INLINE = {
    "script without src": re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.I),
    "style element": re.compile(r"<style\b", re.I),
    "style attribute": re.compile(r"\sstyle=", re.I),
    "event handler attribute": re.compile(r"\son[a-z]+=", re.I),
    "javascript: URL": re.compile(r"javascript:", re.I),
}
JINJA_COMMENT = re.compile(r"\{#.*?#\}", re.S)


def directives(policy: str) -> dict[str, str]:
    return dict(part.strip().split(" ", 1) for part in policy.split(";"))


def test_pages_allow_only_their_own_scripts_styles_and_forms(client):
    policy = directives(client.get("/").headers["Content-Security-Policy"])
    assert policy["script-src"] == "'self'" and policy["style-src"] == "'self'"
    assert policy["default-src"] == "'self'" and policy["object-src"] == "'none'"
    assert policy["form-action"] == "'self'" and policy["base-uri"] == "'self'"
    assert policy["img-src"] == "'self' data:" and policy["frame-src"] == "'self'"
    assert "unsafe" not in PAGE_POLICY


@pytest.mark.parametrize("path", ["/", "/services?q=电镜", "/auth/login", "/no-such-page", "/me"])
def test_pages_and_errors_refuse_sniffing_and_framing(client, path):
    headers = client.get(path).headers
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["X-Frame-Options"] == "DENY"
    assert directives(headers["Content-Security-Policy"])["frame-ancestors"] == "'none'"
    assert headers["Referrer-Policy"] == "same-origin"
    assert "camera=()" in headers["Permissions-Policy"]


def test_stored_files_may_be_framed_by_the_platform_only(client, auth, make, enterprise):
    """The reviewer previews uploaded PDFs in an iframe: same-origin framing must work, no one else's."""
    stored = make.stored_pdf(enterprise)
    auth.login(enterprise)
    response = client.get(f"/files/{stored.id}")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert response.headers["X-Frame-Options"] == "SAMEORIGIN"
    assert response.headers["Content-Security-Policy"] == "frame-ancestors 'self'"
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_static_scripts_are_served_with_nosniff(client):
    response = client.get("/static/vendor/htmx.min.js")
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "javascript" in response.mimetype
    response.close()


def test_the_public_api_keeps_its_cors_header(client):
    headers = client.get("/api/v1/services").headers
    assert headers["Access-Control-Allow-Origin"] == "*"
    assert headers["X-Content-Type-Options"] == "nosniff"


def test_htmx_is_configured_from_a_meta_tag_without_its_inline_indicator_style(client):
    """htmx 2 otherwise inserts a <style> element, which style-src 'self' blocks."""
    html = client.get("/").get_data(as_text=True)
    config = json.loads(re.search(r"<meta name=\"htmx-config\" content='([^']*)'", html).group(1))
    assert config["includeIndicatorStyles"] is False


def test_htmx_swaps_the_answers_that_carry_a_message_for_the_user(client):
    """422 (a field's error), 409 (a refused move) and 429 (too many SMS codes) are shown, other errors are not."""
    html = client.get("/").get_data(as_text=True)
    config = json.loads(re.search(r"<meta name=\"htmx-config\" content='([^']*)'", html).group(1))
    swapped = {rule["code"] for rule in config["responseHandling"] if rule["swap"]}
    assert {"422", "409", "429"} <= swapped


def markup(path: Path) -> str:
    return JINJA_COMMENT.sub("", path.read_text(encoding="utf-8"))


def test_no_template_has_inline_script_style_or_event_handlers():
    """What the policy would block in the browser, found before it gets there (SVG presentation attributes
    such as fill= are not style attributes and stay allowed)."""
    found = [f"{path.relative_to(TEMPLATES)}: {kind}" for path in sorted(TEMPLATES.rglob("*.html"))
             for kind, pattern in INLINE.items() if pattern.search(markup(path))]
    assert found == []
