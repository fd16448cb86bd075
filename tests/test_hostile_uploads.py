"""Upload attacks over HTTP on three real upload routes (a service's display image, a claim's materials, a 科小
application's financial statement): decompression bombs, polyglots, HTML dressed as a PDF, a PHP payload in a
JPEG comment, 10,000 tiny file parts and hostile names. Each is refused with a clear answer and leaves nothing
behind, or is stored cleaned, under a random key, served as what it is. (test_upload_hostile.py and
test_redemption_uploads.py cover oversize streams, truncated images and trailing scripts.)"""
import io
import re
import time
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy import select

from marketplace.extensions import db
from marketplace.models import StoredFile

from .hostile import claim_save, service_form, voucher_application
from .samples import pdf_bytes, png_bytes
from .test_hostile_forms import signed_in_client

KEY = re.compile(r"[0-9a-f]{2}/[0-9a-f]{2}/[0-9a-f]{32}\.(pdf|jpg|png)")
HTML = b"<!doctype html><html><body><script>alert(document.cookie)</script></body></html>"
PHP = b"<?php system($_GET['c']); ?>"


@dataclass
class UploadRoute:
    """A form with a file field: `setup(make)` gives its Setup (user, url, the rest of a valid form)."""
    name: str
    setup: Callable
    field: str
    takes_images: bool
    takes_pdfs: bool

    def __str__(self) -> str:
        return self.name


def claim_materials(make):
    setup = claim_save(make)
    setup.url, setup.data = setup.url.replace("/save", "/materials"), {"kind": "report"}
    return setup


ROUTES = [
    UploadRoute("service_display_image", service_form, "display_image", takes_images=True, takes_pdfs=False),
    UploadRoute("claim_materials", claim_materials, "files", takes_images=False, takes_pdfs=True),
    UploadRoute("voucher_financial_statement", voucher_application, "financial_statement", takes_images=True,
                takes_pdfs=True),
]
by_route = pytest.mark.parametrize("route", [pytest.param(r, id=r.name) for r in ROUTES])


def png_bomb(side: int = 20_000) -> bytes:
    """A single-colour side×side PNG: a few KB on the wire, 400 megapixels (1.2 GB as RGB) when decoded."""
    out = io.BytesIO()
    Image.new("1", (side, side), 0).save(out, "PNG", optimize=True)
    return out.getvalue()


def zip_bytes() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("payload.html", HTML)
    return out.getvalue()


def jpeg_with_php_comment() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 48), (30, 90, 160)).save(out, "JPEG", comment=PHP)
    data = out.getvalue()
    assert PHP in data
    return data


def stored_files() -> list[StoredFile]:
    db.session.commit()  # end this session's snapshot, so the requests' commits are seen
    return list(db.session.scalars(select(StoredFile)))


def files_on_disk(app) -> set[Path]:
    return {p for p in Path(app.config["UPLOAD_FOLDER"]).rglob("*") if p.is_file()}


class Attempt:
    """One upload through `route`: the files and rows before, the response, and what it added."""

    def __init__(self, app, make, route: UploadRoute, data: bytes, name: str):
        setup = route.setup(make)
        db.session.commit()
        self.client = signed_in_client(app, setup.user)
        self.app, self.before = app, {f.id for f in stored_files()}
        self.disk_before = files_on_disk(app)
        self.response = self.client.post(setup.url, data={**setup.data, route.field: (io.BytesIO(data), name)},
                                         content_type="multipart/form-data")

    @property
    def added(self) -> list[StoredFile]:
        return [f for f in stored_files() if f.id not in self.before]

    def assert_refused(self, message: str | None = None) -> None:
        """422 with the form again, the message next to the field, nothing stored and nothing on disk."""
        page = self.response.get_data(as_text=True)
        assert self.response.status_code == 422, self.response.status_code
        assert message is None or message in page
        assert "<script>alert" not in page
        assert self.added == [] and files_on_disk(self.app) == self.disk_before

    def served(self, stored: StoredFile):
        return self.client.get(f"/files/{stored.id}")


@by_route
def test_a_decompression_bomb_png_is_refused_before_it_is_decoded(app, make, route):
    bomb = png_bomb()
    assert len(bomb) < 100_000
    started = time.monotonic()
    attempt = Attempt(app, make, route, bomb, "bomb.png")
    attempt.assert_refused("图片像素过大" if route.takes_images else None)
    assert time.monotonic() - started < 10


