"""Uploads are checked before the request touches the database.

On SQLite a POST's transaction takes the write lock with its first query (db.py: BEGIN IMMEDIATE, and the first
query loads the signed-in user), and forms validate their files after that, in the route: while one form's six
large images were decoded, another user's /cart/add waited 17 s; eight crafted PDFs blocked writes for 12 s. On
PostgreSQL it held a pooled connection, and any row lock the route had taken, as long. Ending the transaction
before validating is no answer: some routes hold row locks (SELECT … FOR UPDATE) by then.

So every file of a signed-in user's multipart POST is received and examined (storage.receive: the PDF, image and
square answers a field may want) right after the CSRF check, before any query; the fields' save() then only
moves the answer into place and records it. Posts without a valid token cost nothing, and anonymous posts are
not examined: no form takes their files (a field checks them itself if one ever does). Files nothing saved are
removed when the request ends."""
from flask import Flask, g, request, session

from .storage import receive

SIGNED_IN = "_user_id"  # Flask-Login's key in the signed session cookie: no query needed to read it
MAX_FILES = 12  # more than any form takes (a service: a display image and 5 photos; a claim: 10 PDFs)


def init_app(app: Flask) -> None:
    hooks = app.before_request_funcs.setdefault(None, [])
    after_csrf = next((n + 1 for n, hook in enumerate(hooks) if hook.__module__ == "flask_wtf.csrf"), len(hooks))
    hooks.insert(after_csrf, examine_uploads)
    app.teardown_request(discard_unsaved)


def examine_uploads() -> None:
    if request.method != "POST" or request.mimetype != "multipart/form-data" or SIGNED_IN not in session:
        return
    files = [upload for _, upload in request.files.items(multi=True) if upload.filename][:MAX_FILES]
    g.received_uploads = []
    for upload in files:
        g.received_uploads.append(receive(upload))
        upload.stream.seek(0)  # a route that reads the file itself (the 科小 list import) still can


def discard_unsaved(_error=None) -> None:
    for received in g.pop("received_uploads", []):
        received.discard()
