"""The audit trail as a chain: events written with the change they record (or not at all), a verifier that names
the first event changed or removed, and retention that cuts old events without breaking the chain."""

from __future__ import annotations

from typing import Any

import pytest
from tortoise.transactions import in_transaction

from audit import Action, Target, record
from audit.chain import GENESIS, Content, event_hash
from audit.retention import prune
from audit.verify import verify
from auth.admin_tokens import create_admin, issue_admin_token, revoke_admin_tokens
from auth.clock import clock
from auth.config import load_config
from models.sql import execute, fetch_all, fetch_one
from tests.support.audit import actions, stored_events
from tests.support.graphql import GraphQLClient
from tests.support.servers import run_cli

DAY = 86_400


async def three_events() -> None:
    for section in ("webapi", "oauth", "admin"):
        await record(Action.CONFIG_OAUTH_CHANGED, target_type=Target.CONFIG, target_id=section, details={"n": section})


async def head() -> dict[str, Any] | None:
    return await fetch_one("SELECT length, last_hash FROM audit_chain WHERE id = 1")


async def test_events_outside_a_request_are_the_servers_and_form_a_chain(app: Any) -> None:
    await three_events()
    rows = await fetch_all("SELECT * FROM audit_event ORDER BY id")
    assert [row["id"] for row in rows] == [1, 2, 3]
    assert {(row["actor_type"], row["actor_id"], row["actor_name"]) for row in rows} == {("SYSTEM", None, "system")}
    assert {(row["client_ip"], row["user_agent"]) for row in rows} == {(None, None)}
    assert rows[0]["prev_hash"] == GENESIS
    assert [row["prev_hash"] for row in rows[1:]] == [row["hash"] for row in rows[:-1]]
    for row in rows:
        assert event_hash(row["prev_hash"], Content.of_row(row)) == row["hash"]
    assert await head() == {"length": 3, "last_hash": rows[-1]["hash"]}
    verdict = await verify()
    assert verdict.ok and (verdict.events, verdict.first_id, verdict.last_id) == (3, 1, 3)


async def test_an_event_rolled_back_with_its_transaction_leaves_nothing_and_the_chain_goes_on(app: Any) -> None:
    await three_events()
    before = await head()
    with pytest.raises(RuntimeError):
        async with in_transaction():
            await record(Action.CONFIG_OAUTH_CHANGED, target_type=Target.CONFIG, target_id="rolled back")
            raise RuntimeError("the change failed after its event was written")
    assert await head() == before
    assert [row["target_id"] for row in await stored_events()] == ["webapi", "oauth", "admin"]
    await record(Action.CONFIG_OAUTH_CHANGED, target_type=Target.CONFIG, target_id="after")
    assert [row["id"] for row in await stored_events()] == [1, 2, 3, 4]
    assert (await verify()).ok


async def test_a_write_rolled_back_takes_its_event_with_it(app: Any) -> None:
    admin = await create_admin("rollback", "rollback-password-1")
    issued = await issue_admin_token("rollback", "rollback-password-1", await load_config())
    with pytest.raises(RuntimeError):
        async with in_transaction():
            assert await revoke_admin_tokens(admin.id, reason="invalidated") == 1
            raise RuntimeError("rolled back")
    assert Action.ADMIN_TOKENS_REVOKED not in await actions()
    token = await fetch_one("SELECT revoked FROM admin_token WHERE admin_id = ?", admin.id)
    assert token is not None and not token["revoked"]
    assert issued.token
    assert (await verify()).ok


@pytest.mark.parametrize(
    ("column", "value"),
    [("details", '{"n":"forged"}'), ("client_ip", "203.0.113.7"), ("actor_name", "someone else"), ("action", "x.y")],
)
async def test_verify_names_an_edited_event(app: Any, column: str, value: str) -> None:
    await three_events()
    await execute(f"UPDATE audit_event SET {column} = ? WHERE id = 2", value)
    verdict = await verify()
    assert (verdict.broken_at, verdict.problem) == (2, "its content does not match its hash (edited)")


