"""Settings from the environment: one flag/number parser, and no failure or environment read at import."""

from __future__ import annotations

import importlib.util
import re
import sys

import pytest

from settings import Settings, parse_flag, parse_int
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
