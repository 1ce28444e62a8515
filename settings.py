"""Typed settings read from environment variables, in one place.

Every setting has a safe default. Store-wide behaviour that admins change at run time (guest access,
OAuth lifetimes, lock-out) is not here: it lives in the config table (see ``auth/config.py``) so that
a change reaches every worker on its next request.
"""

from __future__ import annotations

import base64
import dataclasses
import enum
import ipaddress
import os
import re
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

#: The folder under the platform's user data directory that holds the store when DATA_DIR is not set.
APP_DIR_NAME = "integrations-graphql"
DATABASE_FILE_NAME = "db.sqlite3"
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000


def default_data_dir(env: Mapping[str, str] | None = None) -> Path:
    """Where the store lives: ``DATA_DIR`` if set, else the platform's user data directory.

    Always absolute, so that starting the server from another folder finds the same store rather than
    silently creating a second one (with a new admin) in the working directory.
    """
    env = os.environ if env is None else env
    if explicit := env.get("DATA_DIR", "").strip():
        return Path(explicit).expanduser().resolve()
    if sys.platform == "win32":
        base = Path(env.get("LOCALAPPDATA", "").strip() or Path.home() / "AppData" / "Local")
    elif sys.platform == "darwin":
        base = Path.home() / "Library" / "Application Support"
    else:
        xdg = env.get("XDG_DATA_HOME", "").strip()
        # The XDG spec ignores a relative XDG_DATA_HOME.
        base = Path(xdg) if xdg and Path(xdg).is_absolute() else Path.home() / ".local" / "share"
    return (base / APP_DIR_NAME).resolve()


def default_database_url(env: Mapping[str, str] | None = None) -> str:
    """The embedded SQLite database in ``default_data_dir``."""
    return f"sqlite://{default_data_dir(env) / DATABASE_FILE_NAME}"


def local_base_url(host: str, port: int) -> str:
    """The URL this server answers on when STORE_BASE_URL is not set (a wildcard address means this machine)."""
    if host in {"", "0.0.0.0"}:  # noqa: S104 - a display name, not a bind
        host = "127.0.0.1"
    elif host == "::":
        host = "::1"
    if ":" in host and not host.startswith("["):
        host = f"[{host}]"
    return f"http://{host}:{port}/"


def parse_flag(raw: str | None, default: bool) -> bool:
    """A yes/no setting, from the environment or the config table: blank means ``default``.

    "1", "true", "yes" and "on" (in any case) mean yes; any other text means no.
    """
    if raw is None or not raw.strip():
        return default
    return raw.strip().lower() in {"1", "true", "yes", "on"}


def parse_int(raw: str | None, default: int, *, name: str) -> int:
    """A whole-number setting called ``name``: blank means ``default``; text that is no number is a ValueError.

    The error names the setting, so a caller may show it as it is (``main.cli`` does).
    """
    if raw is None or not raw.strip():
        return default
    try:
        return int(raw)
    except ValueError:
        raise ValueError(f"{name} must be an integer, got {raw.strip()!r}") from None


class Introspection(enum.StrEnum):
    """Who may ask for the schema (``__schema``, ``__type``); ``__typename`` is always allowed."""

    ALL = "all"
    #: Admins and integrations, not guests.
    AUTHENTICATED = "authenticated"
    ADMINS = "admins"
    OFF = "off"


def parse_introspection(raw: str | None) -> Introspection:
    """``INTROSPECTION``: blank means ``all``; anything else must be one of the values, in any case."""
    text = (raw or "").strip().lower() or Introspection.ALL.value
    try:
        return Introspection(text)
    except ValueError:
        choices = ", ".join(member.value for member in Introspection)
        raise ValueError(f"INTROSPECTION must be one of {choices}, got {raw!r}") from None


#: Values of ``LOG_FORMAT``.
LOG_FORMATS = ("text", "json")


def parse_log_format(raw: str | None) -> str:
    """``LOG_FORMAT``: ``text`` (the default) or ``json``, in any case."""
    text = (raw or "").strip().lower() or LOG_FORMATS[0]
    if text not in LOG_FORMATS:
        raise ValueError(f"LOG_FORMAT must be one of {', '.join(LOG_FORMATS)}, got {raw!r}")
    return text


