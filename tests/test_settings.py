"""Settings from the environment: one flag/number parser, and no failure or environment read at import."""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path

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
