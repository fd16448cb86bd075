"""The enterprise's claim editor (SPEC 7.1, 7.2, 11): from an order in 服务中, 上传服务信息 opens a draft pre-filled
from the order; each material, invoice and receipt is saved as it is added; the totals and the requested voucher
are computed; 提交 refuses with every problem next to its section, or reserves the voucher and sends the claim
to review. Another enterprise, the provider and anonymous visitors never see or change it."""
import re

import pytest
from sqlalchemy import select

from marketplace.extensions import db
from marketplace.models import Material, OrderStatus, Redemption, RedemptionServiceLine, RedemptionStatus as R, Voucher
from marketplace.orders import lifecycle as order_lifecycle
from marketplace.redemption import claims, readiness

from .samples import pdf_upload, png_upload

HX = {"HX-Request": "true"}
ALL_DECLARED = list(readiness.DECLARATIONS)


@pytest.fixture
def order(make, enterprise):
    """An in-service voucher order of `enterprise`, who holds this year's voucher; its provider has confirmed the
    service done at the order amount (¥12,000)."""
    make.voucher(enterprise)
    provider = make.provider()
    order = make.order(enterprise, make.service(provider.provider, price_fen=1_200_000))
    order_lifecycle.act(order, "accept", provider)
    order_lifecycle.act(order, "finish", provider, amount_fen=order.quote_fen)
    db.session.commit()
    return order


@pytest.fixture
def signed_in(auth, enterprise):
    auth.login(enterprise)
    return enterprise


def start(client, order):
    return client.post(f"/me/orders/{order.order_no}/redemption/start")


def draft_of(order) -> Redemption:
    db.session.commit()
    db.session.expire_all()
    return db.session.scalar(select(Redemption).where(Redemption.order_id == order.id))


def base(claim) -> str:
    return f"/me/redemptions/{claim.id}"


def upload(client, claim, kind, *files, headers=None):
    return client.post(f"{base(claim)}/materials", data={"kind": kind, "files": list(files)},
                       content_type="multipart/form-data", headers=headers)


def add_invoice(client, claim, number="26320000000012345678", amount="12000", image=None, headers=None):
    return client.post(f"{base(claim)}/invoices", headers=headers, content_type="multipart/form-data",
                       data={"number": number, "amount": amount, "image": image or png_upload("发票.png")})


def add_receipt(client, claim, amount="12000", image=None, headers=None):
    return client.post(f"{base(claim)}/receipts", headers=headers, content_type="multipart/form-data",
                       data={"amount": amount, "image": image or pdf_upload("回单.pdf")})


def submit(client, claim, amount="12000", declared=ALL_DECLARED, headers=None):
    return client.post(f"{base(claim)}/submit", data={"contract_amount": amount, "declarations": declared},
                       headers=headers)


def error_near(page: str, section: str) -> str:
    """The text of the section with the given id (up to the next section)."""
    found = re.search(rf'<section[^>]*id="{section}"[^>]*>(.*?)</section>', page, re.S)
    assert found, f"no section #{section} on the page"
    return found.group(1)


def fill_all(client, claim):
    for kind in ("contract", "report", "rnd_proof"):
        assert upload(client, claim, kind, pdf_upload(f"{kind}.pdf")).status_code == 303
    assert add_invoice(client, claim).status_code == 303
    assert add_receipt(client, claim).status_code == 303


# ---- starting from the order ------------------------------------------------------------------------------------

def test_an_in_service_voucher_order_offers_upload_service_information(client, signed_in, order):
    page = client.get(f"/me/orders/{order.order_no}").text
    assert "上传服务信息" in page and f'action="/me/orders/{order.order_no}/redemption/start"' in page


