from __future__ import annotations

from pathlib import Path

import pytest

from recommender.errors import SchemaTooNew, StoreError
from recommender.store import SCHEMA_VERSION, Store


def test_new_store_is_at_current_schema_with_wal_and_foreign_keys(file_store: Store) -> None:
    assert file_store.version == SCHEMA_VERSION
    assert file_store.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert file_store.conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1


def test_reopening_does_not_migrate_again(tmp_path: Path) -> None:
    with Store.open(tmp_path / "s.db") as first:
        first.conn.execute("INSERT INTO listeners (name, created_at) VALUES ('a', 'now')")
    with Store.open(tmp_path / "s.db") as again:
        assert again.counts()["listeners"] == 1


def test_store_from_a_newer_tastemaker_is_refused(tmp_path: Path) -> None:
    with Store.open(tmp_path / "s.db") as first:
        first.conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    with pytest.raises(SchemaTooNew, match="upgrade tastemaker"):
        Store.open(tmp_path / "s.db")


def test_a_file_that_is_not_a_database_is_refused(tmp_path: Path) -> None:
    bogus = tmp_path / "notes.db"
    bogus.write_text("this is not sqlite " * 100)
    with pytest.raises(StoreError, match="--db"):
        Store.open(bogus)


def test_transaction_rolls_back_everything_on_error(store: Store) -> None:
    with pytest.raises(RuntimeError), store.transaction() as conn:
        conn.execute("INSERT INTO listeners (name, created_at) VALUES ('a', 'now')")
        raise RuntimeError("crash")
    assert store.counts()["listeners"] == 0


def test_a_relative_store_path_is_kept_absolute(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Paths recorded next to the store (model bundles) must hold from any working folder.
    monkeypatch.chdir(tmp_path)
    with Store.open("rel.db") as opened:
        assert opened.path == tmp_path / "rel.db"
        assert opened.path.is_absolute()
