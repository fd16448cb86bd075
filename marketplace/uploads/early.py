"""Uploads are checked before the request touches the database.

On SQLite a POST's transaction takes the write lock with its first query (db.py: BEGIN IMMEDIATE, and the first
query loads the signed-in user), and forms validate their files after that, in the route: while one form's six
large images were decoded, another user's /cart/add waited 17 s; eight crafted PDFs blocked writes for 12 s. On
PostgreSQL it held a pooled connection, and any row lock the route had taken, as long. Ending the transaction
before validating is no answer: some routes hold row locks (SELECT … FOR UPDATE) by then.

So every file of a signed-in user's multipart POST to a route is received and examined (storage.receive: the PDF,
image and square answers a field may want) right after the CSRF check, before the request's session queries; the
fields' save() then only moves the answer into place and records it. Files nothing saved are removed when the
request ends. What is examined is bounded by who may make a route read files:
- only posts to a route: where no rule matched, Flask-WTF checks no token, so files there would cost a stranger
  nothing;
- only a signed-in account's, by its session or remember-me cookie, confirmed as access.load_user does (id,
  session_version, sign-in time, not disabled): a signature stays valid after logout or a suspension. That read
  uses a connection of its own in a plain (deferred) transaction: the request's session would begin SQLite's
  BEGIN IMMEDIATE and make every other writer wait for the examining. Anonymous posts are not examined: no form
  takes their files (a field checks them itself if one ever does, in its transaction);
- at most MAX_FILES files: more is refused (413) before any is examined, so junk files cannot push the real ones
  into the transaction."""
from flask import Flask, current_app, g, request, session
from flask_login.config import COOKIE_NAME
from flask_login.utils import decode_cookie
from sqlalchemy import Connection, select
from werkzeug.exceptions import RequestEntityTooLarge

from ..accounts import sessions
from ..extensions import db
from ..models import User
from .storage import receive

SIGNED_IN = "_user_id"  # Flask-Login's key in the signed session cookie
REMEMBER_CLEARED = ("_remember", "clear")  # set by logout_user: Flask-Login then ignores the remember-me cookie
MAX_FILES = 12  # more than any form takes (a service: a display image and 5 photos; a claim: 10 PDFs)


def init_app(app: Flask) -> None:
    hooks = app.before_request_funcs.setdefault(None, [])
    after_csrf = next((n + 1 for n, hook in enumerate(hooks) if hook.__module__ == "flask_wtf.csrf"), len(hooks))
    hooks.insert(after_csrf, examine_uploads)
    app.teardown_request(discard_unsaved)


def examine_uploads() -> None:
    if request.method != "POST" or request.mimetype != "multipart/form-data" or request.url_rule is None:
        return
    files = [upload for _, upload in request.files.items(multi=True) if upload.filename]
    if len(files) > MAX_FILES:
        raise too_many_files()
    if not files or not signed_in():
        return
    g.received_uploads = []
    for upload in files:
        g.received_uploads.append(receive(upload))
        upload.stream.seek(0)  # a route that reads the file itself (the 科小 list import) still can


def too_many_files() -> RequestEntityTooLarge:
    error = RequestEntityTooLarge()
    error.chinese_detail = f"一次最多上传{MAX_FILES}个文件，请分批上传。"
    return error


def signed_in() -> bool:
    """Whether the session, or else the remember-me cookie, names an account still signed in (Flask-Login's order)."""
    remember_cookie = current_app.config.get("REMEMBER_COOKIE_NAME", COOKIE_NAME)
    named = [session.get(SIGNED_IN)]
    if session.get(REMEMBER_CLEARED[0]) != REMEMBER_CLEARED[1]:
        named.append(decode_cookie(request.cookies.get(remember_cookie, "")))
    named = [session_id for session_id in named if isinstance(session_id, str)]
    if not named:
        return False
    with db.engine.connect().execution_options(read_only=True) as connection:
        return any(_still_signed_in(connection, session_id) for session_id in named)


def _still_signed_in(connection: Connection, session_id: str) -> bool:
    """access.load_user's checks on an "id:version:nonce", read without the request's session (see above)."""
    signed_in = sessions.parse(session_id)
    if signed_in is None:
        return False
    account = connection.execute(select(User.session_version, User.status)
                                 .where(User.id == signed_in.user_id)).first()
    return account is not None and signed_in.admits(account.session_version, account.status)


def discard_unsaved(_error=None) -> None:
    for received in g.pop("received_uploads", []):
        received.discard()
