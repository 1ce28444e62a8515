"""Bulk data for the scale run: many active integrations (consumer, access token, grant) and stored nonces.

Rows are made by the database itself with ``INSERT ... SELECT`` over a number series (a recursive CTE on
SQLite, ``generate_series`` on PostgreSQL), so a million nonces take seconds. Secrets are placeholders:
these integrations are never used to sign requests; they are there so that every lookup and the nonce
insert of the benchmarked requests run against tables of a realistic size. Nonce timestamps lie in the
last hour, inside the period the cleanup keeps, so the table stays at its size during the run.

``python -m bench.scale --integrations 10000 --nonces 1000000`` with the benchmark's DATABASE_URL.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time

from models.sql import dialect, execute, fetch_one

PREFIX = "bench-scale-"


def _series(count: int, body: str) -> str:
    """``body`` (an INSERT ... SELECT reading ``seq.i``) over i = 1..count, in this database's dialect."""
    insert, _, select = body.partition(" SELECT ")
    if dialect() == "postgres":
        return f"{insert} SELECT {select} FROM generate_series(1, {int(count)}) AS seq(i)"
    return (
        f"WITH RECURSIVE seq(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM seq WHERE i < {int(count)}) "
        f"{insert} SELECT {select} FROM seq"
    )


def _padded(expression: str, width: int) -> str:
    if dialect() == "postgres":
        return f"lpad(({expression})::text, {width}, '0')"
    return f"printf('%0{width}d', {expression})"


def _now() -> str:
    return "now()" if dialect() == "postgres" else "CURRENT_TIMESTAMP"


def _epoch() -> str:
    if dialect() == "postgres":
        return "CAST(extract(epoch FROM now()) AS BIGINT)"
    return "CAST(strftime('%s', 'now') AS INTEGER)"


async def seed(integrations: int, nonces: int) -> dict[str, int]:
    false = "FALSE" if dialect() == "postgres" else "0"
    resources = json.dumps(["Magento_Catalog::products"])
    await execute(
        _series(
            integrations,
            "INSERT INTO integration (name, email, status, setup_type, created_at, updated_at) "
            f"SELECT '{PREFIX}' || seq.i, 'scale' || seq.i || '@example.com', 1, 0, {_now()}, {_now()}",
        )
    )
    await execute(
        "INSERT INTO oauth_consumer (integration_id, name, key, secret, created_at) "
        f"SELECT i.id, i.name, {_padded('i.id', 32)}, 'placeholder', {_now()} "
        f"FROM integration i WHERE i.name LIKE '{PREFIX}%'"
    )
    await execute(
        "INSERT INTO oauth_token (consumer_id, type, token_hash, token_encrypted, secret, callback_url, revoked, "
        "user_type, created_at) "
        f"SELECT c.id, 'access', {_padded('c.id', 64)}, 'placeholder', 'placeholder', 'oob', {false}, 1, {_now()} "
        f"FROM oauth_consumer c WHERE c.name LIKE '{PREFIX}%'"
    )
    await execute(
        "INSERT INTO integration_grant (integration_id, all_resources, resources, partial_resources, selected, "
        f"updated_at) SELECT i.id, {false}, '{resources}', '[]', '{resources}', {_now()} "
        f"FROM integration i WHERE i.name LIKE '{PREFIX}%'"
    )
    bounds = await fetch_one(
        f"SELECT MIN(id) AS low, MAX(id) AS high, COUNT(*) AS n FROM oauth_consumer WHERE name LIKE '{PREFIX}%'"
    )
    assert bounds is not None and bounds["n"] == integrations
    if bounds["high"] - bounds["low"] + 1 != integrations:
        raise SystemExit("the scale consumers did not get consecutive ids")
    await execute(
        _series(
            nonces,
            "INSERT INTO oauth_nonce (consumer_id, nonce, timestamp) "
            f"SELECT ? + (seq.i % ?), 'scale' || seq.i, {_epoch()} - (seq.i % 3600)",
        ),
        bounds["low"],
        integrations,
    )
    counts = await fetch_one(
        "SELECT (SELECT COUNT(*) FROM integration) AS integrations, (SELECT COUNT(*) FROM oauth_nonce) AS nonces, "
        "(SELECT COUNT(*) FROM catalog_product) AS products"
    )
    assert counts is not None
    return {name: int(value) for name, value in counts.items()}


async def _main(args: argparse.Namespace) -> dict[str, int]:
    from models.database import open_database
    from settings import Settings

    async with open_database(Settings.from_env()):
        started = time.monotonic()
        counts = await seed(args.integrations, args.nonces)
        counts["seconds"] = round(time.monotonic() - started)
        return counts


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.scale")
    parser.add_argument("--integrations", type=int, default=10_000)
    parser.add_argument("--nonces", type=int, default=1_000_000)
    print(json.dumps(asyncio.run(_main(parser.parse_args(argv)))))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
