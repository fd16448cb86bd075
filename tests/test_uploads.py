"""Uploads: checked by content, re-encoded, stored under random names outside static/, served only
to those allowed, and kept across a failed form submit."""
import io
import re
import struct
import tracemalloc
import zlib
from pathlib import Path

import pytest
from flask import render_template_string, request
from PIL import Image, ImageCms, PngImagePlugin
from pypdf import PdfWriter
from werkzeug.datastructures import FileStorage
from wtforms import StringField
from wtforms.validators import DataRequired

from marketplace import uploads
from marketplace.extensions import db
from marketplace.forms import Form
from marketplace.models import InstrumentImage, Provider, ServiceImage, ServiceStatus, StoredFile
from marketplace.uploads import access
from marketplace.uploads.fields import MultiUploadField, UploadField

HTML = b"<!doctype html><html><body><script>alert(document.cookie)</script></body></html>"


# --- real files, made here ---------------------------------------------------------------------

def image_bytes(fmt: str = "PNG", size=(64, 48), mode: str = "RGB", color=(200, 30, 30), **options) -> bytes:
    out = io.BytesIO()
    Image.new(mode, size, color).save(out, fmt, **options)
    return out.getvalue()


def jpeg_with_exif(orientation: int = 1) -> bytes:
    exif = Image.Exif()
    exif[0x010F] = "SpyCam Inc."  # Make
    exif[0x0112] = orientation
    profile = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    return image_bytes("JPEG", size=(60, 30), exif=exif.tobytes(), icc_profile=profile)


def png_with_metadata() -> bytes:
    text = PngImagePlugin.PngInfo()
    text.add_text("Comment", "SpyCam secret")
    return image_bytes("PNG", mode="RGBA", color=(10, 20, 30, 128), pnginfo=text)


