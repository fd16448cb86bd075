"""添加服务信息 (SPEC 3.2): the listing form, its money field and its rules."""
import re
from functools import cached_property

from sqlalchemy import select
from wtforms import (
    BooleanField,
    RadioField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
    ValidationError,
)
from wtforms.validators import DataRequired, InputRequired, Length
from wtforms.widgets import CheckboxInput, ListWidget

from .. import policy, uploads
from ..extensions import db
from ..forms import Form, MoneyField, choices
from ..ids import as_id
from ..models import PRICE_UNITS, Category, Field, Instrument, InstrumentStatus, NonEligibleKind, ServiceNature
from ..uploads.fields import MultiUploadField, UploadField

SERVICE_TYPES = ("普通服务", "加急服务", "上门服务")
MAX_IMAGES = 5
MAX_TAGS = 10
_TAG_SEPARATORS = re.compile(r"[,，、;；\n]+")


def optional_int(value):
    """Select values as ids: "" or anything that cannot be an id is None (then "please choose" applies)."""
    return as_id(value)


def description_length_problem(text: str) -> str | None:
    count = len(text.strip())
    low, high = policy.SERVICE_DESCRIPTION_MIN, policy.SERVICE_DESCRIPTION_MAX
    if not low <= count <= high:
        return f"服务描述需{low}-{high}字，当前{count}字"
    return None


def normalize_tags(text: str) -> str:
    """"抗疫，电镜、 Raman  spectra" -> "抗疫,电镜,Raman spectra": separators unified to ASCII commas,
    spaces inside a tag collapsed, duplicates dropped."""
    tags = (" ".join(tag.split()) for tag in _TAG_SEPARATORS.split(text or ""))
    return ",".join(dict.fromkeys(tag for tag in tags if tag))


def category_choices() -> list:
    """Second-level categories, grouped by their parent in <optgroup>s."""
    parents = db.session.scalars(select(Category).where(Category.parent_id.is_(None))
                                 .order_by(Category.position, Category.id)).all()
    options = choices([], blank="请选择")
    for parent in parents:
        options += [SelectChoice(str(child.id), child.name, optgroup=parent.name) for child in parent.children]
    return options


def excluded_categories() -> dict[int, str]:
    """Categories the voucher never pays for (SPEC 1.5): a service there cannot carry the 创新券 mark."""
    rows = db.session.execute(select(Category.id, Category.name).where(Category.voucher_excluded.is_(True))
                              .order_by(Category.position, Category.id))
    return dict(rows.all())


def non_eligible_kind(*texts: str) -> NonEligibleKind | None:
    """The first 不支持的服务类型 (SPEC 1.5, kept at /admin/reference) whose terms occur in `texts`."""
    kinds = db.session.scalars(select(NonEligibleKind).order_by(NonEligibleKind.position, NonEligibleKind.id))
    return next((kind for kind in kinds if kind.matches(*texts)), None)


def field_choices(blank: str | None = None) -> list:
    fields = db.session.scalars(select(Field).order_by(Field.position, Field.id))
    return choices(((str(f.id), f.name) for f in fields), blank=blank)


def instrument_choices(provider_id: int) -> list:
    instruments = db.session.scalars(select(Instrument).where(Instrument.provider_id == provider_id)
                                     .order_by(Instrument.name, Instrument.id))
    return choices(((str(i.id), _instrument_label(i)) for i in instruments), blank="不关联仪器")


def _instrument_label(instrument: Instrument) -> str:
    model = f"（{instrument.model}）" if instrument.model else ""
    retired = "【已停用】" if instrument.status == InstrumentStatus.RETIRED else ""
    return f"{instrument.name}{model}{retired}"


def valid_ids(field) -> set:
    return {optional_int(choice.value) for choice in field.choices} - {None}


