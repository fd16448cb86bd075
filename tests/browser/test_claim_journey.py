"""Issue 6's journey in real Chromium: an enterprise claims its voucher on an order in service. It uploads every
material, is refused while the invoices and bank receipts disagree, fixes the invoice and submits; the reviewer
previews the files and sends the contract back 待补正; the enterprise replaces it and resubmits; the reviewer
approves, publishes, closes the period and records the payment; the enterprise's balance and the order's
progress show the claim paid."""
from datetime import timedelta

import pytest
from PIL import Image
from pypdf import PdfWriter
from sqlalchemy import select

from marketplace.extensions import db
from marketplace.models import PublicityBatch, Redemption, RedemptionStatus, Voucher, china_today
from marketplace.orders import lifecycle

from ..conftest import fresh
from .conftest import screenshot, sign_in, sign_out

pytestmark = pytest.mark.browser

CORRECTION_NOTE = "合同缺少盖章页"


def write_pdf(path):
    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    with open(path, "wb") as out:
        writer.write(out)
    return str(path)


def write_image(path, colour=(214, 228, 245)):
    Image.new("RGB", (600, 400), colour).save(path)
    return str(path)


def upload_material(page, kind, path):
    section = f"#materials-{kind}"
    page.set_input_files(f"{section} input[type=file]", path)
    page.click(f"{section} button:has-text('上传')")
    page.wait_for_selector(f"{section} .claim-file:has-text('{path.rsplit('/', 1)[-1]}')")


def add_item(page, section, path, amount, number=None):
    """One invoice (with `number`) or bank receipt through its 添加 form; waits for the row the swap brings."""
    rows = page.locator(f"#{section} tbody tr").count()
    if number:
        page.fill(f"#new-{section}-number", number)
    page.fill(f"#new-{section}-amount", amount)
    page.set_input_files(f"#new-{section}-image", path)
    page.click(f"#{section} button:has-text('添加')")
    page.wait_for_selector(f"#{section} tbody tr:nth-child({rows + 1})")


def declare_and_submit(page, button):
    for box in page.locator("#claim-submit input[type=checkbox]").all():
        box.check()
    page.click(f"#claim-submit button:text-is('{button}')")


def fill_the_claim(page, base, order, tmp_path, contract, receipt, invoice, number):
    """From the order page: 上传服务信息, the contract amount (as shown in the totals), every material, one receipt
    and one invoice with these amounts (yuan as typed)."""
    page.goto(f"{base}/me/orders/{order.order_no}")
    page.click("#order-claim button:has-text('上传服务信息')")
    page.wait_for_url(f"**/me/orders/{order.order_no}/redemption")
    page.fill("[name=contract_amount]", contract)
    page.locator("[name=contract_amount]").blur()  # saved on change; the totals follow
    page.wait_for_selector(f"#claim-totals:has-text('¥{int(contract):,}.00 元')")
    upload_material(page, "contract", write_pdf(tmp_path / "合同.pdf"))
    upload_material(page, "report", write_pdf(tmp_path / "检验检测报告.pdf"))
    upload_material(page, "rnd_proof", write_pdf(tmp_path / "研发活动证明.pdf"))
    add_item(page, "receipts", write_image(tmp_path / "银行回单.png"), receipt)
    add_item(page, "invoices", write_image(tmp_path / "发票.jpg", (250, 228, 214)), invoice, number=number)


def start_the_claim(page, base, order, tmp_path):
    fill_the_claim(page, base, order, tmp_path, "12000", "12000", "11000", "2632 0000 3200 1234 5678")
    page.wait_for_selector("#claim-totals .warning:has-text('不一致')")
    page.wait_for_selector("#claim-checklist .flag.problem:has-text('不一致')")
    screenshot(page, "claim-editor-mismatch")


def review_and_send_back(page, base, claim_id, enterprise_name):
    page.goto(base + "/admin/redemptions")
    page.click(f"#redemption-{claim_id} a:has-text('{enterprise_name}')")
    page.wait_for_selector("#redemption-review .status:has-text('审核中')")
    materials = page.locator(".redemption-materials")
    check_previews(page, base, materials)
    screenshot(page, "claim-review-previews")
    page.click("summary:has-text('退回补正')")
    materials.locator("h3:text-is('合同') + ul textarea").fill(CORRECTION_NOTE)
    page.fill("#redemption-corrections [name=reason]", "请上传盖章完整的合同")
    page.click("#redemption-corrections button:has-text('退回补正')")
    page.wait_for_selector("#redemption-review .status:has-text('待补正')")


def check_previews(page, base, materials):
    """Each PDF in an inline viewer the browser may show (served inline, as a PDF), each image as a thumbnail that
    loads. Headless Chromium draws no PDF viewer, so the iframe's source is fetched instead of looked at."""
    frames = materials.locator(".attachment-preview iframe")
    assert frames.count() == 3  # contract, report, R&D proof
    for i in range(3):
        answer = page.request.get(base + frames.nth(i).get_attribute("src"))
        assert answer.ok and answer.headers["content-type"] == "application/pdf"
        assert not answer.headers.get("content-disposition", "").startswith("attachment")
        assert answer.body().startswith(b"%PDF")
    images = materials.locator(".attachment-preview img")
    assert images.count() == 2  # the invoice and the receipt
    for i in range(2):
        images.nth(i).scroll_into_view_if_needed()  # they load lazily
        page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=images.nth(i).element_handle())


