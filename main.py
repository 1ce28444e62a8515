"""The app factory ``create_app(settings)`` and the command line (serve, migrate, create-admin, ...)."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import errno
import gc
import getpass
import logging
import logging.config
import os
import signal
import socket
import sys
import tempfile
import threading
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from importlib import metadata
from typing import Any
from urllib.parse import urlsplit

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from audit import retention
from audit.verify import verify
from auth import secret_box
from auth.activity import ActivityCounter
from auth.activity_flush import ActivityFlusher
from auth.buckets import bucket_store
from auth.key_rotation import report_old_ciphertexts, rotate_encryption_key
from auth.middleware import BearerLookup, PrincipalMiddleware, bearer_authenticator
from auth.oauth.authenticators import integration_bearer_lookup, oauth_authenticator
from auth.oauth.endpoints import oauth_routes
from auth.oauth2 import tokens as oauth2_tokens
from auth.oauth2.endpoints import oauth2_routes
from auth.passwords import password_problem
from auth.proxy import PublicOrigins, TrustedProxyMiddleware
from console import console_mount, graphiql_mount, graphiql_page
from health import livez, readiness, readyz
from middleware import (
    CORS,
    BodyLimit,
    DatabaseUnavailableMiddleware,
    ObservedApp,
    ResponseHeaders,
    StoreBaseRedirects,
    trusted_peers,
)
from models.database import apply_migrations, open_database
from models.sql import fetch_one
from observability.logs import log_config
from observability.metrics import MULTIPROCESS_DIR, Metrics, metrics_route
from resolvers.integrations.config_file import sync_config_integrations
from resolvers.webhooks.worker import DeliveryWorker
from schema import build_schema
from schema.caching import caching_for
from schema.view import GraphQLView
from settings import SETTINGS_HELP, Settings, local_base_url, sqlite_path

#: Work run once the database is open, in order (config-file integrations, cleanup, ...).
StartupTask = Callable[[Settings], Awaitable[None]]
STARTUP_TASKS: list[StartupTask] = []
STARTUP_TASKS.append(sync_config_integrations)
STARTUP_TASKS.append(report_old_ciphertexts)
STARTUP_TASKS.append(retention.prune_at_start)


async def healthz(request: Request) -> Response:
    try:
        # Reads a table, so a locked or unreadable SQLite file counts as down too.
        await fetch_one("SELECT 1 AS ok FROM core_config_data LIMIT 1")
    except Exception:
        return JSONResponse({"status": "unavailable", "database": "unreachable"}, status_code=503)
    return JSONResponse({"status": "ok"})


@contextlib.contextmanager
def draining_on_sigterm(seconds: int) -> Iterator[None]:
    """SIGTERM starts a drain: ``/readyz`` answers 503 for ``seconds`` while requests are still served, then the
    server's own SIGTERM handler (uvicorn's graceful shutdown) runs.

    Only where a handler is installed to hand over to (uvicorn's, in the main thread) and ``seconds`` > 0;
    otherwise SIGTERM is left as it is. Under ``serve --workers N`` the parent passes SIGTERM on to each worker,
    and each drains. A second SIGTERM during the drain changes nothing; SIGINT still stops at once.
    """
    if seconds <= 0 or threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.getsignal(signal.SIGTERM)
    if not callable(previous):
        yield
        return
    loop = asyncio.get_running_loop()

    def on_sigterm(signum: int, frame: Any) -> None:
        if readiness.draining:
            return
        readiness.draining = True
        logging.getLogger("integrations.server").warning(
            "SIGTERM: draining for %s s (/readyz answers 503) before shutting down", seconds
        )
        loop.call_soon_threadsafe(loop.call_later, seconds, previous, signum, frame)

    signal.signal(signal.SIGTERM, on_sigterm)
    try:
        yield
    finally:
        if signal.getsignal(signal.SIGTERM) is on_sigterm:
            signal.signal(signal.SIGTERM, previous)


def create_app(
    settings: Settings | None = None,
    *,
    schema: Any = None,
    bearer_lookups: tuple[BearerLookup, ...] = (),
) -> Starlette:
    """The ASGI app. ``schema`` and ``bearer_lookups`` let tests serve tiny schemas and extra principals."""
    settings = settings or Settings.from_env()
    schema = schema or build_schema(settings)
    origins = PublicOrigins(settings.store_base_url, settings.allowed_hosts)
    buckets = bucket_store(settings.redis_url, settings.redis_key_prefix)
    activity = ActivityCounter() if settings.activity_tracking else None
    flusher = ActivityFlusher(activity, settings.activity_flush_seconds) if activity is not None else None
    caching = caching_for(schema, settings) if getattr(schema, "access_policy", None) else None
    graphql = PrincipalMiddleware(
        GraphQLView(schema, settings, ide_page=graphiql_page, buckets=buckets, activity=activity, caching=caching),
        {
            "bearer": bearer_authenticator(
                extra_lookups=(*bearer_lookups, integration_bearer_lookup),
                prefixed={oauth2_tokens.PREFIX: oauth2_tokens.bearer_lookup},
            ),
            "oauth": oauth_authenticator(origins, settings.max_body_bytes),
        },
    )

    metrics = Metrics() if settings.metrics_enabled else None
    # Every server process delivers webhooks (unless WEBHOOK_DELIVERY=0), while the database is open.
    webhooks = getattr(schema, "webhooks", None)
    deliveries = DeliveryWorker(settings, webhooks, metrics) if settings.webhook_delivery and webhooks else None

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        # Under ``serve`` the parent has migrated and run the start-up tasks once, for all its workers.
        prepared = os.environ.get(PREPARED_BY_SERVE) == "1"
        async with open_database(settings, app, migrate=not prepared):
            await secret_box.configure(settings)
            if not prepared:
                for task in STARTUP_TASKS:
                    await task(settings)
            # What was built at start (schema, rules, OAuth servers) lives as long as the app: out of the
            # collector's generations, full collections stop walking it again and again (gc.freeze).
            gc.freeze()
            if deliveries is not None:
                deliveries.start()
            try:
                async with (
                    retention.periodic_pruning(),
                    flusher.running() if flusher else contextlib.nullcontext(),
                ):
                    with draining_on_sigterm(settings.drain_seconds):
                        yield
            finally:
                if deliveries is not None:
                    await deliveries.stop()
                gc.unfreeze()
        await buckets.close()

    middleware = [
        Middleware(ResponseHeaders),
        Middleware(TrustedProxyMiddleware, trusted_hosts=settings.forwarded_allow_ips),
        Middleware(StoreBaseRedirects, store_base_url=settings.store_base_url),
    ]
    if settings.cors_allow_origins:
        middleware.append(
            Middleware(
                CORS,
                allow_origins=list(settings.cors_allow_origins),
                allow_methods=["GET", "POST"],
                allow_headers=list(settings.cors_allow_headers),
                allow_credentials=settings.cors_allow_credentials,
                expose_headers=["Retry-After", "X-Request-Id"],
                max_age=settings.cors_max_age,
            )
        )
    # Inside CORS and the headers middleware, so that its 413 and the 503 below pass through them.
    middleware.append(Middleware(BodyLimit, max_body_size=settings.max_body_bytes))
    middleware.append(Middleware(DatabaseUnavailableMiddleware))
    app = ObservedApp(
        trusted=trusted_peers(settings.forwarded_allow_ips),
        metrics=metrics,
        routes=[
            Route("/graphql", graphql),  # every method: the view answers others with a JSON 405
            Route("/healthz", healthz, methods=["GET"]),
            Route("/livez", livez, methods=["GET"]),
            Route("/readyz", readyz, methods=["GET"]),
            *([metrics_route(metrics, settings.metrics_allow_ips, settings.metrics_token)] if metrics else []),
            *oauth_routes(origins, settings.oauth_token_rate_limit),
            *oauth2_routes(settings.store_base_url, settings.oauth_token_rate_limit),
            *([graphiql_mount()] if settings.graphiql else []),
            console_mount(),  # last: a catch-all under /admin
        ],
        middleware=middleware,
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.schema = schema
    app.state.metrics = metrics
    #: The writer of integrations' activity counts (None with ACTIVITY_TRACKING=0); tests flush it directly.
    app.state.activity = flusher
    app.state.webhook_deliveries = deliveries
    app.state.caching = caching
    return app


# ---------------------------------------------------------------------------------------------- CLI


#: Set by ``serve`` for the app it starts (every worker inherits it): migrations and start-up tasks are done.
PREPARED_BY_SERVE = "INTEGRATIONS_PREPARED_BY_SERVE"


FIRST_PASSWORD_FILE = "first-admin-password"


def _hand_over_first_password(settings: Settings, password: str) -> None:
    """Show the first admin's password to a person at a terminal; otherwise (a service whose output goes to
    a log that is kept and shared) write it to a file only this user can read, and print where it is."""
    if sys.stdout.isatty():
        print(
            f"\nCreated the first admin account.\n  username: admin\n  password: {password}\n"
            "Keep it now: it is not shown again.\n",
            flush=True,
        )
        return
    path = (settings.data_dir / FIRST_PASSWORD_FILE).resolve()
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    with contextlib.suppress(FileNotFoundError):
        path.unlink()
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w") as handover:
        handover.write(f"username: admin\npassword: {password}\n")
    print(
        f"\nCreated the first admin account 'admin'. Its password is in {path} (readable by this user only);"
        " sign in, change it, and delete the file.\n",
        flush=True,
    )


async def _bootstrap(settings: Settings) -> None:
    """Once, before any worker starts: migrate, run the start-up tasks, and on first start create the
    ``admin`` account with a random password, printed once."""
    async with open_database(settings):
        await secret_box.configure(settings)
        for task in STARTUP_TASKS:
            await task(settings)
        from models import AdminUser

        if not await AdminUser.exists():
            from auth.admin_tokens import create_admin
            from auth.passwords import generate_password

            password = generate_password()
            await create_admin("admin", password)
            print(f"\nCreated a new store in {_where_data_lives(settings)}", flush=True)
            _hand_over_first_password(settings, password)
        if settings.embedded_default:
            # Only the embedded default gets demo data, so GraphiQL has something to show.
            from demo import seed_demo_store

            report = await seed_demo_store(settings)
            if report.seeded:
                print(report.summary(), flush=True)


def _share_metrics_between_workers(settings: Settings, workers: int) -> None:
    """With metrics on and several workers, every worker writes its values to one folder (Prometheus's
    multiprocess mode), so that ``/metrics`` answers the sum whichever worker is asked: the folder in
    ``PROMETHEUS_MULTIPROC_DIR``, emptied of an earlier run's files, else a fresh one."""
    if not settings.metrics_enabled or workers <= 1:
        return
    folder = os.environ.get(MULTIPROCESS_DIR, "").strip()
    if folder:
        os.makedirs(folder, exist_ok=True)
        for name in os.listdir(folder):
            if name.endswith(".db"):
                os.unlink(os.path.join(folder, name))
    else:
        os.environ[MULTIPROCESS_DIR] = tempfile.mkdtemp(prefix="integrations-graphql-metrics-")


