"""The reviewer's menu beside every /admin page (templates/admin/layout.html): the queues' areas in the order the
home shows them (queues.AREAS), then the lists and settings. An entry is also the current one on the pages under it
(a shop's application under 开店申请), so the reviewer always sees where they are."""
from dataclasses import dataclass

from flask import request

from . import bp


@dataclass(frozen=True)
class Entry:
    label: str
    endpoint: str
    under: tuple[str, ...] = ()   # endpoints of the pages reached from this one

    def is_current(self, endpoint: str) -> bool:
        return endpoint == self.endpoint or endpoint in self.under


SETTINGS = "设置与名单"
MENU: list[tuple[str, list[Entry]]] = [
    ("账号与开店", [Entry("账号审核", "admin.accounts"), Entry("开店申请", "admin.shops", ("admin.shop_detail",))]),
    ("服务上架", [Entry("上架审核", "admin.listings")]),
    ("创新券申领", [Entry("创新券申请", "admin.vouchers", ("admin.voucher_detail",))]),
    ("兑付", [Entry("兑付审核", "admin.redemptions", ("admin.redemption_detail",)),
             Entry("专家审核批次", "admin.review_batches"), Entry("兑付公示", "admin.publicity"),
             Entry("兑付异议", "admin.objections"), Entry("拨付", "admin.payments", ("admin.payment_batch",))]),
    ("投诉", [Entry("投诉处理", "admin.complaints")]),
    ("订单", [Entry("订单管理", "admin.orders", ("admin.order_detail",))]),
    (SETTINGS, [Entry("服务单位", "admin.providers", ("admin.provider_detail",)),
                Entry("科小名单", "admin.kexiao"),
                Entry("基础数据", "admin.reference", ("admin.kinds", "admin.kind_detail", "admin.pilots")),
                Entry("地方配套", "admin.cities", ("admin.city_settings", "admin.city_reset")),
                Entry("统计分析", "admin.stats"), Entry("操作记录", "admin.audit")]),
]


def menu_items(endpoint: str) -> list:
    """The menu as macros.html's side_menu takes it: a group's title, then its (endpoint, label, current) entries."""
    items: list = [("admin.home", "后台首页", endpoint == "admin.home")]
    for title, entries in MENU:
        items.append(title)
        items.extend((entry.endpoint, entry.label, entry.is_current(endpoint)) for entry in entries)
    return items


@bp.context_processor
def admin_menu():
    return {"admin_menu": menu_items(request.endpoint or "")}
