"""The playlist side's tables (playlists, playlist_tracks, verdicts, and the workbench's
curators and their sessions): their schema and migrations.

The playlist package owns these tables, so it owns their DDL too. They are one part of the
store (`recommender.store.SchemaPart`), registered when this module is imported: every
`Store.open` after that brings them up to date, and `ensure_playlist_schema` does so for a
store opened earlier. Reading and writing these tables belongs to `playlists.storage`.

Migrations 001 and 002 are what the single-schema stores (format 1 and 2) already hold, so
they check before they create; a store made before the parts existed keeps every row.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from recommender.store import SchemaPart, Store, execute_script, register_schema

if TYPE_CHECKING:
    import sqlite_utils

PLAYLIST_SCHEMA = SchemaPart("playlists")


@PLAYLIST_SCHEMA.step("001_playlists_tracks_verdicts")
def _playlists_tracks_verdicts(db: sqlite_utils.Database) -> None:
    execute_script(
        db,
        """
        CREATE TABLE IF NOT EXISTS playlists (
            id TEXT PRIMARY KEY,
            listener_id INTEGER REFERENCES listeners(id) ON DELETE CASCADE,
            listener_name TEXT NOT NULL,
            created_at TEXT NOT NULL,
            params TEXT NOT NULL,
            model_id TEXT,
            terms TEXT NOT NULL DEFAULT '{}',
            notes TEXT NOT NULL DEFAULT '[]'
        );
        CREATE TABLE IF NOT EXISTS playlist_tracks (
            playlist_id TEXT NOT NULL REFERENCES playlists(id) ON DELETE CASCADE,
            position INTEGER NOT NULL,
            artist_id INTEGER NOT NULL REFERENCES artists(id),
            track_id INTEGER REFERENCES tracks(id),
            kind TEXT NOT NULL CHECK (kind IN ('familiar', 'discovery', 'unexpected', 'popular')),
            reason TEXT NOT NULL,
            PRIMARY KEY (playlist_id, position)
        );
        CREATE TABLE IF NOT EXISTS verdicts (
            id INTEGER PRIMARY KEY,
            playlist_id TEXT NOT NULL REFERENCES playlists(id) ON DELETE CASCADE,
            position INTEGER,
            verdict TEXT NOT NULL CHECK (verdict IN ('approve', 'reject', 'flag')),
            note TEXT,
            curator TEXT,
            created_at TEXT NOT NULL
        );
        """,
    )


@PLAYLIST_SCHEMA.step("002_verdict_subject")
def _verdict_subject(db: sqlite_utils.Database) -> None:
    # What a curator's verdict is about: `subject` = the whole playlist, one track, or one
    # track's reason; a verdict on a reason may name one "A explains B" link (artist ids).
    if "subject" not in db.table("verdicts").columns_dict:  # a format-2 store has them
        execute_script(
            db,
            """
            ALTER TABLE verdicts ADD COLUMN subject TEXT NOT NULL DEFAULT 'track'
                CHECK (subject IN ('playlist', 'track', 'reason'));
            ALTER TABLE verdicts ADD COLUMN link_from INTEGER REFERENCES artists(id);
            ALTER TABLE verdicts ADD COLUMN link_to INTEGER REFERENCES artists(id);
            UPDATE verdicts SET subject = 'playlist' WHERE position IS NULL;
            """,
        )
    db.table("verdicts").create_index(
        ["playlist_id", "position"], index_name="verdicts_playlist", if_not_exists=True
    )


@PLAYLIST_SCHEMA.step("003_kind_checked_in_python")
def _kind_checked_in_python(db: sqlite_utils.Database) -> None:
    # Candidate kinds are validated in Python, so a new kind needs no SQL change: drop the
    # CHECK on `kind`. sqlite-utils' transform keeps a column's CHECK, so the values move to a
    # fresh column that takes the old one's name and place.
    tracks = db.table("playlist_tracks")
    tracks.add_column("kind_unchecked", str)
    db.execute("UPDATE playlist_tracks SET kind_unchecked = kind")
    tracks.transform(
        drop={"kind"},
        rename={"kind_unchecked": "kind"},
        not_null={"kind_unchecked"},
        column_order=["playlist_id", "position", "artist_id", "track_id", "kind", "reason"],
    )


@PLAYLIST_SCHEMA.step("004_curators")
def _curators(db: sqlite_utils.Database) -> None:
    # The workbench's curators (only a hash of each sign-in token is kept) and their
    # server-side sessions (only a hash of each session id).
    execute_script(
        db,
        """
        CREATE TABLE IF NOT EXISTS curators (
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL UNIQUE,
            token_sha256 TEXT NOT NULL UNIQUE,
            created_at TEXT NOT NULL,
            signed_in_at TEXT
        );
        CREATE TABLE IF NOT EXISTS curator_sessions (
            id_sha256 TEXT PRIMARY KEY,
            curator_id INTEGER NOT NULL REFERENCES curators(id) ON DELETE CASCADE,
            created_at TEXT NOT NULL,
            expires_at TEXT NOT NULL
        );
        CREATE INDEX IF NOT EXISTS curator_sessions_curator ON curator_sessions (curator_id);
        """,
    )


@PLAYLIST_SCHEMA.step("005_written_files")
def _written_files(db: sqlite_utils.Database) -> None:
    # The files a listener asked tastemaker to write (`playlist -o`, `report --html`,
    # `export-data -o`), so that `forget` can tell them which still name them. Only the path,
    # what it holds and whose it is (an id, never a name) are kept; one row per path, the
    # newest write. Read and written by `playlists.written`.
    execute_script(
        db,
        """
        CREATE TABLE IF NOT EXISTS written_files (
            path TEXT PRIMARY KEY,
            kind TEXT NOT NULL,
            listener_id INTEGER REFERENCES listeners(id) ON DELETE CASCADE,
            playlist_id TEXT,
            written_at TEXT NOT NULL
        );
        CREATE INDEX IF NOT EXISTS written_files_listener ON written_files (listener_id);
        CREATE INDEX IF NOT EXISTS written_files_playlist ON written_files (playlist_id);
        """,
    )


register_schema(PLAYLIST_SCHEMA)


def ensure_playlist_schema(store: Store) -> None:
    """Make sure the playlist tables are current on `store` (cheap after the first call);
    call it before the first read or write of them."""
    store.ensure_schema(PLAYLIST_SCHEMA)
