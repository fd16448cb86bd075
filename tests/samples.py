"""Small real files for upload tests: a PDF pypdf opens and an image Pillow decodes."""
import io

from PIL import Image
from pypdf import PdfWriter


def pdf_bytes() -> bytes:
    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def png_bytes(color=(200, 30, 30)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (40, 40), color).save(out, format="PNG")
    return out.getvalue()


def pdf_upload(name: str = "文件.pdf") -> tuple:
    """A (stream, filename) pair as the test client posts a file field."""
    return io.BytesIO(pdf_bytes()), name


def png_upload(name: str = "图片.png") -> tuple:
    return io.BytesIO(png_bytes()), name
