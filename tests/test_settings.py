"""Settings from the environment: one flag/number parser, and no failure or environment read at import."""

from __future__ import annotations

import importlib.util
import re
import sys

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


def test_from_env_reads_flags_and_numbers() -> None:
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
