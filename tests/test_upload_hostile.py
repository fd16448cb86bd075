"""Hostile uploads (issue 6): a renamed HTML file, a truncated JPEG, a PNG with a trailing script, an
oversize stream and a path-traversal name — refused with a clear message and nothing left in the upload
folder, or (the PNG, a good file under a hostile name) stored cleaned, under a random key inside it.
Checked through uploads.save and through a real form route over HTTP. test_uploads.py covers the rest."""
import io
import re
import time
import tracemalloc
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy import func, select
from werkzeug.datastructures import FileStorage
from werkzeug.test import stream_encode_multipart

from marketplace import policy, uploads
from marketplace.extensions import db
from marketplace.models import StoredFile, VoucherApplication
from marketplace.uploads.storage import CHUNK

from .samples import pdf_bytes
from .test_vouchers import form

HTML = b"<!doctype html><html><body><script>alert(document.cookie)</script></body></html>"
SCRIPT = b"<script>"
KEY = re.compile(r"[0-9a-f]{2}/[0-9a-f]{2}/[0-9a-f]{32}\.(pdf|jpg|png)")
UNKNOWN = "文件格式无法识别，请上传PDF文件或JPG、PNG图片"
DOCUMENTS = (uploads.PDF, uploads.IMAGE)


def image_bytes(fmt="PNG", mode="RGB", size=(64, 48), color=(200, 30, 30)) -> bytes:
    out = io.BytesIO()
    Image.new(mode, size, color).save(out, fmt)
    return out.getvalue()


def truncated_jpeg(kept: float = 0.5) -> bytes:
    """A noisy photo (real entropy, unlike a flat colour) cut off after `kept` of its bytes."""
    out = io.BytesIO()
    Image.effect_noise((400, 300), 60).convert("RGB").save(out, "JPEG")
    whole = out.getvalue()
    return whole[: int(len(whole) * kept)]


def png_with_trailing_script() -> bytes:
    """A transparent PNG (so it stays a PNG when re-encoded) followed by an HTML payload."""
    return image_bytes(mode="RGBA", color=(10, 20, 30, 128)) + HTML


class Endless:
    """An upload stream made by a generator, one chunk at a time; records every read it is asked for."""

    def __init__(self, size: int, chunk: bytes = bytes(CHUNK)):
        self.reads: list[int] = []
        self.sent = 0
        self._chunks = self._generate(size, chunk)
        self._buffer = b""

    def _generate(self, size, chunk):
        while self.sent < size:
            piece = chunk[: size - self.sent]
            self.sent += len(piece)
            yield piece

    def read(self, n: int = -1) -> bytes:
        self.reads.append(n)
        assert n > 0, "the whole upload was asked for at once"
        while len(self._buffer) < n and (piece := next(self._chunks, None)) is not None:
            self._buffer += piece
        data, self._buffer = self._buffer[:n], self._buffer[n:]
        return data


class Interrupted(Endless):
    """A client that goes away after a few chunks."""

    def read(self, n: int = -1) -> bytes:
        if len(self.reads) == 3:
            raise OSError("client disconnected")
        return super().read(n)


def files_in(app) -> set[Path]:
    return {p for p in Path(app.config["UPLOAD_FOLDER"]).rglob("*") if p.is_file()}


def stored_count() -> int:
    db.session.commit()  # end this session's snapshot, so the requests' commits are seen
    return db.session.scalar(select(func.count(StoredFile.id)))


def refusal(data, name: str, accept=DOCUMENTS, **options) -> str:
    with pytest.raises(uploads.UploadError) as refused:
        uploads.save(FileStorage(io.BytesIO(data), filename=name), accept=accept, **options)
    return refused.value.message


# --- uploads.save: refused by content whatever the name --------------------------------------------

@pytest.mark.parametrize("data, name, message", [
    (HTML, "../../etc/passwd.pdf", UNKNOWN),
    (HTML, "..\\..\\x.pdf", UNKNOWN),
    (truncated_jpeg(), "../x.jpg", UNKNOWN),
    (b"%PDF-1.7\n" + HTML, "/etc/cron.d/job.pdf", "文件内容不是有效的PDF"),
], ids=["html-unix-traversal", "html-windows-traversal", "truncated-jpeg", "html-behind-a-pdf-header"])
def test_a_traversal_name_with_bad_content_is_refused_and_writes_nothing(app, data, name, message):
    assert refusal(data, name) == message
    assert files_in(app) == set() and stored_count() == 0


