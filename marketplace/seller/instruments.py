"""仪器管理 (/seller/instruments): a provider's shareable instruments, which its services may name."""
from flask import abort, current_app, flash, redirect, render_template, url_for
from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload

from .. import audit
from ..accounts.access import roles_required
from ..extensions import db
from ..htmx import is_htmx
from ..models import Instrument, InstrumentImage, InstrumentStatus, Provider
from ..pagination import paginate
from . import bp
from .instrument_forms import InstrumentForm, InstrumentStatusForm
from .services import current_provider, writable_provider


def own_instrument(instrument_id: int) -> Instrument:
    instrument = db.session.scalar(select(Instrument).where(Instrument.id == instrument_id)
                                   .options(joinedload(Instrument.field),
                                            selectinload(Instrument.images).joinedload(InstrumentImage.file)))
    if instrument is None or instrument.provider_id != current_provider().id:
        abort(404)
    return instrument


@bp.get("/instruments")
@roles_required("provider")
def instruments():
    provider = current_provider()
    stmt = (select(Instrument).where(Instrument.provider_id == provider.id).options(joinedload(Instrument.field))
            .order_by(Instrument.updated_at.desc(), Instrument.id.desc()))
    page = paginate(stmt, current_app.config["PER_PAGE"])
    return render_template("seller/instruments.html", page=page, provider=provider, statuses=InstrumentStatus.LABELS)


def _form_data(instrument: Instrument) -> dict:
    return {"name": instrument.name, "manufacturer": instrument.manufacturer, "model": instrument.model,
            "location": instrument.location, "original_value": instrument.original_value_fen,
            "field_id": instrument.field_id, "status": instrument.status, "description": instrument.description,
            "images": [image.file for image in instrument.images]}


def _apply(form: InstrumentForm, instrument: Instrument) -> None:
    for name in ("name", "manufacturer", "model", "location", "description"):
        setattr(instrument, name, form[name].data.strip())
    instrument.original_value_fen = form.original_value.data
    instrument.field_id = form.field_id.data
    _set_status(instrument, form.status.data)
    instrument.images = [InstrumentImage(file=file, position=n) for n, file in enumerate(form.images.data)]


def _set_status(instrument: Instrument, status: str) -> None:
    if instrument.id is not None and instrument.status != status:
        audit.record("instrument", instrument.id, "status", instrument.status, status)
    instrument.status = status


def _render_form(form: InstrumentForm, instrument: Instrument | None, provider: Provider):
    return render_template("seller/instrument_form.html", form=form, instrument=instrument, provider=provider), \
        422 if form.is_submitted() else 200


@bp.route("/instruments/new", methods=["GET", "POST"])
@roles_required("provider")
def instrument_new():
    provider = writable_provider()
    form = InstrumentForm()
    if not form.validate_on_submit():
        return _render_form(form, None, provider)
    instrument = Instrument(provider=provider)
    _apply(form, instrument)
    db.session.add(instrument)
    db.session.flush()
    audit.record("instrument", instrument.id, "create", None, instrument.status)
    db.session.commit()
    flash(f"已添加仪器「{instrument.name}」。", "success")
    return redirect(url_for("seller.instruments"), 303)


@bp.route("/instruments/<int:instrument_id>/edit", methods=["GET", "POST"])
@roles_required("provider")
def instrument_edit(instrument_id: int):
    provider = writable_provider()
    instrument = own_instrument(instrument_id)
    form = InstrumentForm(data=_form_data(instrument))
    if not form.validate_on_submit():
        return _render_form(form, instrument, provider)
    _apply(form, instrument)  # a renamed instrument's services are reindexed on flush (catalog.search_index)
    db.session.commit()
    flash(f"已保存仪器「{instrument.name}」。", "success")
    return redirect(url_for("seller.instruments"), 303)


@bp.post("/instruments/<int:instrument_id>/status")
@roles_required("provider")
def instrument_status(instrument_id: int):
    writable_provider()
    instrument = own_instrument(instrument_id)
    form = InstrumentStatusForm()
    if not form.validate_on_submit():
        abort(400)  # the select offers only valid states: this request was not made by our page
    _set_status(instrument, form.status.data)
    db.session.commit()
    if is_htmx():
        return render_template("seller/partials/instrument_row.html", instrument=instrument,
                               statuses=InstrumentStatus.LABELS)
    flash(f"「{instrument.name}」已设为{InstrumentStatus.LABELS[instrument.status]}。", "success")
    return redirect(url_for("seller.instruments"), 303)