async def test_verify_names_an_event_removed_from_the_middle(app: Any) -> None:
    await three_events()
    await execute("DELETE FROM audit_event WHERE id = 2")
    verdict = await verify()
    assert (verdict.broken_at, verdict.problem) == (2, "event 2 is missing")


async def test_verify_finds_the_newest_event_removed(app: Any) -> None:
    await three_events()
    await execute("DELETE FROM audit_event WHERE id = 3")
    verdict = await verify()
    assert (verdict.broken_at, verdict.problem) == (3, "event 3 is missing (the head is event 3)")


async def test_verify_finds_the_oldest_events_removed_outside_retention(app: Any) -> None:
    await three_events()
    await execute("DELETE FROM audit_event WHERE id = 1")
    verdict = await verify()
    assert (verdict.broken_at, verdict.problem) == (2, "the events before it were removed, but not by retention")


async def test_verify_finds_an_event_slipped_in_after_the_head(app: Any) -> None:
    await three_events()
    last = (await fetch_all("SELECT * FROM audit_event WHERE id = 3"))[0]
    forged = {**last, "id": 4, "prev_hash": last["hash"], "details": '{"n":"forged"}'}
    forged["hash"] = event_hash(forged["prev_hash"], Content.of_row(forged))
    columns = ", ".join(forged)
    await execute(f"INSERT INTO audit_event ({columns}) VALUES ({', '.join('?' * len(forged))})", *forged.values())
    verdict = await verify()
    assert (verdict.broken_at, verdict.problem) == (4, "the newest event is not the chain's head")


async def test_verify_finds_every_event_removed(app: Any) -> None:
    await three_events()
    await execute("DELETE FROM audit_event")
    assert (await verify()).broken_at == 3


async def test_verify_audit_log_command(app: Any, database_url: str) -> None:
    await three_events()
    env = {"DATABASE_URL": database_url}
    clean = run_cli("verify-audit-log", env=env)
    assert clean.returncode == 0, clean.stderr
    rows = await stored_events()
    assert clean.stdout.strip() == f"The audit log verifies: 3 event(s), events 1 to 3; head {rows[-1]['hash']}."
    await execute("UPDATE audit_event SET target_id = ? WHERE id = 2", "elsewhere")
    broken = run_cli("verify-audit-log", env=env)
    assert broken.returncode == 1
    assert broken.stderr.strip() == "The audit log is broken at event 2: its content does not match its hash (edited)."


# ------------------------------------------------------------------------------------------------ retention


async def test_retention_cuts_the_old_prefix_and_the_log_still_verifies(app: Any) -> None:
    clock.freeze()
    await three_events()  # day 0
    clock.advance(200 * DAY)
    await record(Action.CONFIG_OAUTH_CHANGED, target_type=Target.CONFIG, target_id="day 200")
    await record(Action.CONFIG_OAUTH_CHANGED, target_type=Target.CONFIG, target_id="day 200 too")
    assert await prune() is None  # nothing is older than 365 days yet
    clock.advance(200 * DAY)  # day 400: the first three are
    rows_before = await stored_events()
    cut = await prune()
    assert cut is not None and (cut.deleted, cut.first_kept_id, cut.cut_event_id) == (3, 4, 6)
    rows = await stored_events()
    assert [row["id"] for row in rows] == [4, 5, 6]
    pruned = rows[-1]
    assert (pruned["action"], pruned["actor_type"], pruned["target_type"]) == (
        "audit_log.pruned",
        "SYSTEM",
        "audit_log",
    )
    assert pruned["details"]["deleted"] == 3
    assert pruned["details"]["retentionDays"] == 365
    assert pruned["details"]["firstKeptId"] == 4
    assert pruned["details"]["firstKeptPrevHash"] == rows_before[3]["prev_hash"] == rows_before[2]["hash"]
    verdict = await verify()
    assert verdict.ok and (verdict.events, verdict.first_id, verdict.last_id) == (3, 4, 6)
    assert await prune() is None  # nothing older left
    await execute("DELETE FROM audit_event WHERE id = 4")  # now a removal that retention did not make
    assert (await verify()).broken_at == 5


