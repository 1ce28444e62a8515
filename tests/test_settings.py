"""Settings from the environment: one flag/number parser, and no failure or environment read at import."""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path

import pytest

from settings import DEFAULT_CORS_ALLOW_HEADERS, Introspection, Settings, parse_flag, parse_int
from tests.support.servers import ROOT


@pytest.mark.parametrize(
    ("raw", "default", "expected"),
    [
        (None, True, True),
        ("", False, False),
        ("  ", True, True),
        ("1", False, True),
        (" true ", False, True),
        ("TRUE", False, True),
        ("yes", False, True),
        ("On", False, True),
        ("0", True, False),
        ("false", True, False),
        ("off", True, False),
        ("2", True, False),
    ],
)
def test_parse_flag(raw: str | None, default: bool, expected: bool) -> None:
    assert parse_flag(raw, default) is expected


@pytest.mark.parametrize(
    ("raw", "expected"), [(None, 5), ("", 5), (" ", 5), ("0", 0), (" 12 ", 12), ("-3", -3), ("+4", 4)]
)
def test_parse_int(raw: str | None, expected: int) -> None:
    assert parse_int(raw, 5, name="N") == expected


@pytest.mark.parametrize("raw", ["abc", "1.5", "0x10", " 7 apples "])
def test_parse_int_names_the_setting_it_cannot_read(raw: str) -> None:
    with pytest.raises(ValueError, match=f"^{re.escape(f'N must be an integer, got {raw.strip()!r}')}$"):
        parse_int(raw, 5, name="N")


def test_from_env_reads_flags_and_numbers(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("DATA_DIR", "XDG_DATA_HOME"):  # the defaults of both depend on these
        monkeypatch.delenv(name, raising=False)
    settings = Settings.from_env({"GRAPHIQL": "off", "ALLOW_PRIVATE_CALLBACKS": "yes", "MAX_ALIASES": " 7 "})
    assert (settings.graphiql, settings.allow_private_callbacks, settings.max_aliases) == (False, True, 7)
    assert Settings.from_env({}) == Settings()
    with pytest.raises(ValueError, match=r"^MAX_TOKENS must be an integer, got 'many'$"):
        Settings.from_env({"MAX_TOKENS": "many"})


def test_importing_settings_neither_fails_nor_reads_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MAX_ALIASES", "abc")
    spec = importlib.util.spec_from_file_location("settings_imported_again", ROOT / "settings.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, spec.name, module)
    spec.loader.exec_module(module)
    monkeypatch.delenv("MAX_ALIASES")
    monkeypatch.setenv("DATABASE_URL", "sqlite:///tmp/later.sqlite3")
    assert module.TORTOISE_ORM["connections"]["default"] == "sqlite:///tmp/later.sqlite3"
    with pytest.raises(AttributeError, match="no attribute 'NOT_A_SETTING'"):
        _ = module.NOT_A_SETTING


def test_the_default_store_has_one_absolute_home_whatever_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    home = Path.home()
    assert Settings.from_env({}).database_url == f"sqlite://{home}/.local/share/integrations-graphql/db.sqlite3"
    xdg = Settings.from_env({"XDG_DATA_HOME": "/srv/xdg"})
    assert xdg.database_url == "sqlite:///srv/xdg/integrations-graphql/db.sqlite3"
    assert xdg.data_dir == Path("/srv/xdg/integrations-graphql")
    # DATA_DIR wins, and a relative one is made absolute once, here.
    relative = Settings.from_env({"DATA_DIR": "store", "XDG_DATA_HOME": "/srv/xdg"})
    assert relative.database_url == f"sqlite://{tmp_path.resolve()}/store/db.sqlite3"
    # The key file and the integrations file of a PostgreSQL store live there too, not in the working directory.
    postgres = Settings.from_env({"DATA_DIR": "/srv/store", "DATABASE_URL": "postgres://u@db/x"})
    assert postgres.resolved_integrations_file == Path("/srv/store/integrations.toml")


def test_host_and_port_make_the_default_store_base_url() -> None:
    assert Settings.from_env({}).store_base_url == "http://127.0.0.1:8000/"
    wildcard = "0.0.0.0"  # noqa: S104 - a setting's value, not a bind
    settings = Settings.from_env({"HOST": wildcard, "PORT": "8100"})
    assert (settings.host, settings.port, settings.store_base_url) == (wildcard, 8100, "http://127.0.0.1:8100/")
    assert Settings.from_env({"PORT": "8100", "STORE_BASE_URL": "https://shop.example"}).store_base_url == (
        "https://shop.example/"
    )
    with pytest.raises(ValueError, match=r"^PORT must be between 1 and 65535, got 70000$"):
        Settings.from_env({"PORT": "70000"})


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("", ()),
        ("https://SPA.Example.com/", ("https://spa.example.com",)),
        (
            "HTTP://localhost:5173 , https://a.example.com:443, http://a.example.com:80",
            ("http://localhost:5173", "https://a.example.com", "http://a.example.com"),
        ),
        ("http://[::1]:8080/", ("http://[::1]:8080",)),
        ("https://a.example.com, https://A.example.com/", ("https://a.example.com",)),
        ("*", ("*",)),
    ],
)
def test_cors_origins_are_normalised_as_browsers_send_them(raw: str, expected: tuple[str, ...]) -> None:
    assert Settings.from_env({"CORS_ALLOW_ORIGINS": raw}).cors_allow_origins == expected


