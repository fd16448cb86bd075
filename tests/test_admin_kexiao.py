"""The reviewer's 科技型中小企业 registry import (/admin/kexiao) and matching applications against it."""
import io
import zipfile

import pytest
from sqlalchemy import func, select
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from marketplace.admin.kexiao import MAX_CSV_BYTES
from marketplace.extensions import db
from marketplace.models import AuditLog, KexiaoEntry
from marketplace.validators import make_credit_code
from marketplace.vouchers.kexiao import kexiao_match, registry_entry
from marketplace.vouchers.lifecycle import current_year

from .conftest import NOT_REVIEWERS, sign_in_as
from .samples import pdf_bytes, png_bytes

HEADER = "入库编号,企业名称,统一社会信用代码"


def code(n: int) -> str:
    return make_credit_code(f"91320100MA{n:07d}")


def csv_text(*rows: tuple[str, str, str], header: str = HEADER) -> str:
    return "\r\n".join([header, *(",".join(row) for row in rows)]) + "\r\n"


def upload(client, data: bytes, year=2025, name="科小名单.csv"):
    # Encoded here in memory: the test client spools big bodies to a temporary file it never closes.
    boundary, body = encode_multipart({"year": str(year), "file": FileStorage(io.BytesIO(data), filename=name)})
    return client.post("/admin/kexiao", data=body, content_type=f"multipart/form-data; boundary={boundary}")


def entries(year=2025) -> dict[str, tuple[str, str]]:
    # A new transaction: in the one a previous read opened, SQLite (WAL) would still show its snapshot.
    db.session.rollback()
    rows = db.session.scalars(select(KexiaoEntry).where(KexiaoEntry.year == year))
    return {row.number: (row.name, row.credit_code) for row in rows}


def stored_count() -> int:
    db.session.rollback()
    return db.session.scalar(select(func.count()).select_from(KexiaoEntry))


@pytest.fixture
def signed_in(client, auth, reviewer):
    auth.login(reviewer)
    return reviewer


# ---------------------------------------------------------------- good files

def test_utf8_file_with_bom_and_spaced_header_is_imported(client, signed_in):
    text = csv_text(("2025320100000001", "南京甲科技有限公司", code(1)),
                    ("2025320100000002", '"南京乙（集团）有限公司,研发中心"', code(2)),
                    header=" 入库编号 ,企业 名称,统一社会信用代码 ")
    response = upload(client, ("\ufeff" + text).encode("utf-8"))
    assert response.status_code == 303
    assert response.headers["Location"] == "/admin/kexiao?year=2025"
    assert entries() == {"2025320100000001": ("南京甲科技有限公司", code(1)),
                         "2025320100000002": ("南京乙（集团）有限公司,研发中心", code(2))}
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "已导入2025年度科技型中小企业名单" in page and "南京甲科技有限公司" in page


def test_gbk_file_from_chinese_excel_is_imported(client, signed_in):
    text = csv_text(("2025320300000007", "徐州丙智能装备有限公司", code(7)))
    assert upload(client, text.encode("gbk")).status_code == 303
    assert entries() == {"2025320300000007": ("徐州丙智能装备有限公司", code(7))}


def test_utf8_without_bom_with_a_title_line_extra_columns_and_blank_lines(client, signed_in):
    text = ("2025年江苏省科技型中小企业入库名单,,,\n"
            "序号,入库登记编号,企业名称,统一社会信用代码,所在地区\n"
            f"1,２０２５ab0001,无锡丁科技有限公司,{code(3).lower()},无锡\n"
            ",,,,\n\n")
    assert upload(client, text.encode("utf-8")).status_code == 303
    # Full-width digits and lower case are stored as they are matched: ASCII, upper case.
    assert entries() == {"2025AB0001": ("无锡丁科技有限公司", code(3))}


def test_import_is_audited_once_with_the_counts(client, signed_in):
    upload(client, csv_text(("N1", "甲公司", code(1)), ("N2", "乙公司", code(2))).encode())
    entry = db.session.scalar(select(AuditLog).where(AuditLog.object_type == "kexiao_registry"))
    assert (entry.object_id, entry.action, entry.reason, entry.actor_id) == ("2025", "import", "导入2条，更新0条",
                                                                               signed_in.id)


def test_reimport_updates_names_and_codes_without_duplicates(client, signed_in):
    upload(client, csv_text(("N1", "甲公司", code(1)), ("N2", "乙公司", code(2))).encode())
    response = upload(client, csv_text(("N1", "甲公司", code(1)), ("N2", "乙有限公司", code(5)),
                                       ("N3", "丙公司", code(3))).encode())
    assert response.status_code == 303
    assert entries() == {"N1": ("甲公司", code(1)), "N2": ("乙有限公司", code(5)), "N3": ("丙公司", code(3))}
    reasons = db.session.scalars(select(AuditLog.reason).where(AuditLog.object_type == "kexiao_registry")
                                 .order_by(AuditLog.id)).all()
    assert reasons == ["导入2条，更新0条", "导入1条，更新1条"]