def pdf_bytes(encrypted: bool = False) -> bytes:
    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    if encrypted:
        writer.encrypt("secret", algorithm="RC4-128")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def png_bomb(width: int, height: int) -> bytes:
    """A valid one-colour black-and-white PNG: a few dozen KB on disk, width × height pixels decoded."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    compressor = zlib.compressobj(9)
    row = bytes(1 + (width + 7) // 8)
    pixels = b"".join(compressor.compress(row) for _ in range(height)) + compressor.flush()
    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")


class Zeros:
    """A 60 MB upload that exists only as chunks: reading it all would need the memory we forbid."""

    def __init__(self, size: int):
        self.remaining = size

    def read(self, n: int = -1) -> bytes:
        n = self.remaining if n < 0 else min(n, self.remaining)
        self.remaining -= n
        return bytes(n)


def upload(data: bytes, name: str) -> FileStorage:
    return FileStorage(io.BytesIO(data), filename=name)


def files_under(folder) -> list[Path]:
    return [p for p in Path(folder).rglob("*") if p.is_file()]


def save(data: bytes, name: str = "photo.png", accept=(uploads.IMAGE,), **options) -> StoredFile:
    return uploads.save(upload(data, name), accept=accept, **options)


def refusal(data, name="photo.jpg", accept=(uploads.IMAGE,), **options) -> str:
    with pytest.raises(uploads.UploadError) as refused:
        save(data, name, accept, **options)
    return refused.value.message


def fetch(client, url: str):
    """GET a file and close the response, as a browser would (send_file keeps the file open until then)."""
    response = client.get(url)
    response.get_data()
    response.close()
    return response


def stored_image(stored: StoredFile) -> Image.Image:
    image = Image.open(uploads.path_of(stored))
    image.load()
    return image


# --- checked by content --------------------------------------------------------------------------

@pytest.mark.parametrize("original, name", [(png_with_metadata(), "a.png"), (jpeg_with_exif(), "a.jpg")])
def test_images_are_reencoded_without_their_metadata(app, original, name):
    stored = save(original, name)
    on_disk = uploads.path_of(stored).read_bytes()
    assert on_disk != original and b"SpyCam" not in on_disk
    image = stored_image(stored)
    assert image.format == Image.open(io.BytesIO(original)).format
    assert not image.getexif() and "Comment" not in image.info and "icc_profile" not in image.info
    assert (image.width, image.height) == (stored.width, stored.height)
    assert stored.size == len(on_disk) and len(stored.sha256) == 64


def test_reencoded_jpeg_keeps_no_exif_and_is_turned_upright(app):
    stored = save(jpeg_with_exif(orientation=6), "phone.jpg")  # 6: the camera was turned 90°
    image = stored_image(stored)
    assert b"SpyCam" not in uploads.path_of(stored).read_bytes()
    assert not image.getexif() and "exif" not in image.info
    assert image.size == (30, 60)


def test_images_with_alpha_stay_png_and_opaque_ones_become_jpeg(app):
    assert save(image_bytes("PNG", mode="RGBA", color=(0, 0, 0, 0))).content_type == "image/png"
    assert save(image_bytes("PNG", mode="P", color=3)).content_type == "image/png"
    assert save(image_bytes("WEBP"), "a.webp").content_type == "image/jpeg"


def test_square_images_are_centre_cropped(app):
    stored = save(image_bytes("PNG", size=(300, 200)), square=True)
    assert (stored.width, stored.height) == (200, 200) == stored_image(stored).size


def test_png_with_trailing_script_is_reencoded_without_it(app):
    stored = save(image_bytes("PNG") + HTML, "polyglot.png")
    assert b"<script>" not in uploads.path_of(stored).read_bytes()
    assert stored_image(stored).size == (64, 48)


@pytest.mark.parametrize("name, accept, message", [
    ("photo.jpg", (uploads.IMAGE,), "图片无法识别，请上传JPG或PNG图片"),
    ("licence.pdf", (uploads.PDF,), "文件内容不是有效的PDF"),
    ("licence.pdf", (uploads.PDF, uploads.IMAGE), "文件格式无法识别，请上传PDF文件或JPG、PNG图片"),
])
def test_a_renamed_html_file_is_refused_and_leaves_nothing(app, name, accept, message):
    assert refusal(HTML, name, accept) == message
    assert files_under(app.config["UPLOAD_FOLDER"]) == []
    assert db.session.query(StoredFile).count() == 0


def test_a_truncated_jpeg_is_refused(app):
    whole = image_bytes("JPEG", size=(400, 300))
    assert refusal(whole[: len(whole) // 2]) == "图片无法识别，请上传JPG或PNG图片"
    assert files_under(app.config["UPLOAD_FOLDER"]) == []


def test_a_pdf_is_stored_as_received(app):
    original = pdf_bytes()
    stored = save(original, "营业执照.pdf", accept=(uploads.PDF, uploads.IMAGE))
    assert stored.content_type == "application/pdf" and stored.width is None
    assert uploads.path_of(stored).read_bytes() == original


def test_a_pdf_named_jpg_is_recognised_by_its_content(app):
    stored = save(pdf_bytes(), "scan.jpg", accept=(uploads.PDF, uploads.IMAGE))
    assert stored.content_type == "application/pdf" and stored.storage_key.endswith(".pdf")


@pytest.mark.parametrize("data, message", [
    (pdf_bytes(encrypted=True), "PDF文件已加密，请上传未加密的文件"),
    (b"%PDF-1.7\n" + b"garbage" * 100, "文件内容不是有效的PDF"),
])
def test_unusable_pdfs_are_refused(app, data, message):
    assert refusal(data, "licence.pdf", (uploads.PDF,)) == message
    assert files_under(app.config["UPLOAD_FOLDER"]) == []


def test_a_pdf_is_refused_where_only_images_are_accepted(app):
    assert refusal(pdf_bytes(), "photo.pdf") == "图片无法识别，请上传JPG或PNG图片"


def test_an_empty_file_is_refused(app):
    assert refusal(b"") == "文件为空"


def test_a_file_over_the_limit_is_refused(app):
    message = refusal(image_bytes("PNG", size=(200, 200), mode="RGB", color=None) + bytes(2048), max_bytes=1024)
    assert message == "文件超过1KB"
    assert files_under(app.config["UPLOAD_FOLDER"]) == []


def test_a_60mb_stream_is_refused_at_50mb_without_being_held_in_memory(app):
    stream = Zeros(60 * 1024 * 1024)
    tracemalloc.start()
    try:
        with pytest.raises(uploads.UploadError) as refused:
            uploads.save(FileStorage(stream, filename="huge.pdf"), accept=(uploads.PDF,))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert "超过" in refused.value.message and refused.value.message == "文件超过50MB"
    assert peak < 4 * 1024 * 1024
    assert stream.remaining > 9 * 1024 * 1024  # reading stopped as soon as the limit was passed
    assert files_under(app.config["UPLOAD_FOLDER"]) == []


@pytest.mark.parametrize("side", [20000, 8000])
def test_decompression_bombs_are_refused(app, side):
    bomb = png_bomb(side, side)
    assert len(bomb) < 200_000
    assert refusal(bomb, "bomb.png").startswith("图片像素过大")
    assert files_under(app.config["UPLOAD_FOLDER"]) == []


# --- stored safely -------------------------------------------------------------------------------

def test_a_path_traversal_name_is_stored_under_a_random_name(app, provider):
    stored = save(image_bytes(), "../../etc/passwd", owner_id=provider.id)
    path = uploads.path_of(stored)
    assert stored.original_name == "passwd" and stored.owner_id == provider.id
    assert re.fullmatch(r"[0-9a-f]{2}/[0-9a-f]{2}/[0-9a-f]{32}\.jpg", stored.storage_key)
    assert path.resolve().is_relative_to(Path(app.config["UPLOAD_FOLDER"]).resolve())
    assert "passwd" not in str(path)


@pytest.mark.parametrize("given, kept", [
    ("C:\\Users\\张三\\营业执照.pdf", "营业执照.pdf"),
    ("bad\x00name\u202egpj.exe", "badnamegpj.exe"),
    ("..", uploads.storage.UNNAMED),
    ("长" * 300 + ".pdf", "长" * 251 + ".pdf"),
])
def test_original_names_are_cleaned_for_display(given, kept):
    assert uploads.clean_name(given) == kept


def test_uploads_are_stored_outside_static(app):
    path = uploads.path_of(save(image_bytes()))
    assert path.is_file()
    assert not path.resolve().is_relative_to(Path(app.static_folder).resolve())


def test_sizes_read_the_way_people_write_them():
    assert [uploads.format_size(n) for n in (512, 2048, 1_288_490, 50 * 1024 * 1024)] == ["512B", "2KB", "1.2MB",
                                                                                          "50MB"]


# --- served only to those allowed --------------------------------------------------------------------

@pytest.fixture
def licence(provider) -> StoredFile:
    stored = save(pdf_bytes(), "营业执照.pdf", accept=(uploads.PDF,), owner_id=provider.id)
    provider.provider.licence_file_id = stored.id
    db.session.commit()
    return stored


@pytest.fixture
def display_image(provider, listed_service) -> StoredFile:
    stored = save(image_bytes(size=(500, 300)), "展示图.png", owner_id=provider.id, square=True)
    listed_service.display_image_id = stored.id
    db.session.commit()
    return stored


def test_a_listed_services_image_is_public(client, display_image):
    response = fetch(client, f"/files/{display_image.id}")
    assert response.status_code == 200 and response.mimetype == "image/jpeg"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "public" in response.headers["Cache-Control"] and "no-cache" not in response.headers["Cache-Control"]
    assert response.headers["Content-Disposition"].startswith("inline;")


def test_service_and_instrument_images_of_open_shops_are_public(client, provider, listed_service):
    gallery = save(image_bytes(), owner_id=provider.id)
    instrument_photo = save(image_bytes(), owner_id=provider.id)
    db.session.add(ServiceImage(service_id=listed_service.id, file_id=gallery.id))
    db.session.add(InstrumentImage(instrument_id=listed_service.instrument_id, file_id=instrument_photo.id))
    db.session.commit()
    assert fetch(client, f"/files/{gallery.id}").status_code == 200
    assert fetch(client, f"/files/{instrument_photo.id}").status_code == 200


def test_a_delisted_services_image_is_no_longer_public(client, auth, display_image, listed_service, provider):
    listed_service.status = ServiceStatus.DELISTED
    db.session.commit()
    assert fetch(client, f"/files/{display_image.id}").status_code == 404
    auth.login(provider)
    assert fetch(client, f"/files/{display_image.id}").status_code == 200


def test_a_licence_is_hidden_from_anonymous_visitors_and_other_providers(client, auth, make, licence):
    assert fetch(client, f"/files/{licence.id}").status_code == 404
    auth.login(make.provider())
    assert fetch(client, f"/files/{licence.id}").status_code == 404


def test_owner_and_reviewer_read_a_licence_privately(client, auth, provider, reviewer, licence):
    for user in (provider, reviewer):
        auth.login(user)
        response = fetch(client, f"/files/{licence.id}")
        assert response.status_code == 200 and response.data == uploads.path_of(licence).read_bytes()
        assert response.mimetype == "application/pdf"
        assert "private" in response.headers["Cache-Control"] and "public" not in response.headers["Cache-Control"]
        assert "filename*=UTF-8''%E8%90%A5%E4%B8%9A%E6%89%A7%E7%85%A7.pdf" in response.headers["Content-Disposition"]
        auth.logout()


def test_a_registered_rule_grants_reading(client, auth, enterprise, licence):
    def enterprises_read_licences(user, stored):
        return user.is_authenticated and user.role == "enterprise" and stored.id == licence.id
    access.register(enterprises_read_licences)
    try:
        auth.login(enterprise)
        assert fetch(client, f"/files/{licence.id}").status_code == 200
    finally:
        access._rules.remove(enterprises_read_licences)


def test_unknown_ids_answer_404(client):
    assert client.get("/files/999999").status_code == 404


def test_missing_bytes_answer_404_and_are_logged(client, caplog, display_image):
    uploads.path_of(display_image).unlink()
    assert fetch(client, f"/files/{display_image.id}").status_code == 404
    assert fetch(client, f"/files/{display_image.id}?thumb=200").status_code == 404
    assert f"stored file {display_image.id} has no bytes" in caplog.text


def test_a_thumbnail_is_200_by_200_and_made_once(client, provider, listed_service):
    stored = save(image_bytes(size=(640, 480)), owner_id=provider.id)
    listed_service.display_image_id = stored.id
    db.session.commit()
    first = fetch(client, f"/files/{stored.id}?thumb=200")
    assert first.status_code == 200 and Image.open(io.BytesIO(first.data)).size == (200, 200)
    cached = uploads.path_of(stored).with_name(Path(stored.storage_key).stem + ".t200.jpg")
    made_at = cached.stat().st_mtime_ns
    assert fetch(client, f"/files/{stored.id}?thumb=200").data == first.data
    assert cached.stat().st_mtime_ns == made_at


@pytest.mark.parametrize("thumb", ["123", "abc", "-200"])
def test_only_listed_thumbnail_sizes_are_served(client, display_image, thumb):
    assert fetch(client, f"/files/{display_image.id}?thumb={thumb}").status_code == 404


def test_pdfs_have_no_thumbnail(client, auth, provider, licence):
    auth.login(provider)
    assert fetch(client, f"/files/{licence.id}?thumb=200").status_code == 404


def test_urls_for_files_in_python_and_templates(app, display_image):
    with app.test_request_context():
        assert uploads.url_for_file(display_image) == f"/files/{display_image.id}"
        assert render_template_string("{{ file_url(f, thumb=200) }}", f=display_image) == \
            f"/files/{display_image.id}?thumb=200"


# --- form fields: nothing the user uploaded is lost -----------------------------------------------

class ShopForm(Form):
    name = StringField("单位名称", validators=[DataRequired()])
    licence = UploadField("营业执照", accept=(uploads.PDF, uploads.IMAGE), required=True)
    photos = MultiUploadField("仪器图片", accept=(uploads.IMAGE,), max_files=5, square=True)
    logo = UploadField("单位标识", accept=(uploads.IMAGE,))


PAGE = """{% from "files/macros.html" import upload_field %}
<form method="post" enctype="multipart/form-data">{{ form.name() }}
{{ upload_field(form.licence, hint="PDF或图片，不超过50MB") }}
{{ upload_field(form.photos) }}{{ upload_field(form.logo) }}</form>"""


@pytest.fixture
def shop_form(app):
    """A test-only page with an upload form: 200 + the ids on success, 422 + the form otherwise;
    GET ?licence=<id> shows an existing record's file."""
    def view():
        form = ShopForm()
        if request.method == "GET" and "licence" in request.args:
            form.licence.data = db.session.get(StoredFile, int(request.args["licence"]))
        if form.validate_on_submit():
            return {"licence": form.licence.file_id, "photos": form.photos.file_ids, "logo": form.logo.file_id}
        return render_template_string(PAGE, form=form), 422 if request.method == "POST" else 200
    app.add_url_rule("/test-upload-form", "test_upload_form", view, methods=["GET", "POST"])
    return "/test-upload-form"