class ServiceForm(Form):
    nature = RadioField("服务性质", choices=choices(ServiceNature.LABELS.items()),
                        validators=[InputRequired(message="请选择服务性质")], validate_choice=False)
    name = StringField("服务名称", validators=[DataRequired(message="请填写服务名称"),
                                            Length(max=100, message="服务名称不超过100字")])
    instrument_id = SelectField("仪器名称", coerce=optional_int, validate_choice=False)
    description = TextAreaField("服务描述", validators=[DataRequired(message="请填写服务描述")])
    service_type = SelectField("服务类型", choices=choices((t, t) for t in SERVICE_TYPES), default=SERVICE_TYPES[0],
                               validate_choice=False)
    cycle = StringField("服务周期", validators=[DataRequired(message="请填写服务周期，如 7-10个自然日"),
                                            Length(max=50, message="服务周期不超过50字")])
    has_qualification = RadioField("服务是否有资质", choices=choices((("1", "有资质"), ("0", "无资质"))),
                                   validators=[InputRequired(message="请选择服务是否有资质")], validate_choice=False)
    display_image = UploadField("服务展示图", accept=(uploads.IMAGE,), square=True)
    images = MultiUploadField("仪器图片", accept=(uploads.IMAGE,), max_files=MAX_IMAGES, square=True)
    category_id = SelectField("服务类别", coerce=optional_int, validate_choice=False,
                              validators=[InputRequired(message="请选择服务类别")])
    field_ids = SelectMultipleField("服务领域", coerce=optional_int, validate_choice=False,
                                    widget=ListWidget(prefix_label=False), option_widget=CheckboxInput())
    price = MoneyField("服务价格（元）")
    price_unit = SelectField("计价单位", choices=choices((u, u) for u in PRICE_UNITS), default=PRICE_UNITS[0],
                             validate_choice=False)
    negotiable = BooleanField("面议")
    tags = StringField("服务标签", validators=[Length(max=200, message="服务标签合计不超过200字")])
    qualification_desc = TextAreaField("服务资质描述", validators=[Length(max=2000, message="不超过2000字")])
    standards = TextAreaField("检测标准/方法", validators=[Length(max=2000, message="不超过2000字")])
    sample_requirements = TextAreaField("样品要求", validators=[Length(max=2000, message="不超过2000字")])
    voucher_eligible = BooleanField("创新券标识（本服务可使用省科技创新券）", default=True)

    def __init__(self, provider_id: int, **kwargs):
        super().__init__(**kwargs)
        self.instrument_id.choices = instrument_choices(provider_id)
        self.category_id.choices = category_choices()
        self.field_ids.choices = field_choices()

    def validate_nature(self, field):
        if field.data not in ServiceNature.LABELS:
            raise ValidationError("请选择服务性质")

    def validate_instrument_id(self, field):
        chosen = field.raw_data and field.raw_data[0]
        if chosen and field.data not in valid_ids(field):
            raise ValidationError("请选择本单位登记的仪器")

    def validate_description(self, field):
        problem = description_length_problem(field.data or "")
        if problem:
            raise ValidationError(problem)

    def validate_service_type(self, field):
        if field.data not in SERVICE_TYPES:
            raise ValidationError("请选择服务类型")

    def validate_has_qualification(self, field):
        if field.data not in ("1", "0"):
            raise ValidationError("请选择服务是否有资质")

    def validate_category_id(self, field):
        if field.data not in valid_ids(field):
            raise ValidationError("请选择服务类别")

    def validate_field_ids(self, field):
        if not field.data:
            raise ValidationError("请至少选择一个服务领域")
        if not set(field.data) <= valid_ids(field):
            raise ValidationError("服务领域无效，请重新选择")

    def validate_price(self, field):
        if field.errors:
            return
        if self.negotiable.data and field.data is not None:
            raise ValidationError("已选择面议，请不要填写价格")
        if not self.negotiable.data and field.data is None:
            raise ValidationError("请填写价格，或选择面议")

    def validate_price_unit(self, field):
        if not self.negotiable.data and field.data not in PRICE_UNITS:
            raise ValidationError("请选择计价单位")

    def validate_tags(self, field):
        tags = normalize_tags(field.data).split(",")
        if len(tags) > MAX_TAGS:
            raise ValidationError(f"服务标签最多{MAX_TAGS}个")
        if any(len(tag) > 20 for tag in tags):
            raise ValidationError("每个服务标签不超过20字")

    def validate_qualification_desc(self, field):
        if self.has_qualification.data == "1" and not (field.data or "").strip():
            raise ValidationError("有资质的服务请描述资质（如CMA/CNAS证书编号、认可范围）")

    @property
    def price_fen(self) -> int | None:
        return None if self.negotiable.data else self.price.data

    @cached_property
    def voucher_exclusion(self) -> str | None:
        """Why this service cannot carry the 创新券 mark: its category, or a non-eligible kind in its text."""
        if self.category_id.data in excluded_categories():
            return "所选服务类别不属于创新券支持范围"
        kind = non_eligible_kind(self.name.data or "", self.description.data or "")
        return f"服务内容属于创新券不支持的服务类型（{kind.name}）" if kind else None
