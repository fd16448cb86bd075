"""The printable 江苏省科技创新券企业申请信息表 (下载信息表): the filled application as an A4 PDF that the
enterprise prints, stamps with its official seal and uploads again.

Chinese needs a CJK font. A TrueType font is embedded (subset) when one is found, so the sheet prints
the same everywhere; otherwise the sheet references reportlab's built-in 'STSong-Light', which needs
no file but leaves the glyphs to the reader's own substitute font. Both extract with pypdf.
"""
import functools
import io
import logging
from pathlib import Path
from xml.sax.saxutils import escape

from flask import current_app
from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER, TA_JUSTIFY
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfbase.ttfonts import TTFError, TTFont
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import KeepTogether, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from ..models import VoucherApplication
from . import display
from .display import Row

log = logging.getLogger(__name__)

TITLE = "江苏省科技创新券企业申请信息表"
DECLARATION = "本单位承诺：所填信息及提交材料真实、准确、完整，如有虚假，愿承担相应责任。"
# TrueType CJK fonts of common Debian packages (wqy-microhei, wqy-zenhei, droid fallback, arphic).
# Noto CJK is left out: its outlines are CFF, which reportlab cannot embed.
SYSTEM_FONTS = ("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
                "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
                "/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf",
                "/usr/share/fonts/truetype/arphic/uming.ttc")
BUILT_IN_FONT = "STSong-Light"
# The sheet itself is that file: listing it on the sheet would be circular.
NOT_LISTED = {"stamped_sheet"}

MARGIN = 15 * mm
WIDTH = A4[0] - 2 * MARGIN
# label | value | label | value, as on the paper form; a value too long for its half spans the line.
LABEL_WIDTH = 36 * mm
COLUMNS = (LABEL_WIDTH, WIDTH / 2 - LABEL_WIDTH, LABEL_WIDTH, WIDTH / 2 - LABEL_WIDTH)
CELL_PADDING = 4
SEAL_ROOM = 32 * mm  # an official seal is 40–42 mm across and is stamped over the 单位（公章） line
BODY_SIZE = 10
NUMERALS = "一二三四五六七八九十"
RULE = colors.black
SHADE = colors.HexColor("#EEEEEE")


def _register_ttf(path: str) -> str | None:
    try:
        font = TTFont(f"CJK-{Path(path).stem}", path)
    except (OSError, TTFError) as error:
        log.warning("CJK font %s unusable: %s", path, error)
        return None
    pdfmetrics.registerFont(font)
    return font.fontName


@functools.cache
def cjk_font(configured: str = "") -> str:
    """The registered font name for the sheet, registered once per process: the configured file if
    given, else the first common system font; failing those, the built-in CID font."""
    candidates = (configured,) if configured else SYSTEM_FONTS
    for path in candidates:
        if Path(path).is_file() and (name := _register_ttf(path)):
            return name
    if configured:
        log.warning("PDF_CJK_FONT %s not usable; the sheet falls back to %s", configured, BUILT_IN_FONT)
    pdfmetrics.registerFont(UnicodeCIDFont(BUILT_IN_FONT))
    return BUILT_IN_FONT


@functools.cache
def _styles(font: str) -> dict[str, ParagraphStyle]:
    body = ParagraphStyle("body", fontName=font, fontSize=BODY_SIZE, leading=BODY_SIZE * 1.45, wordWrap="CJK")
    return {
        "title": ParagraphStyle("title", parent=body, fontSize=18, leading=26, alignment=TA_CENTER,
                                spaceAfter=2 * mm),
        "body": body,
        "label": ParagraphStyle("label", parent=body, alignment=TA_CENTER),
        "section": ParagraphStyle("section", parent=body, fontSize=BODY_SIZE + 1, leading=(BODY_SIZE + 1) * 1.45),
        "declaration": ParagraphStyle("declaration", parent=body, fontSize=BODY_SIZE + 0.5, leading=BODY_SIZE * 1.8,
                                      alignment=TA_JUSTIFY),
    }


def _fits_half(text: str, font: str) -> bool:
    return pdfmetrics.stringWidth(text, font, BODY_SIZE) <= COLUMNS[1] - 2 * CELL_PADDING


def _lines(rows: list[Row], font: str) -> list[list[Row]]:
    """Two short rows to a table line, in form order; a long value gets a line to itself."""
    lines: list[list[Row]] = []
    pending: Row | None = None
    for row in rows:
        if not _fits_half(row.value, font):
            if pending:
                lines.append([pending])
                pending = None
            lines.append([row])
        elif pending:
            lines.append([pending, row])
            pending = None
        else:
            pending = row
    if pending:
        lines.append([pending])
    return lines


