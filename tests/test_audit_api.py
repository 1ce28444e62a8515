"""``auditEvents`` (System > Action Logs) and ``viewer.signInHistory``: who may read them, the ids they show and
filter by, paging newest first, and reads that write nothing."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from audit import Action, Target, record
from auth.clock import clock
from tests.support.admin_users import restricted_admin
from tests.support.audit import AUDIT_EVENTS, stored_events
from tests.support.graphql import SIGN_IN, GraphQLClient
from tests.support.integrations import create
from tests.support.principals import ADMIN_PASSWORD, IntegrationCaller
from tests.support.statements import sql_statements

ACTION_LOGS = "Magento_Logging::magento_logging"
HISTORY = (
    "query($first: Int! = 10) { viewer { signInHistory(first: $first) { occurredAt outcome clientIp userAgent } } }"
)
DOCUMENT = Path(__file__).resolve().parent.parent / "docs" / "audit-log.md"


async def events(caller: GraphQLClient, **filters: Any) -> list[dict[str, Any]]:
    body = await caller.data(AUDIT_EVENTS, {"filter": filters or None})
    return [edge["node"] for edge in body["auditEvents"]["edges"]]


async def test_only_admins_holding_action_logs_read_the_audit_trail(
    admin: GraphQLClient, guest: GraphQLClient, integration: IntegrationCaller
) -> None:
    assert guest.error_codes(await guest.query(AUDIT_EVENTS)) == ["UNAUTHENTICATED"]
    everything = integration("Magento_Backend::all")
    assert everything.error_codes(await everything.query(AUDIT_EVENTS)) == ["FORBIDDEN"]  # admins only
    catalog = await restricted_admin(admin, "Magento_Catalog::catalog", username="cataloguer")
    body = await catalog.query(AUDIT_EVENTS)
    assert body["data"]["auditEvents"] is None
    assert body["errors"][0]["extensions"]["missingResources"] == [ACTION_LOGS]
    # The Report leaf alone is not the Action Logs node: the node is what the field requires.
    report = await restricted_admin(admin, "Magento_Logging::magento_logging_events", username="reporter")
    assert report.error_codes(await report.query(AUDIT_EVENTS)) == ["FORBIDDEN"]
    auditor = await restricted_admin(admin, ACTION_LOGS, username="auditor")
    assert [e["action"] for e in await events(auditor)][:2] == ["admin.sign_in_succeeded", "admin_user.created"]


async def test_the_resource_tree_has_action_logs_under_system(admin: GraphQLClient) -> None:
    tree = (await admin.data("{ resourceTree { id children { id title children { id title } } } }"))["resourceTree"]
    system = next(node for node in tree if node["id"] == "Magento_Backend::system")
    logs = next(node for node in system["children"] if node["id"] == ACTION_LOGS)
    assert logs == {
        "id": ACTION_LOGS,
        "title": "Action Logs",
        "children": [{"id": "Magento_Logging::magento_logging_events", "title": "Report"}],
    }


async def test_events_show_the_ids_the_api_uses_and_filter_by_them(admin: GraphQLClient, guest: GraphQLClient) -> None:
    integration = await create(admin, name="ERP", resourceAccess="ALL")
    await guest.query(SIGN_IN, {"u": "admin", "p": "wrong-password-1"})
    users = (await admin.data("{ adminUsers { edges { node { id username } } } }"))["adminUsers"]["edges"]
    me = next(edge["node"]["id"] for edge in users if edge["node"]["username"] == "admin")

    about_erp = await events(admin, targetId=integration["id"])
    assert {e["action"] for e in about_erp} >= {"integration.created"}
    assert {(e["targetType"], e["targetId"]) for e in about_erp} == {("integration", integration["id"])}
    created = next(e for e in about_erp if e["action"] == "integration.created")
    assert (created["actorType"], created["actorId"], created["actorName"]) == ("ADMIN", me, "admin")
    assert created["details"]["name"] == "ERP" and created["details"]["resourceAccess"] == "ALL"

    by_me = await events(admin, actorId=me)
    assert by_me and {e["actorId"] for e in by_me} == {me}
    failed = await events(admin, actorType="GUEST")
    assert [(e["action"], e["actorId"], e["targetId"]) for e in failed] == [("admin.sign_in_failed", None, me)]
    assert [e["action"] for e in await events(admin, action="admin.sign_in_failed")] == ["admin.sign_in_failed"]
    group = {e["action"] for e in await events(admin, action="integration.")}
    assert group and all(action.startswith("integration.") for action in group)
    assert await events(admin, action="integration") == []  # a group needs its dot
    assert {e["targetType"] for e in await events(admin, targetType="admin_user")} == {"admin_user"}
    assert await events(admin, targetId=integration["id"], targetType="admin_user") == []
    assert await events(admin, actorId="not an id") == []
    await record(Action.CONFIG_OAUTH_CHANGED, target_type=Target.CONFIG, target_id="oauth")
    assert [e["targetId"] for e in await events(admin, targetId="oauth")] == ["oauth"]


async def test_events_come_newest_first_a_page_at_a_time(admin: GraphQLClient) -> None:
    for n in range(5):
        await record(Action.CONFIG_OAUTH_CHANGED, target_type=Target.CONFIG, target_id=f"page {n}")
    page = 'query($after: String) { auditEvents(filter: {action: "config.oauth_changed"}, first: 2, after: $after) {'
    page += " edges { node { id targetId } } pageInfo { hasNextPage endCursor } totalCount } }"
    seen: list[str] = []
    after = None
    while True:
        connection = (await admin.data(page, {"after": after}))["auditEvents"]
        assert connection["totalCount"] == 5
        seen += [edge["node"]["targetId"] for edge in connection["edges"]]
        if not connection["pageInfo"]["hasNextPage"]:
            break
        after = connection["pageInfo"]["endCursor"]
    assert seen == [f"page {n}" for n in reversed(range(5))]
    ids = [int(e["id"]) for e in await events(admin)]
    assert ids == sorted(ids, reverse=True)
    too_many = await admin.query("{ auditEvents(first: 1000) { totalCount } }")
    assert admin.error_codes(too_many) == ["BAD_USER_INPUT"]


async def test_from_and_to_pick_a_time_range(admin: GraphQLClient) -> None:
    clock.freeze()
    start = clock.now()
    for day in range(3):
        await record(Action.CONFIG_OAUTH_CHANGED, target_type=Target.CONFIG, target_id=f"day {day}")
        clock.advance(86_400)
    clock.reset()  # back to now, where the admin's token is still valid

    def before_day(days: int) -> str:
        return (start + dt.timedelta(days=days, seconds=-1)).isoformat()

    found = await events(admin, action="config.oauth_changed", **{"from": before_day(1), "to": before_day(2)})
    assert [e["targetId"] for e in found] == ["day 1"]
    since = await events(admin, action="config.oauth_changed", **{"from": before_day(1)})
    assert [e["targetId"] for e in since] == ["day 2", "day 1"]


async def test_sign_in_history_is_the_admins_own(
    admin: GraphQLClient, guest: GraphQLClient, integration: IntegrationCaller
) -> None:
    other = await restricted_admin(admin, "Magento_Catalog::catalog", username="other")
    await guest.query(SIGN_IN, {"u": "admin", "p": "wrong-password-1"}, headers={"User-Agent": "guesser/1"})
    await guest.query(SIGN_IN, {"u": "other", "p": "wrong-password-2"})
    again = await guest.query(SIGN_IN, {"u": "admin", "p": ADMIN_PASSWORD}, headers={"User-Agent": "browser/9"})
    assert again["data"]["generateAdminToken"]["token"]
    history = (await admin.data(HISTORY))["viewer"]["signInHistory"]
    assert [(h["outcome"], h["userAgent"]) for h in history[:2]] == [
        ("SUCCEEDED", "browser/9"),
        ("FAILED", "guesser/1"),
    ]
    assert [h["outcome"] for h in history[2:]] == ["SUCCEEDED"]  # the fixture's own sign-in
    assert {h["clientIp"] for h in history} == {"127.0.0.1"}
    assert [h["outcome"] for h in (await other.data(HISTORY))["viewer"]["signInHistory"]] == ["FAILED", "SUCCEEDED"]
    assert len((await admin.data(HISTORY, {"first": 1}))["viewer"]["signInHistory"]) == 1
    assert admin.error_codes(await admin.query(HISTORY, {"first": 1000})) == ["BAD_USER_INPUT"]
    body = await integration("Magento_Backend::all").query(HISTORY)
    assert body["data"]["viewer"]["signInHistory"] is None and guest.error_codes(body) == ["FORBIDDEN"]


async def test_audit_actions_lists_every_action(admin: GraphQLClient) -> None:
    listed = (await admin.data("{ auditActions }"))["auditActions"]
    assert listed == sorted(str(action) for action in Action)
    assert all(action == action.lower() and "." in action for action in listed)


def test_the_document_lists_every_action() -> None:
    text = DOCUMENT.read_text()
    assert [str(action) for action in Action if f"`{action}`" not in text] == []


async def test_reads_write_no_events(admin: GraphQLClient) -> None:
    await create(admin, name="Quiet", resourceAccess="ALL")
    before = len(await stored_events())
    with sql_statements() as statements:
        await admin.data("{ viewer { name } integrations { edges { node { name resources } } } }")
        await admin.data("{ config { oauth { lockoutTime } } }")
        await admin.data("{ products(first: 2) { edges { node { sku } } } }")
    assert not [s for s in statements if "audit_" in s], statements
    assert len(await stored_events()) == before
