"""Generated demo files (a one-page PDF, a plain image) stored through the upload pipeline, exactly as a user's
upload would be: checked by content, stored under a random name, owned by the demo user. Needs the app."""
import io

from PIL import Image
from pypdf import PdfWriter
from werkzeug.datastructures import FileStorage

from .. import uploads
from ..models import StoredFile, User


def store(data: bytes, name: str, owner: User) -> StoredFile:
    return uploads.save(FileStorage(io.BytesIO(data), filename=name), accept=(uploads.PDF, uploads.IMAGE),
                        owner_id=owner.id)


def pdf() -> bytes:
    writer, out = PdfWriter(), io.BytesIO()
    writer.add_blank_page(width=595, height=842)
    writer.write(out)
    return out.getvalue()


def png(color, size=(600, 400)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, format="PNG")
    return out.getvalue()