def kept_ids(page: str, name: str) -> list[int]:
    return [int(n) for n in re.findall(rf'name="{name}__kept" value="(\d+)"', page)]


def test_an_uploaded_licence_survives_a_failed_submit(client, auth, provider, shop_form):
    auth.login(provider)
    failed = client.post(shop_form, data={"name": "", "licence": (io.BytesIO(pdf_bytes()), "营业执照.pdf")})
    page = failed.get_data(as_text=True)
    assert failed.status_code == 422 and "已上传：营业执照.pdf" in page
    [licence_id] = kept_ids(page, "licence")
    db.session.expire_all()
    assert db.session.get(StoredFile, licence_id).owner_id == provider.id  # committed although the route did not
    assert 'required' not in re.search(r'<input[^>]*name="licence"[^>]*>', page).group(0)
    done = client.post(shop_form, data={"name": "测试检测中心", "licence__kept": str(licence_id)})
    assert done.status_code == 200 and done.json == {"licence": licence_id, "photos": [], "logo": None}


def test_a_forged_kept_id_of_someone_elses_file_is_refused(client, auth, make, provider, shop_form, licence):
    auth.login(make.provider())
    response = client.post(shop_form, data={"name": "冒用", "licence__kept": str(licence.id)})
    page = response.get_data(as_text=True)
    assert response.status_code == 422 and "之前上传的文件无法使用，请重新上传" in page
    assert kept_ids(page, "licence") == [] and "营业执照.pdf" not in page