#: Addresses and networks; None means any.
Networks = tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...] | None

#: ``METRICS_ALLOW_IPS`` when not set: this machine only.
DEFAULT_METRICS_ALLOW_IPS = "127.0.0.1,::1"


def parse_networks(raw: str, *, name: str) -> Networks:
    """Addresses or networks (``10.0.0.0/8``), comma-separated; ``*`` (None) for any."""
    if raw.strip() == "*":
        return None
    networks = []
    for item in (part.strip() for part in raw.split(",")):
        if item:
            try:
                networks.append(ipaddress.ip_network(item, strict=False))
            except ValueError:
                raise ValueError(f"{name}: {item!r} is not an address or network") from None
    return tuple(networks)


#: Request headers browsers may send cross-origin: credentials, JSON bodies, request ids, and the
#: client name and version Apollo Client sends.
DEFAULT_CORS_ALLOW_HEADERS = (
    "Authorization",
    "Content-Type",
    "X-Request-Id",
    "apollographql-client-name",
    "apollographql-client-version",
)
_HEADER_NAME = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")
_DEFAULT_PORTS = {"http": 80, "https": 443}


def normalise_origin(raw: str) -> str:
    """An origin as browsers send it in ``Origin``: ``scheme://host[:port]``, lower-cased, with no trailing
    slash and no default port; a ValueError (naming ``CORS_ALLOW_ORIGINS``) for anything else, since an
    origin that never matches would fail silently in every browser."""
    text = raw.strip().rstrip("/")
    problem = (
        f"CORS_ALLOW_ORIGINS: {raw.strip()!r} is not an origin (scheme://host[:port], e.g. https://app.example.com)"
    )
    parts = urlsplit(text)
    try:
        port = parts.port
    except ValueError:
        raise ValueError(problem) from None
    scheme, host = parts.scheme.lower(), parts.hostname
    if scheme not in _DEFAULT_PORTS or not host or "*" in text:
        raise ValueError(problem)
    if parts.path or parts.query or parts.fragment or "?" in text or "#" in text or "@" in parts.netloc:
        raise ValueError(problem)
    if ":" in host:  # IPv6, as browsers write it
        host = f"[{host}]"
    return f"{scheme}://{host}" + (f":{port}" if port is not None and port != _DEFAULT_PORTS[scheme] else "")


def parse_cors_origins(raw: str | None, *, allow_credentials: bool) -> tuple[str, ...]:
    """``CORS_ALLOW_ORIGINS``: comma-separated origins (normalised), or ``*`` for any origin (refused together
    with credentials, which browsers never send to ``*``)."""
    values = [value.strip() for value in (raw or "").split(",") if value.strip()]
    if "*" in values:
        if allow_credentials:
            raise ValueError(
                "CORS_ALLOW_ORIGINS=* cannot be used with CORS_ALLOW_CREDENTIALS=1 (browsers refuse it):"
                " list the origins instead"
            )
        return ("*",)
    return tuple(dict.fromkeys(normalise_origin(value) for value in values))


def parse_header_names(raw: str | None, default: tuple[str, ...], *, name: str) -> tuple[str, ...]:
    """A comma-separated list of HTTP header names: blank means ``default``."""
    values = tuple(value.strip() for value in (raw or "").split(",") if value.strip())
    for value in values:
        if not _HEADER_NAME.fullmatch(value):
            raise ValueError(f"{name}: {value!r} is not an HTTP header name")
    return values or default


#: The shortest ENCRYPTION_KEY passphrase accepted (a Fernet key is always accepted): scrypt slows guessing down,
#: it cannot make a short passphrase strong.
MIN_PASSPHRASE_LENGTH = 16


def is_fernet_key(text: str) -> bool:
    """Whether ``text`` is a Fernet key: 32 bytes in URL-safe base64 (44 characters)."""
    try:
        return len(text) == 44 and len(base64.urlsafe_b64decode(text.encode())) == 32
    except (ValueError, TypeError):
        return False


