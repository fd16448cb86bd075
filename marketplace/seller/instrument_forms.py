"""仪器管理 (SPEC 3.3): the instrument form and its status choice."""
from wtforms import SelectField, StringField, TextAreaField, ValidationError
from wtforms.validators import DataRequired, Length

from .. import uploads
from ..forms import Form, MoneyField, choices
from ..models import InstrumentStatus
from ..uploads.fields import MultiUploadField
from .service_forms import MAX_IMAGES, field_choices, optional_int, valid_ids


class InstrumentStatusForm(Form):
    status = SelectField("仪器状态", choices=choices(InstrumentStatus.LABELS.items()), validate_choice=False)

    def validate_status(self, field):
        if field.data not in InstrumentStatus.LABELS:
            raise ValidationError("请选择仪器状态")


class InstrumentForm(InstrumentStatusForm):
    name = StringField("仪器名称", validators=[DataRequired(message="请填写仪器名称"),
                                            Length(max=200, message="仪器名称不超过200字")])
    manufacturer = StringField("生产制造商", validators=[Length(max=200, message="生产制造商不超过200字")])
    model = StringField("型号", validators=[Length(max=100, message="型号不超过100字")])
    location = StringField("放置地点", validators=[Length(max=300, message="放置地点不超过300字")])
    original_value = MoneyField("原值（元）")
    field_id = SelectField("所属领域", coerce=optional_int, validate_choice=False)
    images = MultiUploadField("仪器图片", accept=(uploads.IMAGE,), max_files=MAX_IMAGES, square=True)
    description = TextAreaField("仪器介绍", validators=[Length(max=2000, message="仪器介绍不超过2000字")])

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.field_id.choices = field_choices(blank="请选择")

    def validate_original_value(self, field):
        if field.data is None and not field.errors:
            raise ValidationError("请填写仪器原值（元）")

    def validate_field_id(self, field):
        if field.raw_data and field.raw_data[0] and field.data not in valid_ids(field):
            raise ValidationError("请选择所属领域")
