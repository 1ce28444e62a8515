"""The long fuzzing run: ``python bench/fuzz.py --examples 1000``.

Starts a real server (a throw-away SQLite database unless ``--database-url`` is given), then runs at least
``--examples`` schemathesis-generated GraphQL operations for each caller (guest, admin, an integration
with a Custom grant), the named malformed requests, and ``--random`` random HTTP requests against
``/graphql`` and the OAuth token endpoints. Prints the numbers; exits 1 if any response was a 5xx,
carried ``INTERNAL_SERVER_ERROR`` or a stack trace, or if the server logged an unhandled exception.
The short version of the same checks runs in the test suite (``tests/test_fuzz.py``).
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.support import fuzzing  # noqa: E402
from tests.support.database import create_admin_account, seed_demo_store, throttling_off  # noqa: E402
from tests.support.graphql import SyncGraphQLClient  # noqa: E402
from tests.support.servers import running_server  # noqa: E402

ADMIN = ("fuzz-admin", "fuzz-admin-password-1")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--examples", type=int, default=1000, help="generated operations per caller (default 1000)")
    parser.add_argument("--random", type=int, default=None, help="random HTTP requests (default: --examples)")
    parser.add_argument("--seed", type=int, default=None, help="seed (default: random, printed)")
    parser.add_argument(
        "--callers", default=",".join(fuzzing.CALLERS), help=f"comma-separated, from {', '.join(fuzzing.CALLERS)}"
    )
    parser.add_argument(
        "--database-url", default=None, help="use this database (its data is kept; default: a temporary SQLite file)"
    )
    args = parser.parse_args(argv)
    seed = args.seed if args.seed is not None else random.randrange(1 << 32)
    print(f"seed {seed}", flush=True)

    with tempfile.TemporaryDirectory(prefix="fuzz-") as tmp:
        database_url = args.database_url or f"sqlite://{Path(tmp) / 'db.sqlite3'}"
        try:
            create_admin_account(database_url, *ADMIN)
        except Exception as exc:  # already there from an earlier run on the same database
            print(f"admin account: {type(exc).__name__} (reusing it)")
        seed_demo_store(database_url)  # leaves a store that has data alone
        # Every caller comes from this one address and the admin's generated operations sign in too: the
        # per-address throttles (tested on their own) would turn the run into a test of them.
        env = {"DATABASE_URL": database_url, "SIGN_IN_RATE_LIMIT": "0", "OAUTH_TOKEN_RATE_LIMIT": "0"}
        throttling_off(database_url)
        with running_server(env, Path(tmp) / "server.log") as server:
            total = fuzzing.FuzzReport()
            started = time.monotonic()
            guest = SyncGraphQLClient(server.base_url)
            admin = guest.sign_in(*ADMIN)
            fuzzing.seed_integrations(admin, ADMIN[1])
            # Signed in afresh for each lookup: the admin's generated revokeAdminToken signs out every session.
            known_ids = fuzzing.KnownIds(lambda: fuzzing.integration_ids(guest.sign_in(*ADMIN)))
            for name in args.callers.split(","):
                # A fresh token: the admin's generated operations may have revoked the previous one.
                fresh = guest.sign_in(*ADMIN)
                # Set for each caller: the admin's generated writes may have switched it.
                fuzzing.allow_guest_access(fresh, fuzzing.GUEST_ACCESS_FOR.get(name.strip(), True))
                caller = fuzzing.make_caller(name.strip(), fresh, ADMIN)
                t0 = time.monotonic()
                report = fuzzing.fuzz_graphql(
                    f"{server.base_url}/graphql", caller, args.examples, seed=seed, known_ids=known_ids
                )
                print(f"{caller.name:12} {report.summary()} in {time.monotonic() - t0:.1f} s", flush=True)
                total.merge(report)
            t0 = time.monotonic()
            report = fuzzing.send_probes(server.base_url, fuzzing.named_probes())
            print(f"{'malformed':12} {report.summary()} in {time.monotonic() - t0:.1f} s", flush=True)
            total.merge(report)
            t0 = time.monotonic()
            count = args.random if args.random is not None else args.examples
            report = fuzzing.send_probes(server.base_url, fuzzing.random_probes(random.Random(seed), count))
            print(f"{'random HTTP':12} {report.summary()} in {time.monotonic() - t0:.1f} s", flush=True)
            total.merge(report)
            log = server.output()
        unhandled = log.count("Exception in ASGI application") + log.count("Unexpected error")
        elapsed = time.monotonic() - started
        print(f"\ntotal: {total.summary()} in {elapsed:.1f} s; unhandled exceptions logged: {unhandled}")
        for problem in total.problems[:50]:
            print(problem)
        if unhandled:
            print(log[-5000:])
        return 1 if total.problems or unhandled else 0


if __name__ == "__main__":
    sys.exit(main())