async def test_only_a_whole_prefix_is_cut(app: Any) -> None:
    await record(Action.CONFIG_OAUTH_CHANGED, target_type=Target.CONFIG, target_id="today")
    clock.advance(-400 * DAY)  # a later event with an earlier time (a server whose clock is behind)
    await record(Action.CONFIG_OAUTH_CHANGED, target_type=Target.CONFIG, target_id="clock behind")
    clock.reset()
    assert await prune() is None
    assert [row["id"] for row in await stored_events()] == [1, 2]


async def test_retention_of_a_log_that_is_all_old_keeps_only_the_cut(app: Any) -> None:
    clock.freeze()
    await three_events()
    clock.advance(366 * DAY)
    cut = await prune()
    assert cut is not None and (cut.deleted, cut.first_kept_id, cut.cut_event_id) == (3, 4, 4)
    [only] = await stored_events()
    assert only["details"]["firstKeptId"] == 4 and only["details"]["firstKeptPrevHash"] == only["prev_hash"]
    assert (await verify()).ok
    await record(Action.CONFIG_OAUTH_CHANGED, target_type=Target.CONFIG, target_id="later")
    verdict = await verify()
    assert verdict.ok and (verdict.first_id, verdict.last_id) == (4, 5)


async def test_the_lifetime_is_a_store_setting(admin: GraphQLClient) -> None:
    update = """mutation($days: Int) { updateActionLogConfig(input: {logEntryLifetime: $days}) {
        actionLogs { logEntryLifetime } userErrors { field code } } }"""
    refused = (await admin.data(update, {"days": 0}))["updateActionLogConfig"]
    assert refused == {
        "actionLogs": None,
        "userErrors": [{"field": ["input", "logEntryLifetime"], "code": "OUT_OF_RANGE"}],
    }
    saved = (await admin.data(update, {"days": 30}))["updateActionLogConfig"]
    assert saved == {"actionLogs": {"logEntryLifetime": 30}, "userErrors": []}
    [changed] = await stored_events(Action.CONFIG_ACTION_LOGS_CHANGED)
    assert changed["details"] == {"changes": {"logEntryLifetime": {"old": 365, "new": 30}}}
    assert (changed["actor_type"], changed["actor_name"], changed["target_id"]) == ("ADMIN", "admin", "system")
    clock.advance(31 * DAY)
    cut = await prune()
    assert cut is not None and cut.first_kept_id == cut.cut_event_id  # every event so far was older than 30 days
    assert (await verify()).ok


async def test_the_prune_audit_log_command(app: Any, database_url: str) -> None:
    clock.advance(-400 * DAY)  # events written "400 days ago"
    await three_events()
    clock.reset()
    await record(Action.CONFIG_OAUTH_CHANGED, target_type=Target.CONFIG, target_id="today")
    env = {"DATABASE_URL": database_url, "LOG_LEVEL": "warning"}
    done = run_cli("prune-audit-log", env=env)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "Deleted 3 audit event(s); the log starts at event 4."
    assert [row["id"] for row in await stored_events()] == [4, 5]
    again = run_cli("prune-audit-log", env=env)
    assert again.stdout.strip() == "No audit event is older than the log entry lifetime."
    assert (await verify()).ok


async def test_the_server_prunes_at_start(app: Any, database_url: str, server_factory: Any) -> None:
    clock.advance(-400 * DAY)
    await three_events()
    clock.reset()
    await record(Action.CONFIG_OAUTH_CHANGED, target_type=Target.CONFIG, target_id="today")
    server_factory({"DATABASE_URL": database_url})
    rows = await stored_events()
    assert rows[0]["id"] == 4 and Action.AUDIT_LOG_PRUNED in [row["action"] for row in rows]
    assert (await verify()).ok
