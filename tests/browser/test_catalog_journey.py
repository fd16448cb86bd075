"""Issue 3's journey in real Chromium: a provider applies and lists a service with images, the reviewer
opens the shop and approves the listing, and a visitor finds it by a two-character Chinese word."""

import pytest
from PIL import Image
from pypdf import PdfWriter

from marketplace.extensions import db
from marketplace.models import Category, Field, ShopStatus
from marketplace.validators import make_id_number

from .conftest import screenshot, sign_in, sign_out

pytestmark = pytest.mark.browser


def write_files(folder):
    pdf = PdfWriter()
    pdf.add_blank_page(width=300, height=300)
    with open(folder / "营业执照.pdf", "wb") as out:
        pdf.write(out)
    Image.new("RGB", (600, 400), (20, 90, 170)).save(folder / "展示图.jpg", quality=90)
    Image.new("RGB", (300, 300), (240, 180, 0)).save(folder / "仪器.png")
    return folder / "营业执照.pdf", folder / "展示图.jpg", folder / "仪器.png"


def test_provider_lists_a_service_that_anyone_then_finds_by_a_two_character_word(
        live_server, page, make, reviewer, tmp_path):
    db.session.add_all([Field(name="新材料", position=1), Category(name="微区分析", position=1)])
    db.session.flush()
    parent = db.session.query(Category).filter_by(name="微区分析").one()
    db.session.add(Category(name="微观形貌分析", parent=parent, position=1))
    db.session.commit()
    owner = make.provider(shop_status=ShopStatus.DRAFT, name="江苏某大学分析测试中心")
    licence, display, photo = write_files(tmp_path)

    sign_in(page, live_server, owner)
    page.goto(live_server + "/seller/services/new")
    page.check("input[name=nature][value=instrument_sharing]")
    page.fill("[name=name]", "冷场发射扫描电镜形貌观察")
    page.fill("[name=description]",
              "采用冷场发射扫描电子显微镜观察金属、陶瓷与高分子材料的表面微观形貌，并提供分析报告。")
    page.fill("[name=cycle]", "5-7个工作日")
    page.check("input[name=has_qualification][value='0']")
    page.select_option("[name=category_id]", label="微观形貌分析")
    page.check("label:has-text('新材料') input[name=field_ids], input[name=field_ids]:near(:text('新材料'))")
    page.fill("[name=price]", "600")
    page.set_input_files("input[name=display_image]", str(display))
    page.set_input_files("input[name=images]", str(photo))
    page.click("button[name=action][value=save]")
    page.wait_for_url("**/seller/services**")
    assert "冷场发射扫描电镜形貌观察" in page.content()

    page.goto(live_server + "/seller/shop")
    page.select_option("[name=unit_type]", "university")
    page.select_option("[name=is_new_rnd]", "0")
    page.fill("[name=intro]", "省属高校分析测试中心，面向社会开放共享大型科研仪器。")
    page.fill("[name=registered_address]", "江苏省徐州市云龙区大学路1号")
    page.fill("[name=founded_on]", "1952-09-01")
    page.select_option("[name=has_website]", "0")
    page.fill("[name=contact_name]", "王老师")
    page.fill("[name=contact_phone]", "0516-83590000")
    page.select_option("[name=city]", "徐州")
    page.fill("[name=district]", "云龙区")
    page.fill("[name=address_detail]", "大学路1号")
    page.fill("[name=legal_rep_name]", "李四")
    page.fill("[name=legal_rep_phone]", "13912345678")
    page.select_option("[name=legal_rep_id_type]", "id_card")
    page.fill("[name=legal_rep_id_number]", make_id_number("32030219700101001"))
    page.fill("[name=bank_account_name]", "江苏某大学")
    page.fill("[name=bank_name]", "中国工商银行徐州分行")
    page.fill("[name=bank_branch_code]", "102303000011")
    page.fill("[name=bank_account_number]", "1106020109000012345")
    page.fill("[name=last_year_revenue_fen]", "1234.5")
    page.fill("[name=last_year_tax_fen]", "56.78")
    page.fill("[name=last_year_net_profit_fen]", "12.3")
    page.set_input_files("input[name=licence]", str(licence))
    page.set_input_files("input[name=tax_certificate]", str(licence))
    page.click("button[name=action][value=submit]")
    page.wait_for_load_state()
    assert "待审核" in page.content() or "审核中" in page.content(), page.content()
    sign_out(page)

    sign_in(page, live_server, reviewer)
    page.goto(live_server + "/admin/shops")
    page.click("a:has-text('江苏某大学分析测试中心')")
    page.click("button:has-text('通过，开店')")
    page.wait_for_selector("text=已开店")
    page.goto(live_server + "/admin/listings")
    page.click("button:has-text('通过，上架')")
    page.wait_for_selector("text=上架审核通过")
    sign_out(page)

    page.goto(live_server + "/")
    page.fill(".big-search input[name=q]", "电镜")
    page.click(".big-search button")
    page.wait_for_url("**/services?q=*")
    page.click("a:has-text('冷场发射扫描电镜形貌观察')")
    page.wait_for_selector("h1:has-text('冷场发射扫描电镜形貌观察')")
    image = page.locator("img.detail-image").first
    assert "/files/" in image.get_attribute("src")
    assert page.evaluate("img => img.complete && img.naturalWidth > 0", image.element_handle())
    screenshot(page, "journey-listed-service")
