"""统计分析: the statistics page with its six charts, and each chart's table as an Excel workbook."""
from flask import Response, request
from sqlalchemy import select

from ..extensions import db
from ..htmx import render_either
from ..models import Voucher
from ..stats import export
from ..stats.reports import REPORTS, cell_text
from ..vouchers.lifecycle import current_year
from . import bp

EARLIEST_YEAR = 2000


@bp.get("/stats")
def stats():
    year = _year()
    reports = [build(year) for build in REPORTS.values()]
    return render_either("admin/stats.html", "admin/partials/stats_charts.html", year=year, years=_years(year),
                         reports=reports, cell_text=cell_text)


@bp.get(f"/stats/<any({', '.join(REPORTS)}):chart>.xlsx")
def stats_xlsx(chart: str):
    year = _year()
    report = REPORTS[chart](year)
    return Response(export.workbook_bytes(report, year), mimetype=export.XLSX_MIMETYPE,
                    headers={"Content-Disposition": export.content_disposition(report, year)})


def _year() -> int:
    """The year asked for; anything that is not a plausible year shows this year (China time)."""
    year = request.args.get("year", type=int)
    return year if year is not None and EARLIEST_YEAR <= year <= current_year() + 1 else current_year()


def _years(shown: int) -> list[int]:
    """Years with vouchers, this year and the one shown, newest first, for the filter."""
    stored = db.session.scalars(select(Voucher.year).distinct())
    return sorted({*stored, current_year(), shown}, reverse=True)