def test_the_same_number_in_another_year_is_another_entry(client, signed_in):
    upload(client, csv_text(("N1", "甲公司", code(1))).encode(), year=2024)
    upload(client, csv_text(("N1", "甲公司", code(1))).encode(), year=2025)
    assert entries(2024) == entries(2025) == {"N1": ("甲公司", code(1))}


def test_sample_file_shows_the_format_and_imports_cleanly(client, signed_in):
    response = client.get("/admin/kexiao/sample.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    assert response.data.startswith("\ufeff入库编号,企业名称,统一社会信用代码".encode())
    assert upload(client, response.data, year=current_year()).status_code == 303
    assert len(entries(current_year())) == 2


# ---------------------------------------------------------------- refused files

def test_bad_rows_refuse_the_whole_file_naming_each_line(client, signed_in):
    text = csv_text(("N1", "甲公司", code(1)),
                    ("", "乙公司", code(2)),
                    ("N3", "", code(3)),
                    ("N4", "丁公司", code(4)[:-1] + ("0" if code(4)[-1] != "0" else "1")),
                    ("N1", "戊公司", code(1)))
    response = upload(client, text.encode())
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "文件未导入" in page
    for message in ("第3行：入库编号为空", "第4行：企业名称为空", "第5行：统一社会信用代码校验位不正确",
                    "第6行：入库编号N1与第2行重复", "第6行：统一社会信用代码" + code(1) + "与第2行重复"):
        assert message in page
    assert 'value="2025"' in page  # the year is kept
    assert stored_count() == 0
    assert db.session.scalar(select(func.count()).select_from(AuditLog)
                             .where(AuditLog.object_type == "kexiao_registry")) == 0


def test_only_the_first_twenty_problems_are_listed(client, signed_in):
    text = csv_text(*((f"N{n}", f"公司{n}", "BAD") for n in range(25)))
    page = upload(client, text.encode()).get_data(as_text=True)
    assert "第21行" in page and "第22行" not in page
    assert "发现 25 处问题" in page and "另有 5 处问题未列出" in page


@pytest.mark.parametrize("data, message", [
    (png_bytes(), "文件不是CSV文本"),
    (pdf_bytes(), "文件不是CSV文本"),
    (bytes(range(128, 256)) * 40, "文件不是CSV文本"),
    (b"", "文件为空"),
    ("企业,名单\n甲,乙\n".encode(), "找不到表头"),
    ("入库编号,企业名称\nN1,甲公司\n".encode(), "找不到表头"),
    (HEADER.encode() + b"\r\n", "文件中没有企业数据"),
    (f'入库编号,企业名称,统一社会信用代码\nN1,"甲"公司,{code(1)}\n'.encode(), "第2行：CSV格式错误"),
    (f'入库编号,企业名称,统一社会信用代码\nN1,甲公司,{code(1)}\nN2,"乙公司,{code(2)}\n'.encode(), "第3行：CSV格式错误"),
])
def test_files_that_are_not_a_registry_csv_are_refused_in_chinese(client, signed_in, data, message):
    response = upload(client, data)
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert stored_count() == 0


def test_a_damaged_excel_workbook_is_refused_with_a_clear_message(client, signed_in):
    workbook = io.BytesIO()
    with zipfile.ZipFile(workbook, "w") as archive:
        archive.writestr("xl/workbook.xml", "<workbook/>")
    response = upload(client, workbook.getvalue(), name="名单.xlsx")
    assert response.status_code == 422
    assert "文件无法作为Excel工作簿（.xlsx）读取" in response.get_data(as_text=True)
    assert stored_count() == 0


def test_an_oversize_file_is_refused(client, signed_in):
    rows = csv_text(("N1", "甲公司", code(1))).encode()
    response = upload(client, rows + b" " * (MAX_CSV_BYTES + 1 - len(rows)))
    assert response.status_code == 422
    assert "文件超过10MB" in response.get_data(as_text=True)
    assert stored_count() == 0


@pytest.mark.parametrize("data, message", [
    ({"year": "2025"}, "请选择要导入的名单文件"),
    ({"year": "", "file": (io.BytesIO(b"x"), "a.csv")}, "请填写名单所属年度"),
    ({"year": "1999", "file": (io.BytesIO(b"x"), "a.csv")}, "年度应在2017至"),
])
def test_missing_file_or_bad_year_is_shown_next_to_the_field(client, signed_in, data, message):
    response = client.post("/admin/kexiao", data=data, content_type="multipart/form-data")
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)


