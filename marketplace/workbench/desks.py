"""Where each role works (its 工作台) and what its home lists as waiting for it.

A signed-in user lands on its desk, and the header links there: a buyer (企业, 个人买家) at 我的工作台 (/me), an
approved provider with its unit at 卖家工作台 (/seller), an approved reviewer at 审核后台 (/admin/). An account still
waiting for approval has only /me, which says so. A provider buys too (非创新券订单 only), so it also has /me: the side
menu's 我是买家 / 我是卖家 switch goes between the two."""
from dataclasses import dataclass

from ..models import Role, User


@dataclass(frozen=True)
class Desk:
    endpoint: str
    label: str


BUYER = Desk("workbench.home", "我的工作台")
SELLER = Desk("seller.home", "卖家工作台")
REVIEWER = Desk("admin.home", "审核后台")


def desk_of(user: User) -> Desk:
    if user.role == Role.PROVIDER and user.is_approved and user.provider is not None:
        return SELLER
    if user.is_reviewer:
        return REVIEWER
    return BUYER


@dataclass(frozen=True)
class Todo:
    """One line of a workbench home's 待办: how many, what they are, where to deal with them."""
    label: str
    count: int
    url: str
    hint: str = ""