def test_a_reviewer_may_keep_a_providers_file(client, auth, reviewer, shop_form, licence):
    auth.login(reviewer)
    response = client.post(shop_form, data={"name": "代为修改", "licence__kept": str(licence.id)})
    assert response.status_code == 200 and response.json["licence"] == licence.id


def test_anonymous_visitors_cannot_keep_files(client, shop_form, licence):
    response = client.post(shop_form, data={"name": "匿名", "licence__kept": str(licence.id)})
    assert response.status_code == 422 and "之前上传的文件无法使用" in response.get_data(as_text=True)


def test_an_optional_file_can_be_removed_but_a_required_one_only_replaced(client, auth, provider, shop_form, licence):
    auth.login(provider)
    logo = save(image_bytes(), "标识.png", owner_id=provider.id)
    db.session.commit()
    kept = {"name": "测试", "licence__kept": str(licence.id), "logo__kept": str(logo.id)}
    page = client.post(shop_form, data=dict(kept, name="")).get_data(as_text=True)
    assert f'name="logo__remove" value="{logo.id}"' in page and 'name="licence__remove"' not in page
    assert client.post(shop_form, data=kept).json["logo"] == logo.id
    assert client.post(shop_form, data=dict(kept, logo__remove=str(logo.id))).json["logo"] is None


