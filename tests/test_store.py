from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
import sqlite_utils

from playlists.schema import PLAYLIST_SCHEMA
from playlists.storage import load_playlist, verdicts_for
from recommender import store as store_module
from recommender.errors import SchemaTooNew, StoreError
from recommender.store import CORE, SCHEMA_VERSION, SchemaPart, Store, register_schema
from recommender.terms_storage import load_terms
from tests.legacy_stores import CORE_TABLES, PLAYLIST_TABLES, legacy_store


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


# -- parts and migrations ------------------------------------------------------------------

LEGACY_TABLES = CORE_TABLES + PLAYLIST_TABLES


def _rows(conn: sqlite3.Connection, table: str) -> list[dict[str, object]]:
    conn.row_factory = sqlite3.Row
    try:
        return [dict(r) for r in conn.execute(f"SELECT * FROM {table} ORDER BY rowid")]
    finally:
        conn.row_factory = None


def _shape(db: sqlite_utils.Database) -> dict[str, object]:
    """Everything about the tables that matters, but not how the DDL text was laid out."""
    return {
        name: (
            [(c.name, c.type, c.notnull, c.default_value, c.is_pk) for c in table.columns],
            sorted((fk.column, fk.other_table, fk.on_delete) for fk in table.foreign_keys),
            sorted((i.name, tuple(i.columns), i.unique) for i in table.indexes),
            sorted(" ".join(c.check.split()) for c in table.checks),
        )
        for name in db.table_names()
        if name != "_sqlite_migrations"
        for table in [db.table(name)]
    }


def test_a_schema_2_store_opens_with_every_row_kept(tmp_path: Path) -> None:
    path = legacy_store(tmp_path / "v2.db", version=2)
    with sqlite3.connect(path) as before:
        old = {t: _rows(before, t) for t in LEGACY_TABLES}
    assert all(old[t] for t in LEGACY_TABLES)  # the fixture has data in every table

    with Store.open(path) as upgraded:
        assert upgraded.version == SCHEMA_VERSION
        # Every old row is kept with every old value; later migrations only add columns.
        kept = {
            t: [
                {k: row[k] for k in old_row}
                for row, old_row in zip(_rows(upgraded.conn, t), old[t], strict=True)
            ]
            for t in LEGACY_TABLES
        }
        assert kept == old
        assert {t: len(_rows(upgraded.conn, t)) for t in LEGACY_TABLES} == {
            t: len(rows) for t, rows in old.items()
        }
        applied = upgraded.db.execute(
            "SELECT migration_set, name FROM _sqlite_migrations ORDER BY id"
        ).fetchall()
        assert applied == [("recommender", s) for s in CORE.steps] + [
            ("playlists", s) for s in PLAYLIST_SCHEMA.steps
        ]
        # The library reads it as before.
        playlist = load_playlist(upgraded, "pl-legacy")
        assert [t.kind for t in playlist.tracks] == [
            "familiar",
            "discovery",
            "unexpected",
            "popular",
        ]
        terms = load_terms(upgraded, "ana")
        assert (terms.surprise, terms.exclude_artists, terms.ignore_sources) == (
            0.3,
            ("Bad Religion",),
            ("spotify",),
        )
        assert [
            (v.subject, v.verdict, v.link_from) for v in verdicts_for(upgraded, "pl-legacy")
        ] == [
            ("playlist", "approve", None),
            ("track", "reject", None),
            ("reason", "flag", 1),
        ]
        upgraded_shape = _shape(upgraded.db)

    with Store.open(path) as again:  # nothing left to migrate
        assert again.db.table("_sqlite_migrations").count == len(applied)
    with Store.open(tmp_path / "new.db") as new:
        assert _shape(new.db) == upgraded_shape  # a migrated store is shaped like a new one


def test_playlist_kinds_are_free_text_and_verdicts_stay_checked(tmp_path: Path) -> None:
    with Store.open(legacy_store(tmp_path / "v2.db", version=2)) as store:
        conn = store.conn
        conn.execute(
            "INSERT INTO playlist_tracks (playlist_id, position, artist_id, kind, reason)"
            " VALUES ('pl-legacy', 5, 1, 'from a friend', '{}')"
        )
        for bad in (
            "INSERT INTO verdicts (playlist_id, verdict, created_at)"
            " VALUES ('pl-legacy', 'meh', 't')",
            "INSERT INTO verdicts (playlist_id, verdict, subject, created_at)"
            " VALUES ('pl-legacy', 'approve', 'album', 't')",
            "INSERT INTO playlist_tracks (playlist_id, position, artist_id, kind, reason)"
            " VALUES ('pl-legacy', 6, 1, NULL, '{}')",
        ):
            with pytest.raises(sqlite3.IntegrityError):
                conn.execute(bad)
        # Deleting a playlist still takes its tracks and verdicts with it.
        conn.execute("DELETE FROM playlists WHERE id = 'pl-legacy'")
        assert store.db.table("playlist_tracks").count == 0
        assert store.db.table("verdicts").count == 0


def test_a_part_with_steps_from_a_newer_tastemaker_is_refused(tmp_path: Path) -> None:
    with Store.open(tmp_path / "s.db") as first:
        first.db.table("_sqlite_migrations").insert(
            {"migration_set": "playlists", "name": "999_from_the_future", "applied_at": "t"}
        )
    with pytest.raises(SchemaTooNew, match="upgrade tastemaker"):
        Store.open(tmp_path / "s.db")


def test_an_owner_registers_its_part_and_ensures_it_on_first_use(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    part = SchemaPart("test_part")

    @part.step("001_notes")
    def _notes(db: sqlite_utils.Database) -> None:
        db.table("test_notes").create({"id": int, "text": str}, pk="id")

    with Store.open(tmp_path / "early.db") as early:  # opened before the owner registered
        assert "test_notes" not in early.db.table_names()
        early.ensure_schema(part)
        early.ensure_schema(part)  # a no-op once current
        assert "test_notes" in early.db.table_names()

    monkeypatch.setattr(store_module, "_REGISTERED", dict(store_module._REGISTERED))
    register_schema(part)
    with Store.open(tmp_path / "late.db") as late:
        assert "test_notes" in late.db.table_names()
        assert "playlists" in late.db.table_names()


def test_page_cache_grows_for_a_bulk_write_and_returns_to_what_it_was(tmp_path: Path) -> None:
    with Store.open(tmp_path / "s.db") as store:
        before = store.conn.execute("PRAGMA cache_size").fetchone()[0]
        with store.page_cache(64):
            assert store.conn.execute("PRAGMA cache_size").fetchone()[0] == -64 * 1024
        assert store.conn.execute("PRAGMA cache_size").fetchone()[0] == before
