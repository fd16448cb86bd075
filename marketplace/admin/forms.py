from wtforms import TextAreaField

from ..forms import Form
from wtforms.validators import DataRequired, Length


class DecisionForm(Form):
    """Approve needs nothing; reject requires a reason the applicant will read."""
    reason = TextAreaField("原因", validators=[Length(max=500, message="原因不超过500字")])


class RejectForm(Form):
    reason = TextAreaField("不通过原因", validators=[DataRequired(message="请填写不通过的原因"),
                                                Length(max=500, message="原因不超过500字")])
