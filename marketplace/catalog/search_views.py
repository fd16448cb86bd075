"""GET /services: the mall's search, answering the full page or, for htmx, the result fragment."""
from flask import current_app, request

from .. import policy
from ..htmx import render_either
from ..pagination import paginate
from . import bp, queries


def _search_args() -> queries.SearchArgs:
    a = request.args
    city = a.get("city", "").strip()
    try:
        city = policy.normalize_city(city) if city else ""
    except ValueError:
        city = ""
    sort = a.get("sort", "relevance")
    return queries.SearchArgs(q=a.get("q", "").strip()[:100], field=a.get("field", type=int),
                              category=a.get("category", type=int), city=city, voucher=a.get("voucher") == "1",
                              sort=sort if sort in queries.SORTS else "relevance")


@bp.get("/services")
def services():
    args = _search_args()
    page = paginate(queries.search_services(args), current_app.config["PER_PAGE"])
    return render_either("catalog/services.html", "catalog/partials/results.html", args=args, page=page,
                         fields=queries.fields(), categories=queries.category_tree(), sorts=queries.SORTS)
