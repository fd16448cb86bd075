"""What an upload really is, decided from its bytes, never from its name or the browser's mimetype:
a PDF must start with its header, open with pypdf and have a page, and is stored without whatever follows its
last %%EOF; an image is decoded by Pillow and re-encoded, so only pixels survive (no EXIF, no trailing bytes, no
polyglot payload). PDFs are not rewritten: that would break the signatures of electronic invoices."""
import io
import mmap
import os
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageCms, ImageOps
from pypdf import PdfReader

PDF = "pdf"
IMAGE = "image"

IMAGE_FORMATS = ("JPEG", "PNG", "WEBP")
MAX_PIXELS = 50_000_000  # a 50-megapixel phone photo passes; larger ones are refused before decoding
MAX_SIDE = 4096  # stored images are scaled down to this on their long side
JPEG_QUALITY = 88

PDF_INVALID = "文件内容不是有效的PDF"
PDF_HEADER = b"%PDF-"
PDF_END = b"%%EOF"
PDF_ENCRYPTED = "PDF文件已加密，请上传未加密的文件"
PDF_EMPTY = "PDF文件没有页面"
IMAGE_INVALID = "图片无法识别，请上传JPG或PNG图片"
IMAGE_TOO_LARGE = f"图片像素过大（超过{MAX_PIXELS // 10_000}万像素），请缩小后再上传"
UNKNOWN = "文件格式无法识别，请上传PDF文件或JPG、PNG图片"

CONTENT_TYPES = {".pdf": "application/pdf", ".jpg": "image/jpeg", ".png": "image/png"}
SRGB = ImageCms.createProfile("sRGB")


class UploadError(Exception):
    """An upload refused; `.message` is the Chinese sentence to show next to the field."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


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


def kind_of(content_type: str) -> str:
    return PDF if content_type == "application/pdf" else IMAGE


def check(raw: Path, out: Path, accept: frozenset, square: bool) -> Checked:
    """Decide what `raw` (the upload's temporary file) is; a PDF is kept there up to its last %%EOF, an image is
    re-encoded into `out`."""
    with raw.open("rb") as f:
        looks_like_pdf = PDF_HEADER in f.read(1024)  # recognised a little late, refused by check_pdf
    if looks_like_pdf and PDF in accept:
        return check_pdf(raw)
    if IMAGE in accept:
        try:
            return reencode_image(raw, out, square)
        except UploadError as error:
            if PDF in accept and error.message == IMAGE_INVALID:
                raise UploadError(UNKNOWN) from error
            raise
    raise UploadError(PDF_INVALID if accept == {PDF} else UNKNOWN)


def check_pdf(path: Path) -> Checked:
    """A PDF must begin with its header (the spec tolerates junk before it; that is where a ZIP or script hides
    in a polyglot, and no real invoice or report has any). Bytes after the last %%EOF belong to no PDF reader:
    they are cut off the received file `path` (the upload's own temporary copy), which closes PDF-then-ZIP
    polyglots."""
    with path.open("rb") as f:
        if f.read(len(PDF_HEADER)) != PDF_HEADER:
            raise UploadError(PDF_INVALID)
    try:
        with path.open("rb") as f:  # a file object: given a path, pypdf would read the whole file into memory
            reader = PdfReader(f)
            if reader.is_encrypted:
                raise UploadError(PDF_ENCRYPTED)
            pages = len(reader.pages)
    except UploadError:
        raise
    except Exception as error:  # pypdf fails on hostile input in many ways; each one means "not a usable PDF"
        raise UploadError(PDF_INVALID) from error
    if pages < 1:
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


def reencode_image(raw: Path, out: Path, square: bool) -> Checked:
    """Decode, orient by EXIF, convert to sRGB, optionally centre-crop to a square, scale down to
    MAX_SIDE and write a fresh PNG (alpha or palette images) or JPEG without any metadata."""
    try:
        with Image.open(raw, formats=IMAGE_FORMATS) as img:
            if img.width * img.height > MAX_PIXELS:
                raise UploadError(IMAGE_TOO_LARGE)
            as_png = img.mode in ("RGBA", "LA", "PA", "P") or "transparency" in img.info
            ImageOps.exif_transpose(img, in_place=True)  # in place: a large photo is held once, not twice
            clean = _pixels_only(img)
    except UploadError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
        raise UploadError(IMAGE_TOO_LARGE) from error
    except Exception as error:  # decoders of untrusted bytes fail in many ways; each one means "not an image"
        raise UploadError(IMAGE_INVALID) from error
    if square:
        clean = center_square(clean)
    clean.thumbnail((MAX_SIDE, MAX_SIDE), Image.Resampling.LANCZOS)
    extension = ".png" if as_png else ".jpg"
    write_image(clean, out, extension)
    return Checked(out, extension, clean.width, clean.height)


def _pixels_only(img: Image.Image) -> Image.Image:
    """The pixels in sRGB as RGB, RGBA or L, with every metadata entry dropped."""
    alpha = img.mode in ("RGBA", "LA", "PA") or "transparency" in img.info
    mode = "RGBA" if alpha else "L" if img.mode in ("1", "L") else "RGB"
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
