"""Importing the 科技型中小企业 registry (CSV or Excel) that voucher applications are matched against.

The reviewer uploads the year's list as an Excel workbook (.xlsx, first sheet) or as CSV exported from Excel
(UTF-8 with or without BOM, or GBK/GB18030). Both go through the same row checks; the file is imported whole or
not at all, so a half-imported list never decides anybody's identity.
"""
import csv
import io
import re
import unicodedata
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from xml.etree.ElementTree import ParseError

from flask import current_app, flash, redirect, render_template, request, send_file, url_for
from openpyxl import load_workbook
from openpyxl.utils.exceptions import InvalidFileException
from sqlalchemy import func, insert, or_, select

from .. import audit, refusal, spreadsheet
from ..extensions import db
from ..htmx import render_either
from ..models import KexiaoEntry
from ..pagination import paginate
from ..uploads.storage import format_size
from ..validators import credit_code_problem, make_credit_code, normalize_credit_code
from ..vouchers.kexiao import normalize_number
from ..vouchers.lifecycle import current_year
from . import bp
from .forms import FIRST_KEXIAO_YEAR, KexiaoImportForm

MAX_CSV_BYTES = 10 * 1024 * 1024
MAX_SHOWN_PROBLEMS = 20
# A zip expands: 10 MB of .xlsx can hold far more rows than 10 MB of CSV, so a sheet is bounded by rows too.
MAX_SHEET_ROWS = 200_000
# Exports often put a title line or two above the header.
HEADER_SEARCH_ROWS = 10
COLUMNS = {
    "number": ("入库编号", "入库登记编号", "登记编号"),
    "name": ("企业名称", "单位名称"),
    "credit_code": ("统一社会信用代码", "社会信用代码", "信用代码"),
}
COLUMN_LABELS = "、".join(f"“{names[0]}”" for names in COLUMNS.values())
NUMBER_MAX, NAME_MAX = 40, 200

