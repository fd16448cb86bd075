"""Our small HTMX helper: fragment-or-page decisions and safe response headers."""
import json
from urllib.parse import quote

from flask import Flask, Response, render_template, request


def is_htmx() -> bool:
    """True for requests htmx made itself, except history restores, which need the full page."""
    return request.headers.get("HX-Request") == "true" and request.headers.get("HX-History-Restore-Request") != "true"


def render_either(page_template: str, fragment_template: str, **context) -> str:
    """Render the fragment alone for HTMX, else the page that includes that same fragment."""
    return render_template(fragment_template if is_htmx() else page_template, **context)


def trigger(response: Response, events: dict) -> Response:
    """Set HX-Trigger as ASCII-only JSON: header values must be latin-1, so Chinese is \\u-escaped."""
    response.headers["HX-Trigger"] = json.dumps(events, ensure_ascii=True)
    return response


def redirect_htmx(response: Response, location: str) -> Response:
    """HX-Redirect with the path percent-encoded, so a Chinese `next` never breaks the header."""
    response.headers["HX-Redirect"] = _ascii_url(location)
    return response


def _ascii_url(location: str) -> str:
    return quote(location, safe="/:?&=#%+@;,")


def _vary_on_htmx(response: Response) -> Response:
    response.vary.add("HX-Request")
    return response


def init_app(app: Flask) -> None:
    app.after_request(_vary_on_htmx)
    app.jinja_env.globals["is_htmx"] = is_htmx