def _port_is_free(host: str, port: int) -> str | None:
    """Bind and listen on ``host:port`` as uvicorn will, then let go: None if that works, else why not.

    Checked before migrations or any output, so that a busy port is one clear line rather than the URLs of
    another process followed by a stack trace.
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    try:
        with socket.socket(family, socket.SOCK_STREAM) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn binds
            probe.bind((host, port))
            probe.listen()
    except OSError as problem:
        if problem.errno == errno.EADDRINUSE:
            return f"port {port} on {host} is already in use (another server?); choose another with --port or PORT"
        return f"cannot listen on {host}:{port}: {problem.strerror or problem}"
    return None


def _where_data_lives(settings: Settings) -> str:
    """The store's location for a person: the SQLite file, or the database (never its password)."""
    path = sqlite_path(settings.database_url)
    if path is not None:
        return str(path.resolve())
    url = urlsplit(settings.database_url)
    return f"{url.scheme}://{url.hostname or ''}{f':{url.port}' if url.port else ''}{url.path}"


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    settings = Settings.from_env()
    host = args.host or settings.host
    port = settings.port if args.port is None else args.port
    if problem := _port_is_free(host, port):
        print(f"integrations-graphql: {problem}", file=sys.stderr, flush=True)
        return 1
    # The workers read the same address (and so the same default STORE_BASE_URL) from the environment.
    os.environ["HOST"], os.environ["PORT"] = host, str(port)
    settings = Settings.from_env()
    asyncio.run(_bootstrap(settings))
    os.environ[PREPARED_BY_SERVE] = "1"
    _share_metrics_between_workers(settings, args.workers)
    base = local_base_url(host, port)
    print(f"Data: {_where_data_lives(settings)}", flush=True)
    print(f"GraphiQL: {base}graphql   health: {base}healthz", flush=True)
    print(f"Admin console: {base}admin/", flush=True)
    if args.workers > 1 and not settings.redis_url:
        print(
            f"Rate limits: without REDIS_URL each of the {args.workers} workers keeps its own buckets, so a caller"
            f" may use up to {args.workers} times its bucket; set REDIS_URL to share them.",
            flush=True,
        )
    uvicorn.run(
        "main:create_app",
        factory=True,
        host=host,
        port=port,
        workers=args.workers,
        log_level=settings.log_level,
        access_log=not args.no_access_log,
        log_config=log_config(settings.log_format, settings.log_level),
        # Proxy headers are applied inside the app (auth.proxy), which needs the real peer address.
        proxy_headers=False,
        # A worker builds and audits the schema before it answers; uvicorn's 5 s are not enough on a busy
        # machine, where workers were killed and restarted forever.
        timeout_worker_healthcheck=60,
    )
    return 0


