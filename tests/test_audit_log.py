"""The audit log (/admin/audit): every state change, newest first, searchable by object, user, date (China time)
and action; append-only — nothing in the app changes or deletes a row."""
import inspect
import re
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select

from marketplace import audit
from marketplace.admin import audit_log
from marketplace.extensions import db
from marketplace.models import AuditLog

from .conftest import NOT_REVIEWERS, sign_in_as

HX = {"HX-Request": "true"}


def entry(object_type: str, object_id, action: str, at: datetime, actor=None, from_state=None, to_state=None,
          reason=None) -> AuditLog:
    row = AuditLog(object_type=object_type, object_id=str(object_id), action=action, at=at,
                   actor_id=actor.id if actor else None, from_state=from_state, to_state=to_state, reason=reason)
    db.session.add(row)
    db.session.commit()
    return row


def shown(client, query: str = "", **kwargs) -> set[int]:
    """The ids of the entries the audit page lists for `query`."""
    html = client.get(f"/admin/audit?{query}", **kwargs).get_data(as_text=True)
    return {row.id for row in db.session.scalars(select(AuditLog)) if f'id="audit-{row.id}"' in html}


@pytest.fixture
def world(make, reviewer):
    """A few moves by two people and the system, around midnight China time on 2026-03-01/02."""
    other = make.user("reviewer")
    other.name, other.email = "王审核", "wang.review@example.cn"
    db.session.commit()
    rows = dict(
        removal=entry("provider", 7, "remove", datetime(2026, 3, 1, 15, 59, 59), reviewer, "open", "removed",
                      "弄虚作假：虚开发票"),  # 2026-03-01 23:59:59 China time
        reinstatement=entry("provider", 7, "reinstate", datetime(2026, 3, 1, 16, 0, 0), other, "removed", "open",
                            "复核撤销"),  # 2026-03-02 00:00:00 China time
        other_provider=entry("provider", 8, "remove", datetime(2026, 3, 5, 2, 0), other, "open", "removed", "其他"),
        claim=entry("redemption", 3, "approve", datetime(2026, 2, 28, 16, 0), reviewer, "submitted", "approved"),
        expiry=entry("order", "CXQ202603010001", "expire", datetime(2026, 3, 3, 0, 0), None, "pending", "expired"),
    )
    return {name: row.id for name, row in rows.items()}, reviewer, other


def test_entries_are_listed_newest_first_with_who_what_and_why(client, auth, world):
    ids, reviewer, _ = world
    auth.login(reviewer)
    html = client.get("/admin/audit").get_data(as_text=True)
    order = [html.index(f'id="audit-{ids[name]}"') for name in
             ("other_provider", "expiry", "reinstatement", "removal", "claim")]
    assert order == sorted(order)
    removal = html[order[3]:order[4]]
    assert "2026-03-01 23:59:59" in removal and reviewer.name in removal and reviewer.email in removal
    assert "已开店 → 已退出" in removal and "弄虚作假：虚开发票" in removal and 'href="/admin/providers/7"' in removal
    assert 'href="/admin/redemptions/3"' in html[order[4]:]
    expiry = html[order[1]:order[2]]
    assert "系统" in expiry and "CXQ202603010001" in expiry and "待接单 → 订单失效" in expiry


@pytest.mark.parametrize("query, expected", [
    ("object=provider", {"removal", "reinstatement", "other_provider"}),
    ("object=provider:7", {"removal", "reinstatement"}),
    ("object=provider&object_id=8", {"other_provider"}),
    ("object=order:CXQ202603010001", {"expiry"}),
    ("action=remove", {"removal", "other_provider"}),
])
def test_search_by_object_and_action(client, auth, world, query, expected):
    ids, reviewer, _ = world
    auth.login(reviewer)
    assert shown(client, query) == {ids[name] for name in expected}


def test_search_by_user_name_email_id_or_the_system(client, auth, world):
    ids, reviewer, other = world
    auth.login(reviewer)
    assert shown(client, "user=王审核") == {ids["reinstatement"], ids["other_provider"]}
    assert shown(client, "user=wang.review@") == {ids["reinstatement"], ids["other_provider"]}
    assert shown(client, f"user={reviewer.id}") == {ids["removal"], ids["claim"]}
    assert shown(client, "user=系统") == {ids["expiry"]}


@pytest.mark.parametrize("query, expected", [
    ("from=2026-03-02", {"reinstatement", "other_provider", "expiry"}),
    ("to=2026-03-01", {"removal", "claim"}),
    ("from=2026-03-01&to=2026-03-01", {"removal", "claim"}),  # 2026-02-28 16:00 UTC is 03-01 00:00 in China
    ("from=2026-03-02&to=2026-03-02", {"reinstatement"}),
])
def test_date_range_follows_china_time_day_boundaries(client, auth, world, query, expected):
    ids, reviewer, _ = world
    auth.login(reviewer)
    assert shown(client, query) == {ids[name] for name in expected}