@pytest.mark.parametrize("kept", [0.1, 0.5, 0.98])
def test_a_truncated_jpeg_among_documents_is_refused_as_unrecognised(app, kept):
    assert refusal(truncated_jpeg(kept), "发票.jpg") == UNKNOWN
    assert files_in(app) == set()


# --- uploads.save: a good file under a hostile name lands under a random key -----------------------

@pytest.mark.parametrize("name, shown", [
    ("../../etc/passwd.pdf", "passwd.pdf"),
    ("..\\..\\x.pdf", "x.pdf"),
    ("/etc/cron.d/job.pdf", "job.pdf"),
    ("....//....//合同.pdf", "合同.pdf"),
    ("../..", uploads.storage.UNNAMED),
])
def test_a_traversal_name_never_decides_where_the_file_is_written(app, tmp_path, name, shown):
    root = Path(app.config["UPLOAD_FOLDER"]).resolve()
    outside_before = {p for p in tmp_path.rglob("*") if p.is_file() and not p.resolve().is_relative_to(root)}
    stored = uploads.save(FileStorage(io.BytesIO(pdf_bytes()), filename=name), accept=DOCUMENTS)
    path = uploads.path_of(stored)
    assert KEY.fullmatch(stored.storage_key) and path.resolve().is_relative_to(root)
    assert stored.original_name == shown
    assert files_in(app) == {path}  # nothing else in the folder, no temp file left
    outside_after = {p for p in tmp_path.rglob("*") if p.is_file() and not p.resolve().is_relative_to(root)}
    assert outside_after == outside_before


# --- uploads.save: a PNG with a trailing script is kept as clean pixels -----------------------------

def test_a_png_with_a_trailing_script_is_stored_as_a_clean_reencoded_png(app):
    original = png_with_trailing_script()
    stored = uploads.save(FileStorage(io.BytesIO(original), filename="<script>.png"), accept=DOCUMENTS)
    on_disk = uploads.path_of(stored).read_bytes()
    assert stored.content_type == "image/png" and stored.storage_key.endswith(".png")
    assert SCRIPT not in on_disk and b"html" not in on_disk.lower()
    assert on_disk.endswith(b"IEND\xaeB`\x82")  # the PNG ends at its IEND chunk: no bytes after it
    with Image.open(io.BytesIO(on_disk)) as image:
        image.load()
        assert image.format == "PNG" and image.size == (64, 48) and image.info == {}
        assert image.getpixel((0, 0)) == (10, 20, 30, 128)
    assert stored.size == len(on_disk) < len(original)
    assert files_in(app) == {uploads.path_of(stored)}


# --- uploads.save: oversize streams are read in chunks and stop at the limit -------------------------

def test_an_oversize_stream_is_read_in_chunks_and_abandoned_at_the_limit(app):
    limit = 5 * CHUNK
    stream = Endless(60 * 1024 * 1024)
    with pytest.raises(uploads.UploadError) as refused:
        uploads.save(FileStorage(stream, filename="big.pdf"), accept=DOCUMENTS, max_bytes=limit)
    assert refused.value.message == "文件超过320KB"
    assert set(stream.reads) == {CHUNK}
    assert stream.sent <= limit + CHUNK  # the generator was never asked for more than one chunk past the limit
    assert files_in(app) == set() and stored_count() == 0


def test_a_file_of_exactly_the_limit_passes_and_one_byte_more_is_refused(app):
    picture = png_with_trailing_script()
    limit = len(picture) + 100
    exact = picture + bytes(100)
    assert uploads.save(FileStorage(io.BytesIO(exact), filename="a.png"), accept=DOCUMENTS, max_bytes=limit)
    assert refusal(exact + b"\0", "a.png", max_bytes=limit) == f"文件超过{uploads.format_size(limit)}"
    assert len(files_in(app)) == 1


def test_an_interrupted_upload_leaves_no_partial_file(app):
    with pytest.raises(OSError):
        uploads.save(FileStorage(Interrupted(10 * CHUNK), filename="half.pdf"), accept=DOCUMENTS)
    assert files_in(app) == set() and stored_count() == 0


def test_a_stream_just_over_50mb_is_refused_at_the_policy_limit_in_little_memory(app):
    stream = Endless(policy.MAX_UPLOAD_BYTES + CHUNK * 160)  # 60 MB
    started = time.monotonic()
    tracemalloc.start()
    try:
        with pytest.raises(uploads.UploadError) as refused:
            uploads.save(FileStorage(stream, filename="合同.pdf"), accept=(uploads.PDF,))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert refused.value.message == "文件超过50MB"
    assert peak < 2 * 1024 * 1024 and stream.sent <= policy.MAX_UPLOAD_BYTES + CHUNK
    assert files_in(app) == set()
    assert time.monotonic() - started < 30