def _migrate(_args: argparse.Namespace) -> int:
    asyncio.run(apply_migrations(Settings.from_env()))
    print("Migrations are up to date.")
    return 0


def _acceptable(password: str) -> bool:
    """Whether a password chosen on the command line meets the one password rule (else says why, on stderr)."""
    problem = password_problem(password)
    if problem:
        print(problem, file=sys.stderr)
    return problem is None


def _create_admin(args: argparse.Namespace) -> int:
    password = args.password or os.environ.get("ADMIN_PASSWORD") or ""
    if not password:
        if not sys.stdin.isatty():
            print("No password: pass --password, set ADMIN_PASSWORD, or run in a terminal.", file=sys.stderr)
            return 2
        password = getpass.getpass("Password: ")
    if not _acceptable(password):
        return 2

    async def run() -> int:
        from tortoise.exceptions import IntegrityError

        from auth.admin_tokens import create_admin

        async with open_database(Settings.from_env()):
            try:
                await create_admin(args.username, password)
            except IntegrityError:
                print(f"An admin named {args.username!r} already exists.", file=sys.stderr)
                return 1
        print(f"Created admin {args.username!r}.")
        return 0

    return asyncio.run(run())


def _unlock_admin(args: argparse.Namespace) -> int:
    """Clear an admin's sign-in lock (after too many failures), e.g. for the only admin."""

    async def run() -> int:
        from auth.admin_tokens import unlock_admin
        from models import AdminUser
        from models.names import name_key

        async with open_database(Settings.from_env()):
            if not await AdminUser.exists(username_key=name_key(args.username)):
                print(f"There is no admin named {args.username!r}.", file=sys.stderr)
                return 1
            was_locked = await unlock_admin(args.username)
        print(f"Unlocked admin {args.username!r}." if was_locked else f"Admin {args.username!r} was not locked.")
        return 0

    return asyncio.run(run())


