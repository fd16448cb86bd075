"""Uploads on disk: streamed in chunks under UPLOAD_FOLDER, checked, stored under a random name
(never the user's), recorded as a StoredFile row; thumbnails cached next to the original."""
import hashlib
import os
import secrets
import tempfile
import unicodedata
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from flask import current_app, has_request_context, url_for
from PIL import Image, ImageOps

from .. import policy
from ..extensions import db
from ..models import StoredFile
from .content import IMAGE, Checked, Examined, UploadError, decoder, examine, kind_of, write_image

TEMP_FOLDER = "tmp"  # uploads being received, under the upload folder

CHUNK = 64 * 1024
THUMB_SIZES = (200, 400)
NAME_MAX = 255
UNNAMED = "未命名文件"


def upload_root() -> Path:
    return Path(current_app.config["UPLOAD_FOLDER"]).resolve()


def save(file_storage, *, accept, max_bytes: int = policy.MAX_UPLOAD_BYTES, owner_id: int | None = None,
         square: bool = False) -> StoredFile:
    """Stream `file_storage` (a werkzeug FileStorage) to disk, refusing it as soon as it passes
    `max_bytes`; check it by content against `accept` (PDF, IMAGE or both); store it and add a
    flushed StoredFile to db.session (the caller commits). Raises UploadError with a Chinese message;
    a refused upload leaves nothing behind. In a request the file was received and checked before the
    request touched the database (early.py); here it is only moved into place and recorded. Saving the same
    upload again answers the StoredFile the first save made."""
    if getattr(file_storage, "stored", None) is not None:
        return file_storage.stored
    kinds = frozenset((accept,) if isinstance(accept, str) else accept)
    if getattr(file_storage, "received", None) is None and has_request_context() and db.session().in_transaction():
        current_app.logger.warning("upload %r examined inside the request's transaction", file_storage.filename)
    received = receive(file_storage, max_bytes)
    try:
        checked = received.accepted(kinds, square, max_bytes)
        key = _new_key(checked.extension)
        final = upload_root() / key
        final.parent.mkdir(parents=True, exist_ok=True)
        os.replace(checked.path, final)
    finally:
        received.discard()
    file_storage.stored = _record(final, key, checked, clean_name(file_storage.filename), owner_id)
    return file_storage.stored


@dataclass(frozen=True)
class Received:
    """An upload streamed into UPLOAD_FOLDER/tmp (`raw`, `size` bytes read, stopping just past `limit`) and,
    when of a size to keep, examined."""
    raw: Path
    size: int
    limit: int
    examined: Examined | None

    def accepted(self, accept: frozenset, square: bool, max_bytes: int) -> Checked:
        """What to store for a field taking up to `max_bytes`; a file received under a smaller limit (early.py
        uses the default) was not read past it, so that is the most it may have."""
        most = min(max_bytes, self.limit)
        if self.size > most:
            raise UploadError(f"文件超过{format_size(most)}")
        if self.size == 0:
            raise UploadError("文件为空")
        return self.examined.accepted(accept, square)

    def discard(self) -> None:
        """Remove the received file and whatever examining it wrote next to it (all named after it)."""
        for path in self.raw.parent.glob(f"{self.raw.name}*"):
            path.unlink(missing_ok=True)


def receive(file_storage, max_bytes: int = policy.MAX_UPLOAD_BYTES) -> Received:
    """`file_storage` received and examined once: a later call answers what the first one found."""
    if getattr(file_storage, "received", None) is None:
        raw = _temp_file(upload_root())
        try:
            size = _receive(file_storage.stream, raw, max_bytes)
            file_storage.received = Received(raw, size, max_bytes, examine(raw) if 0 < size <= max_bytes else None)
        except BaseException:
            Received(raw, 0, max_bytes, None).discard()
            raise
    return file_storage.received


def stored_paths(root: Path) -> list[Path]:
    """Every stored file and thumbnail under `root` (an upload folder or a backup's copy), not uploads in progress."""
    if not root.is_dir():
        return []
    return sorted(path for path in root.rglob("*")
                  if path.is_file() and path.relative_to(root).parts[0] != TEMP_FOLDER)


def _temp_file(root: Path) -> Path:
    """A new empty file in UPLOAD_FOLDER/tmp: the same file system as the store, so moving is atomic."""
    folder = root / TEMP_FOLDER
    folder.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(dir=folder, suffix=".part")
    os.close(fd)
    return Path(name)


def _receive(stream, destination: Path, max_bytes: int) -> int:
    """Bytes read, stopping at the first chunk past `max_bytes` (which is not written)."""
    size = 0
    with destination.open("wb") as out:
        while chunk := stream.read(CHUNK):
            size += len(chunk)
            if size > max_bytes:
                break
            out.write(chunk)
    return size


def _new_key(extension: str) -> str:
    token = secrets.token_hex(16)
    return f"{token[:2]}/{token[2:4]}/{token}{extension}"


def _record(path: Path, key: str, checked: Checked, name: str, owner_id: int | None) -> StoredFile:
    stored = StoredFile(owner_id=owner_id, storage_key=key, original_name=name, content_type=checked.content_type,
                        size=path.stat().st_size, sha256=sha256_of(path), width=checked.width, height=checked.height)
    db.session.add(stored)
    try:
        db.session.flush()
    except Exception:
        path.unlink(missing_ok=True)
        raise
    return stored


def sha256_of(path: Path) -> str:
    """The file's SHA-256, read in chunks (also the backup manifest's checksum)."""
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def clean_name(filename: str | None) -> str:
    """The user's file name for display only: base name, no control or bidi characters, ≤255 chars."""
    name = (filename or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if not unicodedata.category(ch).startswith("C")).strip()
    if name in ("", ".", ".."):
        return UNNAMED
    if len(name) > NAME_MAX:
        suffix = PurePosixPath(name).suffix[:16]
        name = name[:NAME_MAX - len(suffix)] + suffix
    return name


def format_size(size: int) -> str:
    """1288490 -> "1.2MB", 52428800 -> "50MB", 2048 -> "2KB"."""
    for unit, scale in (("MB", 1024 * 1024), ("KB", 1024)):
        if size >= scale:
            return f"{size / scale:.1f}".removesuffix(".0") + unit
    return f"{size}B"


def path_of(stored: StoredFile) -> Path:
    return upload_root() / stored.storage_key


def url_for_file(stored: StoredFile, thumb: int | None = None) -> str:
    return url_for("files.serve", file_id=stored.id, thumb=thumb)


def thumbnail(stored: StoredFile, size: int) -> Path:
    """A size×size centre crop of a stored image, made once and kept next to the original.
    Raises FileNotFoundError when the original's bytes are missing."""
    original = path_of(stored)
    path = original.with_name(f"{original.stem}.t{size}{original.suffix}")
    if not path.exists():
        with decoder(), Image.open(original) as img:
            img.draft(img.mode, (size, size))  # JPEG: decode at the smallest scale still ≥ size
            small = ImageOps.fit(img, (size, size), Image.Resampling.LANCZOS)
        part = _temp_file(upload_root())
        try:
            write_image(small, part, original.suffix)
            os.replace(part, path)  # atomic: concurrent requests never serve a half-written thumbnail
        finally:
            part.unlink(missing_ok=True)
    return path


def is_image(stored: StoredFile) -> bool:
    return kind_of(stored.content_type) == IMAGE