def correct_and_resubmit(page, base, order, tmp_path):
    page.goto(f"{base}/me/orders/{order.order_no}")
    page.click("#order-claim a:has-text('去补正')")
    page.wait_for_selector("#claim-summary:has-text('请上传盖章完整的合同')")
    contract = page.locator("#materials-contract")
    assert f"补正意见：{CORRECTION_NOTE}" in contract.inner_text()
    screenshot(page, "claim-correction")
    upload_material(page, "contract", write_pdf(tmp_path / "合同（盖章）.pdf"))
    assert contract.locator(".claim-file").count() == 1  # the new contract replaced the old one
    declare_and_submit(page, "重新提交")
    page.wait_for_url(f"**/me/orders/{order.order_no}")
    page.wait_for_selector("#order-claim .status:has-text('审核中')")


def approve_publish_close_and_pay(page, base, claim_id, enterprise_name):
    page.goto(f"{base}/admin/redemptions/{claim_id}")
    assert page.input_value("#redemption-decision [name=amount]") == "3000.00"  # defaults to the requested amount
    page.click("#redemption-decision button:has-text('审核通过')")
    page.wait_for_selector("#redemption-review .status:has-text('审核通过')")

    page.goto(base + "/admin/publicity")
    page.check(f"#choose-{claim_id}")
    page.click("#to-publish button:has-text('公示所选兑付')")
    page.wait_for_selector("#flashes:has-text('已公示 1 项兑付')")
    page.goto(base + "/publicity")
    row = page.locator(f"table.publicity #claim-{claim_id}")
    assert enterprise_name in row.inner_text() and "3,000.00" in row.inner_text()
    screenshot(page, "claim-publicity")

    # The one place the journey shifts time: the 5-day publicity period is moved 6 days into the past, so that
    # closing the due periods finds it over (nothing else in the app is told about the clock).
    batch = db.session.get(PublicityBatch, fresh(Redemption, claim_id).publicity_batch_id)
    batch.starts_on -= timedelta(days=6)
    batch.ends_on -= timedelta(days=6)
    db.session.commit()
    page.goto(base + "/admin/publicity")
    page.click("#batches button:has-text('结束已到期的公示')")
    page.wait_for_selector("#flashes:has-text('1 项兑付转入待兑付')")
    assert fresh(Redemption, claim_id).status == RedemptionStatus.AWAITING_PAYMENT

    page.goto(base + "/admin/payments")
    page.check(f"#choose-{claim_id}")
    page.fill("[name=paid_on]", china_today().isoformat())
    page.fill("[name=reference]", "GK2026-0001")
    page.click("#to-pay button:has-text('登记拨付')")
    page.wait_for_url("**/admin/payments/*")
    excel = page.request.get(base + page.locator("a:has-text('下载Excel')").get_attribute("href"))
    assert excel.ok and excel.body().startswith(b"PK")  # an .xlsx is a zip
    assert "¥3,000.00" in page.inner_text("main")
    screenshot(page, "claim-payment-batch")


def test_an_enterprise_claims_online_through_correction_approval_publicity_and_payment(
        live_server, page, make, enterprise, reviewer, tmp_path):
    voucher = make.voucher(enterprise)
    provider = make.provider(name="南京某大学分析测试中心")
    order = make.order(enterprise, make.service(provider.provider, price_fen=1_200_000))
    lifecycle.act(order, "accept", provider)
    lifecycle.act(order, "finish", provider, amount_fen=order.quote_fen)
    db.session.commit()
    name = enterprise.enterprise.name

    sign_in(page, live_server, enterprise)
    start_the_claim(page, live_server, order, tmp_path)
    db.session.commit()
    claim_id = db.session.scalar(select(Redemption.id).where(Redemption.order_id == order.id))
    declare_and_submit(page, "提交")
    page.wait_for_selector("#receipts .error:has-text('不一致')")  # refused, next to the receipts
    assert fresh(Redemption, claim_id).status == RedemptionStatus.DRAFT

    invoice = page.locator("#invoices tbody tr").first
    invoice.locator("summary:has-text('修改')").click()
    invoice.locator("input[name=amount]").fill("12000")
    invoice.locator("button:has-text('保存修改')").click()
    page.wait_for_selector("#invoices td.money:text-is('12,000.00')")
    page.wait_for_selector("#claim-totals:not(:has(.warning))")
    declare_and_submit(page, "提交")
    page.wait_for_url(f"**/me/orders/{order.order_no}")
    page.wait_for_selector("#flashes:has-text('已提交兑付申请')")
    assert fresh(Redemption, claim_id).status == RedemptionStatus.SUBMITTED
    assert fresh(Voucher, voucher.id).reserved_fen == 300_000
    sign_out(page)

    sign_in(page, live_server, reviewer)
    review_and_send_back(page, live_server, claim_id, name)
    sign_out(page)

    sign_in(page, live_server, enterprise)
    correct_and_resubmit(page, live_server, order, tmp_path)
    sign_out(page)

    sign_in(page, live_server, reviewer)
    approve_publish_close_and_pay(page, live_server, claim_id, name)
    sign_out(page)

    sign_in(page, live_server, enterprise)
    page.goto(live_server + "/me/vouchers")
    assert page.inner_text(".voucher-balance .remaining") == "97,000.00"
    page.goto(f"{live_server}/me/orders/{order.order_no}")
    steps = page.locator("ol.progress-bar li")
    assert [steps.nth(i).get_attribute("class") for i in range(5)] == ["done"] * 5
    assert "兑付完成" in steps.nth(4).inner_text()
    screenshot(page, "claim-paid-order")
    voucher = fresh(Voucher, voucher.id)
    assert (voucher.reserved_fen, voucher.approved_fen, voucher.disbursed_fen) == (0, 0, 300_000)