def _new_password_twice() -> str | None:
    """A new password, typed twice: at a terminal without echo, else the first two lines of standard input
    (so that a script need not put it on the command line, where other users see it); None when they differ."""
    if sys.stdin.isatty():
        first, second = getpass.getpass("New password: "), getpass.getpass("Repeat the new password: ")
    else:
        lines = sys.stdin.read().splitlines()
        first, second = [*lines, "", ""][:2]
    if first != second:
        print("The passwords do not match.", file=sys.stderr)
        return None
    return first


def _reset_admin_password(args: argparse.Namespace) -> int:
    """Set an admin's password from the server's side: for an admin who is locked out, e.g. the only one."""
    password = args.password if args.password is not None else _new_password_twice()
    if password is None or not _acceptable(password):
        return 2

    async def run() -> int:
        from auth.admin_tokens import reset_admin_password

        async with open_database(Settings.from_env()):
            if not await reset_admin_password(args.username, password, disable_totp=args.disable_totp):
                print(f"There is no admin named {args.username!r}.", file=sys.stderr)
                return 1
        done = "its tokens are revoked and its sign-in lock is cleared"
        if args.disable_totp:
            done += ", and two-factor sign-in is off"
        print(f"Changed the password of admin {args.username!r}: {done}.")
        return 0

    return asyncio.run(run())


