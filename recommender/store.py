"""The listening store: one SQLite file, opened through sqlite-utils.

WAL mode, foreign keys on, the schema versioned with `PRAGMA user_version` and brought up
to date by the ordered migrations below. Timestamps of listens are integer Unix seconds (UTC);
other times are ISO 8601 strings in UTC.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import platformdirs
import sqlite_utils

from recommender.errors import SchemaTooNew, StoreError

DB_ENV = "TASTEMAKER_DB"

# Each entry moves the schema from version i to i + 1. Never edit a released entry:
# append a new one.
MIGRATIONS: list[str] = [
    """
    CREATE TABLE listeners (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL UNIQUE,
        created_at TEXT NOT NULL
    );
    CREATE TABLE artists (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL,
        key TEXT NOT NULL UNIQUE,
        mbid TEXT
    );
    -- A dataset's own artist ids (HetRec ids, Spotify URIs): they decide identity before
    -- names do, so two entries a dataset keeps apart stay apart.
    CREATE TABLE artist_external_ids (
        source TEXT NOT NULL,
        external_id TEXT NOT NULL,
        artist_id INTEGER NOT NULL REFERENCES artists(id),
        PRIMARY KEY (source, external_id)
    );
    CREATE TABLE tracks (
        id INTEGER PRIMARY KEY,
        artist_id INTEGER NOT NULL REFERENCES artists(id),
        title TEXT NOT NULL,
        key TEXT NOT NULL,
        album TEXT,
        duration_ms INTEGER,
        mbid TEXT,
        UNIQUE (artist_id, key)
    );
    CREATE TABLE imports (
        id INTEGER PRIMARY KEY,
        format TEXT NOT NULL,
        path TEXT NOT NULL,
        checksum TEXT NOT NULL,
        listener TEXT,
        imported INTEGER NOT NULL,
        duplicates INTEGER NOT NULL,
        skipped INTEGER NOT NULL,
        rejected INTEGER NOT NULL,
        started_at TEXT NOT NULL,
        finished_at TEXT NOT NULL
    );
    -- One row is one listen (plays = 1, listened_at set) or, for artist-level data such as
    -- HetRec, an aggregate play count with no timestamp. `dedupe` makes re-imports no-ops.
    CREATE TABLE listens (
        id INTEGER PRIMARY KEY,
        listener_id INTEGER NOT NULL REFERENCES listeners(id) ON DELETE CASCADE,
        artist_id INTEGER NOT NULL REFERENCES artists(id),
        track_id INTEGER REFERENCES tracks(id),
        listened_at INTEGER,
        ms_played INTEGER,
        plays INTEGER NOT NULL DEFAULT 1 CHECK (plays > 0),
        source TEXT NOT NULL,
        import_id INTEGER REFERENCES imports(id) ON DELETE SET NULL,
        dedupe TEXT NOT NULL,
        UNIQUE (listener_id, dedupe)
    );
    CREATE INDEX listens_listener_time ON listens (listener_id, listened_at);
    CREATE INDEX listens_artist ON listens (artist_id);
    CREATE TABLE tags (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL UNIQUE
    );
    -- count = how many people gave the tag to the artist, per source of tags.
    CREATE TABLE artist_tags (
        artist_id INTEGER NOT NULL REFERENCES artists(id),
        tag_id INTEGER NOT NULL REFERENCES tags(id),
        source TEXT NOT NULL,
        count INTEGER NOT NULL CHECK (count > 0),
        PRIMARY KEY (artist_id, tag_id, source)
    );
    CREATE INDEX artist_tags_tag ON artist_tags (tag_id);
    -- A listener's terms: NULL means "use the default".
    CREATE TABLE terms (
        listener_id INTEGER PRIMARY KEY REFERENCES listeners(id) ON DELETE CASCADE,
        surprise REAL,
        half_life_days REAL,
        no_repeat_days INTEGER,
        personalise INTEGER,
        exclude_artists TEXT NOT NULL DEFAULT '[]',
        exclude_tags TEXT NOT NULL DEFAULT '[]',
        ignore_sources TEXT NOT NULL DEFAULT '[]',
        updated_at TEXT NOT NULL
    );
    CREATE TABLE models (
        id TEXT PRIMARY KEY,
        path TEXT NOT NULL,
        created_at TEXT NOT NULL,
        data_fingerprint TEXT NOT NULL,
        params TEXT NOT NULL,
        stale INTEGER NOT NULL DEFAULT 0,
        stale_reason TEXT
    );
    CREATE TABLE playlists (
        id TEXT PRIMARY KEY,
        listener_id INTEGER REFERENCES listeners(id) ON DELETE CASCADE,
        listener_name TEXT NOT NULL,
        created_at TEXT NOT NULL,
        params TEXT NOT NULL,
        model_id TEXT,
        terms TEXT NOT NULL DEFAULT '{}',
        notes TEXT NOT NULL DEFAULT '[]'
    );
    CREATE TABLE playlist_tracks (
        playlist_id TEXT NOT NULL REFERENCES playlists(id) ON DELETE CASCADE,
        position INTEGER NOT NULL,
        artist_id INTEGER NOT NULL REFERENCES artists(id),
        track_id INTEGER REFERENCES tracks(id),
        kind TEXT NOT NULL CHECK (kind IN ('familiar', 'discovery', 'unexpected', 'popular')),
        reason TEXT NOT NULL,
        PRIMARY KEY (playlist_id, position)
    );
    CREATE TABLE verdicts (
        id INTEGER PRIMARY KEY,
        playlist_id TEXT NOT NULL REFERENCES playlists(id) ON DELETE CASCADE,
        position INTEGER,
        verdict TEXT NOT NULL CHECK (verdict IN ('approve', 'reject', 'flag')),
        note TEXT,
        curator TEXT,
        created_at TEXT NOT NULL
    );
    """,
    # 2: what a curator's verdict is about. `subject` = the whole playlist, one track, or one
    # track's reason; a verdict on a reason may name one "A explains B" link (artist ids).
    """
    ALTER TABLE verdicts ADD COLUMN subject TEXT NOT NULL DEFAULT 'track'
        CHECK (subject IN ('playlist', 'track', 'reason'));
    ALTER TABLE verdicts ADD COLUMN link_from INTEGER REFERENCES artists(id);
    ALTER TABLE verdicts ADD COLUMN link_to INTEGER REFERENCES artists(id);
    UPDATE verdicts SET subject = 'playlist' WHERE position IS NULL;
    CREATE INDEX verdicts_playlist ON verdicts (playlist_id, position);
    """,
]

SCHEMA_VERSION = len(MIGRATIONS)


def default_db_path() -> Path:
    """Where the store lives when neither --db nor TASTEMAKER_DB says otherwise."""
    env = os.environ.get(DB_ENV)
    if env:
        return Path(env)
    return Path(platformdirs.user_data_dir("tastemaker")) / "tastemaker.db"


def utc_now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


class Store:
    """The store: a sqlite-utils database with the tastemaker schema."""

    def __init__(self, db: sqlite_utils.Database, path: Path | None) -> None:
        self.db = db
        self.path = path

    @classmethod
    def open(cls, path: str | os.PathLike[str] | None = None) -> Store:
        """Open (creating if needed) the store at `path`, or in memory when `path` is ":memory:"."""
        if path is not None and str(path) == ":memory:":
            # Autocommit mode, like the file store: transactions are opened explicitly.
            store = cls(
                sqlite_utils.Database(sqlite3.connect(":memory:", isolation_level=None)), None
            )
        else:
            # Absolute, so paths recorded from it (model bundles) hold from any folder.
            target = (Path(path) if path is not None else default_db_path()).expanduser().absolute()
            try:
                target.parent.mkdir(parents=True, exist_ok=True)
                conn = sqlite3.connect(str(target), isolation_level=None)
            except (OSError, sqlite3.Error) as exc:
                raise StoreError(
                    f"cannot open the store at {target}: {exc}; pass --db PATH to use another file"
                ) from exc
            store = cls(sqlite_utils.Database(conn), target)
        store._configure()
        store.migrate()
        return store

    def _configure(self) -> None:
        conn = self.db.conn
        try:
            conn.execute("PRAGMA foreign_keys = ON")
            if self.path is not None:
                conn.execute("PRAGMA journal_mode = WAL")
                conn.execute("PRAGMA synchronous = NORMAL")
            conn.execute("PRAGMA busy_timeout = 5000")
        except sqlite3.DatabaseError as exc:
            raise StoreError(
                f"{self.path} is not a tastemaker store ({exc}); pass --db PATH to use another file"
            ) from exc

    @property
    def conn(self) -> sqlite3.Connection:
        return self.db.conn

    @property
    def version(self) -> int:
        return int(self.conn.execute("PRAGMA user_version").fetchone()[0])

    def migrate(self) -> None:
        """Bring the schema up to SCHEMA_VERSION, each step in its own transaction."""
        current = self.version
        if current > SCHEMA_VERSION:
            raise SchemaTooNew(
                f"the store at {self.path} has schema version {current}, newer than this "
                f"tastemaker understands ({SCHEMA_VERSION}); upgrade tastemaker"
            )
        for version in range(current, SCHEMA_VERSION):
            with self.transaction():
                for statement in _split_sql(MIGRATIONS[version]):
                    self.conn.execute(statement)
                self.conn.execute(f"PRAGMA user_version = {version + 1}")

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One write transaction: everything inside lands, or nothing does."""
        conn = self.conn
        if conn.in_transaction:
            raise StoreError("a transaction is already open on this store")
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield conn
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        else:
            conn.execute("COMMIT")

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # Small lookups used across the project -------------------------------------------------

    def listener_id(self, name: str) -> int | None:
        row = self.conn.execute("SELECT id FROM listeners WHERE name = ?", (name,)).fetchone()
        return None if row is None else int(row[0])

    def counts(self) -> dict[str, int]:
        """Row counts of the main tables."""
        tables = ["listeners", "artists", "tracks", "listens", "tags", "artist_tags", "imports"]
        return {
            t: int(self.conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0]) for t in tables
        }


def _split_sql(script: str) -> list[str]:
    """Split a migration into statements (the migrations contain no ';' inside literals)."""
    statements = []
    for chunk in script.split(";"):
        lines = [ln for ln in chunk.splitlines() if not ln.strip().startswith("--")]
        text = "\n".join(lines).strip()
        if text:
            statements.append(text)
    return statements
