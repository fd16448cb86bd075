"""The printable 申请信息表: a PDF the enterprise prints, stamps and uploads, readable by a machine too."""
import io

import pytest
from pypdf import PdfReader

from marketplace.vouchers.sheet import BUILT_IN_FONT, render_sheet

LONG_ADDRESS = "新世界中心A座" + "某某科技园区创新大道" * 8 + "1808室"  # about four lines in its cell
# Long enough in every free-text field to push the seal block onto a second page.
SPRAWLING = dict(postal_detail="某某科技园区创新大道" * 30, hightech_zone_name="某某高新技术产业开发区" * 9,
                 industry="软件和信息技术服务业" * 10, product_field="电子信息" * 25,
                 supervising_department="南京市科学技术局" * 12, bank_name="中国工商银行股份有限公司" * 16)


def read(pdf: bytes) -> PdfReader:
    return PdfReader(io.BytesIO(pdf))


def text_of(pdf: bytes) -> str:
    """The sheet's text with the line breaks that wrapping puts into a cell taken out."""
    return "".join("".join(page.extract_text().split()) for page in read(pdf).pages)


def fonts_of(pdf: bytes) -> set[str]:
    return {str(font["/BaseFont"]) for page in read(pdf).pages for font in page["/Resources"]["/Font"].values()}


@pytest.fixture
def application(make, enterprise):
    return make.voucher_application(enterprise)


def test_sheet_carries_the_application_and_the_seal_block(application):
    text = text_of(render_sheet(application))
    for expected in ("江苏省科技创新券企业申请信息表", "申请年度：2026", application.unit_name, application.credit_code,
                     "企业身份科技型中小企业", "上年度营业收入2345万元", "附件清单", "上年度财务报表财务报表.pdf",
                     "本单位承诺：所填信息及提交材料真实、准确、完整，如有虚假，愿承担相应责任。",
                     "单位（公章）：", "法定代表人（签字）：", "日期：____年____月____日"):
        assert expected in text, expected


def test_sheet_fits_one_unnumbered_page_and_embeds_a_cjk_subset(application):
    pdf = render_sheet(application)
    assert len(read(pdf).pages) == 1 and "页" not in text_of(pdf)
    assert fonts_of(pdf) and all("+" in name for name in fonts_of(pdf))  # subsets are named like /AAAAAA+Name


def test_stamped_sheet_is_not_listed_on_itself(application):
    assert "信息表盖章.pdf" not in text_of(render_sheet(application))


def test_long_address_wraps_inside_its_cell(make, enterprise):
    pdf = render_sheet(make.voucher_application(enterprise, postal_detail=LONG_ADDRESS))
    assert LONG_ADDRESS in text_of(pdf) and len(read(pdf).pages) == 1


def test_sheet_running_onto_two_pages_is_numbered(make, enterprise):
    application = make.voucher_application(enterprise, **SPRAWLING)
    pdf = render_sheet(application)
    text = text_of(pdf)
    assert len(read(pdf).pages) == 2 and "第1页共2页" in text and "第2页共2页" in text
    assert all(value in text for value in SPRAWLING.values())


def test_markup_characters_in_values_are_printed_as_typed(make, enterprise):
    pdf = render_sheet(make.voucher_application(enterprise, bank_name="工商银行<b>南京</b>&分行", industry="R&D<i>"))
    assert "工商银行<b>南京</b>&分行" in text_of(pdf) and "R&D<i>" in text_of(pdf)


def test_missing_value_shows_a_dash(make, enterprise):
    text = text_of(render_sheet(make.voucher_application(enterprise, email="", employees=None)))
    assert "电子邮箱—" in text and "职工人数—" in text


def test_unusable_font_file_falls_back_to_the_built_in_cid_font(app, application):
    app.config["PDF_CJK_FONT"] = "/nonexistent/font.ttf"
    pdf = render_sheet(application)
    assert fonts_of(pdf) == {f"/{BUILT_IN_FONT}"}
    assert application.unit_name in text_of(pdf) and "单位（公章）：" in text_of(pdf)
