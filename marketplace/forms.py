"""Form helpers shared by every area: Chinese messages and rule checks as WTForms validators."""
from collections.abc import Callable

from flask_wtf import FlaskForm
from wtforms import SelectChoice, SelectField, StringField, ValidationError

from .validators import format_money_input, parse_money


class Form(FlaskForm):
    """Base of every form: WTForms' own messages in Simplified Chinese."""

    class Meta:
        locales = ["zh"]

    @staticmethod
    def fail(field, message: str) -> None:
        field.errors = [*field.errors, message]

    def require_filled(self, names) -> bool:
        """Mark each named field left blank (and otherwise valid) as missing; True when none is."""
        complete = True
        for name in names:
            field = self[name]
            if not field.errors and blank(field.data):
                self.fail(field, missing_message(field))
                complete = False
        return complete


def own_ids(form, prefix: str):
    """Give the form's fields (and their labels and error lines) ids of their own: a page that holds several forms
    with the same field names (one per invoice, one per order row) keeps every id unique."""
    for field in form:
        field.id = field.label.field_id = f"{prefix}-{field.name}"
    return form


def blank(value) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def tidy(text):
    """Typed text as stored: trimmed, with the browser's CRLF line breaks made plain newlines."""
    return text.strip().replace("\r\n", "\n") if isinstance(text, str) else text


def missing_message(field) -> str:
    if field.type.endswith("UploadField"):
        return f"请上传{field.label.text}"
    if isinstance(field, SelectField):
        return f"请选择{field.label.text}"
    return f"请填写{field.label.text}"


YES_NO = (("1", "是"), ("0", "否"))


def yes_no(value):
    """Coerce a 是/否 choice (form text or the model's bool) to True / False / None (not chosen)."""
    if value in (True, "1"):
        return True
    if value in (False, "0"):
        return False
    return None


class YesNoField(SelectField):
    def __init__(self, label, **kwargs):
        super().__init__(label, choices=choices(YES_NO, "请选择"), coerce=yes_no, **kwargs)


def choices(pairs, blank: str | None = None) -> list[SelectChoice]:
    """(value, label) pairs as WTForms choices, optionally led by an empty "please choose" option."""
    options = [SelectChoice("", blank)] if blank else []
    return options + [SelectChoice(value, label) for value, label in pairs]


def problem_check(check: Callable[[str], str | None]):
    """Turn a `*_problem(value) -> message | None` rule into a WTForms validator."""
    def validator(_form, field):
        if field.data:
            message = check(field.data)
            if message:
                raise ValidationError(message)
    return validator


class MoneyField(StringField):
    """An amount typed in 元 (or 万元), held as integer fen in `data` (None when empty); what the user
    typed is shown again when the form comes back with an error."""

    def __init__(self, label=None, validators=None, unit: str = "元", allow_negative: bool = False, **kwargs):
        super().__init__(label, validators, **kwargs)
        self.unit, self.allow_negative = unit, allow_negative

    def process_formdata(self, valuelist):
        self.data = None
        if valuelist:
            self.data = parse_money(valuelist[0], self.unit, self.allow_negative)

    def _value(self):
        return self.raw_data[0] if self.raw_data else format_money_input(self.data, self.unit)
