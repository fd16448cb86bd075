"""City settings (省地联动, SPEC 1.3 and 8): region override, matched enterprise types, ratio and cap.

Without a saved setting a city follows the policy defaults (marketplace.vouchers.local.default_rule);
"恢复默认" deletes the setting.
"""
from flask import abort, flash, redirect, render_template, request, url_for
from sqlalchemy import select

from .. import audit, policy
from ..extensions import db
from ..models import CitySetting
from ..vouchers import local
from ..vouchers.local import CityRule
from . import bp
from .forms import CitySettingForm

DEFAULT, CONFIGURED = "default", "configured"


@bp.get("/cities")
def cities():
    # One query for every saved setting: city_rule then finds each in the session's identity map, and the
    # other cities take default_rule, so there is no query per city.
    configured = {setting.city: setting for setting in db.session.scalars(select(CitySetting))}
    groups = [(region, [local.city_rule(city) if city in configured else local.default_rule(city)
                        for city in region_cities])
              for region, region_cities in policy.REGIONS.items()]
    return render_template("admin/cities.html", groups=groups, spec_region=policy.region_of)


@bp.route("/cities/<city>", methods=["GET", "POST"])
def city_settings(city: str):
    city = _jiangsu_city(city)
    rule = local.city_rule(city)
    form = CitySettingForm(city, data=_form_data(rule))
    if not form.validate_on_submit():
        status = 422 if form.is_submitted() else 200
        return render_template("admin/city_form.html", confirming_reset=False, form=form, rule=rule,
                               default=local.default_rule(city)), status
    setting = db.session.get(CitySetting, city) or CitySetting(city=city)
    _apply(form, setting)
    db.session.add(setting)
    db.session.flush()
    audit.record("city_setting", city, "update", _state(rule), CONFIGURED, describe_change(rule, local.city_rule(city)))
    db.session.commit()
    flash(f"已保存{city}市的地方配套设置。", "success")
    return redirect(url_for("admin.cities"), 303)


@bp.route("/cities/<city>/reset", methods=["GET", "POST"])
def city_reset(city: str):
    """GET asks for confirmation (the no-JS path); POST deletes the setting, back to the policy defaults."""
    city = _jiangsu_city(city)
    rule, default = local.city_rule(city), local.default_rule(city)
    if request.method == "GET":
        return render_template("admin/city_form.html", confirming_reset=True, rule=rule, default=default)
    setting = db.session.get(CitySetting, city)
    if setting is None:
        flash(f"{city}市已是默认设置。", "info")
        return redirect(url_for("admin.cities"), 303)
    db.session.delete(setting)
    audit.record("city_setting", city, "reset", CONFIGURED, DEFAULT, "恢复默认：" + describe_change(rule, default))
    db.session.commit()
    flash(f"{city}市已恢复默认的地方配套设置。", "success")
    return redirect(url_for("admin.cities"), 303)


def _jiangsu_city(city: str) -> str:
    try:
        return policy.normalize_city(city)
    except ValueError:
        abort(404)


def _form_data(rule: CityRule) -> dict:
    return {"region_override": rule.region if rule.region != policy.region_of(rule.city) else "",
            "identities": list(rule.identities), "province_part": rule.ratio.denominator,
            "local_part": rule.ratio.numerator, "cap": rule.cap_fen, "contact": rule.contact}


def _apply(form: CitySettingForm, setting: CitySetting) -> None:
    chosen = form.region_override.data
    # Choosing the region the city is in anyway is no override: the city keeps following SPEC 1.1.
    setting.region_override = chosen if chosen and chosen != policy.region_of(setting.city) else None
    setting.local_identities = ",".join(code for code in local.ALL_IDENTITIES if code in form.identities.data)
    setting.local_ratio_den, setting.local_ratio_num = form.province_part.data, form.local_part.data
    setting.local_cap_fen = form.cap.data
    setting.contact = form.contact.data.strip()


def _state(rule: CityRule) -> str:
    return CONFIGURED if rule.configured else DEFAULT


def summary(rule: CityRule) -> dict[str, str]:
    """The rule as the reviewer reads it, one labelled value per setting."""
    return {"地区": rule.region, "配套企业类型": "、".join(rule.identity_labels) or "无",
            "省:市": rule.ratio_label, "每年上限": f"{policy.format_yuan(rule.cap_fen)}元",
            "联系方式": rule.contact or "无"}


def describe_change(old: CityRule, new: CityRule) -> str:
    """"省:市 7:3 → 1:1；每年上限 60,000.00元 → 80,000.00元" — only what changed."""
    before, after = summary(old), summary(new)
    changes = [f"{label} {before[label]} → {after[label]}" for label in before if before[label] != after[label]]
    return "；".join(changes) or "内容未变"
