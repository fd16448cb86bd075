"""Upload fields for WTForms that never lose a file the user already sent.

    class ShopForm(Form):
        licence = UploadField("营业执照/法人证书", accept=(uploads.PDF, uploads.IMAGE), required=True)
        photos = MultiUploadField("仪器图片", accept=(uploads.IMAGE,), max_files=5, square=True)

    {% from "files/macros.html" import upload_field %}
    <form method="post" enctype="multipart/form-data" hx-post="…" hx-encoding="multipart/form-data">
      {{ upload_field(form.licence, hint="PDF或图片，不超过50MB") }}

The rules routes rely on:
- Forms need enctype="multipart/form-data" (htmx: hx-encoding="multipart/form-data"), or no file arrives.
- A signed-in user's files were received and checked before the request touched the database (early.py);
  validation only picks what the field accepts and moves it into place.
- Validation stores each newly chosen file and COMMITS the session at once, so the file's row exists
  when another field fails and the route answers 422 — the route need not commit anything on 422.
  Therefore validate before changing any row (`if form.validate_on_submit(): change; commit`):
  changes made before validation would be committed with the upload.
- A field that holds files (kept from an earlier failed submit, or the record's current files set on
  GET with `form.licence.data = stored_file` / `form.photos.data = [stored, …]`) renders them as
  hidden `<name>__kept` ids with an "已上传：…" line, so the user does not upload again. A kept id is
  accepted only when the signed-in user owns the file or is an approved reviewer; anonymous forms
  cannot keep files.
- After validation `field.data` is a StoredFile or None (UploadField) or a list of StoredFile
  (MultiUploadField); `field.file_id` / `field.file_ids` are the ids to store on the record.
"""
from flask_login import current_user
from markupsafe import Markup
from werkzeug.datastructures import FileStorage
from wtforms import Field
from wtforms.utils import unset_value
from wtforms.validators import StopValidation
from wtforms.widgets import html_params

from .. import policy
from ..extensions import db
from ..ids import as_id
from ..models import StoredFile
from .content import IMAGE, PDF, UploadError, kind_of
from .storage import clean_name, format_size, is_image, save, url_for_file

ACCEPT_ATTRIBUTE = {PDF: "application/pdf,.pdf", IMAGE: "image/jpeg,image/png,image/webp,.jpg,.jpeg,.png,.webp"}
KEPT_UNUSABLE = "之前上传的文件无法使用，请重新上传"


class UploadInput:
    """The file input, preceded by the files already held (hidden ids, name, size, 查看 link)."""

    def __call__(self, field: "_UploadField", **attrs) -> Markup:
        attrs.setdefault("id", field.id)
        attrs.update(type="file", name=field.name, accept=",".join(ACCEPT_ATTRIBUTE[k] for k in sorted(field.accept)))
        if field.multiple and field.max_files != 1:  # a field that holds one file picks one
            attrs["multiple"] = True
        if field.required and not field.held:
            attrs["required"] = True
        held = Markup("").join(self.held_item(field, stored) for stored in field.held)
        listing = Markup('<ul class="upload-kept">{}</ul>').format(held) if field.held else ""
        return Markup("{}<input {}>").format(listing, Markup(html_params(**attrs)))

    @staticmethod
    def held_item(field: "_UploadField", stored: StoredFile) -> Markup:
        thumb = (Markup('<img class="upload-thumb" src="{}" alt="" width="48" height="48" loading="lazy"> ')
                 .format(url_for_file(stored, thumb=200)) if is_image(stored) else "")
        remove = (Markup(' <label class="upload-remove"><input type="checkbox" name="{}__remove" value="{}"> '
                         '删除</label>').format(field.name, stored.id) if field.removable else "")
        return Markup('<li><input type="hidden" name="{}__kept" value="{}">{}已上传：{}（{}） '
                      '<a href="{}" target="_blank" rel="noopener">查看</a>{}</li>').format(
            field.name, stored.id, thumb, stored.original_name, format_size(stored.size), url_for_file(stored), remove)


