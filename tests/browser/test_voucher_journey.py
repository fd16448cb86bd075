"""Issue 4's journey in real Chromium: an enterprise fills the 申请信息表, downloads the sheet as a PDF,
uploads the stamped scan and submits; the reviewer approves; 我的创新券 shows the year's voucher."""
import re

import pytest
from PIL import Image
from pypdf import PdfReader

from .conftest import screenshot, sign_in, sign_out

pytestmark = pytest.mark.browser


def fill_application(page, caplog, tmp_path, registered_city):
    statement, licence = tmp_path / "财务报表.png", tmp_path / "营业执照.png"
    Image.new("RGB", (500, 700), (250, 250, 250)).save(statement)
    Image.new("RGB", (842, 595), (250, 246, 232)).save(licence)
    page.set_input_files("[name=business_licence]", str(licence))
    page.fill("[name=founded_on]", "2018-05-20")
    page.select_option("[name=identity]", "kexiao")
    page.fill("[name=kexiao_number]", "20263201000123")
    page.fill("[name=employees]", "56")
    page.fill("[name=phone]", "025-83792000")
    page.fill("[name=legal_rep_mobile]", "13912345678")
    page.fill("[name=contact_name]", "李四")
    page.fill("[name=contact_phone]", "13812345678")
    page.click("button:has-text('获取验证码')")
    page.wait_for_selector("#sms-status:has-text('验证码已发送')")
    page.fill("[name=sms_code]", re.findall(r"验证码为(\d{6})", caplog.text)[-1])
    page.select_option("[name=registered_city]", registered_city)
    page.fill("[name=registered_district]", "玄武区")
    page.fill("[name=postal_city]", "南京市")
    page.fill("[name=postal_detail]", "珠江路88号")
    page.select_option("[name=in_hightech_zone]", "0")
    page.fill("[name=industry]", "制造业")
    page.fill("[name=product_field]", "新材料")
    page.fill("[name=supervising_department]", "市科学技术局")
    page.fill("[name=revenue_fen]", "45000")
    page.locator("[name=revenue_fen]").blur()
    page.wait_for_selector("#live-revenue_fen .error:has-text('须低于4亿元')")  # told while typing
    page.fill("[name=revenue_fen]", "2345.67")
    page.locator("[name=revenue_fen]").blur()
    page.wait_for_selector("#live-revenue_fen:not(:has(.error))")
    page.set_input_files("[name=financial_statement]", str(statement))
    page.fill("[name=bank_name]", "中国银行南京分行")
    page.fill("[name=bank_account_number]", "6217000012345678901")


@pytest.mark.parametrize("city, picked, total", [("南京", "南京", "100,000.00"), ("徐州", "徐州", "140,000.00"),
                                                 ("南京", "徐州", "100,000.00")],
                         ids=["nanjing", "xuzhou", "nanjing-picks-xuzhou"])
def test_an_enterprise_applies_and_after_approval_sees_its_voucher(live_server, page, make, reviewer, caplog,
                                                                   tmp_path, city, picked, total):
    """`picked`: the registered city the form names; when it is not the account's, the reviewer is warned, cannot
    approve without confirming a city, and confirms the account's city from the licence."""
    user = make.enterprise(city=city)
    name = user.enterprise.name

    sign_in(page, live_server, user)
    page.goto(live_server + "/me/vouchers")
    page.click("text=申请资格")
    fill_application(page, caplog, tmp_path, picked)
    page.click("button:has-text('完成填写')")
    page.wait_for_selector("text=申请信息已填写完整")
    screenshot(page, f"voucher-application-{city}")

    with page.expect_download() as download:
        page.click("a:has-text('下载信息表')")
    sheet = tmp_path / "sheet.pdf"
    download.value.save_as(sheet)
    text = "".join(p.extract_text() for p in PdfReader(sheet).pages)
    assert name in text and "江苏省科技创新券企业申请信息表" in text

    scan = tmp_path / "盖章信息表.jpg"
    Image.new("RGB", (800, 1100), (255, 255, 255)).save(scan, quality=85)
    page.set_input_files("[name=stamped_sheet]", str(scan))
    page.check("[name=promise]")
    page.click("button:has-text('提交审核')")
    page.wait_for_selector("text=已提交，请等待省统筹中心审核")
    assert "审核中" in page.inner_text("table.vouchers")
    sign_out(page)

    sign_in(page, live_server, reviewer)
    page.goto(live_server + "/admin/vouchers")
    page.click(f"a:has-text('{name}')")
    page.wait_for_selector(f"text={name}")
    assert page.is_visible(".flag-evidence[data-file=business_licence] img")  # the licence beside the city check
    screenshot(page, f"voucher-review-{city}-{picked}")
    if picked != city:
        assert "注册地不一致" in page.inner_text(".flag.problem")
        page.click("button:has-text('通过')")
        page.wait_for_selector("#confirmed_city-error:has-text('请核对营业执照后确认注册地')")
        page.select_option("[name=confirmed_city]", city)
    else:
        assert page.input_value("[name=confirmed_city]") == city
    page.click("button:has-text('通过')")
    page.wait_for_selector("text=已通过")
    sign_out(page)

    sign_in(page, live_server, user)
    page.goto(live_server + "/me/vouchers")
    row = page.inner_text("table.vouchers tbody tr")
    assert f"创新券总金额：{total}元" in row and f"剩余可用金额：{total}元" in row
    assert "审核通过" in row and "去使用" in row
    screenshot(page, f"my-vouchers-{city}")