# ---------------------------------------------------------------- the list

def test_list_counts_rows_per_year_and_searches_within_a_year(client, signed_in):
    upload(client, csv_text(("N1", "南京甲公司", code(1)), ("N2", "徐州乙公司", code(2))).encode(), year=2025)
    upload(client, csv_text(("M1", "南京丙公司", code(3))).encode(), year=2024)
    page = client.get("/admin/kexiao?year=2025&q=南京").get_data(as_text=True)
    assert "2025年" in page and "2024年" in page
    assert "南京甲公司" in page and "徐州乙公司" not in page and "南京丙公司" not in page
    by_code = client.get(f"/admin/kexiao?year=2025&q={code(2)[-8:].lower()}").get_data(as_text=True)
    assert "徐州乙公司" in by_code and "南京甲公司" not in by_code


def test_search_over_htmx_returns_just_the_results(client, signed_in):
    upload(client, csv_text(("N1", "南京甲公司", code(1))).encode())
    response = client.get("/admin/kexiao?year=2025&q=N1", headers={"HX-Request": "true"})
    body = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "南京甲公司" in body and "<html" not in body and "导入名单" not in body
    assert "<html" in client.get("/admin/kexiao?year=2025&q=N1").get_data(as_text=True)


def test_the_list_shows_the_latest_imported_year_by_default(client, signed_in):
    assert "尚未导入任何名单" in client.get("/admin/kexiao").get_data(as_text=True)
    upload(client, csv_text(("N1", "甲公司", code(1))).encode(), year=2024)
    for url in ("/admin/kexiao", "/admin/kexiao?year=99999999999", "/admin/kexiao?year=-1&q=甲"):
        page = client.get(url).get_data(as_text=True)
        assert "2024年度名单" in page and "甲公司" in page
    assert f'value="{current_year()}"' in page  # the upload form proposes this year


# ---------------------------------------------------------------- access

@pytest.mark.parametrize("who, expected", NOT_REVIEWERS)
@pytest.mark.parametrize("method, path", [("get", "/admin/kexiao"), ("get", "/admin/kexiao/sample.csv"),
                                          ("post", "/admin/kexiao")])
def test_only_reviewers_reach_the_registry(client, auth, make, who, expected, method, path):
    sign_in_as(auth, make, who)
    kwargs = {"data": {"year": "2025", "file": (io.BytesIO(csv_text(("N1", "甲公司", code(1))).encode()), "a.csv")},
              "content_type": "multipart/form-data"} if method == "post" else {}
    response = getattr(client, method)(path, **kwargs)
    assert response.status_code == expected
    assert stored_count() == 0


def test_an_import_without_the_csrf_token_is_refused(client, signed_in):
    response = client.post("/admin/kexiao", csrf=False, content_type="multipart/form-data",
                           data={"year": "2025",
                                 "file": (io.BytesIO(csv_text(("N1", "甲", code(1))).encode()), "a.csv")})
    assert response.status_code == 400
    assert stored_count() == 0


# ---------------------------------------------------------------- matching (marketplace.vouchers.kexiao)

@pytest.fixture
def registry(app):
    db.session.add_all([KexiaoEntry(year=2025, number="2025320100000001", name="甲公司", credit_code=code(1)),
                        KexiaoEntry(year=2024, number="2024320100000002", name="乙公司", credit_code=code(2))])
    db.session.commit()


def test_kexiao_match_finds_the_years_entry_by_number(registry):
    assert registry_entry(2025, " 2025320100000001 ").name == "甲公司"
    assert kexiao_match(2025, "２０２５３２０１０００００００１", code(1)).name == "甲公司"


def test_kexiao_match_refuses_another_companys_number(registry):
    assert registry_entry(2025, "2025320100000001", code(2)).name == "甲公司", "the reviewer sees whose it is"
    assert kexiao_match(2025, "2025320100000001", code(2)) is None
    assert kexiao_match(2025, "2025320100000001") is None


def test_kexiao_match_finds_the_years_entry_by_credit_code(registry):
    assert kexiao_match(2025, credit_code=code(1).lower()).name == "甲公司"
    assert kexiao_match(2025, "NOT-IN-LIST", credit_code=code(1)).name == "甲公司"


def test_kexiao_match_only_looks_at_the_given_year(registry):
    assert kexiao_match(2025, "2024320100000002", code(2)) is None
    assert kexiao_match(2024, "2024320100000002", code(2)).name == "乙公司"


def test_kexiao_match_without_number_or_code_matches_nothing(registry):
    assert kexiao_match(2025) is None
    assert kexiao_match(2025, "  ", "") is None
