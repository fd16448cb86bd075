"""The mall's public pages: home, service detail with the live voucher estimate, shop, instrument, 本地服务.
(The search, GET /services, lives in search_views.py.)"""
import re
from dataclasses import replace

from flask import current_app, redirect, render_template, request, url_for
from flask_login import current_user
from markupsafe import Markup
from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload

from .. import policy, related_parties
from ..errors import not_found
from ..extensions import db
from ..htmx import is_htmx, render_either
from ..models import Category, Instrument, InstrumentStatus, Provider, Service, ServiceStatus, ShopStatus
from ..pagination import Page, page_number, paginate
from . import bp, cache, estimate, queries, showcase

TOPICS = ("半导体", "新材料", "生物医药")  # 产业服务专题 on the home page
SHOP_TABS = {"home": "首页", "services": "服务", "instruments": "仪器"}
LATEST_ON_SHOP_HOME = 4
PROVIDERS_PER_PAGE = 12
_TAG_SEPARATORS = re.compile(r"[,，、;；\s]+")


@bp.get("/")
def home():
    counters, catalog = cache.rendered(("home",), _home_catalog)
    return render_template("catalog/home.html", counters=replace(counters, deals=queries.deals()), catalog=catalog)


def _home_catalog() -> tuple[queries.Counters, Markup]:
    """What the home page shows of the catalog: its counts, and the HTML below the counters."""
    latest = db.session.scalars(queries.listed_services().order_by(Service.published_at.desc()).limit(8)).all()
    fields = queries.fields()
    field_ids = {f.name: f.id for f in fields}
    topics = [(name, field_ids.get(name)) for name in TOPICS]
    return queries.catalog_counters(), Markup(render_template(
        "catalog/partials/home_catalog.html", fields=fields, topics=topics, categories=queries.category_tree(),
        latest=latest))


# ---------------------------------------------------------------- service detail and its estimate

@bp.get("/services/<int:service_id>")
def service_detail(service_id: int):
    service, counts = _visible_service(service_id)
    quantity = estimate.parse_quantity(request.args.get("quantity"))
    return render_template("catalog/service_detail.html", service=service, provider=service.provider,
                           tags=[t for t in _TAG_SEPARATORS.split(service.tags or "") if t], counts=counts,
                           quantity=quantity, **_estimates(service, quantity))


@bp.get("/services/<int:service_id>/estimate")
def service_estimate(service_id: int):
    """The estimate fragment for a quantity; without htmx, the detail page showing that quantity."""
    service, _counts = _visible_service(service_id)
    quantity = estimate.parse_quantity(request.args.get("quantity"))
    if not is_htmx():
        return redirect(url_for("catalog.service_detail", service_id=service.id, quantity=quantity))
    return render_template("catalog/partials/estimate.html", service=service, quantity=quantity,
                           **_estimates(service, quantity))


def _visible_service(service_id: int) -> tuple[Service, showcase.ShopCounts]:
    """The listed service with all its page shows, and its shop's counts, in three queries: the service with the
    counts beside it, its fields, its images. (Fields joined in would cost one query less but, as a LEFT JOIN of
    service_fields JOIN fields, make SQLite read all of service_fields: 16 ms at 35,000 services.)"""
    shop = Service.provider_id
    stmt = (select(Service, showcase.listed_services_of(shop), showcase.instruments_of(shop))
            .where(Service.id == service_id)
            .options(joinedload(Service.provider).joinedload(Provider.user), joinedload(Service.instrument),
                     joinedload(Service.category).joinedload(Category.parent), selectinload(Service.fields),
                     selectinload(Service.images)))
    row = db.session.execute(stmt).unique().first()
    service = row[0] if row else None
    if service is None or service.status != ServiceStatus.LISTED or service.provider.status != ShopStatus.OPEN:
        raise not_found("该服务不存在或已下架。")
    return service, showcase.ShopCounts(*row[1:])


def _estimates(service: Service, quantity: int) -> dict:
    """A signed-in enterprise sees its own estimate (none from a related-party provider, and why); everyone else the
    terms of each region. Per request, never kept: it depends on who asks."""
    amount = estimate.quote_fen(service.price_fen, quantity)
    refusal = estimate.refusal_of(service)
    if estimate.is_enterprise(current_user):
        buyer = estimate.buyer_of(current_user)  # its voucher and application in one query
        refusal = refusal or related_parties.refusal(buyer.related_to(service.provider))
        return {"estimate": estimate.estimate_for(current_user, amount, refusal, buyer), "regions": []}
    return {"estimate": None, "regions": estimate.by_region(amount, refusal)}


# ---------------------------------------------------------------- shop and instrument

@bp.get("/shops/<int:provider_id>")
def shop(provider_id: int):
    provider = db.session.get(Provider, provider_id)
    if provider is None or provider.status not in showcase.VISIBLE_SHOP:
        raise not_found("该店铺不存在或尚未开店。")
    tab = request.args.get("tab", "home")
    tab = tab if tab in SHOP_TABS else "home"
    per_page = current_app.config["PER_PAGE"]
    page = latest = None
    if tab == "services":
        page = paginate(showcase.shop_services(provider), per_page)
    elif tab == "instruments":
        page = paginate(showcase.shop_instruments(provider), per_page)
    else:
        latest = db.session.scalars(showcase.shop_services(provider).limit(LATEST_ON_SHOP_HOME)).all()
    return render_either("catalog/shop.html", "catalog/partials/shop_tab.html", provider=provider, tab=tab,
                         tabs=SHOP_TABS, counts=showcase.shop_counts([provider.id])[provider.id], page=page,
                         latest=latest, instrument_status=InstrumentStatus.LABELS)


@bp.get("/instruments/<int:instrument_id>")
def instrument(instrument_id: int):
    instrument = db.session.scalar(
        select(Instrument).where(Instrument.id == instrument_id)
        .options(joinedload(Instrument.provider), joinedload(Instrument.field), selectinload(Instrument.images)))
    if instrument is None or instrument.provider.status not in showcase.VISIBLE_SHOP:
        raise not_found("该仪器不存在或所属服务单位尚未开店。")
    provider = instrument.provider
    return render_template("catalog/instrument.html", instrument=instrument, provider=provider,
                           services=showcase.instrument_services(instrument),
                           counts=showcase.shop_counts([provider.id])[provider.id],
                           instrument_status=InstrumentStatus.LABELS)


# ---------------------------------------------------------------- 本地服务

@bp.get("/local/<city>")
def local(city: str):
    try:
        city = policy.normalize_city(city)
    except ValueError:
        raise not_found(f"没有「{city[:20]}」的本地服务。本地服务按江苏省13个设区市提供："
                        f"{'、'.join(policy.CITIES)}。") from None
    summary = showcase.local_summary(city)
    shops = _page_of(summary.providers, "shops", PROVIDERS_PER_PAGE)
    providers = showcase.providers_by_id(p.id for p in shops.items)
    return render_template("catalog/local.html", city=city, summary=summary, shops=shops,
                           providers=[providers[p.id] for p in shops.items],
                           counts=showcase.shop_counts(providers),
                           services=paginate(showcase.local_services(city), current_app.config["PER_PAGE"]))


def _page_of(items: list, arg: str, per_page: int) -> Page:
    """One page of an already-loaded list; the page number comes from query argument `arg`."""
    number = page_number(arg)
    start = (number - 1) * per_page
    return Page(items[start:start + per_page], number, per_page, len(items))
