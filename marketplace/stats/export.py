"""One statistics report as an Excel workbook: a title line, the header row, the same rows as the table on the
page and its 合计 row; amounts are exact decimal yuan (the house style of redemption/export.py)."""
from decimal import Decimal
from io import BytesIO
from urllib.parse import quote

from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from .. import policy, spreadsheet
from ..redemption.export import MONEY_FORMAT, XLSX_MIMETYPE
from .reports import Cell, Money, Report

__all__ = ["XLSX_MIMETYPE", "HEADER_ROW", "workbook_bytes", "content_disposition"]

HEADER_ROW = 3
SHEET_TITLE_MAX = 31  # Excel's limit on a sheet name


def workbook_bytes(report: Report, year: int) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.title = report.title[:SHEET_TITLE_MAX]
    spreadsheet.append(sheet, [f"{year}年度 {report.title}"])
    spreadsheet.append(sheet, [report.note])
    spreadsheet.append(sheet, list(report.columns))
    for row in report.rows + ([report.total] if report.total else []):
        spreadsheet.append(sheet, [_value(cell) for cell in row])
        for cell, value in zip(sheet[sheet.max_row], row, strict=False):
            if isinstance(value, Money):
                cell.number_format = MONEY_FORMAT
    sheet["A1"].font = Font(bold=True, size=13)
    for cell in sheet[HEADER_ROW]:
        cell.font = Font(bold=True)
    for index, column in enumerate(report.columns, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = max(10, len(column) * 2 + 2)
    out = BytesIO()
    book.save(out)
    return out.getvalue()


def content_disposition(report: Report, year: int) -> str:
    """An ASCII name for old clients and the Chinese one (RFC 6266 filename*) for the rest."""
    chinese = f"{year}年度{report.title}.xlsx"
    return f"attachment; filename=\"stats-{report.key}-{year}.xlsx\"; filename*=UTF-8''{quote(chinese)}"


def _value(cell: Cell):
    """Money as exact decimal yuan; a missing value (no rating yet) as an empty cell."""
    if isinstance(cell, Money):
        return Decimal(cell.fen) / policy.FEN_PER_YUAN
    return cell