class _UploadField(Field):
    widget = UploadInput()
    multiple = False

    def __init__(self, label=None, validators=None, *, accept=(PDF, IMAGE), max_bytes: int = policy.MAX_UPLOAD_BYTES,
                 required: bool = False, square: bool = False, **kwargs):
        super().__init__(label, validators, **kwargs)
        self.accept = frozenset((accept,) if isinstance(accept, str) else accept)
        self.max_bytes = max_bytes
        self.required = required
        self.square = square
        self.flags.required = required
        self.uploads: list[FileStorage] = []
        self.kept_ids: list[int] = []

    def process(self, formdata, data=unset_value, extra_filters=None):
        super().process(formdata, data, extra_filters)
        if formdata is None:
            return
        self.uploads = [value for value in self.raw_data if isinstance(value, FileStorage) and value.filename]
        removed = set(_ids(formdata.getlist(f"{self.name}__remove")))
        kept = _ids(formdata.getlist(f"{self.name}__kept"))
        self.kept_ids = [file_id for file_id in dict.fromkeys(kept) if file_id not in removed]

    def process_formdata(self, valuelist):
        """Nothing is taken from the request here: files are stored only when the form is validated."""

    @property
    def held(self) -> list[StoredFile]:
        """The files this field currently holds, as a list for both kinds of field."""
        if self.multiple:
            return list(self.data or [])
        return [self.data] if self.data else []

    @property
    def removable(self) -> bool:
        return self.multiple or not self.required

    def kept_files(self) -> list[StoredFile]:
        files = [db.session.get(StoredFile, file_id) for file_id in self.kept_ids]
        usable = [stored for stored in files if stored is not None and self._may_keep(stored)]
        if len(usable) < len(files):
            self.errors.append(KEPT_UNUSABLE)
        return usable

    def _may_keep(self, stored: StoredFile) -> bool:
        mine = current_user.is_authenticated and (stored.owner_id == current_user.id or current_user.is_reviewer)
        return mine and kind_of(stored.content_type) in self.accept and stored.size <= self.max_bytes

    def store_new(self, uploads: list[FileStorage]) -> list[StoredFile]:
        stored = []
        for upload in uploads:
            try:
                stored.append(save(upload, accept=self.accept, max_bytes=self.max_bytes,
                                   owner_id=current_user.id if current_user.is_authenticated else None,
                                   square=self.square))
            except UploadError as error:
                self.errors.append(self.upload_error(upload, error))
        if stored:
            db.session.commit()  # see the module docstring: a 422 answer must not lose the upload
        return stored

    def upload_error(self, _upload: FileStorage, error: UploadError) -> str:
        return error.message

    def finish(self) -> None:
        if self.errors:
            raise StopValidation()
        if self.required and not self.held:
            raise StopValidation(f"请上传{self.label.text}")


class UploadField(_UploadField):
    """One file; a new upload replaces the kept one. `data`: StoredFile or None."""

    @property
    def file_id(self) -> int | None:
        return self.data.id if self.data else None

    def pre_validate(self, form):
        kept = self.kept_files()
        new = self.store_new(self.uploads[:1])
        self.data = (new or kept or [None])[0]
        self.finish()


class MultiUploadField(_UploadField):
    """Up to `max_files` files in total (kept + new). `data`: list of StoredFile."""
    multiple = True

    def __init__(self, label=None, validators=None, *, max_files: int = 5, **kwargs):
        super().__init__(label, validators, **kwargs)
        self.max_files = max_files

    @property
    def file_ids(self) -> list[int]:
        return [stored.id for stored in self.held]

    def pre_validate(self, form):
        kept = self.kept_files()
        self.data = kept
        if len(kept) + len(self.uploads) > self.max_files:
            unit = "张" if self.accept == {IMAGE} else "个"
            raise StopValidation(f"{self.label.text}最多{self.max_files}{unit}，请减少后再提交")
        self.data = kept + self.store_new(self.uploads)
        self.finish()

    def upload_error(self, upload: FileStorage, error: UploadError) -> str:
        return f"{clean_name(upload.filename)}：{error.message}"


def _ids(values) -> list[int]:
    return [number for number in map(as_id, values) if number is not None]
