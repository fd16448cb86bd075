"""The audit log (/admin/audit): every state change, newest first, searchable by object, user, date (China time)
and action; append-only — nothing in the app changes or deletes a row."""
import ast
import inspect
import re
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select

from marketplace import audit, audit_labels
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
    ("to=9999-12-31", "to", "请填写2000年至2100年之间的日期"),
    ("from=0001-01-01", "from", "请填写2000年至2100年之间的日期"),
    ("from=1999-12-31", "from", "请填写2000年至2100年之间的日期"),
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
    assert ("/admin/audit?object=provider&amp;page=2"
            in client.get("/admin/audit?object=provider").get_data(as_text=True))


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
    recorded = (set(re.findall(r'audit\.record\(\s*"(\w+)"', source))
                | set(re.findall(r'^OBJECT = "(\w+)"', source, re.M)))
    assert {"provider", "user", "order", "redemption", "voucher_application"} <= recorded
    assert recorded <= set(audit_labels.OBJECT_LABELS)


@pytest.mark.parametrize("who, expected", NOT_REVIEWERS)
def test_only_reviewers_read_the_audit_log(client, auth, make, world, who, expected):
    sign_in_as(auth, make, who)
    assert client.get("/admin/audit").status_code == expected
    assert db.session.scalar(select(func.count(AuditLog.id))) == len(world[0])


# ---------------------------------------------------------------- in words (issue 16)

def test_actions_objects_and_states_are_shown_in_chinese_not_as_codes(client, auth, reviewer):
    entry("order", "CXQ202603010001", "redemption_approve", datetime(2026, 3, 1), reviewer, "reviewing",
          "awaiting_payment")
    entry("voucher", 4, "issue", datetime(2026, 3, 2), reviewer, None, "issued", "2026年度 南京市 苏南 100,000.00元")
    entry("provider", 7, "pilot_on", datetime(2026, 3, 3), reviewer, "regular", "pilot")
    auth.login(reviewer)
    html = client.get("/admin/audit").get_data(as_text=True)
    table = html[html.index("<tbody>"):]
    for code in ("redemption_approve", "issued", "pilot_on", "regular", ">issue<"):
        assert code not in table
    assert "兑付：审核通过" in table and "审核中 → 待兑付" in table
    assert "发放创新券" in table and "— → 已发放" in table
    assert "列为服务承诺制试点" in table and "非试点 → 服务承诺制试点" in table


def test_the_action_filter_offers_chinese_choices_and_keeps_the_code_in_the_url(client, auth, world):
    ids, reviewer, _ = world
    auth.login(reviewer)
    html = client.get("/admin/audit?action=remove").get_data(as_text=True)
    assert '<select id="audit-action" name="action">' in html
    assert '<option value="remove" selected>退出（清退）</option>' in html
    assert '<option value="approve">审核通过</option>' in html
    assert shown(client, "action=remove") == {ids["removal"], ids["other_provider"]}


def test_an_action_code_the_filter_does_not_know_is_kept_selected(client, auth, world):
    _, reviewer, _ = world
    auth.login(reviewer)
    html = client.get("/admin/audit?action=no_such_move").get_data(as_text=True)
    assert '<option value="no_such_move" selected>no_such_move</option>' in html


# Functions that pass an action code on to audit.record(), and the position of that code among their arguments.
ACTION_ARGUMENT = {"record": 2, "move": 1, "_to": 4, "_decide": 1, "change_status": 1, "_change_status": 2,
                   "_end_every_session": 1, "_open": 1}


def literals(node: ast.AST) -> set[str]:
    """The strings an argument can be: a literal, or either side of `"a" if … else "b"` (f-strings are not codes)."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return {node.value}
    if isinstance(node, ast.IfExp):
        return literals(node.body) | literals(node.orelse)
    return set()


def recorded_action_codes() -> set[str]:
    """Every string literal the code passes as an action to audit.record(), directly or through the helpers above."""
    codes = set()
    for path in Path(audit.__file__).parent.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call):
                continue
            name = getattr(node.func, "attr", getattr(node.func, "id", None))
            position = ACTION_ARGUMENT.get(name)
            if position is not None and len(node.args) > position:
                codes |= literals(node.args[position])
    return codes


def test_every_action_the_code_records_has_a_chinese_label():
    codes = recorded_action_codes()
    assert {"remove", "pilot_on", "pilot_off", "publish", "disable_account", "logout", "issue"} <= codes
    named = set(audit_labels.ACTIONS).union(*audit_labels.ACTIONS_BY_TYPE.values())
    moves = {f"redemption_{code}" for code in audit_labels.ORDER_MOVING}
    assert codes - named == set() and moves <= named