NOT_TEXT = "文件不是CSV文本或Excel工作簿，请上传.xlsx文件，或在Excel中“另存为”CSV（逗号分隔）格式后上传"
OLD_WORKBOOK = "这是旧版Excel（.xls）文件，请在Excel中“另存为”Excel工作簿（.xlsx）或CSV格式后上传"
NOT_WORKBOOK = "文件无法作为Excel工作簿（.xlsx）读取，可能已损坏，请在Excel中重新保存后上传"
XLSX_SIGNATURE, XLS_SIGNATURE = b"PK\x03\x04", b"\xd0\xcf\x11\xe0"  # a zip; an OLE compound file
# What openpyxl raises for a damaged or foreign zip (it has no single error type of its own).
WORKBOOK_ERRORS = (zipfile.BadZipFile, InvalidFileException, KeyError, ValueError, TypeError, OSError, ParseError)
# Text has no control characters but tab and line breaks (in GBK and UTF-8 alike); binary files do.
CONTROL_BYTES = re.compile(rb"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


class ImportRefused(refusal.Refused):
    """The whole file is refused; `problems` are the Chinese sentences to show, each naming its line."""

    def __init__(self, *problems: str):
        super().__init__(*problems)
        self.problems = list(problems)


@dataclass(frozen=True)
class Row:
    line: int
    number: str
    name: str
    credit_code: str


# ---------------------------------------------------------------- routes

@bp.route("/kexiao", methods=["GET", "POST"])
def kexiao():
    form = KexiaoImportForm()
    if request.method == "GET":
        form.year.data = current_year()
        return render_either("admin/kexiao.html", "admin/partials/kexiao_rows.html", **_context(form))
    if not form.validate_on_submit():
        return render_template("admin/kexiao.html", **_context(form)), 422
    try:
        rows = read_registry(read_limited(form.file.data.stream, MAX_CSV_BYTES))
    except ImportRefused as refused:
        return render_template("admin/kexiao.html", **_context(form, refused.problems)), 422
    year = form.year.data
    added, updated = store(year, rows)
    audit.record("kexiao_registry", year, "import", reason=f"导入{added}条，更新{updated}条")
    db.session.commit()
    flash(f"已导入{year}年度科技型中小企业名单：文件共{len(rows)}家企业，新增{added}条，更新{updated}条。", "success")
    return redirect(url_for("admin.kexiao", year=year), 303)


@bp.get("/kexiao/sample.csv")
def kexiao_sample():
    """A file in the expected format, written like every export (spreadsheet.csv_bytes: BOM, text kept inert)."""
    year = current_year()
    rows = [[names[0] for names in COLUMNS.values()]]
    rows += [[f"{year}32010{n:07d}", name, make_credit_code(body)] for n, name, body in (
        (1, "南京示例科技有限公司", "91320102MA1ABCDE0"), (2, "徐州示例智能装备有限公司", "91320301MA2FGHJK1"))]
    return send_file(io.BytesIO(spreadsheet.csv_bytes(rows)), mimetype="text/csv", as_attachment=True,
                     download_name="科技型中小企业名单样例.csv")


def _context(form: KexiaoImportForm, problems: list[str] | None = None) -> dict:
    years = db.session.execute(select(KexiaoEntry.year, func.count()).group_by(KexiaoEntry.year)
                               .order_by(KexiaoEntry.year.desc())).all()
    shown_year = _requested_year() or (years[0][0] if years else current_year())
    query = request.args.get("q", "").strip()
    page = paginate(_entries(shown_year, query), current_app.config["PER_PAGE"])
    problems = problems or []
    return dict(form=form, years=years, shown_year=shown_year, query=query, page=page,
                problems=problems[:MAX_SHOWN_PROBLEMS], more_problems=max(len(problems) - MAX_SHOWN_PROBLEMS, 0),
                max_size=format_size(MAX_CSV_BYTES), column_labels=COLUMN_LABELS)


def _requested_year() -> int | None:
    year = request.args.get("year", type=int)
    return year if year is not None and FIRST_KEXIAO_YEAR <= year <= current_year() + 1 else None


def _entries(year: int, query: str):
    stmt = select(KexiaoEntry).where(KexiaoEntry.year == year)
    if query:
        as_stored = normalize_number(query)  # numbers and credit codes are stored upper-case ASCII
        stmt = stmt.where(or_(KexiaoEntry.name.contains(query, autoescape=True),
                              KexiaoEntry.number.contains(as_stored, autoescape=True),
                              KexiaoEntry.credit_code.contains(as_stored, autoescape=True)))
    return stmt.order_by(KexiaoEntry.number)


# ---------------------------------------------------------------- reading the file

def read_limited(stream, limit: int) -> bytes:
    """At most `limit` bytes; a longer file is refused without reading the rest."""
    data = stream.read(limit + 1)
    if len(data) > limit:
        raise ImportRefused(f"文件超过{format_size(limit)}，请分成几个文件导入")
    if not data.strip():
        raise ImportRefused("文件为空")
    return data


def read_registry(data: bytes) -> list[Row]:
    """The rows of an uploaded registry, whichever of the accepted formats it is in."""
    if data.startswith(XLSX_SIGNATURE):
        return check_rows(workbook_lines(data))
    if data.startswith(XLS_SIGNATURE):
        raise ImportRefused(OLD_WORKBOOK)
    return parse(decode(data))


def decode(data: bytes) -> str:
    if data.startswith(b"%PDF-") or CONTROL_BYTES.search(data):
        raise ImportRefused(NOT_TEXT)
    # Strict UTF-8 rarely decodes GBK text by accident; GB18030 is a superset of GBK.
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise ImportRefused(NOT_TEXT)


def parse(text: str) -> list[Row]:
    """The rows of a CSV text, checked as check_rows() does."""
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        return check_rows((reader.line_num, cells) for cells in reader)
    except csv.Error as error:
        raise ImportRefused(f"第{reader.line_num}行：CSV格式错误（多为引号不配对），"
                            "请在Excel中重新另存为CSV") from error


def workbook_lines(data: bytes) -> Iterator[tuple[int, list[str]]]:
    """(row number, cell texts) of an .xlsx file's first sheet, read as a stream (read_only)."""
    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        try:
            for number, values in enumerate(workbook.worksheets[0].iter_rows(values_only=True), start=1):
                if number > MAX_SHEET_ROWS:
                    raise ImportRefused(f"工作表超过{MAX_SHEET_ROWS:,}行，请分成几个文件导入")
                yield number, [_cell_text(value) for value in values]
        finally:
            workbook.close()
    except WORKBOOK_ERRORS as error:
        raise ImportRefused(NOT_WORKBOOK) from error


def _cell_text(value) -> str:
    """A cell as the text a CSV export would hold: numbers without a trailing .0, dates as YYYY-MM-DD."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, (date, datetime)):
        return value.strftime("%Y-%m-%d")
    return str(value)


def check_rows(lines: Iterable[tuple[int, list[str]]]) -> list[Row]:
    """Every data row under the header, checked; ImportRefused listing every problem, each with its line
    (row) number, if any row is bad. `lines` are (line number, cells), from a CSV file or a worksheet."""
    lines = iter(lines)
    columns = _find_header(lines)
    rows, problems = _read_rows(lines, columns)
    if problems:
        raise ImportRefused(*problems)
    if not rows:
        raise ImportRefused("文件中没有企业数据：表头下方应每行一家企业")
    return rows


def _find_header(lines: Iterator[tuple[int, list[str]]]) -> dict[str, int]:
    for number, cells in lines:
        names = [_header_name(cell) for cell in cells]
        columns = {key: _index(names, aliases) for key, aliases in COLUMNS.items()}
        if all(index is not None for index in columns.values()):
            return columns
        if number >= HEADER_SEARCH_ROWS:
            break
    raise ImportRefused(f"找不到表头：文件开头应有一行列名，包含{COLUMN_LABELS}三列（可下载样例文件对照）")


def _header_name(cell: str) -> str:
    # Spaces, a stray BOM and the "*" templates put on required columns are not part of the name.
    return re.sub(r"[\s\ufeff*]", "", unicodedata.normalize("NFKC", cell))


def _index(names: list[str], aliases: tuple[str, ...]):
    return next((names.index(alias) for alias in aliases if alias in names), None)


def _read_rows(lines: Iterator[tuple[int, list[str]]], columns: dict[str, int]) -> tuple[list[Row], list[str]]:
    rows, problems = [], []
    first_line = {"number": {}, "credit_code": {}}  # value -> the line it first appeared on
    for number, cells in lines:
        if not any(cell.strip() for cell in cells):
            continue
        value = {key: cells[index] if index < len(cells) else "" for key, index in columns.items()}
        row = Row(number, normalize_number(value["number"]), value["name"].strip(),
                  normalize_credit_code(value["credit_code"]))
        row_problems = _row_problems(row, first_line)
        problems += [f"第{row.line}行：{message}" for message in row_problems]
        if not row_problems:
            rows.append(row)
        for key in first_line:
            first_line[key].setdefault(getattr(row, key), row.line)
    return rows, problems


def _row_problems(row: Row, first_line: dict[str, dict[str, int]]) -> list[str]:
    problems = []
    if not row.number:
        problems.append("入库编号为空")
    elif len(row.number) > NUMBER_MAX:
        problems.append(f"入库编号超过{NUMBER_MAX}个字符")
    elif row.number in first_line["number"]:
        problems.append(f"入库编号{row.number}与第{first_line['number'][row.number]}行重复")
    if not row.name:
        problems.append("企业名称为空")
    elif len(row.name) > NAME_MAX:
        problems.append(f"企业名称超过{NAME_MAX}字")
    code_problem = credit_code_problem(row.credit_code)
    if code_problem:
        problems.append(f"{code_problem}。填写的是“{row.credit_code}”" if row.credit_code else code_problem)
    elif row.credit_code in first_line["credit_code"]:
        problems.append(f"统一社会信用代码{row.credit_code}与第{first_line['credit_code'][row.credit_code]}行重复")
    return problems


# ---------------------------------------------------------------- storing

def store(year: int, rows: list[Row]) -> tuple[int, int]:
    """Upsert by (year, 入库编号): new numbers are added, known ones take the file's name and credit code.
    Returns (added, updated); rows already identical count as neither."""
    existing = {entry.number: entry for entry in
                db.session.scalars(select(KexiaoEntry).where(KexiaoEntry.year == year))}
    new, updated = [], 0
    for row in rows:
        entry = existing.get(row.number)
        if entry is None:
            new.append(dict(year=year, number=row.number, name=row.name, credit_code=row.credit_code))
        elif (entry.name, entry.credit_code) != (row.name, row.credit_code):
            entry.name, entry.credit_code = row.name, row.credit_code
            updated += 1
    if new:
        db.session.execute(insert(KexiaoEntry), new)
    return len(new), updated
