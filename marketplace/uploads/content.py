"""What an upload really is, decided from its bytes, never from its name or the browser's mimetype:
a PDF must start with its header, open with pypdf and have a page, and is stored without whatever follows its
last %%EOF; an image is decoded by Pillow and re-encoded, so only pixels survive (no EXIF, no trailing bytes, no
polyglot payload). PDFs are not rewritten: that would break the signatures of electronic invoices.

The work is bounded, as uploads come from strangers: an image whose header promises more than MAX_PIXELS, or
full-size copies of more than MAX_DECODED_BYTES, is refused before it is decoded (a 190 KB PNG can hold 7000×7000
RGBA pixels: over 500 MB to decode); scaling down to MAX_SIDE adds at most 4 × MAX_SIDE × (√MAX_PIXELS + MAX_SIDE)
bytes (170 MB; a 40-megapixel photo peaked at 319 MB in all), at most DECODES_AT_ONCE images are decoded at a time
in a process (parallel uploads queue instead of multiplying the memory, but for at most WAIT_SECONDS: then 503,
rather than a pile of waiting threads), and a PDF is read by pypdf in a helper process with a time and memory
limit (pdf_probe.py) and may have at most MAX_PDF_PAGES pages. examine() does all of it once per upload, before
the request touches the database (see early.py); a field then only picks what it accepts."""
import io
import mmap
import os
import threading
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageCms, ImageOps
from werkzeug.exceptions import ServiceUnavailable

from . import pdf_probe

PDF = "pdf"
IMAGE = "image"

IMAGE_FORMATS = ("JPEG", "PNG", "WEBP")
MAX_PIXELS = 40_000_000  # a 40-megapixel photo of an invoice passes; larger ones are refused before decoding
MAX_DECODED_BYTES = 160_000_000  # full-size copies: 40 megapixels of colour; 20 with transparency, 32 with a palette
DECODES_AT_ONCE = 2  # per process
WAIT_SECONDS = 30  # the longest a request waits for a decoder or a PDF helper
MAX_SIDE = 4096  # stored images are scaled down to this on their long side
JPEG_QUALITY = 88
MAX_PDF_PAGES = 500
SCALABLE_MODES = ("L", "LA", "RGB", "RGBA", "CMYK")  # Pillow scales others (palette, 1-bit) without smoothing

PDF_INVALID = "文件内容不是有效的PDF"
PDF_HEADER = b"%PDF-"
PDF_END = b"%%EOF"
PDF_ENCRYPTED = "PDF文件已加密，请上传未加密的文件"
PDF_EMPTY = "PDF文件没有页面"
IMAGE_INVALID = "图片无法识别，请上传JPG或PNG图片"
IMAGE_TOO_LARGE = "图片像素过大（超过{}万像素），请缩小后再上传"
UNKNOWN = "文件格式无法识别，请上传PDF文件或JPG、PNG图片"
PDF_TOO_LARGE = f"PDF文件过大或过于复杂（最多{MAX_PDF_PAGES}页），请拆分后再上传"

CONTENT_TYPES = {".pdf": "application/pdf", ".jpg": "image/jpeg", ".png": "image/png"}
SRGB = ImageCms.createProfile("sRGB")

decoding = threading.BoundedSemaphore(DECODES_AT_ONCE)  # held while a decoded image is in memory (see decoder())


