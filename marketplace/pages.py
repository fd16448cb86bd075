"""Public information pages: the policy explained, and the publicity (公示) list with its objections."""

from flask import Blueprint, current_app, flash, make_response, redirect, render_template, request, url_for
from flask_login import current_user
from wtforms import TextAreaField
from wtforms.validators import DataRequired, Length

from . import calculator
from .accounts.access import roles_required
from .errors import render_error
from .extensions import db
from .forms import Form, tidy
from .htmx import is_htmx
from .models import Redemption, RedemptionStatus, UnitType
from .pagination import paginate
from .redemption import settlement
from .redemption.publicity import claims_in_publicity, paused, shops_in_publicity

bp = Blueprint("pages", __name__)


@bp.get("/policy")
def policy():
    form, calculation = calculator.from_query(request.args)
    return render_template("pages/policy.html", form=form, calc=calculation), 422 if form.errors else 200


@bp.get("/policy/calculate")
def policy_calculate():
    """The calculator's result for htmx (errors swapped out-of-band next to their fields); the URL
    bar follows the policy page's own URL for the same inputs, which is also where non-htmx requests go."""
    page_url = url_for("pages.policy", **request.args.to_dict())
    if not is_htmx():
        return redirect(page_url)
    form, calculation = calculator.from_query(request.args)
    response = make_response(render_template("pages/partials/calculator.html", form=form, calc=calculation),
                             422 if form.errors else 200)
    response.headers["HX-Replace-Url"] = page_url
    return response


class ObjectionForm(Form):
    reason = TextAreaField("异议内容和理由", filters=[tidy], validators=[
        DataRequired(message="请填写异议的内容和理由"), Length(max=2000, message="异议内容不能超过2000字")])


@bp.get("/publicity")
def publicity():
    return _publicity_page()


@bp.post("/publicity/<int:claim_id>/objection")
@roles_required()
def object_to_claim(claim_id: int):
    """异议 (SPEC 7.4): anyone signed in, while the claim is in publicity; it pauses the claim until the
    reviewer decides."""
    claim = db.session.get(Redemption, claim_id, with_for_update=True)
    if claim is None:
        return render_error(404)
    if claim.status != RedemptionStatus.PUBLICITY:
        db.session.rollback()
        return render_error(409, "该兑付已不在公示期内，不能再提出异议。")
    form = ObjectionForm()
    if not form.validate_on_submit():
        return _publicity_page(claim_id, form), 422
    try:
        settlement.lodge_objection(claim, current_user, form.reason.data)
    except settlement.Refused as refusal:  # one open per claim, a daily cap: said next to the text, which is kept
        db.session.rollback()
        form.fail(form.reason, str(refusal))
        return _publicity_page(claim_id, form), 429 if isinstance(refusal, settlement.TooMany) else 409
    db.session.commit()
    flash("异议已提交，平台将核实处理", "success")
    return redirect(url_for("pages.publicity", page=request.args.get("page") or None) + f"#claim-{claim_id}", 303)


def _publicity_page(objecting: int | None = None, form: ObjectionForm | None = None):
    """The claims in publicity with their period; `objecting` names the claim whose objection form came back
    with an error (shown open, with the text kept)."""
    page = paginate(claims_in_publicity(), current_app.config["PER_PAGE"], scalars=False)
    return render_template("pages/publicity.html", page=page,
                           paused=paused([claim.id for claim, _ in page.items]),
                           objecting=objecting, form=form or ObjectionForm(formdata=None),
                           shops=shops_in_publicity(),
                           unit_types=UnitType.LABELS)
