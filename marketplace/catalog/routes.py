from flask import abort, current_app, render_template
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload, selectinload

from ..extensions import db
from ..models import Category, Instrument, Provider, Service, ServiceStatus, ShopStatus
from ..pagination import paginate
from . import bp, queries


TOPICS = ("半导体", "新材料", "生物医药")  # 产业服务专题 on the home page


@bp.get("/")
def home():
    latest = db.session.scalars(queries.listed_services().order_by(Service.published_at.desc()).limit(8)).all()
    fields = queries.fields()
    field_ids = {f.name: f.id for f in fields}
    topics = [(name, field_ids.get(name)) for name in TOPICS]
    return render_template("catalog/home.html", counters=queries.counters(), fields=fields, topics=topics,
                           categories=queries.category_tree(), latest=latest)


@bp.get("/services/<int:service_id>")
def service_detail(service_id: int):
    service = db.session.scalar(
        select(Service).where(Service.id == service_id)
        .options(joinedload(Service.provider), joinedload(Service.instrument), joinedload(Service.category)
                 .joinedload(Category.parent), selectinload(Service.fields), selectinload(Service.images)))
    if service is None or not _publicly_visible(service):
        abort(404)
    return render_template("catalog/service_detail.html", service=service, provider=service.provider)


def _publicly_visible(service: Service) -> bool:
    return service.status == ServiceStatus.LISTED and service.provider.status == ShopStatus.OPEN


@bp.get("/shops/<int:provider_id>")
def shop(provider_id: int):
    provider = db.session.get(Provider, provider_id)
    if provider is None or provider.status not in (ShopStatus.OPEN, ShopStatus.REMOVED):
        abort(404)
    stmt = (select(Service).where(Service.provider_id == provider.id, Service.status == ServiceStatus.LISTED)
            .options(joinedload(Service.category)).order_by(Service.published_at.desc()))
    page = paginate(stmt, current_app.config["PER_PAGE"])
    instrument_count = db.session.scalar(select(func.count(Instrument.id)).where(Instrument.provider_id == provider.id))
    return render_template("catalog/shop.html", provider=provider, page=page, instrument_count=instrument_count)