def test_filters_combine(client, auth, world):
    ids, reviewer, _ = world
    auth.login(reviewer)
    assert shown(client, "object=provider&user=王审核&from=2026-03-03&action=remove") == {ids["other_provider"]}
    assert shown(client, "object=provider:7&user=王审核&to=2026-03-01") == set()


@pytest.mark.parametrize("htmx", [False, True], ids=["page", "fragment"])
def test_the_search_swaps_the_table_for_htmx_and_renders_the_page_without(client, auth, world, htmx):
    _, reviewer, _ = world
    auth.login(reviewer)
    response = client.get("/admin/audit?object=provider:7", headers=HX if htmx else {})
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and ("<html" in html) != htmx
    assert 'id="audit-list"' in html and 'hx-push-url="true"' in html
    assert '<option value="provider" selected>' in html and 'name="object_id" value="7"' in html


@pytest.mark.parametrize("htmx", [False, True], ids=["page", "fragment"])
@pytest.mark.parametrize("query, field, message", [
    ("from=2026-13-01", "from", "请按YYYY-MM-DD填写日期"),
    ("to=昨天", "to", "请按YYYY-MM-DD填写日期"),
    ("from=2026-03-05&to=2026-03-01", "to", "结束日期不能早于开始日期"),
])
def test_a_bad_date_is_answered_next_to_its_field_with_the_input_kept(client, auth, world, query, field, message,
                                                                      htmx):
    _, reviewer, _ = world
    auth.login(reviewer)
    response = client.get(f"/admin/audit?{query}", headers=HX if htmx else {})
    html = response.get_data(as_text=True)
    typed = dict(part.split("=") for part in query.split("&"))[field]
    assert response.status_code == 422
    assert f'id="audit-{field}-error">{message}' in html and f'name="{field}" value="{typed}"' in html


def test_the_log_is_paged_keeping_the_search(client, auth, app, world):
    ids, reviewer, _ = world
    app.config["PER_PAGE"] = 2
    auth.login(reviewer)
    first, second = shown(client, "object=provider"), shown(client, "object=provider&page=2")
    assert first == {ids["other_provider"], ids["reinstatement"]} and second == {ids["removal"]}
    assert "/admin/audit?object=provider&amp;page=2" in client.get("/admin/audit?object=provider").get_data(as_text=True)


def test_a_real_move_appears_with_its_ip(client, auth, reviewer, provider):
    auth.login(reviewer)
    client.post(f"/admin/providers/{provider.provider.id}/remove", data={"kind": "other", "reason": "自愿退出"})
    html = client.get(f"/admin/audit?object=provider:{provider.provider.id}&action=remove").get_data(as_text=True)
    assert "其他原因：自愿退出" in html and "127.0.0.1" in html and reviewer.email in html


# ---------------------------------------------------------------- append-only

WRITING_METHODS = {"POST", "PUT", "PATCH", "DELETE"}


def test_no_route_under_admin_audit_changes_anything(app):
    audit_rules = [rule for rule in app.url_map.iter_rules() if rule.rule.startswith("/admin/audit")]
    assert audit_rules, "the audit log page is registered"
    assert all(not (rule.methods & WRITING_METHODS) for rule in audit_rules)


def test_no_code_path_offers_to_change_or_delete_audit_rows():
    """Rows are only ever added: the audit module's one public function is record(), and the page module
    holds no session writes."""
    public = {name for name, value in vars(audit).items()
              if inspect.isfunction(value) and value.__module__ == audit.__name__ and not name.startswith("_")}
    assert public == {"record"}
    source = inspect.getsource(audit_log)
    assert not any(word in source for word in ("session.delete", "session.add", "update(", "delete("))


def test_the_object_filter_offers_every_object_type_the_code_records():
    """Every literal type passed to audit.record() and every OBJECT constant has a Chinese label."""
    package = Path(audit.__file__).parent
    source = "\n".join(path.read_text(encoding="utf-8") for path in package.rglob("*.py"))
    recorded = set(re.findall(r'audit\.record\(\s*"(\w+)"', source)) | set(re.findall(r'^OBJECT = "(\w+)"', source, re.M))
    assert {"provider", "user", "order", "redemption", "voucher_application"} <= recorded
    assert recorded <= set(audit_log.OBJECT_LABELS)


@pytest.mark.parametrize("who, expected", NOT_REVIEWERS)
def test_only_reviewers_read_the_audit_log(client, auth, make, world, who, expected):
    sign_in_as(auth, make, who)
    assert client.get("/admin/audit").status_code == expected
    assert db.session.scalar(select(func.count(AuditLog.id))) == len(world[0])
