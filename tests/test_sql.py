"""Raw SQL: ``?`` placeholders become ``$n`` for PostgreSQL only where they are placeholders."""

from __future__ import annotations

from typing import Any

import pytest

from models.sql import dialect, fetch_all, fetch_one, postgres_placeholders


@pytest.mark.parametrize(
    ("sql", "expected"),
    [
        ("SELECT ?, ? FROM t WHERE a = ?", "SELECT $1, $2 FROM t WHERE a = $3"),
        ("SELECT '?', ?, 'it''s ?', ?", "SELECT '?', $1, 'it''s ?', $2"),
        ("LOWER(x) LIKE ? ESCAPE '\\' OR y = ?", "LOWER(x) LIKE $1 ESCAPE '\\' OR y = $2"),
        ("SELECT E'\\'?\\\\', ?, e'?''?'", "SELECT E'\\'?\\\\', $1, e'?''?'"),
        ('SELECT "col?", "say ""?""" FROM t WHERE a = ?', 'SELECT "col?", "say ""?""" FROM t WHERE a = $1'),
        ("SELECT ? -- is it?\n, ?", "SELECT $1 -- is it?\n, $2"),
        ("SELECT /* why? */ ?", "SELECT /* why? */ $1"),
        ("SELECT /* a /* nested? */ still a comment? */ ?", "SELECT /* a /* nested? */ still a comment? */ $1"),
        ("SELECT $$?$$, $body$ ? $$ ? $body$, ?", "SELECT $$?$$, $body$ ? $$ ? $body$, $1"),
        ("SELECT data ?| ?, data ?& ?", "SELECT data ?| $1, data ?& $2"),
        ("SELECT data ?? ?, ?||?", "SELECT data ? $1, $2||$3"),
        ("SELECT a$b$c, ?", "SELECT a$b$c, $1"),
        ("SELECT 1", "SELECT 1"),
    ],
)
def test_only_placeholders_are_numbered(sql: str, expected: str) -> None:
    assert postgres_placeholders(sql) == expected


def test_an_unterminated_block_comment_is_an_error() -> None:
    with pytest.raises(ValueError, match="unterminated comment"):
        postgres_placeholders("SELECT /* /* */ ?")


def test_translations_are_cached() -> None:
    sql = "SELECT ? AS cached_translation"
    postgres_placeholders(sql)
    hits = postgres_placeholders.cache_info().hits
    postgres_placeholders(sql)
    assert postgres_placeholders.cache_info().hits == hits + 1


async def test_question_marks_in_literals_reach_the_database_as_text(app: Any) -> None:
    row = await fetch_one(
        "SELECT '?' AS mark, CAST(? AS INTEGER) AS first, 'it''s ?' AS quoted, "
        "/* a comment? */ CAST(? AS INTEGER) AS second -- and another?\n",
        7,
        8,
    )
    assert row == {"mark": "?", "first": 7, "quoted": "it's ?", "second": 8}
    rows = await fetch_all("SELECT path FROM core_config_data WHERE value = '?' OR path = ?", "no/such/path")
    assert rows == []
    if dialect() == "postgres":
        row = await fetch_one(
            "SELECT E'\\'?' AS escaped, $$?$$ AS dollar, CAST(? AS INTEGER) AS value, "
            "'{\"a\": 1}'::jsonb ?? 'a' AS has_a, '{\"a\": 1}'::jsonb ?| array['b', ?] AS has_any",
            9,
            "a",
        )
        assert row == {"escaped": "'?", "dollar": "?", "value": 9, "has_a": True, "has_any": True}


def test_sqlite_aggregate_names_become_postgres_names_outside_literals() -> None:
    sql = "SELECT json_group_object(path, value), 'json_group_object(' FROM t WHERE a = ?"
    assert postgres_placeholders(sql) == "SELECT json_object_agg(path, value), 'json_group_object(' FROM t WHERE a = $1"


async def test_the_store_config_column_reads_every_stored_setting(app: Any) -> None:
    from auth.config import ALLOW_GUEST, STORE_CONFIG_COLUMN, load_config, save_config, snapshot_of

    row = await fetch_one(f"SELECT {STORE_CONFIG_COLUMN} AS store_config")
    assert row is not None
    assert snapshot_of(row["store_config"]).allow_guest_access is False
    await save_config({ALLOW_GUEST: "1"})
    assert (await load_config()).allow_guest_access is True
