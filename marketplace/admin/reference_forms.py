"""Forms of the reference data pages (/admin/reference)."""
from wtforms import SelectField, StringField
from wtforms.validators import DataRequired, Length

from ..forms import Form, blank, choices


def name_field(**options) -> StringField:
    """The name of a field, category or kind; `id` keeps two add forms on one page apart."""
    return StringField("名称", filters=[lambda value: (value or "").strip()],
                       validators=[DataRequired(message="请填写名称"), Length(max=50, message="名称不超过50字")],
                       **options)


class NameForm(Form):
    """Adding or renaming a 服务领域 (or renaming a category)."""
    name = name_field()


class CategoryForm(Form):
    """Adding a 服务类别: at the top level, or under a top-level one (two levels only)."""
    parent_id = SelectField("上级分类", choices=[], invalid_choice_message="上级分类不存在，请重新选择")
    name = name_field(id="category-name")

    def __init__(self, parents, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.parent_id.choices = choices(((str(p.id), p.name) for p in parents), blank="（作为一级分类）")

    @property
    def parent(self) -> int | None:
        return None if blank(self.parent_id.data) else int(self.parent_id.data)


class KindForm(Form):
    name = name_field()
    keywords = StringField("关键词", filters=[lambda value: " ".join((value or "").split())],
                           validators=[Length(max=500, message="关键词合计不超过500字")])


class MoveForm(Form):
    """上移 / 下移 among siblings."""
    direction = SelectField("方向", choices=choices((("up", "上移"), ("down", "下移"))))
