"""Hostile uploads through the claim editor (SPEC 7.1, 9): a renamed HTML file, a truncated JPEG, a PNG with a
trailing script, oversize invoice photos and reports, a path-traversal name. Each bad file is refused next to
its field with a clear message and leaves nothing in the upload folder (tmp/ included); a good file under a
hostile name is stored under a random key and shown by its base name only. The hostile files and the checks
of the folder come from test_upload_hostile.py; this file proves the claim's routes use the same pipeline."""
import io
import re

import pytest
from werkzeug.datastructures import FileStorage
from werkzeug.test import stream_encode_multipart

from marketplace import policy, uploads
from marketplace.extensions import db
from marketplace.models import Redemption
from marketplace.orders import lifecycle as order_lifecycle
from marketplace.redemption import claims
from marketplace.uploads.content import PDF_INVALID
from marketplace.uploads.storage import CHUNK

from .samples import pdf_bytes, png_bytes
from .test_upload_hostile import (
    HTML,
    KEY,
    SCRIPT,
    UNKNOWN,
    Endless,
    files_in,
    png_with_trailing_script,
    stored_count,
    truncated_jpeg,
)

HX = {"HX-Request": "true"}


@pytest.fixture
def claim(make, auth, enterprise) -> Redemption:
    """A draft claim of the signed-in enterprise on an in-service voucher order."""
    make.voucher(enterprise)
    provider = make.provider()
    order = make.order(enterprise, make.service(provider.provider))
    order_lifecycle.act(order, "accept", provider)
    claim = claims.start_online(order, enterprise)
    db.session.commit()
    auth.login(enterprise)
    return claim


class HeadedPdf(Endless):
    """A stream that opens like a PDF and then sends zeros, one chunk at a time."""
    HEADER = b"%PDF-1.7\n"

    def _generate(self, size, chunk):
        self.sent += len(self.HEADER)
        yield self.HEADER
        yield from super()._generate(size, chunk)


def post_material(client, claim, data: bytes, name: str, kind="report", headers=None):
    return client.post(f"/me/redemptions/{claim.id}/materials", content_type="multipart/form-data", headers=headers,
                       data={"kind": kind, "files": (io.BytesIO(data), name)})


INVOICE_NUMBER = "26322000000032001234"  # a 20-digit 数电发票 number


def post_invoice(client, claim, data: bytes, name: str, headers=None):
    return client.post(f"/me/redemptions/{claim.id}/invoices", content_type="multipart/form-data", headers=headers,
                       data={"number": INVOICE_NUMBER, "amount": "1500", "image": (io.BytesIO(data), name)})


def post_streamed(client, url: str, fields: dict):
    """Post a multipart body encoded from `fields` as it is read, so a large stream is never held in memory (and,
    unlike the test client's own encoding, no temporary body file is left open)."""
    body, length, boundary = stream_encode_multipart(fields)
    with body:
        return client.post(url, input_stream=body, content_length=length, headers=HX,
                           content_type=f'multipart/form-data; boundary="{boundary}"')


def error_of(page: str, field_id: str) -> str:
    found = re.search(rf'<p class="error" id="{field_id}-error">([^<]*)</p>', page)
    return found.group(1) if found else ""


@pytest.fixture
def before(app, claim) -> tuple:
    """The upload folder's files and the stored-file count once the claim exists (its voucher application has
    files of its own)."""
    return files_in(app), stored_count()


def nothing_kept(app, claim, before) -> bool:
    """No new file anywhere under the upload folder (tmp/ included), no new row, nothing on the claim."""
    now = fresh(claim)
    return (files_in(app), stored_count()) == before and not (now.materials or now.invoices or now.receipts)


def fresh(claim) -> Redemption:
    """The claim as the requests left it."""
    db.session.commit()
    db.session.expire_all()
    return db.session.get(Redemption, claim.id)


def new_files(app, before) -> set:
    return files_in(app) - before[0]


@pytest.mark.parametrize("data, name, message", [
    (HTML, "合同.pdf", PDF_INVALID),
    (truncated_jpeg(), "报告.pdf", PDF_INVALID),
    (png_with_trailing_script(), "报告.pdf", PDF_INVALID),
    (b"%PDF-1.7\n" + HTML, "../../etc/cron.d/job.pdf", PDF_INVALID),
    (b"", "空.pdf", "文件为空"),
], ids=["renamed-html", "truncated-jpeg", "png-with-script", "html-behind-a-pdf-header", "empty"])
def test_a_hostile_material_is_refused_next_to_its_field_and_nothing_is_kept(app, client, claim, before, data, name,
                                                                             message):
    response = post_material(client, claim, data, name)
    assert response.status_code == 422
    assert error_of(response.text, "report-files") == f"{name.rsplit('/', 1)[-1]}：{message}"
    assert nothing_kept(app, claim, before)


@pytest.mark.parametrize("data, name", [
    (HTML, "发票.pdf"),
    (HTML, "../../etc/passwd.jpg"),
    (truncated_jpeg(), "发票.jpg"),
    (truncated_jpeg(0.98), "发票.jpg"),
], ids=["renamed-html", "html-traversal", "truncated-jpeg", "nearly-whole-jpeg"])
def test_a_hostile_invoice_image_is_refused_with_the_number_and_amount_kept(app, client, claim, before, data, name):
    response = post_invoice(client, claim, data, name, headers=HX)
    assert response.status_code == 422
    assert error_of(response.text, "new-invoices-image") == UNKNOWN
    assert f'value="{INVOICE_NUMBER}"' in response.text and 'value="1500"' in response.text
    assert nothing_kept(app, claim, before)