@by_route
def test_an_html_file_named_pdf_is_refused_and_its_script_never_echoed(app, make, route):
    Attempt(app, make, route, HTML, "报告.pdf").assert_refused()


@by_route
def test_a_pdf_with_a_zip_after_it_is_stored_without_the_zip(app, make, route):
    original = pdf_bytes()
    attempt = Attempt(app, make, route, original + zip_bytes(), "合同.pdf")
    if not route.takes_pdfs:
        attempt.assert_refused()
        return
    assert attempt.response.status_code == 303
    [stored] = attempt.added
    served = attempt.served(stored)
    assert stored.content_type == served.mimetype == "application/pdf"
    assert served.headers["X-Content-Type-Options"] == "nosniff"
    assert served.data == original and not zipfile.is_zipfile(io.BytesIO(served.data))
    assert stored.size == len(original)


@by_route
@pytest.mark.parametrize("junk", [zip_bytes(), HTML, b"\n \n"], ids=["zip", "html", "blank lines"])
def test_a_pdf_with_anything_before_its_header_is_refused(app, make, route, junk):
    Attempt(app, make, route, junk + pdf_bytes(), "合同.pdf").assert_refused()


@by_route
def test_a_jpeg_with_php_in_its_comment_is_stored_reencoded_without_it(app, make, route):
    attempt = Attempt(app, make, route, jpeg_with_php_comment(), "shell.php.jpg")
    if not route.takes_images:
        attempt.assert_refused()
        return
    assert attempt.response.status_code == 303
    [stored] = attempt.added
    served = attempt.served(stored)
    assert served.status_code == 200 and served.mimetype.startswith("image/")
    assert b"<?php" not in served.data and b"<?php" not in files_on_disk(app).pop().read_bytes()


@by_route
@pytest.mark.parametrize("name", ["../../../etc/passwd\x00.png", "..\\..\\boot.ini\x00.pdf", "/tmp/\x00\x00x.png",
                                  "%2e%2e%2f%2e%2e%2fx.pdf", "a\u202egnp.exe", "\x00"])
def test_a_good_file_under_a_hostile_name_is_stored_inside_the_folder_under_a_random_key(app, make, route, name):
    good = png_bytes() if route.takes_images else pdf_bytes()
    attempt = Attempt(app, make, route, good, name)
    assert attempt.response.status_code == 303
    [stored] = attempt.added
    assert KEY.fullmatch(stored.storage_key)
    assert not {"/", "\\", "\x00"} & set(stored.original_name)
    folder = Path(app.config["UPLOAD_FOLDER"]).resolve()
    assert all(path.resolve().is_relative_to(folder) for path in files_on_disk(app))


def ten_thousand_parts(fields: dict, file_field: str) -> tuple[bytes, str]:
    """A multipart body of the form's own fields plus 10,000 one-byte file parts."""
    boundary = "hostileboundary"
    parts = [f'--{boundary}\r\nContent-Disposition: form-data; name="{key}"\r\n\r\n{value}\r\n'.encode()
             for key, value in fields.items() if isinstance(value, str)]
    part = (f'--{boundary}\r\nContent-Disposition: form-data; name="{file_field}"; filename="x.png"\r\n'
            f'Content-Type: image/png\r\n\r\nx\r\n').encode()
    return b"".join(parts) + part * 10_000 + f"--{boundary}--\r\n".encode(), boundary


# werkzeug abandons the spooled (in-memory) files of the parts it parsed before the limit without closing them;
# the garbage collector frees them, with a ResourceWarning each, which is not what this test is about.
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
@by_route
def test_ten_thousand_tiny_file_parts_are_refused_quickly_with_413(app, make, route):
    """Flask's MAX_FORM_PARTS (1,000 by default; the app leaves it so) stops the parser long before 10,000."""
    setup = route.setup(make)
    db.session.commit()
    client = signed_in_client(app, setup.user)
    before, rows_before = files_on_disk(app), len(stored_files())
    body, boundary = ten_thousand_parts(setup.data, route.field)
    started = time.monotonic()
    response = client.post(setup.url, data=body, content_type=f"multipart/form-data; boundary={boundary}")
    assert time.monotonic() - started < 5
    assert response.status_code == 413 and "超过了大小限制" in response.get_data(as_text=True)
    assert files_on_disk(app) == before and len(stored_files()) == rows_before


def test_the_form_part_and_body_limits_are_flasks_defaults_under_the_upload_ceiling(app):
    assert app.config["MAX_FORM_PARTS"] == 1_000
    assert app.config["MAX_CONTENT_LENGTH"] == 210 * 1024 * 1024