def test_starting_creates_one_draft_prefilled_from_the_order_and_opens_it(client, signed_in, order):
    response = start(client, order)
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/me/orders/{order.order_no}/redemption")
    assert start(client, order).status_code == 303  # a second click opens the same claim
    claim = draft_of(order)
    assert claim.status == R.DRAFT and claim.contract_amount_fen == 1_200_000
    page = client.get(response.headers["Location"]).text
    assert order.provider.name in page and "场发射扫描电镜形貌分析" in page and "12,000.00" in page
    assert 'value="12000.00"' in page  # the contract amount defaults to the quote
    assert "请上传合同（PDF）" in error_near(page, "claim-checklist")
    order_page = client.get(f"/me/orders/{order.order_no}").text
    assert "继续上传服务信息" in order_page and "上传服务信息</button>" not in order_page


def test_an_order_not_in_service_cannot_be_claimed(client, signed_in, make, enterprise):
    make.voucher(enterprise)
    pending = make.order(enterprise, make.service(make.provider().provider))
    response = start(client, pending)
    assert response.status_code == 409 and "服务中的创新券订单才能申请兑付" in response.text
    assert draft_of(pending) is None
    assert client.get(f"/me/orders/{pending.order_no}/redemption").status_code == 404


def test_htmx_start_navigates_to_the_claim(client, signed_in, order):
    response = client.post(f"/me/orders/{order.order_no}/redemption/start", headers=HX)
    assert response.status_code == 200
    assert response.headers["HX-Redirect"] == f"/me/orders/{order.order_no}/redemption"


# ---- the whole flow ---------------------------------------------------------------------------------------------

def test_the_whole_claim_is_filled_refused_on_a_mismatch_fixed_and_submitted(client, signed_in, order, enterprise):
    start(client, order)
    claim = draft_of(order)
    fill_all(client, claim)
    assert add_receipt(client, claim, amount="500").status_code == 303  # receipts now 12,500 ≠ invoices 12,000
    page = client.get(base(claim)).text
    assert "不一致，提交前请核对" in error_near(page, "claim-totals")
    assert "银行回单汇总" in page and "¥12,500.00" in page and "发票金额汇总" in page

    refused = submit(client, claim)
    assert refused.status_code == 422
    assert "银行回单合计 ¥12,500.00 与发票合计 ¥12,000.00 不一致" in error_near(refused.text, "receipts")
    assert draft_of(order).status == R.DRAFT

    claim = draft_of(order)
    extra = claim.receipts[-1]
    assert client.post(f"{base(claim)}/receipts/{extra.id}/delete").status_code == 303
    done = submit(client, claim)
    assert done.status_code == 303 and done.headers["Location"].endswith(f"/me/orders/{order.order_no}")
    assert "已提交兑付申请，等待审核" in client.get(done.headers["Location"]).text

    claim = draft_of(order)
    voucher = db.session.get(Voucher, claim.voucher_id)
    assert claim.status == R.SUBMITTED and claim.order.status == OrderStatus.REVIEWING
    assert claim.requested_fen == 300_000 and voucher.reserved_fen == 300_000  # 苏南: 25% of ¥12,000
    assert claim.declarations.count("\n") == len(readiness.DECLARATIONS) - 1


def test_totals_and_the_requested_voucher_follow_the_claim(client, signed_in, order):
    start(client, order)
    claim = draft_of(order)
    add_invoice(client, claim, amount="8000")
    client.post(f"{base(claim)}/save", data={"contract_amount": "10,000"})
    assert "¥0.00 元" in error_near(client.get(base(claim)).text, "claim-totals")  # nothing paid: no receipt yet
    add_receipt(client, claim, amount="8000")
    totals = error_near(client.get(base(claim)).text, "claim-totals")
    assert "¥10,000.00 元" in totals and "¥8,000.00 元" in totals  # 合同金额, 发票金额汇总
    assert "¥2,000.00 元" in totals and "贰仟元整" in totals  # 申请创新券 = 25% of the lesser, in 大写
    assert draft_of(order).requested_fen == 200_000