def parse_encryption_key(raw: str | None) -> str | None:
    """``ENCRYPTION_KEY``: blank means the key file; else a Fernet key, or a passphrase long enough to derive one
    from. The error never repeats the value."""
    text = (raw or "").strip()
    if text and not is_fernet_key(text) and len(text) < MIN_PASSPHRASE_LENGTH:
        raise ValueError(
            f"ENCRYPTION_KEY must be a Fernet key (44 characters of URL-safe base64, e.g. from"
            f" `python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())'`)"
            f" or a passphrase of at least {MIN_PASSPHRASE_LENGTH} characters; the value given has {len(text)}"
        )
    return text or None


def parse_old_keys(raw: str | None) -> tuple[str, ...]:
    """``ENCRYPTION_OLD_KEYS``: comma-separated Fernet keys or passphrases, for decrypting only (any length: an
    old passphrase may predate the minimum)."""
    return tuple(dict.fromkeys(value.strip() for value in (raw or "").split(",") if value.strip()))


def parse_redis_url(raw: str | None) -> str | None:
    """``REDIS_URL``: blank means none; else a ``redis://``, ``rediss://`` or ``unix://`` URL."""
    text = (raw or "").strip()
    if not text:
        return None
    if urlsplit(text).scheme not in {"redis", "rediss", "unix"}:
        raise ValueError("REDIS_URL must be a redis://, rediss:// or unix:// URL")
    return text


def parse_size(env: Mapping[str, str], name: str, default: int) -> int:
    """A count or a number of bytes: blank means ``default``; it must be 0 or more."""
    value = parse_int(env.get(name), default, name=name)
    if value < 0:
        raise ValueError(f"{name} must be 0 or more, got {value}")
    return value


def parse_urls(raw: str | None, *, name: str) -> tuple[str, ...]:
    """Comma-separated ``http://`` or ``https://`` URLs (blank: none)."""
    urls = tuple(dict.fromkeys(url.strip() for url in (raw or "").split(",") if url.strip()))
    for url in urls:
        parts = urlsplit(url)
        if parts.scheme not in {"http", "https"} or not parts.hostname:
            raise ValueError(f"{name} must list http:// or https:// URLs, got {url!r}")
    return urls


def sqlite_path(database_url: str) -> Path | None:
    """The file behind a ``sqlite://`` URL, or None for other databases and ``:memory:``."""
    if not database_url.startswith("sqlite://"):
        return None
    rest = database_url.removeprefix("sqlite://").split("?", 1)[0]
    if rest in {"", ":memory:"}:
        return None
    return Path(rest)


