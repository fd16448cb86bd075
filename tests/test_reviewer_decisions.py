"""Every reviewer decision answers the same way (admin.decisions), shown here on the rejection of each of the five
kinds reviewed on entry (accounts, shops, listings, voucher applications and claims) and on the decisions after it
(a provider's removal and reinstatement, an objection, a complaint, an order the platform closes). The state comes
before the form, an invalid form comes back with the input kept and the message beside it, and decisions posted at
the same moment land once."""
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from sqlalchemy import func, select

from marketplace.extensions import db
from marketplace.models import (
    AccountStatus,
    ApplicationStatus,
    AuditLog,
    Complaint,
    OrderStatus,
    RedemptionStatus,
    Role,
    ServiceStatus,
    ShopStatus,
)
from marketplace.redemption import settlement

from .conftest import posted_at_once

AT_ONCE = 20


@dataclass(frozen=True)
class Kind:
    """One kind of decision: `waiting(make)` / `decided(make)` build an object in the state the decision needs /
    in another one, each answering its id; `path` is its route and `form` a valid post to it, whose field `text`
    takes at most `limit` characters (`too_long` says so, `required` asks for it); the audit row it writes."""
    name: str
    waiting: Callable
    decided: Callable
    path: str
    object_type: str
    action: str
    to_state: str = "rejected"
    form: tuple[tuple[str, str], ...] = (("reason", "材料不实"),)
    text: str = "reason"
    limit: int = 500
    too_long: str = "原因不超过500字"
    required: str = "请填写不通过的原因"

    def __str__(self) -> str:
        return self.name

    def data(self, text: str | None = None) -> dict[str, str]:
        """The valid form, or the same with `text` in the field the reviewer types."""
        return {**dict(self.form), **({} if text is None else {self.text: text})}

    def too_long_text(self) -> str:
        return "营业执照照片模糊" * (self.limit // 8 + 1)


def _pending_account(make) -> int:
    user = make.user(Role.INDIVIDUAL, status=AccountStatus.PENDING)
    db.session.commit()
    return user.id


def _claim(make, status: str) -> int:
    buyer = make.enterprise()
    make.voucher(buyer)
    return make.claim(buyer, status=status).id


def _objection(make, resolved: bool) -> int:
    buyer, reviewer = make.enterprise(), make.reviewer()
    make.voucher(buyer)
    claim = make.claim(buyer, status=RedemptionStatus.PUBLICITY)
    objection = settlement.lodge_objection(claim, make.user(Role.INDIVIDUAL), "服务未实际发生")
    if resolved:
        settlement.resolve_objection(objection, reviewer, False, "经核实服务真实发生")
    db.session.commit()
    return objection.id


def _complaint(make, status: str) -> int:
    complaint = Complaint(provider_id=make.provider().provider.id, user_id=make.enterprise().id,
                          reason="检测报告迟迟未出具，多次联系无人答复", status=status)
    db.session.add(complaint)
    db.session.commit()
    return complaint.id


def _order(make, status: str) -> str:
    return make.order(make.enterprise(), make.service(make.provider().provider), status=status).order_no


KINDS = [
    Kind("account", _pending_account, lambda make: make.enterprise().id, "/admin/accounts/{id}/reject", "user",
         "review_account"),
    Kind("shop", lambda make: make.provider(shop_status=ShopStatus.PENDING).provider.id,
         lambda make: make.provider().provider.id, "/admin/shops/{id}/reject", "provider", "reject_application"),
    Kind("listing", lambda make: make.service(make.provider().provider, status=ServiceStatus.PENDING).id,
         lambda make: make.service(make.provider().provider).id, "/admin/listings/{id}/reject", "service", "reject"),
    Kind("voucher application",
         lambda make: make.voucher_application(make.enterprise(), status=ApplicationStatus.SUBMITTED).id,
         lambda make: make.voucher_application(make.enterprise(), status=ApplicationStatus.REJECTED).id,
         "/admin/vouchers/{id}/reject", "voucher_application", "reject"),
    Kind("claim", lambda make: _claim(make, RedemptionStatus.SUBMITTED),
         lambda make: _claim(make, RedemptionStatus.REJECTED), "/admin/redemptions/{id}/reject", "redemption",
         "reject"),
    Kind("provider removal", lambda make: make.provider().provider.id,
         lambda make: make.provider(shop_status=ShopStatus.REMOVED).provider.id, "/admin/providers/{id}/remove",
         "provider", "remove", ShopStatus.REMOVED, (("kind", "cheating"), ("reason", "出具虚假检测报告")),
         too_long="说明不超过500字", required="请填写退出的具体说明"),
    Kind("provider reinstatement", lambda make: make.provider(shop_status=ShopStatus.REMOVED).provider.id,
         lambda make: make.provider().provider.id, "/admin/providers/{id}/reinstate", "provider", "reinstate",
         ShopStatus.OPEN, (("reason", "复核后撤销退出决定"),), required="请填写恢复的原因"),
    Kind("objection", lambda make: _objection(make, resolved=False), lambda make: _objection(make, resolved=True),
         "/admin/objections/{id}/resolve", "objection", "dismissed", "dismissed",
         (("upheld", "0"), ("resolution", "经核实服务真实发生")), "resolution", 2000, "处理意见不能超过2000字",
         "请填写处理意见"),
    Kind("complaint", lambda make: _complaint(make, "open"), lambda make: _complaint(make, "resolved"),
         "/admin/complaints/{id}/resolve", "complaint", "resolve", "resolved",
         (("resolution", "已督促服务单位出具报告"),), "resolution", 1000, "处理结果不能超过1000字", "请填写处理结果"),
    Kind("order closing", lambda make: _order(make, OrderStatus.IN_SERVICE),
         lambda make: _order(make, OrderStatus.CLOSED),
         "/admin/orders/{id}/close", "order", "close", OrderStatus.CLOSED, (("reason", "长期未服务"),),
         too_long="原因不能超过500字", required="请填写关闭订单的原因"),
]


def decisions(kind: Kind, object_id: int | str) -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count(AuditLog.id)).where(
        AuditLog.object_type == kind.object_type, AuditLog.object_id == str(object_id), AuditLog.action == kind.action,
        AuditLog.to_state == kind.to_state))