def test_a_claim_missing_everything_is_refused_with_each_problem_next_to_its_section(client, signed_in, order):
    start(client, order)
    claim = draft_of(order)
    response = submit(client, claim, amount="", declared=[])
    assert response.status_code == 422
    page = response.text
    assert "请填写合同金额" in error_near(page, "claim-submit")
    assert "请逐项确认以下声明" in error_near(page, "claim-submit")
    assert "请上传合同（PDF）" in error_near(page, "materials-contract")
    assert "请上传研发活动证明（PDF）" in error_near(page, "materials-rnd_proof")
    assert "请至少上传一张发票" in error_near(page, "invoices")
    assert "请至少上传一张银行回单" in error_near(page, "receipts")
    assert draft_of(order).contract_amount_fen is None  # the emptied amount was saved: the draft is the page


def test_declarations_must_each_be_ticked_and_the_ticks_are_kept(client, signed_in, order):
    start(client, order)
    claim = draft_of(order)
    fill_all(client, claim)
    response = submit(client, claim, declared=ALL_DECLARED[:2])
    assert response.status_code == 422 and "请逐项确认以下声明" in response.text
    ticked = re.findall(r'<input[^>]*name="declarations"[^>]*>', response.text)
    assert sum("checked" in box for box in ticked) == 2 and len(ticked) == len(readiness.DECLARATIONS)
    assert draft_of(order).status == R.DRAFT


def test_a_bad_contract_amount_is_refused_and_kept(client, signed_in, order):
    start(client, order)
    claim = draft_of(order)
    response = client.post(f"{base(claim)}/save", data={"contract_amount": "一万"})
    assert response.status_code == 422
    assert 'value="一万"' in response.text and "请填写数字金额" in error_near(response.text, "claim-submit")
    assert draft_of(order).contract_amount_fen == 1_200_000


def test_the_contract_amount_saves_on_change_with_htmx_and_the_totals_follow(client, signed_in, order):
    start(client, order)
    claim = draft_of(order)
    response = client.post(f"{base(claim)}/save", data={"contract_amount": "4000"}, headers=HX)
    assert response.status_code == 200
    assert response.text.lstrip().startswith('<section class="panel" id="claim-submit">')
    assert 'id="claim-totals" aria-live="polite" hx-swap-oob="true"' in response.text
    assert 'id="claim-checklist" aria-live="polite" hx-swap-oob="true"' in response.text
    assert "¥4,000.00 元" in response.text and "<html" not in response.text
    assert draft_of(order).contract_amount_fen == 400_000


def test_save_without_js_comes_back_to_the_form(client, signed_in, order):
    start(client, order)
    claim = draft_of(order)
    response = client.post(f"{base(claim)}/save", data={"contract_amount": "4000"})
    assert response.status_code == 303 and response.headers["Location"].endswith("#claim-submit")
    assert "已暂存" in client.get(response.headers["Location"]).text


# ---- materials --------------------------------------------------------------------------------------------------

def test_a_new_contract_replaces_the_old_one(client, signed_in, order):
    start(client, order)
    claim = draft_of(order)
    upload(client, claim, "contract", pdf_upload("合同v1.pdf"))
    response = upload(client, claim, "contract", pdf_upload("合同v2.pdf"))
    assert response.status_code == 303 and response.headers["Location"].endswith("#materials-contract")
    contracts = [m for m in draft_of(order).materials if m.kind == "contract"]
    assert [m.file.original_name for m in contracts] == ["合同v2.pdf"]


def test_a_contract_takes_one_file_per_upload(client, signed_in, order):
    start(client, order)
    claim = draft_of(order)
    response = upload(client, claim, "contract", pdf_upload("a.pdf"), pdf_upload("b.pdf"))
    assert response.status_code == 422 and "合同最多1个" in error_near(response.text, "materials-contract")
    assert draft_of(order).materials == []


def material_section(page: str, kind: str) -> str:
    return re.search(rf'<section class="panel" id="materials-{kind}">.*?</section>', page, re.S).group(0)


