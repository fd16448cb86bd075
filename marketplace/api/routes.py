"""GET /api/v1/services (the mall's search: same parameters, same hits, same order as /services) and
GET /api/v1/publicity (claims and shops in 公示). Parameters the page would drop with a note are refused here
with 400, so a portal never shows results for a filter that was silently ignored."""
from datetime import date

from flask import Response, request, url_for
from sqlalchemy import select
from werkzeug.datastructures import MultiDict

from ..catalog import queries
from ..catalog.search_views import parse_search_args
from ..errors import json_response
from ..extensions import db
from ..models import Field, Redemption, Service, UnitType, service_fields
from ..pagination import Page, paginate
from ..redemption.publicity import claims_in_publicity, shops_in_publicity
from ..validators import whole_number
from . import bp

DEFAULT_PER_PAGE, MAX_PER_PAGE = 20, 100
MAX_PAGE = 100_000
CACHE_SECONDS = 60


class BadParameters(Exception):
    def __init__(self, problems: list[tuple[str, str]]):
        super().__init__(problems)
        self.problems = problems  # (parameter, Chinese message)


@bp.errorhandler(BadParameters)
def bad_parameters(error: BadParameters):
    return json_response({"error": "；".join(message for _, message in error.problems),
                          "params": [param for param, _ in error.problems]}, 400)


@bp.after_request
def public_headers(response: Response) -> Response:
    """Read-only public data: any origin may read it (also the automatic OPTIONS and HEAD answers), and a
    minute's caching spares the search."""
    response.headers["Access-Control-Allow-Origin"] = "*"
    if response.status_code == 200:
        response.headers["Cache-Control"] = f"public, max-age={CACHE_SECONDS}"
    return response


@bp.get("/services")
def services():
    args, notes = parse_search_args(request.args)
    problems = [(note.param, note.problem) for note in notes]
    page_no, per_page = _paging(request.args, problems)
    page = queries.search_services(args, page_no, per_page)
    fields = _field_names([service.id for service in page.items])
    return json_response({"items": [_service(service, fields.get(service.id, [])) for service in page.items],
                          **_paging_fields(page, "api.services", args.params())})


@bp.get("/publicity")
def publicity():
    page_no, per_page = _paging(request.args, [])
    page = paginate(claims_in_publicity(), per_page, page_no, scalars=False)
    return json_response({"claims": [_claim(claim, batch.starts_on, batch.ends_on) for claim, batch in page.items],
                          "shops": [_shop(provider, batch.starts_on, batch.ends_on)
                                    for provider, batch in shops_in_publicity()],
                          **_paging_fields(page, "api.publicity", {})})


# ---------------------------------------------------------------- paging

def _paging(values: MultiDict, problems: list[tuple[str, str]]) -> tuple[int, int]:
    """(page, per_page); raises BadParameters with `problems` and any of its own. per_page above the cap is
    served at the cap rather than refused."""
    page = _whole_number(values, "page", 1, problems)
    if page is not None and page > MAX_PAGE:
        problems.append(("page", f"page不能超过{MAX_PAGE}"))
    per_page = _whole_number(values, "per_page", DEFAULT_PER_PAGE, problems)
    if problems:
        raise BadParameters(problems)
    return page, min(per_page, MAX_PER_PAGE)


def _whole_number(values: MultiDict, name: str, default: int, problems: list) -> int | None:
    raw = values.get(name, "").strip()
    if not raw:
        return default
    number = whole_number(raw)
    if number:
        return number
    problems.append((name, f"{name}应为正整数"))
    return None


def _paging_fields(page: Page, endpoint: str, params: dict) -> dict:
    next_url = None
    if page.has_next:
        wanted = dict(params, page=page.page + 1, per_page=None if page.per_page == DEFAULT_PER_PAGE else page.per_page)
        next_url = url_for(endpoint, _external=True, **wanted)
    fields = {"page": page.page, "per_page": page.per_page, "total": page.total, "pages": page.pages, "next": next_url}
    if getattr(page, "more", False):  # a search counted only up to its bound: total and pages are lower bounds
        fields["total_is_lower_bound"] = True
    return fields


# ---------------------------------------------------------------- rows as JSON

def _service(service: Service, fields: list[str]) -> dict:
    category = service.category
    return {
        "id": service.id,
        "name": service.name,
        "provider": {"id": service.provider.id, "name": service.provider.name, "city": service.provider.city},
        "price_fen": service.price_fen,
        "price_yuan": _yuan(service.price_fen),
        "price_unit": None if service.negotiable else service.price_unit,
        "negotiable": service.negotiable,
        "voucher_eligible": service.voucher_eligible,
        "fields": fields,
        "category": None if category is None else {
            "id": category.id, "name": category.name,
            "parent": None if category.parent is None else {"id": category.parent.id, "name": category.parent.name}},
        "url": url_for("catalog.service_detail", service_id=service.id, _external=True),
    }


def _field_names(service_ids: list[int]) -> dict[int, list[str]]:
    """Each service's 服务领域 names in the fields' order, in one query for the whole page."""
    rows = db.session.execute(select(service_fields.c.service_id, Field.name)
                              .join(Field, Field.id == service_fields.c.field_id)
                              .where(service_fields.c.service_id.in_(service_ids))
                              .order_by(Field.position, Field.id))
    names: dict[int, list[str]] = {}
    for service_id, name in rows:
        names.setdefault(service_id, []).append(name)
    return names


def _claim(claim: Redemption, starts_on: date, ends_on: date) -> dict:
    return {
        "id": claim.id,
        "enterprise": claim.enterprise.name,
        "provider": claim.order.provider.name if claim.order else claim.provider_name,
        "approved_fen": claim.approved_fen,
        "approved_yuan": _yuan(claim.approved_fen),
        "starts_on": starts_on.isoformat(),
        "ends_on": ends_on.isoformat(),
    }


def _shop(provider, starts_on: date, ends_on: date) -> dict:
    return {"id": provider.id, "name": provider.name, "credit_code": provider.credit_code,
            "unit_type": UnitType.LABELS.get(provider.unit_type, provider.unit_type), "city": provider.city,
            "starts_on": starts_on.isoformat(), "ends_on": ends_on.isoformat()}


def _yuan(fen: int | None) -> str | None:
    """Exact decimal yuan for machines: 12300 -> "123.00" (no thousands separator); None (面议) stays None."""
    if fen is None:
        return None
    yuan, cents = divmod(fen, 100)
    return f"{yuan}.{cents:02d}"