def _seed_demo(args: argparse.Namespace) -> int:
    from demo import seed_demo_store
    from models.data_version import EVERYTHING
    from schema.caching.purge import Purger

    async def run() -> str:
        settings = Settings.from_env()
        async with open_database(settings):
            report = await seed_demo_store(settings, args.products, reset=args.reset)
        if report.seeded:  # the response caches saw the data version move; HTTP caches are told
            await Purger(settings.cache_purge_urls).purge([EVERYTHING])
        return report.summary()

    print(asyncio.run(run()))
    return 0


def _export_schema(_args: argparse.Namespace) -> int:
    sys.stdout.write(build_schema(Settings.from_env()).as_str() + "\n")
    return 0


def _rotate_encryption_key(_args: argparse.Namespace) -> int:
    return asyncio.run(rotate_encryption_key(Settings.from_env()))


def _verify_audit_log(_args: argparse.Namespace) -> int:
    """Walk the audit trail's hash chain: 0 when it holds, 1 naming the first broken event."""

    async def run() -> int:
        async with open_database(Settings.from_env()):
            verdict = await verify()
        if not verdict.ok:
            print(f"The audit log is broken at event {verdict.broken_at}: {verdict.problem}.", file=sys.stderr)
            return 1
        span = f"events {verdict.first_id} to {verdict.last_id}" if verdict.events else "no events yet"
        print(f"The audit log verifies: {verdict.events} event(s), {span}; head {verdict.head_hash}.")
        return 0

    return asyncio.run(run())


def _prune_audit_log(_args: argparse.Namespace) -> int:
    """Delete the audit events older than the store's log entry lifetime now (the server does it hourly too)."""

    async def run() -> str:
        async with open_database(Settings.from_env()):
            cut = await retention.prune()
        if cut is None:
            return "No audit event is older than the log entry lifetime."
        return f"Deleted {cut.deleted} audit event(s); the log starts at event {cut.first_kept_id}."

    print(asyncio.run(run()))
    return 0


COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {
    "serve": _serve,
    "migrate": _migrate,
    "create-admin": _create_admin,
    "unlock-admin": _unlock_admin,
    "reset-admin-password": _reset_admin_password,
    "export-schema": _export_schema,
    "seed-demo": _seed_demo,
    "rotate-encryption-key": _rotate_encryption_key,
    "verify-audit-log": _verify_audit_log,
    "prune-audit-log": _prune_audit_log,
}


def _count(text: str) -> int:
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError("must be zero or more")
    return value