def test_a_kind_that_holds_one_file_picks_one_and_the_others_several(client, signed_in, order):
    """合同 and 研发活动证明 hold one file: their pickers take one (no `multiple`), so none is refused
    after the pick."""
    start(client, order)
    page = client.get(base(draft_of(order))).text
    for kind, several in (("contract", False), ("rnd_proof", False), ("report", True), ("supplement", True),
                          ("other", True)):
        picker = re.search(r'<input[^>]*type="file"[^>]*>', material_section(page, kind)).group(0)
        assert (" multiple" in picker) == several, kind


def test_only_required_materials_carry_the_star(client, signed_in, order):
    start(client, order)
    page = client.get(base(draft_of(order))).text
    for kind, required in (("contract", True), ("report", True), ("rnd_proof", True), ("supplement", False),
                           ("other", False)):
        assert ('class="field upload required"' in material_section(page, kind)) == required, kind


def test_several_reports_are_added_at_once_and_one_removed(client, signed_in, order):
    start(client, order)
    claim = draft_of(order)
    upload(client, claim, "report", pdf_upload("报告1.pdf"), pdf_upload("报告2.pdf"))
    reports = draft_of(order).materials
    assert sorted(m.file.original_name for m in reports) == ["报告1.pdf", "报告2.pdf"]
    page = client.get(base(claim)).text
    assert f'href="/files/{reports[0].file_id}" target="_blank"' in page and "删除“报告1.pdf”？" in page
    response = client.post(f"{base(claim)}/materials/{reports[0].id}/delete")
    assert response.status_code == 303 and response.headers["Location"].endswith("#materials-report")
    assert [m.file.original_name for m in draft_of(order).materials] == ["报告2.pdf"]


def test_htmx_upload_answers_the_section_with_the_totals_out_of_band(client, signed_in, order):
    start(client, order)
    claim = draft_of(order)
    response = upload(client, claim, "rnd_proof", pdf_upload("专利证书.pdf"), headers=HX)
    assert response.status_code == 200
    assert response.text.lstrip().startswith('<section class="panel" id="materials-rnd_proof">')
    assert "专利证书.pdf" in response.text and 'hx-swap-oob="true"' in response.text
    assert "请上传研发活动证明" not in response.text  # the checklist (out of band) no longer asks for it
    material = draft_of(order).materials[0]
    deleted = client.post(f"{base(claim)}/materials/{material.id}/delete", headers=HX)
    assert deleted.status_code == 200 and "专利证书.pdf" not in deleted.text
    assert "请上传研发活动证明（PDF）" in deleted.text


def test_an_upload_without_a_file_is_refused_next_to_the_field(client, signed_in, order):
    start(client, order)
    claim = draft_of(order)
    response = client.post(f"{base(claim)}/materials", data={"kind": "report"}, headers=HX)
    assert response.status_code == 422
    assert 'id="report-files-error">请上传服务完成证明或检验检测报告</p>' in response.text


def test_uploads_use_the_shared_progress_bar(client, signed_in, order):
    start(client, order)
    page = client.get(base(draft_of(order))).text
    forms = re.findall(r"<form[^>]*multipart/form-data[^>]*>.*?</form>", page, re.S)
    assert len(forms) == 7  # five kinds of material (the 补充协议 too), an invoice and a receipt to add
    assert all('hx-encoding="multipart/form-data"' in form and "data-upload-progress" in form for form in forms)


# ---- invoices and receipts --------------------------------------------------------------------------------------