class UploadError(Exception):
    """An upload refused; `.message` is the Chinese sentence to show next to the field."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class Busy(ServiceUnavailable):
    """No decoder or PDF helper came free within WAIT_SECONDS: the site is overloaded with uploads, and a request
    that waited longer would only hold its thread (and its client) longer."""
    chinese_detail = "系统繁忙，请稍后再试。"


@contextmanager
def decoder():
    """One of the DECODES_AT_ONCE places to hold a decoded image (the uploads' and thumbnails'), or Busy."""
    if not decoding.acquire(timeout=WAIT_SECONDS):
        raise Busy()
    try:
        yield
    finally:
        decoding.release()


@dataclass(frozen=True)
class Checked:
    """The bytes to store (`path`) and what they are."""
    path: Path
    extension: str
    width: int | None = None
    height: int | None = None

    @property
    def content_type(self) -> str:
        return CONTENT_TYPES[self.extension]


Outcome = Checked | UploadError


@dataclass(frozen=True)
class Examined:
    """Every way a field may take one upload, found in one pass over its bytes: as a PDF (when its first KB says
    so), as a re-encoded image and its centre square (unless it starts as a PDF); each the result or why not."""
    pdf: Outcome | None = None
    image: Outcome | None = None
    square: Checked | None = None

    def accepted(self, accept: frozenset, square: bool) -> Checked:
        """What to store for a field that takes `accept` (PDF, IMAGE or both) and maybe squares its images;
        raises the UploadError to show next to that field."""
        if self.pdf is not None and PDF in accept:
            return _result(self.pdf)
        if IMAGE in accept:
            image = self.image or UploadError(IMAGE_INVALID)
            if isinstance(image, UploadError) and PDF in accept and image.message == IMAGE_INVALID:
                raise UploadError(UNKNOWN)
            checked = _result(image)
            return self.square if square else checked
        raise UploadError(PDF_INVALID if accept == {PDF} else UNKNOWN)


def _result(outcome: Outcome) -> Checked:
    if isinstance(outcome, UploadError):
        raise UploadError(outcome.message)
    return outcome


def kind_of(content_type: str) -> str:
    return PDF if content_type == "application/pdf" else IMAGE


def examine(raw: Path) -> Examined:
    """Check `raw` (an upload's temporary file) in every way a field may accept it: a PDF is kept there up to its
    last %%EOF, images are re-encoded next to it (`raw` + ".out", ".square")."""
    with raw.open("rb") as f:
        head = f.read(1024)
    pdf = _outcome(check_pdf, raw) if PDF_HEADER in head else None  # a header a little late is refused there
    if head.startswith(PDF_HEADER):
        return Examined(pdf=pdf)  # no image starts so
    images = _outcome(reencode_image, raw)
    if isinstance(images, UploadError):
        return Examined(pdf, images)
    return Examined(pdf, *images)


def _outcome(check, raw: Path):
    try:
        return check(raw)
    except UploadError as error:
        return error


def check_pdf(path: Path) -> Checked:
    """A PDF must begin with its header (the spec tolerates junk before it; that is where a ZIP or script hides
    in a polyglot, and no real invoice or report has any). Bytes after the last %%EOF belong to no PDF reader:
    they are cut off the received file `path` (the upload's own temporary copy), which closes PDF-then-ZIP
    polyglots."""
    with path.open("rb") as f:
        if f.read(len(PDF_HEADER)) != PDF_HEADER:
            raise UploadError(PDF_INVALID)
    try:
        facts = pdf_probe.read(path, MAX_PDF_PAGES, wait=WAIT_SECONDS)
    except pdf_probe.NoHelperFree as error:
        raise Busy() from error
    if facts.get("encrypted"):
        raise UploadError(PDF_ENCRYPTED)
    if facts == pdf_probe.INVALID:
        raise UploadError(PDF_INVALID)
    if facts == pdf_probe.TOO_LARGE or facts["pages"] > MAX_PDF_PAGES:
        raise UploadError(PDF_TOO_LARGE)
    if facts["pages"] < 1:
        raise UploadError(PDF_EMPTY)
    os.truncate(path, _pdf_end(path))
    return Checked(path, ".pdf")


def _pdf_end(path: Path) -> int:
    """Where the PDF ends: after its last %%EOF and the line break that follows (pypdf found one: it opened)."""
    with path.open("rb") as f, mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as data:
        marker = data.rfind(PDF_END)
        if marker < 0:
            return len(data)
        end = marker + len(PDF_END)
        for line_break in (b"\r", b"\n"):
            if data[end:end + 1] == line_break:
                end += 1
        return end


def reencode_image(raw: Path) -> tuple[Checked, Checked]:
    """The image in `raw` decoded, scaled down to MAX_SIDE, oriented by EXIF, in sRGB, written as a fresh PNG
    (alpha or palette images) or JPEG without any metadata; and its centre square, for fields that show images as
    squares (the same file when it is square already). The decoded image is held under decoder()."""
    with decoder():
        clean, extension = _decoded(raw)
        plain = _written(clean, raw.with_name(raw.name + ".out"), extension)
        if clean.width == clean.height:
            return plain, plain
        return plain, _written(center_square(clean), raw.with_name(raw.name + ".square"), extension)


def _decoded(raw: Path) -> tuple[Image.Image, str]:
    try:
        with Image.open(raw, formats=IMAGE_FORMATS) as img:
            _refuse_large(img)
            as_png = img.mode in ("RGBA", "LA", "PA", "P") or "transparency" in img.info
            return _pixels_only(_scaled_upright(img)), ".png" if as_png else ".jpg"
    except UploadError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
        raise UploadError(IMAGE_TOO_LARGE.format(MAX_PIXELS // 10_000)) from error
    except Exception as error:  # decoders of untrusted bytes fail in many ways; each one means "not an image"
        raise UploadError(IMAGE_INVALID) from error


def _refuse_large(img: Image.Image) -> None:
    """From the header alone: more pixels than an image of its kind may have, so that its full-size copies stay
    within MAX_DECODED_BYTES: the decoded image and, when it is converted (a palette, 16-bit grey) or premultiplied
    (transparency) before being scaled down, a second one."""
    copy = _full_size_copy(img)
    per_pixel = _stored_bytes(img.mode) + (_stored_bytes(copy) if copy else 0)
    most = min(MAX_PIXELS, MAX_DECODED_BYTES // per_pixel)
    if img.width * img.height > most:
        raise UploadError(IMAGE_TOO_LARGE.format(most // 10_000))


def _stored_bytes(mode: str) -> int:
    """Bytes a pixel takes in Pillow's memory: 4 for every mode of several bands (RGB too), as for 32-bit ones."""
    if Image.getmodebands(mode) > 1 or mode in ("I", "F"):
        return 4
    return 2 if mode.startswith("I;16") else 1


def _full_size_copy(img: Image.Image) -> str | None:
    """The mode of the copy _scaled_upright makes at full size, if any: a conversion to a scalable mode, or the
    premultiplied copy Pillow resizes images with transparency through."""
    if img.mode not in SCALABLE_MODES:
        return _clean_mode(img)
    return {"RGBA": "RGBa", "LA": "La"}.get(img.mode)


def _scaled_upright(img: Image.Image) -> Image.Image:
    """Scaled down first, so orienting and colour conversion copy the small image, not the full one (a JPEG
    much larger than MAX_SIDE is even decoded at a reduced scale)."""
    if img.mode not in SCALABLE_MODES:
        img = img.convert(_clean_mode(img))
    img.thumbnail((MAX_SIDE, MAX_SIDE), Image.Resampling.LANCZOS)
    img.load()
    ImageOps.exif_transpose(img, in_place=True)
    return img


def _clean_mode(img: Image.Image) -> str:
    alpha = img.mode in ("RGBA", "LA", "PA") or "transparency" in img.info
    return "RGBA" if alpha else "L" if img.mode in ("1", "L") else "RGB"


def _written(img: Image.Image, path: Path, extension: str) -> Checked:
    write_image(img, path, extension)
    return Checked(path, extension, img.width, img.height)


def _pixels_only(img: Image.Image) -> Image.Image:
    """The pixels in sRGB as RGB, RGBA or L, with every metadata entry dropped."""
    mode = _clean_mode(img)
    converted = _to_srgb(img, mode) or (img if img.mode == mode else img.convert(mode))
    converted.info = {}
    return converted


def _to_srgb(img: Image.Image, mode: str) -> Image.Image | None:
    """Colour-manage an image that carries an ICC profile (e.g. Display P3 or CMYK), or None."""
    icc = img.info.get("icc_profile")
    if not icc or img.mode not in ("RGB", "RGBA", "CMYK"):
        return None
    try:
        return ImageCms.profileToProfile(img, ImageCms.ImageCmsProfile(io.BytesIO(icc)), SRGB, outputMode=mode)
    except (ImageCms.PyCMSError, OSError, ValueError):
        return None  # a broken profile: a plain conversion is the best we can do


def center_square(img: Image.Image) -> Image.Image:
    side = min(img.size)
    left, top = (img.width - side) // 2, (img.height - side) // 2
    return img.crop((left, top, left + side, top + side))


def write_image(img: Image.Image, path: Path, extension: str) -> None:
    if extension == ".png":
        img.save(path, "PNG")
    else:
        img.save(path, "JPEG", quality=JPEG_QUALITY, optimize=True)
