"""GET /files/<id>[?thumb=200]: a stored file for those allowed to read it; 404 for everyone else."""
from pathlib import PurePosixPath

from flask import Blueprint, abort, current_app, request, send_file
from flask_login import current_user

from ..extensions import db
from ..models import StoredFile
from ..validators import whole_number
from . import access, early
from .storage import THUMB_SIZES, is_image, path_of, thumbnail, url_for_file

bp = Blueprint("files", __name__, url_prefix="/files")
bp.add_app_template_global(url_for_file, "file_url")  # {{ file_url(stored, thumb=200) }}
bp.record_once(lambda state: early.init_app(state.app))  # every upload checked before the database is touched

PUBLIC_MAX_AGE = 3600
NAME_EXTENSIONS = {".jpg": (".jpg", ".jpeg"), ".png": (".png",), ".pdf": (".pdf",)}


@bp.get("/<int:file_id>")
def serve(file_id: int):
    stored = db.session.get(StoredFile, file_id)
    if stored is None:
        abort(404)
    public = access.is_public(stored)
    if not (public or access.granted(current_user, stored)):
        abort(404)  # the same answer as a missing file: existence is not revealed
    response = send_file(_bytes_path(stored), mimetype=stored.content_type, download_name=download_name(stored),
                         conditional=True)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.cache_control.public = public or None
    response.cache_control.private = not public or None
    response.cache_control.max_age = PUBLIC_MAX_AGE if public else None
    response.cache_control.no_cache = not public or None  # private files are revalidated, so access is rechecked
    return response


def _bytes_path(stored: StoredFile):
    size = request.args.get("thumb")
    if size is not None and not (whole_number(size) in THUMB_SIZES and is_image(stored)):
        abort(404)
    try:
        return thumbnail(stored, int(size)) if size else _existing(path_of(stored))
    except FileNotFoundError:
        current_app.logger.error("stored file %s has no bytes at %s", stored.id, path_of(stored))
        abort(404)


def _existing(path):
    if not path.is_file():
        raise FileNotFoundError(path)
    return path


def download_name(stored: StoredFile) -> str:
    """The user's name, with the extension of what is actually stored (images may be re-encoded)."""
    name = PurePosixPath(stored.original_name)
    extension = PurePosixPath(stored.storage_key).suffix
    return name.name if name.suffix.lower() in NAME_EXTENSIONS[extension] else name.stem + extension