@pytest.mark.parametrize("number, amount, message", [
    ("", "100", "请填写发票号码"),
    ("   ", "100", "请填写发票号码"),
    ("26320000000012345678", "", "请填写发票金额"),
    ("26320000000012345678", "abc", "请填写数字金额"),
    ("26320000000012345678", "-5", "金额不能为负数"),
    ("26320000000012345678", "0", "金额须大于零"),
])
def test_a_bad_invoice_is_refused_with_the_input_and_the_photo_kept(client, signed_in, order, number, amount,
                                                                     message):
    start(client, order)
    claim = draft_of(order)
    response = add_invoice(client, claim, number=number, amount=amount, image=png_upload("我的发票.png"))
    assert response.status_code == 422
    section = error_near(response.text, "invoices")
    assert message in section and f'value="{amount}"' in section
    assert "已上传：我的发票.png" in section and 'name="image__kept"' in section  # not sent again
    assert draft_of(order).invoices == []


def test_a_kept_invoice_photo_completes_the_invoice_once_fixed(client, signed_in, order):
    start(client, order)
    claim = draft_of(order)
    refused = add_invoice(client, claim, number="", image=png_upload("我的发票.png"))
    kept = re.search(r'name="image__kept" value="(\d+)"', refused.text).group(1)
    response = client.post(f"{base(claim)}/invoices",
                           data={"number": "26320000000000044001", "amount": "300", "image__kept": kept})
    assert response.status_code == 303 and response.headers["Location"].endswith("#invoices")
    invoice = draft_of(order).invoices[0]
    assert (invoice.number, invoice.amount_fen, invoice.file_id) == ("26320000000000044001", 30_000, int(kept))


def test_invoice_numbers_are_stored_without_spaces_or_dashes(client, signed_in, order):
    start(client, order)
    claim = draft_of(order)
    add_invoice(client, claim, number=" 032001900111 - 1234 5678 ")
    assert draft_of(order).invoices[0].number == "03200190011112345678"


def test_an_invoice_is_edited_and_its_photo_kept_or_replaced(client, signed_in, order):
    start(client, order)
    claim = draft_of(order)
    add_invoice(client, claim, number="26320000000000000111", amount="100", image=png_upload("旧.png"))
    invoice = draft_of(order).invoices[0]
    url = f"{base(claim)}/invoices/{invoice.id}"
    edit = {"number": "26320000000000000222", "amount": "150.5"}
    response = client.post(url, data=edit, content_type="multipart/form-data")
    assert response.status_code == 303
    edited = draft_of(order).invoices[0]
    assert (edited.number, edited.amount_fen, edited.file.original_name) == (edit["number"], 15_050, "旧.png")
    client.post(url, data={**edit, "image": pdf_upload("新.pdf")},
                content_type="multipart/form-data")
    assert draft_of(order).invoices[0].file.original_name == "新.pdf"


def test_a_bad_edit_opens_that_items_form_with_the_message(client, signed_in, order):
    start(client, order)
    claim = draft_of(order)
    add_receipt(client, claim, amount="100")
    receipt = draft_of(order).receipts[0]
    response = client.post(f"{base(claim)}/receipts/{receipt.id}", data={"amount": "1.234"}, headers=HX)
    assert response.status_code == 422
    assert response.text.lstrip().startswith('<section class="panel" id="receipts">')
    assert f'id="bank_receipts-{receipt.id}-amount-error">金额最多保留两位小数' in response.text
    assert '<details class="confirm" open>' in response.text and 'value="1.234"' in response.text
    assert draft_of(order).receipts[0].amount_fen == 10_000


def test_receipts_and_invoices_are_removed(client, signed_in, order):
    start(client, order)
    claim = draft_of(order)
    add_invoice(client, claim)
    add_receipt(client, claim)
    fresh = draft_of(order)
    response = client.post(f"{base(claim)}/invoices/{fresh.invoices[0].id}/delete", headers=HX)
    assert response.status_code == 200 and "尚未添加发票" in response.text
    assert client.post(f"{base(claim)}/receipts/{fresh.receipts[0].id}/delete").status_code == 303
    assert draft_of(order).invoices == [] and draft_of(order).receipts == []


# ---- 待补正 ------------------------------------------------------------------------------------------------------