@pytest.mark.parametrize("kind", KINDS, ids=str)
def test_a_decision_on_an_object_decided_meanwhile_answers_409_even_with_an_invalid_form(client, auth, make,
                                                                                        reviewer, kind):
    object_id = kind.decided(make)
    before = decisions(kind, object_id)
    auth.login(reviewer)
    response = client.post(kind.path.format(id=object_id), data=kind.data(""))
    assert response.status_code == 409
    assert kind.required not in response.get_data(as_text=True)
    assert decisions(kind, object_id) == before


@pytest.mark.parametrize("htmx", [False, True], ids=["page", "htmx"])
@pytest.mark.parametrize("kind", KINDS, ids=str)
def test_an_invalid_form_on_a_waiting_object_answers_422_with_the_input_and_the_message_beside_it(
        client, auth, make, reviewer, kind, htmx):
    object_id = kind.waiting(make)
    auth.login(reviewer)
    too_long = kind.too_long_text()
    response = client.post(kind.path.format(id=object_id), data=kind.data(too_long),
                           headers={"HX-Request": "true"} if htmx else {})
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert too_long in page and kind.too_long in page
    assert decisions(kind, object_id) == 0


@pytest.mark.parametrize("kind", KINDS, ids=str)
def test_the_same_decision_posted_at_once_lands_once(app, make, kind):
    object_id, reviewer = kind.waiting(make), make.reviewer()
    answers = posted_at_once(app, [(reviewer, kind.path.format(id=object_id), kind.data())] * AT_ONCE)
    assert sorted(status for status, _ in answers) == [303] + [409] * (AT_ONCE - 1)
    assert decisions(kind, object_id) == 1
