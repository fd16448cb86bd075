"""GET /services: the mall's search, answering the full page or, for htmx, what is below its header.
Filter values that make no sense are dropped with a note, never an error (the JSON API refuses them instead).
What is below the header depends only on the query string and the catalog, so each worker keeps it (cache.py)."""
from dataclasses import replace
from typing import NamedTuple

from flask import current_app, render_template, request
from markupsafe import Markup
from werkzeug.datastructures import MultiDict

from .. import policy
from ..extensions import db
from ..htmx import is_htmx
from ..ids import as_id
from ..models import Category, Field
from ..pagination import page_number
from ..validators import parse_money
from . import bp, cache, queries
from .cards import service_cards

MAX_QUERY = 100
bp.add_app_template_global(MAX_QUERY, "max_search_query")  # the search boxes' maxlength


class Note(NamedTuple):
    """A search parameter that was dropped: the page shows the sentence, the API names the parameter."""
    param: str
    problem: str
    fallback: str

    def __str__(self) -> str:
        return f"{self.problem}，{self.fallback}。"


@bp.get("/services")
def services():
    fragment = is_htmx()
    config = current_app.config
    key = ("services", fragment, request.query_string, config["PER_PAGE"], config.get("SEARCH_SUBSTRING_SCAN"))
    args, content = cache.rendered_page(key, lambda: _search_content(fragment))
    if fragment:
        return content
    return render_template("catalog/services.html", args=args, content=content)


def _search_content(fragment: bool) -> tuple[queries.SearchArgs, Markup]:
    """The search as read from the URL and the HTML below the header: title, filters and results. htmx swaps it
    whole (with the window title, the header's search box and the main nav), so after Back or Forward every
    control says what the URL says."""
    args, notes = parse_search_args(request.args)
    ids = queries.search_ids(args, page_number(), current_app.config["PER_PAGE"])
    page = replace(ids, items=service_cards(ids.items))
    fields, categories = cache.rendered(("filter choices",), queries.filter_choices)
    districts = queries.districts(args.city) if args.city else []
    return args, Markup(render_template(
        "catalog/partials/search_page.html", args=args, page=page, notes=notes, fields=fields,
        categories=categories, sorts=queries.SORTS, districts=districts,
        active=active_filters(args, fields, categories), fragment=fragment))


def active_filters(args: queries.SearchArgs, fields: list[queries.Choice],
                   categories: list[queries.Choice]) -> list[str]:
    """The search's conditions in words, sort last: the summary a phone shows of its folded filters."""
    field_names = {f.id: f.name for f in fields}
    category_names = {c.id: c.name for top in categories for c in (top, *top.children)}
    prices = args.params()
    low, high = prices.get("price_min"), prices.get("price_max")
    words = [f"“{args.q}”" if args.q else "", field_names.get(args.field, ""), category_names.get(args.category, ""),
             f"{args.city}市{args.district}" if args.city else "",
             f"{low or 0}–{high} 元" if high else f"{low} 元以上" if low else "",
             "创新券服务" if args.voucher else "", "有资质" if args.qualified else "",
             queries.SORTS[args.sort]]
    return [word for word in words if word]


def parse_search_args(values: MultiDict) -> tuple[queries.SearchArgs, list[Note]]:
    """The search the parameters ask for, as /services and /api/v1/services read them, and the dropped ones."""
    notes: list[Note] = []
    city = _city(values.get("city", "").strip(), notes)
    district = values.get("district", "").strip()
    if district and not (city and queries.has_district(city, district)):
        district = ""  # left over from the city chosen before
    price_min = _price(values.get("price_min", ""), "price_min", "最低价", notes)
    price_max = _price(values.get("price_max", ""), "price_max", "最高价", notes)
    if price_min is not None and price_max is not None and price_min > price_max:
        price_min, price_max = price_max, price_min
    sort = values.get("sort") or "relevance"
    if sort not in queries.SORTS:
        notes.append(Note("sort", "没有这种排序方式", "已按综合排序显示"))
        sort = "relevance"
    args = queries.SearchArgs(
        q=values.get("q", "").strip()[:MAX_QUERY], city=city, district=district,
        field=_known_id(values.get("field", ""), "field", Field, "服务领域", notes),
        category=_known_id(values.get("category", ""), "category", Category, "服务类别", notes),
        price_min_fen=price_min, price_max_fen=price_max, voucher=values.get("voucher") == "1",
        qualified=values.get("qualified") == "1", sort=sort)
    return args, notes


def _city(raw: str, notes: list[Note]) -> str:
    if not raw:
        return ""
    try:
        return policy.normalize_city(raw)
    except ValueError:
        notes.append(Note("city", f"“{raw}”不是江苏省的设区市", "已按全省显示"))
        return ""


def _known_id(raw: str, param: str, model, what: str, notes: list[Note]) -> int | None:
    raw = raw.strip()
    if not raw:
        return None
    number = as_id(raw)
    if number is not None and db.session.get(model, number) is not None:
        return number
    notes.append(Note(param, f"没有这个{what}", "已忽略该条件"))
    return None


def _price(raw: str, param: str, what: str, notes: list[Note]) -> int | None:
    """Yuan as typed ("1,200" or "99.5") to fen; a bad value is ignored with a note."""
    try:
        return parse_money(raw)
    except ValueError as error:
        notes.append(Note(param, f"{what}：{error}", "已忽略"))
        return None