def test_a_claim_sent_back_is_fixed_and_resubmitted(client, auth, make, enterprise):
    make.voucher(enterprise)
    claim = make.claim(enterprise, status=R.CORRECTION)
    reserved = claim.requested_fen
    auth.login(enterprise)
    order_no = claim.order.order_no
    page = client.get(f"/me/orders/{order_no}/redemption").text
    assert "请补充盖章合同" in page and "补正意见：合同缺少盖章页" in error_near(page, "materials-contract")
    assert "重新提交" in page
    assert upload(client, claim, "contract", pdf_upload("盖章合同.pdf")).status_code == 303
    response = submit(client, claim, amount="10000")
    assert response.status_code == 303 and response.headers["Location"].endswith(f"/me/orders/{order_no}")
    db.session.expire_all()
    claim = db.session.get(Redemption, claim.id)
    assert claim.status == R.SUBMITTED and claim.order.status == OrderStatus.REVIEWING
    assert [m.file.original_name for m in claim.materials if m.kind == "contract"] == ["盖章合同.pdf"]
    assert claim.requested_fen == reserved and claim.voucher.reserved_fen == reserved
    assert all(m.correction_note is None for m in claim.materials)


def test_an_invoice_sent_back_is_fixed_in_place(client, auth, make, enterprise, reviewer):
    make.voucher(enterprise)
    claim = make.claim(enterprise, status=R.SUBMITTED)
    claims.request_corrections(claim, reviewer, "", {claim.invoices[0]: "发票照片不清晰"})
    db.session.commit()
    auth.login(enterprise)
    page = client.get(base(claim)).text
    assert "补正意见：发票照片不清晰" in error_near(page, "invoices")
    invoice = claim.invoices[0]
    response = client.post(f"{base(claim)}/invoices/{invoice.id}", content_type="multipart/form-data",
                           data={"number": invoice.number, "amount": "10000", "image": png_upload("清晰.png")})
    assert response.status_code == 303
    assert submit(client, claim, amount="10000").status_code == 303
    db.session.expire_all()
    assert db.session.get(Redemption, claim.id).invoices[0].file.original_name == "清晰.png"


# ---- read-only once submitted -----------------------------------------------------------------------------------

def test_a_submitted_claim_is_shown_read_only_and_refuses_changes(client, auth, make, enterprise):
    make.voucher(enterprise)
    claim = make.claim(enterprise, status=R.SUBMITTED)
    auth.login(enterprise)
    page = client.get(f"/me/orders/{claim.order.order_no}/redemption").text
    assert "审核中" in page and "contract.pdf" in page and "<form" not in error_near(page, "materials-contract")
    assert 'id="claim-submit"' not in page
    material = claim.materials[0]
    for response in (upload(client, claim, "report", pdf_upload()), add_invoice(client, claim),
                     client.post(f"{base(claim)}/materials/{material.id}/delete"),
                     client.post(f"{base(claim)}/invoices/{claim.invoices[0].id}/delete"),
                     client.post(f"{base(claim)}/save", data={"contract_amount": "1"}), submit(client, claim)):
        assert response.status_code == 409 and "不能再修改" in response.text
    db.session.expire_all()
    assert len(db.session.get(Redemption, claim.id).materials) == 3


def test_an_approved_claim_shows_the_approved_amount_on_the_order(client, auth, make, enterprise):
    make.voucher(enterprise)
    claim = make.claim(enterprise, status=R.APPROVED)
    auth.login(enterprise)
    page = client.get(f"/me/orders/{claim.order.order_no}").text
    assert "核定金额" in page and "申请创新券" in page and "合同金额" in page and "查看兑付申请" in page


def test_a_pilot_providers_order_says_the_provider_confirms(client, auth, make, enterprise, order):
    order.provider.is_pilot = True
    db.session.commit()
    auth.login(enterprise)
    start(client, order)
    claim = draft_of(order)
    assert ("服务承诺制试点单位订单：提交后由服务单位确认材料，未发现风险提示的无需平台审核"
            in client.get(base(claim)).text)
    fill_all(client, claim)
    response = submit(client, claim)
    assert response.status_code == 303
    assert "已提交，等待服务单位确认材料" in client.get(response.headers["Location"]).text


