"""Every page each role can reach, found by following links from its homes with the test client, then measured in
Chromium at 390 px: the document's width and axe-core's critical and serious findings."""
from collections import Counter, deque
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urldefrag, urlencode, urlsplit

from werkzeug.exceptions import HTTPException

from .conftest import PHONE

AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
SERIOUS = ("critical", "serious")

# Demo logins (marketplace.demo) and where each starts; the walk follows links from there.
ROLES = {
    "visitor": (None, ["/"]),
    "enterprise": ("xuzhou@demo.cxq", ["/", "/me"]),  # holds a paid claim and one under review
    "applicant": ("nanjing@demo.cxq", ["/me"]),  # may apply for this year's voucher
    "individual": ("buyer@demo.cxq", ["/", "/me"]),
    "provider": ("lab@demo.cxq", ["/", "/seller"]),
    "pilot": ("cumt@demo.cxq", ["/", "/seller"]),
    "reviewer": ("admin@demo.cxq", ["/", "/admin/"]),
}
# What a role posts before the walk, so pages behind a form exist: an offline claim (线下订单申请兑付) through its two
# steps. "{location}" is where the previous post went.
OFFLINE_PROVIDER = {"provider_name": "南京某某大学", "provider_credit_code": "123200004660000004",
                    "provider_contact": "王林", "provider_phone": "025-83235635"}
OFFLINE_SERVICE = {"provider_unit_type": "university", "contract_amount_fen": "140000",
                   "lines-0-service_name": "材料磨损试验", "action": "next"}
PREPARE = {"enterprise": [("/me/offline-redemptions/new", {}), ("{location}", OFFLINE_PROVIDER),
                          ("{location}", OFFLINE_SERVICE)]}
# Pages no link leads to on a demo database, or reached by a form: visited directly by every role.
EXTRA_STARTS = ["/services?q=电镜", "/auth/login", "/auth/register", "/policy", "/publicity",
                "/me/offline-redemptions/new/provider"]

# GET routes that are not pages: files, exports, JSON, and fragments HTMX asks for.
NOT_PAGES = {
    "static", "files.serve", "health.healthz", "api.publicity", "api.services", "admin.kexiao_sample",
    "admin.payment_batch_xlsx", "admin.stats_xlsx", "vouchers.sheet", "catalog.service_estimate",
    "seller.service_description_count", "pages.policy_calculate", "redemption.offline_estimate",
}


class _Links(HTMLParser):
    """Links, and GET forms as the URL their hidden fields make (立即购买 is one)."""

    def __init__(self):
        super().__init__()
        self.hrefs: list[str] = []
        self._form: list | None = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "a" and attrs.get("href"):
            self.hrefs.append(attrs["href"])
        elif tag == "form" and (attrs.get("method") or "get").lower() == "get" and attrs.get("action"):
            self._form = [attrs["action"], {}]
        elif tag == "input" and self._form is not None and attrs.get("type") == "hidden" and attrs.get("name"):
            self._form[1][attrs["name"]] = attrs.get("value") or ""

    def handle_endtag(self, tag):
        if tag == "form" and self._form is not None:
            action, fields = self._form
            self.hrefs.append(action + ("?" + urlencode(fields) if fields else ""))
            self._form = None


def links_in(html: str) -> list[str]:
    parser = _Links()
    parser.feed(html)
    return parser.hrefs


@dataclass
class Crawl:
    pages: dict[str, str] = field(default_factory=dict)  # endpoint -> first URL that answered a full page
    seen: set[str] = field(default_factory=set)


def endpoint_of(app, url: str) -> str | None:
    parts = urlsplit(url)
    adapter = app.url_map.bind("localhost")
    try:
        endpoint, _ = adapter.match(parts.path, method="GET")
    except HTTPException:
        return None
    return endpoint


def crawl(app, client, starts: list[str], limit: int = 400, per_endpoint: int = 4) -> Crawl:
    """Breadth-first over same-site links. Links are followed from up to `per_endpoint` pages of each endpoint, and
    one URL per endpoint is kept (the first that answered 200 with a whole page), so the walk measures every kind of
    page once without paging through the catalog."""
    result, queue, visits = Crawl(), deque(starts + EXTRA_STARTS), Counter()
    while queue and len(result.seen) < limit:
        url = urldefrag(queue.popleft())[0]
        if url in result.seen or not url.startswith("/") or url.startswith("//"):
            continue
        endpoint = endpoint_of(app, url)
        if endpoint is None or endpoint in NOT_PAGES or visits[endpoint] >= per_endpoint:
            continue
        visits[endpoint] += 1
        result.seen.add(url)
        response = client.get(url)
        if response.status_code != 200 or response.mimetype != "text/html":
            continue
        html = response.get_data(as_text=True)
        if not html.lstrip().lower().startswith("<!doctype html"):
            continue
        result.pages.setdefault(endpoint, url)
        queue.extend(links_in(html))
    return result


@dataclass
class Finding:
    url: str
    width: int
    axe: list[tuple[str, str, int, str]]  # (rule, impact, nodes, first target)


def measure(page, base: str, url: str) -> Finding:
    page.goto(base + url, wait_until="load")
    width = page.evaluate("() => Math.max(document.documentElement.scrollWidth, document.body.scrollWidth)")
    page.add_script_tag(path=str(AXE))
    violations = page.evaluate("""async () => {
        const result = await axe.run(document, {resultTypes: ['violations']});
        return result.violations.map(v => [v.id, v.impact, v.nodes.length,
                                            v.nodes.length ? v.nodes[0].target.join(' ') : '']);
    }""")
    return Finding(url, width, [tuple(v) for v in violations if v[1] in SERIOUS])


def too_wide(finding: Finding) -> bool:
    return finding.width > PHONE["width"]