@pytest.mark.parametrize(
    "raw",
    [
        "spa.example.com",
        "https://",
        "https://a.example.com/app",
        "https://a.example.com?x=1",
        "ftp://a.example",
        "https://*.example.com",
        "https://user@a.example.com",
        "https://a.example.com:99999",
    ],
)
def test_a_value_that_is_no_origin_is_refused(raw: str) -> None:
    with pytest.raises(ValueError, match=r"^CORS_ALLOW_ORIGINS: .* is not an origin"):
        Settings.from_env({"CORS_ALLOW_ORIGINS": raw})


def test_cors_defaults_and_overrides() -> None:
    defaults = Settings.from_env({})
    assert defaults.cors_allow_headers == DEFAULT_CORS_ALLOW_HEADERS
    assert {"Authorization", "apollographql-client-name", "apollographql-client-version"} <= set(
        defaults.cors_allow_headers
    )
    assert (defaults.cors_max_age, defaults.cors_allow_credentials) == (600, False)
    custom = Settings.from_env({"CORS_ALLOW_HEADERS": "Authorization, X-Tenant", "CORS_MAX_AGE": "30"})
    assert (custom.cors_allow_headers, custom.cors_max_age) == (("Authorization", "X-Tenant"), 30)
    with pytest.raises(ValueError, match="CORS_ALLOW_CREDENTIALS"):
        Settings.from_env({"CORS_ALLOW_ORIGINS": "*", "CORS_ALLOW_CREDENTIALS": "1"})
    assert Settings.from_env({"CORS_ALLOW_ORIGINS": SPA_ORIGIN, "CORS_ALLOW_CREDENTIALS": "1"}).cors_allow_credentials


SPA_ORIGIN = "https://spa.example.com"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (None, Introspection.ALL),
        ("", Introspection.ALL),
        (" Admins ", Introspection.ADMINS),
        ("off", Introspection.OFF),
        ("authenticated", Introspection.AUTHENTICATED),
    ],
)
def test_introspection_setting(raw: str | None, expected: Introspection) -> None:
    env = {} if raw is None else {"INTROSPECTION": raw}
    assert Settings.from_env(env).introspection is expected


def test_an_unknown_introspection_value_is_named() -> None:
    with pytest.raises(ValueError, match=r"^INTROSPECTION must be one of all, authenticated, admins, off, got 'no'$"):
        Settings.from_env({"INTROSPECTION": "no"})


def test_drain_seconds_default_and_bounds() -> None:
    assert Settings.from_env({}).drain_seconds == 0
    assert Settings.from_env({"DRAIN_SECONDS": "3"}).drain_seconds == 3
    for wrong in ("-1", "601"):
        with pytest.raises(ValueError, match="DRAIN_SECONDS must be between 0 and 600"):
            Settings.from_env({"DRAIN_SECONDS": wrong})
    with pytest.raises(ValueError, match="DRAIN_SECONDS must be an integer"):
        Settings.from_env({"DRAIN_SECONDS": "soon"})