def test_a_refused_submit_with_htmx_answers_the_editor_body(client, signed_in, order):
    start(client, order)
    claim = draft_of(order)
    response = submit(client, claim, headers=HX)
    assert response.status_code == 422
    assert response.text.lstrip().startswith('<div id="claim-editor">') and "<html" not in response.text


def test_an_exhausted_voucher_is_refused_with_its_message(client, signed_in, order):
    start(client, order)
    claim = draft_of(order)
    fill_all(client, claim)
    db.session.commit()
    voucher = db.session.get(Voucher, claim.voucher_id)
    voucher.reserved_fen = voucher.total_fen  # everything is held by other claims
    db.session.commit()
    response = submit(client, claim)
    assert response.status_code == 422
    assert "本次可兑付金额为零" in error_near(response.text, "claim-submit")
    assert "¥0.00 元" in error_near(response.text, "claim-totals")
    assert draft_of(order).status == R.DRAFT


# ---- offline claims ------------------------------------------------------------------------------------------------

def test_an_offline_claim_shows_its_missing_provider_part_and_submits_to_its_own_page(client, signed_in, make,
                                                                                    enterprise):
    make.voucher(enterprise)
    claim = claims.start_offline(enterprise, "12100000466007278X")
    db.session.commit()
    page = client.get(base(claim)).text
    summary = error_near(page, "claim-summary")
    assert "请填写服务单位名称和统一社会信用代码" in summary
    assert f'href="/me/offline-redemptions/{claim.id}/provider"' in summary
    claim.provider_name, claim.provider_unit_type = "南京大学", "university"
    claim.service_lines.append(RedemptionServiceLine(position=0, service_name="X射线光电子能谱分析"))
    db.session.commit()
    fill_all(client, claim)
    response = submit(client, claim)
    assert response.status_code == 303 and response.headers["Location"].endswith(f"/me/redemptions/{claim.id}")
    page = client.get(response.headers["Location"]).text
    assert "已提交兑付申请，等待审核" in page and "南京大学" in page and "X射线光电子能谱分析" in page
    db.session.commit()
    db.session.expire_all()
    assert db.session.get(Redemption, claim.id).status == R.SUBMITTED


# ---- nobody else -------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("who", ["other_enterprise", "provider", "anonymous"])
def test_nobody_else_sees_or_changes_the_claim(client, auth, make, enterprise, order, who):
    claim = claims.start_online(order, enterprise)
    db.session.commit()
    if who == "other_enterprise":
        auth.login(make.enterprise())
    elif who == "provider":
        auth.login(order.provider.user)
    requests = [client.get(base(claim)), client.get(f"/me/orders/{order.order_no}/redemption"), start(client, order),
                upload(client, claim, "contract", pdf_upload()), add_invoice(client, claim), add_receipt(client, claim),
                client.post(f"{base(claim)}/save", data={"contract_amount": "1"}), submit(client, claim)]
    for response in requests:
        if who == "anonymous":
            assert response.status_code == 302 and "/auth/login" in response.headers["Location"]
        else:
            assert response.status_code == 404
    db.session.expire_all()
    claim = db.session.get(Redemption, claim.id)
    assert claim.materials == [] and claim.invoices == [] and claim.contract_amount_fen == 1_200_000


def test_another_enterprise_cannot_delete_the_claims_files(client, auth, make, enterprise, order):
    claim = claims.start_online(order, enterprise)
    claim.materials.append(Material(kind="contract", file_id=make.stored_pdf(enterprise).id))
    db.session.commit()
    auth.login(make.enterprise())
    assert client.post(f"{base(claim)}/materials/{claim.materials[0].id}/delete").status_code == 404
    db.session.expire_all()
    assert len(db.session.get(Redemption, claim.id).materials) == 1