@dataclasses.dataclass(frozen=True)
class Settings:
    """What the process needs to know before it can open the database."""

    database_url: str = dataclasses.field(default_factory=default_database_url)
    #: True when DATABASE_URL was not given: only then are the admin and the demo store created implicitly.
    embedded_default: bool = True
    #: Where the embedded database, the key file and the integrations file live (DATA_DIR).
    data_home: Path = dataclasses.field(default_factory=default_data_dir)
    #: The address ``serve`` listens on (HOST, PORT; ``--host``/``--port`` win).
    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT
    store_base_url: str = local_base_url(DEFAULT_HOST, DEFAULT_PORT)
    #: Hosts besides STORE_BASE_URL's that the store answers to (OAuth signatures cover the host).
    allowed_hosts: tuple[str, ...] = ()
    #: Requests per minute and client address to generateAdminToken (0: no limit).
    sign_in_rate_limit: int = 20
    #: Requests per minute and client address to the OAuth token endpoints (0: no limit).
    oauth_token_rate_limit: int = 60
    #: A Fernet key or a passphrase (scrypt with the store's salt); None: the key file.
    encryption_key: str | None = dataclasses.field(default=None, repr=False)
    #: Keys that only decrypt (rotation: ``rotate-encryption-key`` re-encrypts under ``encryption_key``).
    encryption_old_keys: tuple[str, ...] = dataclasses.field(default=(), repr=False)
    integrations_file: Path | None = None
    allow_private_callbacks: bool = False
    #: Origins (normalised) whose pages may call the server from a browser; ``("*",)`` for any.
    cors_allow_origins: tuple[str, ...] = ()
    cors_allow_headers: tuple[str, ...] = DEFAULT_CORS_ALLOW_HEADERS
    #: Seconds a browser may cache a preflight answer.
    cors_max_age: int = 600
    #: Browsers may send cookies and TLS client certificates cross-origin (not needed for bearer tokens).
    cors_allow_credentials: bool = False
    introspection: Introspection = Introspection.ALL
    graphiql: bool = True
    max_query_depth: int = 12
    max_aliases: int = 30
    max_tokens: int = 3000
    max_page_size: int = 100
    max_body_bytes: int = 1 << 20
    sqlite_synchronous: str = "NORMAL"
    log_level: str = "info"
    #: ``text`` (ISO timestamps, request id in brackets) or ``json`` (one object per line).
    log_format: str = "text"
    #: Serve ``/metrics`` (Prometheus) to METRICS_ALLOW_IPS or the METRICS_TOKEN bearer.
    metrics_enabled: bool = False
    metrics_allow_ips: str = DEFAULT_METRICS_ALLOW_IPS
    metrics_token: str | None = None
    #: OpenTelemetry's OTLP endpoint: traces are exported there when the ``otel`` extra is installed.
    otel_endpoint: str | None = None
    #: Peers whose X-Forwarded-Proto/-For/-Host headers are trusted (comma-separated addresses or networks, or *).
    forwarded_allow_ips: str = "127.0.0.1"
    #: Redis for rate-limit buckets shared by every worker and host (None: each process keeps its own).
    redis_url: str | None = None
    #: Prefix of the bucket keys in Redis (several stores may share one Redis).
    redis_key_prefix: str = "integrations:bucket:"
    #: Count each integration's calls per ACL resource (``auth.activity``); off: nothing is counted.
    activity_tracking: bool = True
    #: Seconds between two writes of a process's counts; a crash loses at most this much counting.
    activity_flush_seconds: int = 5
    #: This process runs a webhook delivery worker (started and stopped with the app).
    webhook_delivery: bool = True
    #: GraphQL GET answers kept in process (0: none) and the bytes they may take.
    response_cache_entries: int = 10_000
    response_cache_bytes: int = 64 << 20
    #: Automatic persisted queries registered in process (0: persisted queries are not supported) and their bytes.
    persisted_queries: int = 5_000
    persisted_query_bytes: int = 16 << 20
    #: HTTP caches (Varnish with xkey) that are sent ``PURGE`` with the changed data's tags after each write.
    cache_purge_urls: tuple[str, ...] = ()
    #: Seconds between SIGTERM and the start of the graceful shutdown, while ``/readyz`` answers 503 and requests
    #: are still served, so that a load balancer's health check takes the process out of rotation first.
    drain_seconds: int = 0

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """The settings in ``env`` (default: the process environment); a ValueError names a malformed one."""
        env = os.environ if env is None else env
        database_url = env.get("DATABASE_URL", "").strip()
        embedded = not database_url
        data_home = default_data_dir(env)
        database_url = database_url or f"sqlite://{data_home / DATABASE_FILE_NAME}"
        host = env.get("HOST", "").strip() or cls.host
        port = parse_int(env.get("PORT"), cls.port, name="PORT")
        if not 0 < port < 65536:
            raise ValueError(f"PORT must be between 1 and 65535, got {port}")
        # Signed requests cover the host and port: by default the store is where this server listens.
        store_base_url = env.get("STORE_BASE_URL", "").strip() or local_base_url(host, port)
        if not store_base_url.endswith("/"):
            store_base_url += "/"
        integrations_file = env.get("INTEGRATIONS_FILE", "").strip()
        cors_allow_credentials = parse_flag(env.get("CORS_ALLOW_CREDENTIALS"), False)
        cors_max_age = parse_int(env.get("CORS_MAX_AGE"), cls.cors_max_age, name="CORS_MAX_AGE")
        if cors_max_age < 0:
            raise ValueError(f"CORS_MAX_AGE must be 0 or more, got {cors_max_age}")
        allowed_hosts = tuple(h.strip() for h in env.get("ALLOWED_HOSTS", "").split(",") if h.strip())
        metrics_allow_ips = env.get("METRICS_ALLOW_IPS", "").strip() or DEFAULT_METRICS_ALLOW_IPS
        parse_networks(metrics_allow_ips, name="METRICS_ALLOW_IPS")  # refused at start, not at the first scrape
        activity_flush_seconds = parse_int(
            env.get("ACTIVITY_FLUSH_SECONDS"), cls.activity_flush_seconds, name="ACTIVITY_FLUSH_SECONDS"
        )
        if not 1 <= activity_flush_seconds <= 3600:
            raise ValueError(f"ACTIVITY_FLUSH_SECONDS must be between 1 and 3600, got {activity_flush_seconds}")
        drain_seconds = parse_int(env.get("DRAIN_SECONDS"), cls.drain_seconds, name="DRAIN_SECONDS")
        if not 0 <= drain_seconds <= 600:
            raise ValueError(f"DRAIN_SECONDS must be between 0 and 600, got {drain_seconds}")
        return cls(
            database_url=database_url,
            embedded_default=embedded,
            data_home=data_home,
            host=host,
            port=port,
            store_base_url=store_base_url,
            allowed_hosts=allowed_hosts,
            encryption_key=parse_encryption_key(env.get("ENCRYPTION_KEY")),
            encryption_old_keys=parse_old_keys(env.get("ENCRYPTION_OLD_KEYS")),
            integrations_file=Path(integrations_file) if integrations_file else None,
            allow_private_callbacks=parse_flag(env.get("ALLOW_PRIVATE_CALLBACKS"), False),
            cors_allow_origins=parse_cors_origins(
                env.get("CORS_ALLOW_ORIGINS"), allow_credentials=cors_allow_credentials
            ),
            cors_allow_headers=parse_header_names(
                env.get("CORS_ALLOW_HEADERS"), DEFAULT_CORS_ALLOW_HEADERS, name="CORS_ALLOW_HEADERS"
            ),
            cors_max_age=cors_max_age,
            cors_allow_credentials=cors_allow_credentials,
            introspection=parse_introspection(env.get("INTROSPECTION")),
            graphiql=parse_flag(env.get("GRAPHIQL"), True),
            max_query_depth=parse_int(env.get("MAX_QUERY_DEPTH"), cls.max_query_depth, name="MAX_QUERY_DEPTH"),
            max_aliases=parse_int(env.get("MAX_ALIASES"), cls.max_aliases, name="MAX_ALIASES"),
            max_tokens=parse_int(env.get("MAX_TOKENS"), cls.max_tokens, name="MAX_TOKENS"),
            max_page_size=parse_int(env.get("MAX_PAGE_SIZE"), cls.max_page_size, name="MAX_PAGE_SIZE"),
            max_body_bytes=parse_int(env.get("MAX_BODY_BYTES"), cls.max_body_bytes, name="MAX_BODY_BYTES"),
            sign_in_rate_limit=parse_int(
                env.get("SIGN_IN_RATE_LIMIT"), cls.sign_in_rate_limit, name="SIGN_IN_RATE_LIMIT"
            ),
            oauth_token_rate_limit=parse_int(
                env.get("OAUTH_TOKEN_RATE_LIMIT"), cls.oauth_token_rate_limit, name="OAUTH_TOKEN_RATE_LIMIT"
            ),
            sqlite_synchronous=(env.get("SQLITE_SYNCHRONOUS", "").strip().upper() or cls.sqlite_synchronous),
            log_level=env.get("LOG_LEVEL", "").strip().lower() or cls.log_level,
            log_format=parse_log_format(env.get("LOG_FORMAT")),
            metrics_enabled=parse_flag(env.get("METRICS_ENABLED"), False),
            metrics_allow_ips=metrics_allow_ips,
            metrics_token=env.get("METRICS_TOKEN", "").strip() or None,
            otel_endpoint=env.get("OTEL_EXPORTER_OTLP_ENDPOINT", "").strip() or None,
            forwarded_allow_ips=env.get("FORWARDED_ALLOW_IPS", "").strip() or cls.forwarded_allow_ips,
            redis_url=parse_redis_url(env.get("REDIS_URL")),
            redis_key_prefix=env.get("REDIS_KEY_PREFIX", "").strip() or cls.redis_key_prefix,
            activity_tracking=parse_flag(env.get("ACTIVITY_TRACKING"), True),
            activity_flush_seconds=activity_flush_seconds,
            webhook_delivery=parse_flag(env.get("WEBHOOK_DELIVERY"), True),
            response_cache_entries=parse_size(env, "RESPONSE_CACHE_ENTRIES", cls.response_cache_entries),
            response_cache_bytes=parse_size(env, "RESPONSE_CACHE_BYTES", cls.response_cache_bytes),
            persisted_queries=parse_size(env, "PERSISTED_QUERIES", cls.persisted_queries),
            persisted_query_bytes=parse_size(env, "PERSISTED_QUERY_BYTES", cls.persisted_query_bytes),
            cache_purge_urls=parse_urls(env.get("CACHE_PURGE_URLS"), name="CACHE_PURGE_URLS"),
            drain_seconds=drain_seconds,
        )

    @property
    def data_dir(self) -> Path:
        """Where the key file, the integrations file and the first admin's password live: beside a SQLite
        database, else ``data_home``."""
        path = sqlite_path(self.database_url)
        return path.parent if path is not None else self.data_home

    @property
    def resolved_integrations_file(self) -> Path:
        return self.integrations_file or self.data_dir / "integrations.toml"

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite://")

    def tortoise_config(self) -> dict[str, Any]:
        connection: Any = self.database_url
        if self.database_url.startswith(("postgres://", "postgresql://")):
            from models.sql import postgres_connection  # asyncpg's pool, without a reset per query

            connection = postgres_connection(self.database_url)
        return {
            "connections": {"default": connection},
            "apps": {
                "models": {
                    "models": ["models"],
                    "default_connection": "default",
                    "migrations": "models.migrations",
                }
            },
            "use_tz": True,
            "timezone": "UTC",
        }


