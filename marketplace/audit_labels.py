"""The audit log in words: object types, actions and states as a reviewer reads them. The log stores stable codes
(marketplace.audit.record); /admin/audit shows these labels and its filter offers them, with the codes in the URL.

The states reuse the labels the models and areas already have; actions each area names already (order moves,
service transitions, voucher application and claim steps) are taken from there. A code without a label is shown
as stored, and tests/test_audit_log.py finds every code passed to audit.record() in the source, so a new one fails
there until it is named here."""

from .models import (
    AccountStatus,
    ApplicationStatus,
    InstrumentStatus,
    OrderStatus,
    RedemptionStatus,
    ServiceStatus,
    ShopStatus,
)
from .models.orders import COMPLAINT_LABELS
from .models.redemption import OBJECTION_LABELS
from .orders.lifecycle import MOVES
from .redemption.claims import ACTION_LABELS as CLAIM_ACTIONS
from .seller.listing_lifecycle import TRANSITIONS
from .vouchers.lifecycle import ACTION_LABELS as APPLICATION_ACTIONS

OBJECT_LABELS = {
    "user": "账号", "provider": "服务单位", "service": "服务", "instrument": "仪器", "order": "订单",
    "complaint": "投诉", "objection": "异议", "voucher_application": "创新券申请", "voucher": "创新券",
    "redemption": "兑付申请", "review_batch": "专家审核批次", "city_setting": "地方配套设置",
    "kexiao_registry": "科技型中小企业名单", "field": "服务领域", "category": "服务类别",
    "non_eligible_kind": "不支持的服务类型",
}

# The states of each object type; a state missing here is shown as stored (a name, a position, a keyword list).
STATE_LABELS = {
    "user": AccountStatus.LABELS,
    "provider": ShopStatus.LABELS | {"pilot": "服务承诺制试点", "regular": "非试点", "on": "自动接单开启",
                                     "off": "自动接单关闭"},
    "service": ServiceStatus.LABELS | {"eligible": "支持创新券", "ineligible": "不支持创新券"},
    "instrument": InstrumentStatus.LABELS, "order": OrderStatus.LABELS, "complaint": COMPLAINT_LABELS,
    "objection": OBJECTION_LABELS, "voucher_application": ApplicationStatus.LABELS, "voucher": {"issued": "已发放"},
    "redemption": RedemptionStatus.LABELS, "city_setting": {"default": "默认设置", "configured": "已单独设置"},
}

# The claim moves that carry its order along (claims.move records them on the order as "redemption_<code>").
ORDER_MOVING = ("submit", "resubmit", "request_corrections", "approve", "reject", "provider_confirm", "publish",
                "objection_upheld", "publicity_passed", "pay")

# Actions by object type, where the same code means something of its own there.
ACTIONS_BY_TYPE = {
    "order": {code: move.label for code, move in MOVES.items()} | {
        "place": "下单", "auto_accept": "自动接单", "declare": "买家声明", "confirm_amount": "确认订单金额",
        "rate": "评价"} | {f"redemption_{code}": f"兑付：{CLAIM_ACTIONS[code]}" for code in ORDER_MOVING},
    "service": {code: step.verb for code, step in TRANSITIONS.items()} | {
        "create": "新建服务", "voucher_ineligible": "标记为不支持创新券", "submit_with_shop": "随开店申请提交审核",
        "return_with_shop": "随开店申请退回"},
    "voucher_application": APPLICATION_ACTIONS,
    "redemption": CLAIM_ACTIONS,
    "instrument": {"create": "添加仪器", "status": "修改状态"},
    "objection": {"lodge": "提出异议", "upheld": "异议成立", "dismissed": "异议不成立"},
}

# Every other code, whatever the object.
ACTIONS = {
    "create": "新建", "edit": "修改", "update": "修改", "rename": "改名", "move": "调整顺序", "delete": "删除",
    "import": "导入名单", "reset": "恢复默认", "issue": "发放创新券", "file": "提交投诉", "resolve": "处理投诉",
    "register": "注册", "create_reviewer": "创建审核员账号", "review_account": "审核账号",
    "disable_account": "停用账号", "enable_account": "启用账号", "logout": "退出登录",
    "end_all_sessions": "退出所有设备", "change_password": "修改密码",
    "submit_application": "提交开店申请", "approve_application": "开店申请通过", "reject_application": "开店申请不通过",
    "open_after_publicity": "公示期满开店", "edit_profile": "修改单位信息", "pilot_on": "列为服务承诺制试点",
    "pilot_off": "取消服务承诺制试点", "auto_accept_on": "开启自动接单", "auto_accept_off": "关闭自动接单",
    "remove": "退出（清退）", "reinstate": "恢复",
}


def object_label(object_type: str) -> str:
    return OBJECT_LABELS.get(object_type, object_type)


def action_label(object_type: str, action: str) -> str:
    return ACTIONS_BY_TYPE.get(object_type, {}).get(action) or ACTIONS.get(action, action)


def state_label(object_type: str, state: str | None) -> str:
    if state is None:
        return "—"
    return STATE_LABELS.get(object_type, {}).get(state, state)


def action_choices() -> list[tuple[str, str]]:
    """The filter's 操作 choices, each code once, sorted by name: a code of the general table under its general name,
    any other under the names its object types give it ("submit": 提交审核／提交兑付申请)."""
    named: dict[str, list[str]] = {}
    for table in ACTIONS_BY_TYPE.values():
        for code, label in table.items():
            if label not in named.setdefault(code, []):
                named[code].append(label)
    labels = {code: "／".join(names) for code, names in named.items()} | ACTIONS
    return sorted(labels.items(), key=lambda item: (item[1], item[0]))