def test_a_required_upload_asks_for_the_file_by_its_label(client, auth, provider, shop_form):
    auth.login(provider)
    response = client.post(shop_form, data={"name": "测试检测中心"})
    assert response.status_code == 422 and "请上传营业执照" in response.get_data(as_text=True)


def test_a_non_image_named_jpg_is_refused_and_the_rest_of_the_form_kept(client, auth, provider, shop_form, app):
    auth.login(provider)
    response = client.post(shop_form, data={"name": "我填写的名称", "licence": (io.BytesIO(pdf_bytes()), "l.pdf"),
                                            "photos": [(io.BytesIO(HTML), "仪器.jpg")]})
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "仪器.jpg：图片无法识别，请上传JPG或PNG图片" in page
    assert 'value="我填写的名称"' in page and len(kept_ids(page, "licence")) == 1
    assert len(files_under(app.config["UPLOAD_FOLDER"])) == 1  # the licence only


def test_a_bad_new_file_does_not_drop_the_kept_one(client, auth, provider, shop_form, licence):
    auth.login(provider)
    response = client.post(shop_form, data={"name": "测试", "licence__kept": str(licence.id),
                                            "licence": (io.BytesIO(HTML), "new.pdf")})
    page = response.get_data(as_text=True)
    assert response.status_code == 422 and "文件格式无法识别" in page
    assert kept_ids(page, "licence") == [licence.id]


