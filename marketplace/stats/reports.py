"""Each chart of the statistics page as one report: its title, how its numbers are defined, the table behind it
and the chart drawn from the same rows. The page and the Excel export both read a Report, so what the reviewer
sees is what is exported."""
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from markupsafe import Markup

from .. import policy
from . import queries
from .charts import BLUE, ORANGE, Chart, Series, bar_chart


@dataclass(frozen=True)
class Money:
    """A table cell holding an amount in fen, shown and exported as yuan."""
    fen: int


Cell = str | int | Money | Decimal | None


@dataclass(frozen=True)
class Report:
    key: str
    title: str
    note: str
    columns: tuple[str, ...]
    rows: list[tuple[Cell, ...]]
    total: tuple[Cell, ...] | None
    chart: Markup


def cell_text(cell: Cell) -> str:
    """A cell as the screen shows it: yuan with two decimals, "—" for nothing (e.g. no rating yet)."""
    if cell is None:
        return "—"
    if isinstance(cell, Money):
        return policy.format_yuan(cell.fen)
    return str(cell)


def cities(year: int) -> Report:
    rows = queries.vouchers_by_city(year)
    table = [(row.city, row.issued_count, Money(row.issued_fen), Money(row.disbursed_fen), Money(row.approved_fen),
              Money(row.reserved_fen), Money(row.remaining_fen)) for row in rows]
    chart = _money_chart("创新券发放与使用（按城市）", [row.city for row in rows],
                         ("发放总额", [row.issued_fen for row in rows]),
                         ("已兑付", [row.disbursed_fen for row in rows]))
    return Report("cities", "创新券发放与使用（按城市）",
                  f"{year}年度创新券，按申请表注册地所在市统计；已兑付指已拨付到企业的金额，审核通过待拨付与审核中预占的金额单列。",
                  ("城市", "发放张数", "发放总额（元）", "已兑付（元）", "审核通过待拨付（元）", "审核中预占（元）",
                   "未使用余额（元）"), table, _total(table), chart)


def months(year: int) -> Report:
    rows = queries.vouchers_by_month(year)
    labels = [f"{row.month}月" for row in rows]
    table = [(label, row.issued_count, Money(row.issued_fen), row.paid_count, Money(row.paid_fen))
             for label, row in zip(labels, rows, strict=True)]
    chart = _money_chart("创新券发放与使用（按月）", labels, ("发放金额", [row.issued_fen for row in rows]),
                         ("兑付金额", [row.paid_fen for row in rows]), horizontal=False)
    return Report("months", "创新券发放与使用（按月）",
                  f"{year}年按月（北京时间）：发放按创新券发放时间，兑付按拨付批次的拨付日期，金额为核定的省创新券。",
                  ("月份", "发放张数", "发放金额（元）", "兑付笔数", "兑付金额（元）"), table, _total(table), chart)


def claims(year: int) -> Report:
    rows = queries.claims_by_status(year)
    table = [(row.label, row.count, Money(row.requested_fen), Money(row.approved_fen)) for row in rows]
    chart = _count_chart("兑付申请按状态", [row.label for row in rows], "笔数", [row.count for row in rows], "笔")
    return Report("claims", "兑付申请按状态", f"使用{year}年度创新券的兑付申请（不含企业暂存的草稿）。",
                  ("状态", "笔数", "申请金额（元）", "核定金额（元）"), table, _total(table), chart)


def fields(year: int) -> Report:
    rows = queries.orders_by_field(year)
    table = [(row.field, row.order_count, Money(row.quote_fen)) for row in rows]
    chart = _count_chart("订单与金额按领域", [row.field for row in rows], "订单数",
                         [row.order_count for row in rows], "单")
    return Report("fields", "订单与金额按领域",
                  f"{year}年下单的订单（不含已撤回、已拒绝、已失效），按所购服务的领域统计；一个订单涉及几个领域就在每个领域各计一次"
                  "（金额计其全部报价），故各领域相加可能大于订单总数；面议未报价的订单金额计 0。",
                  ("领域", "订单数", "报价金额（元）"), table, None, chart)


