"""Security headers on every response: a strict Content-Security-Policy (no inline script or style anywhere; the
htmx configuration comes from <meta name="htmx-config">), no MIME sniffing, no framing by other sites.

Pages may not be framed at all; stored files (/files/<id>) are framed by the platform's own pages, where a
reviewer previews an uploaded PDF, so they allow same-origin framing and carry only that part of the policy:
Chromium's PDF viewer is a plugin that object-src 'none' would block.

In production (APP_ENV=production) browsers are told to use HTTPS only (HSTS). Whatever a signed-in user is shown,
and every private download, is marked no-store: after logout on a shared computer, neither the browser's cache nor
its Back button shows the next person the workbench or the files. Anything marked public (catalog images, the open
API) and static assets stay cacheable, and so do anonymous pages."""
from flask import Flask, Response, current_app, request
from flask_login import current_user
from werkzeug.datastructures import ImmutableMultiDict

PAGE_POLICY = "; ".join((
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "frame-src 'self'",
    "frame-ancestors 'none'",
    "form-action 'self'",
    "base-uri 'self'",
    "object-src 'none'",
))
FILE_POLICY = "frame-ancestors 'self'"
# The platform uses none of these browser features; no page (nor anything it frames) may ask for them.
PERMISSIONS_POLICY = "camera=(), microphone=(), geolocation=(), payment=(), usb=()"
FRAMEABLE_BLUEPRINTS = {"files"}
HSTS = "max-age=31536000; includeSubDomains"
NOT_STORED = "private, no-store"


def _security_headers(response: Response) -> Response:
    frameable = request.blueprint in FRAMEABLE_BLUEPRINTS
    headers = response.headers
    headers.setdefault("Content-Security-Policy", FILE_POLICY if frameable else PAGE_POLICY)
    headers.setdefault("X-Frame-Options", "SAMEORIGIN" if frameable else "DENY")
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Referrer-Policy", "same-origin")
    headers.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
    if current_app.config.get("PRODUCTION"):
        headers.setdefault("Strict-Transport-Security", HSTS)
    if _must_not_be_stored(response):
        headers["Cache-Control"] = NOT_STORED
    return response


def _must_not_be_stored(response: Response) -> bool:
    if request.endpoint == "static" or response.cache_control.public:
        return False
    is_download = request.blueprint == "files" or "Content-Disposition" in response.headers
    return is_download or current_user.is_authenticated


def _drop_nul_characters() -> None:
    """A NUL character means nothing in a form or a query and PostgreSQL cannot store it in text: drop it from
    every name and value before any form or query reads them (request.form and .args are cached properties)."""
    for name in ("args", "form"):
        values = getattr(request, name)
        if any("\x00" in key or "\x00" in value for key, value in values.items(multi=True)):
            request.__dict__[name] = ImmutableMultiDict(
                [(key.replace("\x00", ""), value.replace("\x00", "")) for key, value in values.items(multi=True)])


def init_app(app: Flask) -> None:
    app.before_request_funcs.setdefault(None, []).insert(0, _drop_nul_characters)  # before CSRF and the routes
    app.after_request(_security_headers)