def _port(text: str) -> int:
    value = int(text)
    if not 0 < value < 65536:
        raise argparse.ArgumentTypeError("must be between 1 and 65535")
    return value


def package_version() -> str:
    """This package's version, from its installed metadata (``pip install`` or ``pip install -e``)."""
    try:
        return metadata.version(DISTRIBUTION)
    except metadata.PackageNotFoundError:  # run from a checkout that was never installed
        return "unknown (not installed)"


DISTRIBUTION = "integrations-graphql"

#: Options of the parser itself; any other first argument that is an option belongs to the default command.
TOP_LEVEL_OPTIONS = {"-h", "--help", "--version"}


def build_parser() -> argparse.ArgumentParser:
    epilog = "settings (environment variables):\n" + "\n".join(
        f"  {name:<24} {text}" for name, text in SETTINGS_HELP.items()
    )
    parser = argparse.ArgumentParser(
        prog=DISTRIBUTION,
        description="GraphQL API server for third-party integrations.",
        epilog=epilog,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {package_version()}")
    commands = parser.add_subparsers(dest="command")
    serve = commands.add_parser("serve", help="run the server (the default: its options may be given without 'serve')")
    serve.add_argument("--host", help="address to listen on (default: HOST, else 127.0.0.1)")
    serve.add_argument("--port", type=_port, help="port to listen on (default: PORT, else 8000)")
    serve.add_argument("--workers", type=int, default=1)
    serve.add_argument("--no-access-log", action="store_true")
    commands.add_parser("migrate", help="apply pending database migrations")
    admin = commands.add_parser("create-admin", help="create an admin account")
    admin.add_argument("--username", required=True)
    admin.add_argument("--password", help="else ADMIN_PASSWORD, else a prompt")
    unlock = commands.add_parser("unlock-admin", help="clear an admin's sign-in lock (too many failures)")
    unlock.add_argument("--username", required=True)
    reset = commands.add_parser(
        "reset-admin-password",
        help="set an admin's password, revoke its tokens and clear its sign-in lock (a locked-out admin's way back)",
    )
    reset.add_argument("--username", required=True)
    reset.add_argument("--password", help="else asked twice (at a terminal), or the first two lines of standard input")
    reset.add_argument(
        "--disable-totp", action="store_true", help="also turn two-factor sign-in off (a lost authenticator app)"
    )
    commands.add_parser("export-schema", help="print the GraphQL SDL")
    commands.add_parser(
        "rotate-encryption-key",
        help="re-encrypt every stored secret under ENCRYPTION_KEY (old keys from ENCRYPTION_OLD_KEYS), in one"
        " transaction",
    )
    commands.add_parser(
        "verify-audit-log",
        help="check the audit log's hash chain: exit 0 when intact, 1 naming the first changed or removed event",
    )
    commands.add_parser(
        "prune-audit-log", help="delete audit events older than the log entry lifetime now (the server does it hourly)"
    )
    seed = commands.add_parser(
        "seed-demo", help="fill an empty store with demo data (a store with data is left alone unless --reset)"
    )
    seed.add_argument("--products", type=_count, default=400, help="number of products (default 400)")
    seed.add_argument(
        "--reset", action="store_true", help="delete the store data first (admins, integrations and config stay)"
    )
    return parser


def cli(argv: list[str] | None = None) -> int:
    parser = build_parser()
    argv = sys.argv[1:] if argv is None else argv
    if not argv or (argv[0].startswith("-") and argv[0] not in TOP_LEVEL_OPTIONS):
        argv = ["serve", *argv]  # ``integrations-graphql --port 8100`` serves, as ``... serve --port 8100`` does
    args = parser.parse_args(argv)
    try:
        settings = Settings.from_env()
    except ValueError as problem:  # a malformed environment variable, named in the message
        raise SystemExit(str(problem)) from None
    logging.config.dictConfig(log_config(settings.log_format, settings.log_level))
    return COMMANDS[args.command](args)


if __name__ == "__main__":
    sys.exit(cli())
