"""DuckDB's memory in a process that reads the store is bounded by a setting (COACHING_READER_MEMORY_LIMIT)."""

from __future__ import annotations

from pathlib import Path

import pytest

from coaching import settings, store


@pytest.fixture
def db(template_store_copy: Path) -> Path:
    return template_store_copy


def _limit(db: Path) -> str:
    with store.open_store(db).snapshot() as con:
        return str(con.execute("SELECT current_setting('memory_limit')").fetchone()[0])


def test_a_reader_uses_1gb_at_most_by_default(db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("COACHING_READER_MEMORY_LIMIT", raising=False)
    assert settings.reader_memory_limit() == "1GB"
    assert _limit(db) == "953.6 MiB"  # DuckDB's reading of 1GB (10^9 bytes)


def test_the_setting_bounds_the_reader(db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COACHING_READER_MEMORY_LIMIT", "256MB")
    assert _limit(db) == "244.1 MiB"


@pytest.mark.parametrize("value", ["lots", "1 G", "-1GB", "1GB; SET x = 1", "GB"])
def test_a_bad_setting_is_a_clear_store_error(db: Path, monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv("COACHING_READER_MEMORY_LIMIT", value)
    with pytest.raises(store.StoreError, match="COACHING_READER_MEMORY_LIMIT is .*expected a size such as 1GB"):
        _limit(db)