# --- over HTTP: the voucher application's 上年度财务报表, saved as a draft -------------------------------

@pytest.fixture
def signed_in(auth, enterprise):
    auth.login(enterprise)
    return enterprise


def post_statement(client, user, upload) -> object:
    """The draft with `upload` as its only file, so every stored file is the statement's."""
    return client.post("/me/vouchers/apply", data=statement_only(user, upload), content_type="multipart/form-data")


def statement_only(user, upload) -> dict:
    return form(user, action="save", business_licence=None, financial_statement=upload)


def field_error(page: str) -> str:
    found = re.search(r'<p class="error" id="financial_statement-error">([^<]*)</p>', page)
    return found.group(1) if found else ""


def application_of(user):
    db.session.commit()
    return db.session.scalar(select(VoucherApplication).where(VoucherApplication.enterprise_id ==
                                                              user.enterprise.id))


@pytest.mark.parametrize("upload, message", [
    ((io.BytesIO(HTML), "财务报表.pdf"), UNKNOWN),
    ((io.BytesIO(truncated_jpeg()), "财务报表.jpg"), UNKNOWN),
    ((io.BytesIO(HTML), "../../etc/passwd.pdf"), UNKNOWN),
    ((io.BytesIO(HTML), "..\\..\\x.pdf"), UNKNOWN),
    ((io.BytesIO(b""), "空.pdf"), "文件为空"),
], ids=["renamed-html", "truncated-jpeg", "html-unix-traversal", "html-windows-traversal", "empty"])
def test_a_hostile_statement_is_refused_next_to_its_field_and_nothing_is_kept(app, client, signed_in, upload,
                                                                             message):
    before = files_in(app)
    response = post_statement(client, signed_in, upload)
    assert response.status_code == 422
    assert field_error(response.text) == message
    assert 'value="珠江路88号"' in response.text  # the rest of the input is kept
    assert files_in(app) == before and stored_count() == 0
    assert application_of(signed_in) is None


def test_a_statement_over_50mb_is_refused_over_http_without_a_trace(app, client, signed_in):
    stream = Endless(policy.MAX_UPLOAD_BYTES + 1)
    fields = statement_only(signed_in, FileStorage(stream, filename="财务报表.pdf"))
    # Encoded here rather than by the test client, which leaves its temporary body file open.
    body, length, boundary = stream_encode_multipart(fields)
    before = files_in(app)
    with body:
        response = client.post("/me/vouchers/apply", input_stream=body, content_length=length,
                               content_type=f'multipart/form-data; boundary="{boundary}"')
    assert stream.sent == policy.MAX_UPLOAD_BYTES + 1  # the whole body really was sent
    assert response.status_code == 422 and field_error(response.text) == "文件超过50MB"
    assert files_in(app) == before and stored_count() == 0


# Over HTTP werkzeug reads backslashes in the quoted filename as escapes: "..\\..\\x.pdf" arrives as "....x.pdf".
@pytest.mark.parametrize("name, shown", [("../../etc/passwd.pdf", "passwd.pdf"), ("..\\..\\x.pdf", "....x.pdf")])
def test_a_good_statement_under_a_traversal_name_is_stored_inside_the_folder(app, client, signed_in, name, shown):
    response = post_statement(client, signed_in, (io.BytesIO(pdf_bytes()), name))
    assert response.status_code == 303
    stored = db.session.get(StoredFile, application_of(signed_in).financial_statement_file_id)
    assert stored.original_name == shown and KEY.fullmatch(stored.storage_key)
    assert files_in(app) == {uploads.path_of(stored)}
    assert uploads.path_of(stored).resolve().is_relative_to(Path(app.config["UPLOAD_FOLDER"]).resolve())


def test_a_statement_png_with_a_trailing_script_is_stored_without_it(app, client, signed_in):
    response = post_statement(client, signed_in, (io.BytesIO(png_with_trailing_script()), "报表.png"))
    assert response.status_code == 303
    stored = db.session.get(StoredFile, application_of(signed_in).financial_statement_file_id)
    on_disk = uploads.path_of(stored).read_bytes()
    assert stored.content_type == "image/png" and SCRIPT not in on_disk and on_disk.endswith(b"IEND\xaeB`\x82")
    served = client.get(f"/files/{stored.id}")
    assert served.data == on_disk and served.headers["X-Content-Type-Options"] == "nosniff"