def test_an_invoice_png_with_a_trailing_script_is_stored_as_clean_pixels(app, client, claim, before):
    response = post_invoice(client, claim, png_with_trailing_script(), "<script>.png")
    assert response.status_code == 303
    stored = fresh(claim).invoices[0].file
    on_disk = uploads.path_of(stored).read_bytes()
    assert stored.content_type == "image/png" and SCRIPT not in on_disk and on_disk.endswith(b"IEND\xaeB`\x82")
    assert new_files(app, before) == {uploads.path_of(stored)}
    page = client.get(f"/me/redemptions/{claim.id}").text
    assert "&lt;script&gt;.png" in page and "<script>.png" not in page


def test_an_invoice_image_over_5mb_is_refused_at_the_limit(app, client, claim, before):
    stream = Endless(policy.MAX_INVOICE_BYTES + 1)
    response = post_streamed(client, f"/me/redemptions/{claim.id}/invoices", {
        "number": INVOICE_NUMBER, "amount": "1500", "image": FileStorage(stream, filename="发票.jpg")})
    assert stream.sent == policy.MAX_INVOICE_BYTES + 1
    assert response.status_code == 422 and error_of(response.text, "new-invoices-image") == "文件超过5MB"
    assert nothing_kept(app, claim, before)


def test_an_invoice_image_of_5mb_is_accepted_by_size(app, client, claim, before):
    """The limit is the invoice's own (5 MB) and inclusive: a real PNG padded to exactly 5 MB passes the size
    check and is then judged by its content."""
    picture = png_bytes()
    padded = picture + bytes(policy.MAX_INVOICE_BYTES - len(picture))
    response = post_streamed(client, f"/me/redemptions/{claim.id}/invoices", {
        "number": INVOICE_NUMBER, "amount": "1500", "image": FileStorage(io.BytesIO(padded), filename="发票.png")})
    assert response.status_code == 200
    assert uploads.is_image(fresh(claim).invoices[0].file)  # re-encoded: an opaque picture becomes a JPEG


def test_a_report_over_50mb_is_refused_while_streaming(app, client, claim, before):
    stream = HeadedPdf(policy.MAX_UPLOAD_BYTES + CHUNK)
    response = post_streamed(client, f"/me/redemptions/{claim.id}/materials",
                             {"kind": "report", "files": FileStorage(stream, filename="报告.pdf")})
    assert response.status_code == 422
    assert error_of(response.text, "report-files") == "报告.pdf：文件超过50MB"
    assert nothing_kept(app, claim, before)


def test_a_receipt_image_that_is_not_an_image_is_refused(app, client, claim, before):
    response = client.post(f"/me/redemptions/{claim.id}/receipts", content_type="multipart/form-data",
                           data={"amount": "1500", "image": (io.BytesIO(HTML), "回单.png")})
    assert response.status_code == 422
    assert error_of(response.text, "new-receipts-image") == UNKNOWN and 'value="1500"' in response.text
    assert nothing_kept(app, claim, before)


# Over HTTP werkzeug reads backslashes in the quoted filename as escapes, so only the unix form is posted here.
@pytest.mark.parametrize("name, shown", [("../../etc/passwd.pdf", "passwd.pdf"), ("/etc/cron.d/合同.pdf", "合同.pdf")])
def test_a_good_pdf_under_a_traversal_name_is_stored_under_a_random_key(app, client, claim, before, name, shown):
    response = post_material(client, claim, pdf_bytes(), name, kind="contract")
    assert response.status_code == 303
    stored = fresh(claim).materials[0].file
    assert stored.original_name == shown and KEY.fullmatch(stored.storage_key)
    assert new_files(app, before) == {uploads.path_of(stored)}
    page = client.get(f"/me/redemptions/{claim.id}").text
    assert shown in page and "../" not in page and "/etc/" not in page


def test_a_bad_file_among_good_ones_keeps_the_good_ones(app, client, claim, before):
    response = client.post(f"/me/redemptions/{claim.id}/materials", content_type="multipart/form-data", headers=HX,
                           data={"kind": "report", "files": [(io.BytesIO(pdf_bytes()), "好报告.pdf"),
                                                             (io.BytesIO(HTML), "坏报告.pdf")]})
    assert response.status_code == 422
    assert error_of(response.text, "report-files") == f"坏报告.pdf：{PDF_INVALID}"
    assert "好报告.pdf" in response.text
    materials = fresh(claim).materials
    assert [m.file.original_name for m in materials] == ["好报告.pdf"]
    assert new_files(app, before) == {uploads.path_of(materials[0].file)}
    assert stored_count() == before[1] + 1


def test_a_kept_file_id_of_someone_else_is_not_taken(app, client, make, claim):
    """An invoice form may keep a photo sent before; a guessed id of another user's file is refused."""
    theirs = make.stored_png(make.enterprise(), "别人的发票.png")
    response = client.post(f"/me/redemptions/{claim.id}/invoices",
                           data={"number": INVOICE_NUMBER, "amount": "1500", "image__kept": str(theirs.id)})
    assert response.status_code == 422
    assert error_of(response.text, "new-invoices-image") == "之前上传的文件无法使用，请重新上传"
    assert fresh(claim).invoices == []


def test_an_image_is_refused_as_a_material(app, client, claim, before):
    """Materials are PDFs only (SPEC 7.1): a real photo is refused, not converted."""
    response = post_material(client, claim, png_bytes(), "合同.png", kind="contract")
    assert response.status_code == 422
    assert error_of(response.text, "contract-files") == f"合同.png：{PDF_INVALID}"
    assert nothing_kept(app, claim, before)

