"""Uploads (SPEC 9): checked by content, stored outside the database and static/ under random names,
served by /files/<id> only to those allowed (see access.py).

    from marketplace import uploads
    stored = uploads.save(request.files["licence"], accept=(uploads.PDF, uploads.IMAGE), owner_id=current_user.id)
    uploads.url_for_file(stored, thumb=200)

Forms use marketplace.uploads.fields (UploadField, MultiUploadField) and the macro in
templates/files/macros.html. Registering the files blueprint also checks every upload of a request before the
request touches the database (early.py)."""
from .content import IMAGE, PDF, UploadError
from .storage import THUMB_SIZES, clean_name, format_size, is_image, path_of, save, url_for_file

__all__ = ["IMAGE", "PDF", "UploadError", "THUMB_SIZES", "clean_name", "format_size", "is_image", "path_of", "save",
           "url_for_file"]