def _attachment_rows(application: VoucherApplication) -> list[Row]:
    listed = [a for a in display.attachments(application) if a.name not in NOT_LISTED]
    return [Row(a.name, a.label, a.file.original_name) for a in listed] or [Row("", "附件", "—")]


def _table(application: VoucherApplication, font: str) -> Table:
    styles = _styles(font)

    def cell(text: str, style: str = "body") -> Paragraph:
        return Paragraph(escape(text), styles[style])

    sections = [*display.sections(application), display.Section("附件清单", _attachment_rows(application))]
    data, commands = [], [("FONTNAME", (0, 0), (-1, -1), font), ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
                          ("GRID", (0, 0), (-1, -1), 0.6, RULE), ("BOX", (0, 0), (-1, -1), 1.2, RULE),
                          ("LEFTPADDING", (0, 0), (-1, -1), CELL_PADDING),
                          ("RIGHTPADDING", (0, 0), (-1, -1), CELL_PADDING),
                          ("TOPPADDING", (0, 0), (-1, -1), 3), ("BOTTOMPADDING", (0, 0), (-1, -1), 3)]
    for number, section in enumerate(sections):
        header = len(data)
        data.append([cell(f"{NUMERALS[number]}、{section.title}", "section"), "", "", ""])
        commands += [("SPAN", (0, header), (-1, header)), ("BACKGROUND", (0, header), (-1, header), SHADE),
                     ("NOSPLIT", (0, header), (-1, header + 1))]  # no section title alone at a page's foot
        for line in _lines(section.rows, font):
            cells = [item for row in line for item in (cell(row.label, "label"), cell(row.value))]
            if len(line) == 1:
                cells += ["", ""]
                commands.append(("SPAN", (1, len(data)), (-1, len(data))))
            data.append(cells)
    return Table(data, colWidths=COLUMNS, style=TableStyle(commands))


def _seal_block(font: str) -> Table:
    """The declaration and, under it, room for the seal and the signatures, boxed below the table."""
    styles = _styles(font)
    para = functools.partial(Paragraph, style=styles["body"])
    data = [[Paragraph(DECLARATION, styles["declaration"]), ""],
            ["", para("单位（公章）：")],
            ["", ""],
            [para("法定代表人（签字）："), para("日期：____年____月____日")]]
    style = TableStyle([("SPAN", (0, 0), (-1, 0)), ("FONTNAME", (0, 0), (-1, -1), font),
                        ("BOX", (0, 0), (-1, -1), 1.2, RULE), ("VALIGN", (0, 0), (-1, -1), "TOP"),
                        ("LEFTPADDING", (0, 0), (-1, -1), 3 * mm), ("RIGHTPADDING", (0, 0), (-1, -1), 3 * mm),
                        ("TOPPADDING", (0, 0), (-1, 0), 3 * mm), ("TOPPADDING", (0, 1), (-1, 1), 4 * mm),
                        ("BOTTOMPADDING", (0, -1), (-1, -1), 5 * mm)])
    return Table(data, colWidths=(WIDTH / 2, WIDTH / 2), rowHeights=[None, None, SEAL_ROOM, None], style=style)


def _numbered_canvas(font: str) -> type[Canvas]:
    """A canvas that writes 第 n 页 共 N 页 in the footer once the page count is known, when N > 1."""

    class NumberedCanvas(Canvas):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self._page_states: list[dict] = []

        def showPage(self):
            self._page_states.append(dict(self.__dict__))
            self._startPage()

        def save(self):
            for number, page in enumerate(self._page_states, start=1):
                self.__dict__.update(page)
                if len(self._page_states) > 1:
                    self.setFont(font, 9)
                    self.drawCentredString(A4[0] / 2, MARGIN / 2, f"第 {number} 页  共 {len(self._page_states)} 页")
                super().showPage()
            super().save()

    return NumberedCanvas


def render_sheet(application: VoucherApplication) -> bytes:
    """The application as the printable A4 信息表, with the declaration and room for the seal."""
    font = cjk_font(current_app.config.get("PDF_CJK_FONT") or "")
    styles = _styles(font)
    out = io.BytesIO()
    doc = SimpleDocTemplate(out, pagesize=A4, leftMargin=MARGIN, rightMargin=MARGIN, topMargin=MARGIN,
                            bottomMargin=MARGIN, initialFontName=font, title=TITLE, subject=application.unit_name,
                            creator="江苏省科技创新券服务平台")
    doc.build([Paragraph(TITLE, styles["title"]),
               Paragraph(f"申请年度：{application.year}", styles["body"]),
               Spacer(0, 2 * mm),
               _table(application, font),
               KeepTogether([_seal_block(font)])],
              canvasmaker=_numbered_canvas(font))
    return out.getvalue()