def providers(year: int) -> Report:
    rows = queries.top_providers(year)
    table = [(rank, row.name, row.order_count, row.rating_average, row.rating_count)
             for rank, row in enumerate(rows, start=1)]
    chart = _count_chart("服务单位排行", [row.name for row in rows], "订单数", [row.order_count for row in rows], "单")
    return Report("providers", "服务单位排行",
                  f"{year}年下单的订单（不含已撤回、已拒绝、已失效）最多的前{queries.TOP_PROVIDERS}家服务单位；"
                  "评分为店铺页显示的全部评价的平均分（1–5分）。",
                  ("排名", "服务单位", "订单数", "平均评分", "评价数"), table, None, chart)


def local(year: int) -> Report:
    rows = queries.local_matching_by_city(year)
    table = [(row.city, row.paid_count, Money(row.provincial_fen), Money(row.local_fen)) for row in rows]
    chart = _money_chart("地方配套（按城市）", [row.city for row in rows],
                         ("省创新券", [row.provincial_fen for row in rows]),
                         ("地方配套", [row.local_fen for row in rows]))
    return Report("local", "地方配套（按城市）",
                  f"{year}年度创新券已兑付的申请，按注册地所在市：已拨付的省创新券与该市应承担的地方配套（通常次年拨付）。",
                  ("城市", "已兑付笔数", "省创新券（元）", "地方配套（元）"), table, _total(table), chart)


REPORTS: dict[str, Callable[[int], Report]] = {
    "cities": cities, "months": months, "claims": claims, "fields": fields, "providers": providers, "local": local}


def _money_chart(title: str, labels: Sequence[str], first: tuple[str, list[int]], second: tuple[str, list[int]],
                 horizontal: bool = True) -> Markup:
    series = [Series(first[0], first[1], BLUE), Series(second[0], second[1], ORANGE)]
    format_value, unit = money_unit(max([*first[1], *second[1]], default=0))
    return bar_chart(Chart(title, labels, series, format_value, unit, horizontal))


# A money chart whose largest bar reaches this counts in 万元; below it, in 元.
WAN_CHART_FEN = 10 * policy.FEN_PER_WAN


def money_unit(top_fen: int) -> tuple[Callable[[int], str], str]:
    """How one money chart prints its numbers, all in one unit: 元, or 万元 to two decimals once its largest bar
    reaches 10万元, so an amount is never a tiny fraction of 万元 ("0.0112") nor a long row of digits."""
    return (yuan_figure, "元") if top_fen < WAN_CHART_FEN else (wan_figure, "万元")


def yuan_figure(fen: int) -> str:
    """11200 -> "112", 11250 -> "112.50", 12345600 -> "123,456"."""
    text = policy.format_yuan(fen)
    return text.removesuffix(".00")


def wan_figure(fen: int) -> str:
    """万元 rounded to 0.01 (half up): 14000000 -> "14", 700000 -> "0.7", 11200 -> "0.01", 40 -> "<0.01"."""
    hundredths = (fen + policy.FEN_PER_WAN // 200) // (policy.FEN_PER_WAN // 100)
    if fen and not hundredths:
        return "<0.01"
    whole, part = divmod(hundredths, 100)
    return f"{whole:,}" + (f".{part:02d}".rstrip("0") if part else "")


def _count_chart(title: str, labels: Sequence[str], name: str, values: list[int], unit: str) -> Markup:
    return bar_chart(Chart(title, labels, [Series(name, values)], str, unit, horizontal=True))


def _total(table: list[tuple[Cell, ...]]) -> tuple[Cell, ...]:
    """合计: the label column says so; counts and amounts add up."""
    columns = list(zip(*table, strict=True))
    return ("合计", *[Money(sum(cell.fen for cell in column)) if isinstance(column[0], Money) else sum(column)
                      for column in columns[1:]])
