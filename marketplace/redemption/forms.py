"""The claim editor's forms (SPEC 7.1): one per section, so a failed upload re-renders only its own section.

Every amount is typed in 元 and held in fen; the requested voucher is never a field (readiness.figures computes it).
Uploads go through marketplace.uploads' fields, which store a good file (and commit) as soon as the form is
validated: a 422 for a missing invoice number keeps the invoice photo already sent."""
from wtforms import SelectField, SelectMultipleField, StringField
from wtforms.validators import DataRequired, InputRequired, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from .. import policy, uploads
from ..forms import Form, MoneyField, choices, own_ids
from ..uploads.fields import MultiUploadField, UploadField
from . import checks, invoice_numbers, readiness

DOCUMENTS = (uploads.PDF, uploads.IMAGE)
# How many files one 上传 may carry for kinds without an upper limit (report, other).
FILES_PER_UPLOAD = 10


def positive(_form, field) -> None:
    if field.data is not None and field.data <= 0:
        raise ValidationError("金额须大于零")


def amount_given(_form, field) -> None:
    """InputRequired sees typed text; "¥" or spaces alone are text but no amount."""
    if field.data is None and not field.errors:
        raise ValidationError(f"请填写{field.label.text}")


def _amount(label: str) -> MoneyField:
    return MoneyField(label, validators=[InputRequired(message=f"请填写{label}"), amount_given, positive])


class MaterialForm(Form):
    """Files of one kind (合同, 报告, 研发活动证明, 其他材料); PDF only. A kind that holds exactly one file
    (contract, R&D proof) takes one file per upload (its picker picks one), which replaces the one held. Only the
    kinds a claim needs are starred as required."""
    kind = SelectField("材料类型", choices=choices(checks.FILE_LABELS.items()),
                       validators=[DataRequired(message="请选择材料类型")])
    files = MultiUploadField("文件", accept=(uploads.PDF,), max_bytes=policy.MAX_UPLOAD_BYTES,
                             max_files=FILES_PER_UPLOAD, required=True)

    def for_kind(self, kind: str) -> "MaterialForm":
        """Label and limit the file field by the kind posted, before validation stores anything."""
        if kind in checks.FILE_LABELS:
            least, most = checks.FILE_COUNTS[kind]
            self.files.label.text = checks.FILE_LABELS[kind]
            self.files.max_files = most or FILES_PER_UPLOAD
            self.files.flags.required = least > 0  # the star: the claim needs this kind (an upload needs a file)
            own_ids(self, kind)
        return self


class InvoiceForm(Form):
    """One 发票: number, amount and its image (jpg/png/pdf ≤ 5 MB). Editing may keep the current image."""
    number = StringField("发票号码", validators=[InputRequired(message=invoice_numbers.MISSING_MESSAGE)],
                         description=invoice_numbers.FORMAT_HINT)
    amount = _amount("发票金额")
    image = UploadField("发票照片或PDF", accept=DOCUMENTS, max_bytes=policy.MAX_INVOICE_BYTES, required=True)

    def validate_number(self, field) -> None:
        """Stored in its canonical form; a refused number stays as typed."""
        message = invoice_numbers.problem(field.data)
        if message:
            raise ValidationError(message)
        field.data = invoice_numbers.canonical(field.data)


def editing(form, item):
    """`form` as the 修改 form of an existing invoice or receipt: its file may stay as it is, and its fields'
    ids are the item's own, so one such form per item fits on the page."""
    form.image.required = form.image.flags.required = False
    return own_ids(form, f"{item.__tablename__}-{item.id}")


class ReceiptForm(Form):
    """One 银行回单: amount and its image or PDF (≤ 50 MB)."""
    amount = _amount("回单金额")
    image = UploadField("银行回单", accept=DOCUMENTS, max_bytes=policy.MAX_UPLOAD_BYTES, required=True)


class SubmitForm(Form):
    """暂存 checks only the amounts (they may stay empty in a draft); 提交 also needs each SPEC 1.5 declaration
    ticked (readiness.problems says which are missing). 可兑付服务费 is the eligible part of a mixed contract (e.g. the
    testing in a development contract, agreed in a 补充协议); empty: the whole contract."""
    contract_amount = MoneyField("合同金额（元）", validators=[positive])
    eligible_fee = MoneyField("可兑付服务费（元）", validators=[positive])

    AMOUNTS = ("contract_amount", "eligible_fee")

    def amounts_valid(self) -> bool:
        return all([self[name].validate(self) for name in self.AMOUNTS])

    def apply_amounts(self, claim) -> None:
        claim.contract_amount_fen, claim.eligible_fee_fen = self.contract_amount.data, self.eligible_fee.data
    declarations = SelectMultipleField("声明", choices=choices(readiness.DECLARATIONS.items()),
                                       widget=ListWidget(prefix_label=False), option_widget=CheckboxInput())