def test_editing_shows_the_current_file_instead_of_asking_again(client, auth, provider, shop_form, licence):
    auth.login(provider)
    page = client.get(f"{shop_form}?licence={licence.id}").get_data(as_text=True)
    assert kept_ids(page, "licence") == [licence.id]
    assert f'href="/files/{licence.id}"' in page and "营业执照.pdf（" in page
    assert 'data-upload-progress' in page and 'enctype="multipart/form-data"' in page


def test_at_most_five_photos_are_accepted(client, auth, provider, shop_form, app):
    auth.login(provider)
    photos = [(io.BytesIO(image_bytes()), f"{n}.png") for n in range(6)]
    response = client.post(shop_form, data={"name": "测试", "photos": photos})
    assert response.status_code == 422 and "仪器图片最多5张" in response.get_data(as_text=True)
    assert files_under(app.config["UPLOAD_FOLDER"]) == []


def test_kept_photos_count_towards_the_limit_and_can_be_removed(client, auth, provider, shop_form, licence):
    auth.login(provider)
    first = client.post(shop_form, data={"name": "", "photos": [(io.BytesIO(image_bytes()), f"{n}.png")
                                                               for n in range(5)]})
    kept = kept_ids(first.get_data(as_text=True), "photos")
    assert len(kept) == 5
    one_more = {"name": "测试", "licence__kept": str(licence.id), "photos__kept": [str(i) for i in kept],
                "photos": [(io.BytesIO(image_bytes()), "6.png")]}
    assert client.post(shop_form, data=one_more).status_code == 422
    one_more.update(photos__remove=[str(kept[0])], photos=[(io.BytesIO(image_bytes(size=(90, 60))), "6.png")])
    done = client.post(shop_form, data=one_more)
    assert done.status_code == 200 and done.json["photos"][:4] == kept[1:] and len(done.json["photos"]) == 5
    db.session.expire_all()
    newest = db.session.get(StoredFile, done.json["photos"][-1])
    assert (newest.width, newest.height) == (60, 60)  # square=True


def test_the_progress_script_is_small_and_listens_to_htmx(app):
    script = (Path(app.static_folder) / "js" / "upload-progress.js").read_text()
    assert "htmx:xhr:progress" in script and "data-upload-progress" in script and len(script.splitlines()) <= 25


def test_provider_logo_of_an_open_shop_is_public(client, provider):
    logo = save(image_bytes(), owner_id=provider.id)
    db.session.get(Provider, provider.provider.id).logo_file_id = logo.id
    db.session.commit()
    assert fetch(client, f"/files/{logo.id}").status_code == 200