#: Every setting, with its meaning, for ``--help`` and the README.
SETTINGS_HELP: dict[str, str] = {
    "DATABASE_URL": "sqlite://path or postgres://user:pass@host:port/db (default: db.sqlite3 in DATA_DIR)",
    "DATA_DIR": "folder of the default database, key file, integrations file (default: user data directory)",
    "HOST": "address to listen on (default 127.0.0.1; --host wins)",
    "PORT": "port to listen on (default 8000; --port wins)",
    "STORE_BASE_URL": "store base URL sent to integrations as store_base_url (default: http://HOST:PORT/ served)",
    "ALLOWED_HOSTS": "other host[:port]s the store answers to, comma-separated (default: STORE_BASE_URL's only)",
    "ENCRYPTION_KEY": "key for secrets at rest: a Fernet key, or a passphrase of 16+ characters (scrypt, salt"
    " stored in the database) (default: a key file beside the SQLite database)",
    "ENCRYPTION_OLD_KEYS": "comma-separated former keys (Fernet keys or passphrases), for decrypting only, until"
    " rotate-encryption-key has re-encrypted every secret (default none)",
    "INTEGRATIONS_FILE": "TOML file of config-file integrations (default: integrations.toml beside the database)",
    "ALLOW_PRIVATE_CALLBACKS": "1 lets activation callbacks reach loopback and private addresses, for development"
    " (default 0; in production list hosts in the OAuth setting privateCallbackAllowList instead)",
    "CORS_ALLOW_ORIGINS": "comma-separated origins (scheme://host[:port]) allowed to call /graphql from browsers,"
    " or * for any (default none)",
    "CORS_ALLOW_HEADERS": "request headers browsers may send cross-origin, comma-separated (default Authorization,"
    " Content-Type, X-Request-Id, apollographql-client-name, apollographql-client-version)",
    "CORS_MAX_AGE": "seconds browsers may cache a CORS preflight answer (default 600)",
    "CORS_ALLOW_CREDENTIALS": "1 lets browsers send cookies cross-origin; refused with CORS_ALLOW_ORIGINS=*"
    " (default 0)",
    "INTROSPECTION": "who may query __schema/__type: all, authenticated, admins or off (default all)",
    "GRAPHIQL": "0 turns the GraphiQL IDE off (default 1)",
    "MAX_QUERY_DEPTH": "deepest selection allowed in a document (default 12)",
    "MAX_ALIASES": "aliases allowed in a document (default 30)",
    "MAX_TOKENS": "lexical tokens allowed in a document (default 3000)",
    "MAX_PAGE_SIZE": "largest `first` a connection accepts (default 100)",
    "MAX_BODY_BYTES": "largest request body accepted (default 1048576)",
    "SIGN_IN_RATE_LIMIT": "generateAdminToken calls per minute and client address (default 20; 0: no limit)",
    "OAUTH_TOKEN_RATE_LIMIT": "OAuth token endpoint calls per minute and client address (default 60; 0: no limit)",
    "SQLITE_SYNCHRONOUS": "SQLite synchronous pragma, NORMAL or FULL (default NORMAL)",
    "LOG_LEVEL": "debug, info, warning or error (default info)",
    "LOG_FORMAT": "text (ISO timestamps, [request id]) or json (one object per line) (default text)",
    "METRICS_ENABLED": "1 serves Prometheus metrics at /metrics (default 0: no such path)",
    "METRICS_ALLOW_IPS": "client addresses or networks that may read /metrics, or * (default 127.0.0.1,::1)",
    "METRICS_TOKEN": "a bearer token that may read /metrics from any address (default none)",
    "PROMETHEUS_MULTIPROC_DIR": "folder where workers share metrics (default: a fresh one when serve --workers > 1)",
    "OTEL_EXPORTER_OTLP_ENDPOINT": "OTLP endpoint for OpenTelemetry traces, with the otel extra installed"
    " (default none: no tracing)",
    "FORWARDED_ALLOW_IPS": "proxies whose X-Forwarded-Proto/-For/-Host headers are trusted (default 127.0.0.1)",
    "REDIS_URL": "redis://host:port/db holding the rate-limit buckets, shared by every worker and host (default"
    " none: each process keeps its own)",
    "REDIS_KEY_PREFIX": "prefix of the bucket keys in Redis (default integrations:bucket:)",
    "ACTIVITY_TRACKING": "0 stops counting each integration's calls per resource (Activity tab, unusedResources)"
    " (default 1)",
    "ACTIVITY_FLUSH_SECONDS": "seconds between two writes of a process's activity counts, 1 to 3600; a crash loses"
    " at most this much counting (default 5)",
    "WEBHOOK_DELIVERY": "0 keeps this process from delivering webhooks (others sharing the database do)"
    " (default 1: every server process delivers)",
    "RESPONSE_CACHE_ENTRIES": "GraphQL GET answers each process keeps in its response cache (default 10000; 0: none)",
    "RESPONSE_CACHE_BYTES": "bytes the response cache of each process may hold (default 67108864)",
    "PERSISTED_QUERIES": "automatic persisted queries each process keeps (default 5000; 0: not supported)",
    "PERSISTED_QUERY_BYTES": "bytes the persisted queries of each process may hold (default 16777216)",
    "CACHE_PURGE_URLS": "comma-separated URLs of HTTP caches (Varnish with xkey) sent PURGE with the changed data's"
    " cache tags after each write (default none)",
    "DRAIN_SECONDS": "seconds a process keeps serving after SIGTERM while /readyz answers 503, so that a load"
    " balancer takes it out of rotation, before it shuts down gracefully; 0 to 600 (default 0)",
}


def __getattr__(name: str) -> Any:
    """``TORTOISE_ORM`` for the ``tortoise`` CLI (``[tool.tortoise]`` in pyproject.toml), built when asked for.

    Built lazily so that importing this module never reads the environment, nor fails on a bad value.
    """
    if name == "TORTOISE_ORM":
        return Settings.from_env().tortoise_config()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
