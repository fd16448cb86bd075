"""Form helpers shared by every area: Chinese messages and rule checks as WTForms validators."""
from typing import Callable, Optional

from flask_wtf import FlaskForm
from wtforms import SelectChoice, ValidationError


class Form(FlaskForm):
    """Base of every form: WTForms' own messages in Simplified Chinese."""

    class Meta:
        locales = ["zh"]


def choices(pairs, blank: str | None = None) -> list[SelectChoice]:
    """(value, label) pairs as WTForms choices, optionally led by an empty "please choose" option."""
    options = [SelectChoice("", blank)] if blank else []
    return options + [SelectChoice(value, label) for value, label in pairs]


def problem_check(check: Callable[[str], Optional[str]]):
    """Turn a `*_problem(value) -> message | None` rule into a WTForms validator."""
    def validator(_form, field):
        if field.data:
            message = check(field.data)
            if message:
                raise ValidationError(message)
    return validator
