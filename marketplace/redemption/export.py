"""A payment batch (拨付批次) as rows and as an Excel workbook for the bank and the cities (SPEC 7.4, 1.3).

The batch page and the workbook both read `payment_rows()`, so what the reviewer sees is what is exported."""
from dataclasses import dataclass
from decimal import Decimal
from io import BytesIO
from urllib.parse import quote

from openpyxl import Workbook
from openpyxl.styles import Font
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from .. import policy, spreadsheet
from ..extensions import db
from ..models import Order, PaymentBatch, Redemption, Voucher
from ..vouchers.local import voucher_city

XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
MONEY_FORMAT = "#,##0.00"
COLUMNS = ("序号", "企业名称", "统一社会信用代码", "服务单位", "开户名称", "开户银行", "银行账号", "所在市",
           "省创新券（元）", "地方配套（元）")


@dataclass(frozen=True)
class PaymentRow:
    claim_id: int
    enterprise: str
    credit_code: str
    provider: str
    account_name: str
    bank_name: str
    account_number: str
    city: str
    approved_fen: int
    local_match_fen: int


@dataclass(frozen=True)
class CityTotal:
    city: str
    provincial_fen: int
    local_fen: int


def payment_rows(batch: PaymentBatch) -> list[PaymentRow]:
    """The batch's claims, with the bank account the enterprise gave in its voucher application."""
    claims = db.session.scalars(
        select(Redemption).where(Redemption.payment_batch_id == batch.id)
        .options(joinedload(Redemption.enterprise), joinedload(Redemption.order).joinedload(Order.provider),
                 joinedload(Redemption.voucher).joinedload(Voucher.application))
        .order_by(Redemption.id)).all()
    return [_row(claim) for claim in claims]


def _row(claim: Redemption) -> PaymentRow:
    application = claim.voucher.application
    provider = claim.order.provider.name if claim.order else claim.provider_name
    return PaymentRow(claim.id, claim.enterprise.name, claim.enterprise.credit_code, provider,
                      application.bank_account_name, application.bank_name, application.bank_account_number,
                      city_of(voucher_city(application)), claim.approved_fen, claim.local_match_fen)


def city_of(city: str) -> str:
    """The short name the city settings use (南京) for a voucher's city (local.voucher_city), or the text as stored
    if it is not a Jiangsu city."""
    try:
        return policy.normalize_city(city)
    except ValueError:
        return city


def city_totals(rows: list[PaymentRow]) -> list[CityTotal]:
    """省创新券 and 地方配套 per city: what each city owes for this batch."""
    totals: dict[str, list[int]] = {}
    for row in rows:
        sums = totals.setdefault(row.city, [0, 0])
        sums[0] += row.approved_fen
        sums[1] += row.local_match_fen
    return [CityTotal(city, provincial, local) for city, (provincial, local) in sorted(totals.items())]


def workbook_bytes(batch: PaymentBatch, rows: list[PaymentRow]) -> bytes:
    """Sheet 拨付明细 (batch facts, then one row per claim and a 合计 row) and sheet 地方配套汇总 (per city)."""
    book = Workbook()
    sheet = book.active
    sheet.title = "拨付明细"
    spreadsheet.append(sheet, [f"省创新券兑付拨付批次 #{batch.id}"])
    spreadsheet.append(sheet, ["拨付日期", batch.paid_on.isoformat(), "拨付凭证号", batch.reference])
    spreadsheet.append(sheet, [])
    spreadsheet.append(sheet, list(COLUMNS))
    for number, row in enumerate(rows, start=1):
        spreadsheet.append(sheet, [number, row.enterprise, row.credit_code, row.provider, row.account_name,
                                   row.bank_name, row.account_number, row.city, _yuan(row.approved_fen),
                                   _yuan(row.local_match_fen)])
    spreadsheet.append(sheet, ["合计", *[""] * 7, _yuan(sum(r.approved_fen for r in rows)),
                               _yuan(sum(r.local_match_fen for r in rows))])
    _style(sheet, header_row=4, money_columns=("I", "J"), widths=(6, 30, 22, 30, 30, 24, 24, 8, 16, 16))

    cities = book.create_sheet("地方配套汇总")
    spreadsheet.append(cities, ["城市", "省创新券（元）", "地方配套（元）"])
    for total in city_totals(rows):
        spreadsheet.append(cities, [total.city, _yuan(total.provincial_fen), _yuan(total.local_fen)])
    _style(cities, header_row=1, money_columns=("B", "C"), widths=(10, 16, 16))

    out = BytesIO()
    book.save(out)
    return out.getvalue()


def content_disposition(batch: PaymentBatch) -> str:
    """An ASCII name for old clients and the Chinese one (RFC 6266 filename*) for the rest."""
    chinese = f"省创新券拨付批次{batch.id}-{batch.paid_on:%Y%m%d}.xlsx"
    return f"attachment; filename=\"payment-batch-{batch.id}.xlsx\"; filename*=UTF-8''{quote(chinese)}"


def _yuan(fen: int) -> Decimal:
    """Exact yuan for the cell (Decimal, never a float sum of fen)."""
    return Decimal(fen) / policy.FEN_PER_YUAN


def _style(sheet, header_row: int, money_columns: tuple[str, ...], widths: tuple[int, ...]) -> None:
    for cell in sheet[header_row]:
        cell.font = Font(bold=True)
    for column in money_columns:
        for cell in sheet[column][header_row:]:
            cell.number_format = MONEY_FORMAT
    for index, width in enumerate(widths):
        sheet.column_dimensions[chr(ord("A") + index)].width = width
