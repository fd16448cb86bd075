"""服务承诺制 pilots (SPEC 7.4): the reviewer flags an open provider; its services show 免审."""
import re

import pytest
from sqlalchemy import select

from marketplace.extensions import db
from marketplace.models import AuditLog, Provider, ShopStatus

HTMX = {"HX-Request": "true"}


def pilot(provider_id: int) -> bool:
    db.session.commit()
    db.session.expire_all()
    return db.session.get(Provider, provider_id).is_pilot


def test_the_reviewer_makes_an_open_provider_a_pilot_and_its_services_show_free_of_review(
        client, auth, reviewer, listed_service):
    provider_id = listed_service.provider_id
    auth.login(reviewer)
    response = client.post(f"/admin/shops/{provider_id}/pilot", data={"pilot": "1"}, headers=HTMX)
    assert response.status_code == 200 and "已列为服务承诺制试点" in response.text and "<html" not in response.text
    assert pilot(provider_id)
    assert db.session.scalar(select(AuditLog.action).where(AuditLog.object_type == "provider")) == "pilot_on"
    assert "免审" in client.get(f"/services/{listed_service.id}").text
    off = client.post(f"/admin/shops/{provider_id}/pilot", data={"pilot": "0"})
    assert off.status_code == 303 and not pilot(provider_id)


def test_only_open_shops_can_be_pilots(client, auth, reviewer, make):
    waiting = make.provider(shop_status=ShopStatus.PENDING)
    auth.login(reviewer)
    response = client.post(f"/admin/shops/{waiting.provider.id}/pilot", data={"pilot": "1"})
    assert response.status_code == 409 and not pilot(waiting.provider.id)


@pytest.mark.parametrize("who", ["provider", "enterprise"])
def test_nobody_but_a_reviewer_flags_pilots(client, auth, make, listed_service, who):
    auth.login(listed_service.provider.user if who == "provider" else make.enterprise())
    assert client.post(f"/admin/shops/{listed_service.provider_id}/pilot", data={"pilot": "1"}).status_code == 403
    assert not pilot(listed_service.provider_id)


def test_free_of_review_shows_only_on_a_pilots_services_the_voucher_applies_to(client, make):
    """免审 means the voucher claim needs no platform review: a pilot's service without the 创新券 mark shows
    neither (issue 16)."""
    shop = make.provider(name="中国矿业大学分析测试中心").provider
    shop.is_pilot = True
    eligible = make.service(shop, name="扫描电镜形貌分析")
    ineligible = make.service(shop, name="仪器操作培训", voucher_eligible=False)
    db.session.commit()

    def title(service) -> str:
        return re.search(r"<h1>.*?</h1>", client.get(f"/services/{service.id}").text, re.S).group(0)

    assert "创新券" in title(eligible) and "免审" in title(eligible)
    assert "创新券" not in title(ineligible) and "免审" not in title(ineligible)
    listing = client.get(f"/shops/{shop.id}?tab=services").text
    cards = dict(re.findall(r'<article class="service-card">.*?<h3><a [^>]*>(.*?)</a>(.*?)</h3>', listing, re.S))
    assert "免审" in cards["扫描电镜形貌分析"] and "免审" not in cards["仪器操作培训"]
