"""The listening store: one SQLite file, opened through sqlite-utils.

WAL mode, foreign keys on. Timestamps of listens are integer Unix seconds (UTC); other times
are ISO 8601 strings in UTC.

The schema comes in parts, one per owner. Each part is a sqlite-utils migration set, recorded
by name in `_sqlite_migrations`: this module owns the catalogue, listens, terms and models
(`CORE`); the playlist side owns its tables in `playlists.schema` and registers that part here
with `register_schema`, so this package never imports it. `Store.open` brings every registered
part up to date, and an owner calls `Store.ensure_schema` before first use, which covers a
store opened before the owner was imported.

`PRAGMA user_version` is the store format: 1 and 2 were single-schema stores made before the
parts existed; 3 records each part's migrations by name. The migrations that a store of
format 1 or 2 already holds (each part's first, the playlists' second) look before they change
anything (CREATE ... IF NOT EXISTS), so such a store opens with every row kept; every later
migration runs exactly once.

Opening is careful with files that are not a store: a file that is not SQLite, or an SQLite
database of another program (user_version 0 with tables, or tables that are not a store's), is
refused before a byte of it changes. A store the user may not write (a read-only file or
folder) opens read-only: every read command works, a write says the store is read-only.
`Store.open(path, read_only=True)` opens any store that way and never creates one.

`Store.snapshot(target)` writes a consistent copy of the store to a new file (SQLite's VACUUM
INTO, one read transaction: a writer committing meanwhile cannot tear it, and in WAL mode it
neither waits for the writer nor blocks it); tables named in `empty` lose their rows in the copy.

Writers wait for each other: `transaction` takes the write lock with BEGIN IMMEDIATE and,
while another process holds it (an import writes for as long as it reads its file), waits,
calling `on_wait` with a progress message every few seconds, for up to `MAX_WAIT_SECONDS`.
A full disk, a read-only store or a lock held too long is a StoreError, never a raw
`sqlite3` error.
"""

from __future__ import annotations

import json
import os
import sqlite3
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from functools import cached_property
from operator import itemgetter
from pathlib import Path
from typing import TYPE_CHECKING, Any

import platformdirs

from recommender.errors import SchemaTooNew, StoreError

if TYPE_CHECKING:  # imported when first needed: sqlite-utils loads pandas, a third of a second
    import sqlite_utils
    from sqlite_utils.migrations import Migrations

DB_ENV = "TASTEMAKER_DB"
SCHEMA_VERSION = 3  # the store format (PRAGMA user_version), see the module docstring

# Most values bound in one statement by the bulk reads below; SQLite's own limit is higher.
_IN_CHUNK = 500
BUSY_TIMEOUT_MS = 5000  # how long SQLite itself waits for a lock before each retry
MAX_WAIT_SECONDS = 3600  # how long a writer waits for another one in all
# Tables whose presence marks a tastemaker store of any format.
_STORE_TABLES = {"listeners", "listens", "artists"}

MigrationStep = Callable[["sqlite_utils.Database"], None]
MIGRATIONS_TABLE = "_sqlite_migrations"  # where sqlite-utils records applied migrations


class SchemaPart:
    """The tables one owner keeps, brought up to date by its own named migrations.

    A thin layer over a sqlite-utils `Migrations` set that also remembers its step names, so
    that a store whose part has steps this tastemaker does not know is refused as too new
    rather than half understood.
    """

    def __init__(self, name: str) -> None:
        self.name = name
        self._functions: list[tuple[str, MigrationStep]] = []

    def step(self, name: str) -> Callable[[MigrationStep], MigrationStep]:
        """Register the decorated function as the next migration. Never edit or reorder a
        released step: append a new one."""

        def register(function: MigrationStep) -> MigrationStep:
            self._functions.append((name, function))
            return function

        return register

    @property
    def steps(self) -> tuple[str, ...]:
        return tuple(name for name, _ in self._functions)

    def applied(self, conn: sqlite3.Connection) -> list[str]:
        """The names of this part's steps recorded in the store, in the order applied (read
        as sqlite-utils records them, so that opening a current store never loads it)."""
        exists = conn.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (MIGRATIONS_TABLE,)
        ).fetchone()
        if exists is None:
            return []
        rows = conn.execute(
            f"SELECT name FROM [{MIGRATIONS_TABLE}] WHERE migration_set = ? ORDER BY rowid",
            (self.name,),
        )
        return [str(name) for (name,) in rows]

    def unknown_steps(self, conn: sqlite3.Connection) -> list[str]:
        """Steps recorded in the store that this code does not have (a newer tastemaker's)."""
        known = set(self.steps)
        return [name for name in self.applied(conn) if name not in known]

    def is_current(self, conn: sqlite3.Connection) -> bool:
        return set(self.steps) <= set(self.applied(conn))

    def apply(self, db: sqlite_utils.Database) -> None:
        """Run the pending steps, each in its own savepoint, recording each one."""
        self._migrations().apply(db)

    def _migrations(self) -> Migrations:
        from sqlite_utils.migrations import Migrations

        migrations = Migrations(self.name)
        for name, function in self._functions:
            migrations(name=name)(function)
        return migrations


_REGISTERED: dict[str, SchemaPart] = {}


def register_schema(part: SchemaPart) -> SchemaPart:
    """Have every `Store.open` in this process bring `part` up to date (owners call this once,
    when their schema module is imported)."""
    _REGISTERED.setdefault(part.name, part)
    return _REGISTERED[part.name]


def execute_script(db: sqlite_utils.Database, script: str) -> None:
    """Run each statement of a DDL script on the open connection (inside the caller's
    transaction, unlike `executescript`, which commits first). Scripts hold no ';' inside
    literals."""
    for chunk in script.split(";"):
        lines = [ln for ln in chunk.splitlines() if not ln.strip().startswith("--")]
        statement = "\n".join(lines).strip()
        if statement:
            db.execute(statement)


CORE = SchemaPart("recommender")


@CORE.step("001_catalogue_listens_terms_models")
def _catalogue_listens_terms_models(db: sqlite_utils.Database) -> None:
    execute_script(
        db,
        """
        CREATE TABLE IF NOT EXISTS listeners (
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL UNIQUE,
            created_at TEXT NOT NULL
        );
        CREATE TABLE IF NOT EXISTS artists (
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL,
            key TEXT NOT NULL UNIQUE,
            mbid TEXT
        );
        -- A dataset's own artist ids (HetRec ids, Spotify URIs): they decide identity before
        -- names do, so two entries a dataset keeps apart stay apart.
        CREATE TABLE IF NOT EXISTS artist_external_ids (
            source TEXT NOT NULL,
            external_id TEXT NOT NULL,
            artist_id INTEGER NOT NULL REFERENCES artists(id),
            PRIMARY KEY (source, external_id)
        );
        CREATE TABLE IF NOT EXISTS tracks (
            id INTEGER PRIMARY KEY,
            artist_id INTEGER NOT NULL REFERENCES artists(id),
            title TEXT NOT NULL,
            key TEXT NOT NULL,
            album TEXT,
            duration_ms INTEGER,
            mbid TEXT,
            UNIQUE (artist_id, key)
        );
        CREATE TABLE IF NOT EXISTS imports (
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
        CREATE TABLE IF NOT EXISTS listens (
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
        CREATE INDEX IF NOT EXISTS listens_listener_time ON listens (listener_id, listened_at);
        CREATE INDEX IF NOT EXISTS listens_artist ON listens (artist_id);
        CREATE TABLE IF NOT EXISTS tags (
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL UNIQUE
        );
        -- count = how many people gave the tag to the artist, per source of tags.
        CREATE TABLE IF NOT EXISTS artist_tags (
            artist_id INTEGER NOT NULL REFERENCES artists(id),
            tag_id INTEGER NOT NULL REFERENCES tags(id),
            source TEXT NOT NULL,
            count INTEGER NOT NULL CHECK (count > 0),
            PRIMARY KEY (artist_id, tag_id, source)
        );
        CREATE INDEX IF NOT EXISTS artist_tags_tag ON artist_tags (tag_id);
        -- A listener's terms: NULL means "use the default".
        CREATE TABLE IF NOT EXISTS terms (
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
        CREATE TABLE IF NOT EXISTS models (
            id TEXT PRIMARY KEY,
            path TEXT NOT NULL,
            created_at TEXT NOT NULL,
            data_fingerprint TEXT NOT NULL,
            params TEXT NOT NULL,
            stale INTEGER NOT NULL DEFAULT 0,
            stale_reason TEXT
        );
        """,
    )



@CORE.step("002_track_identifiers")
def _track_identifiers(db: sqlite_utils.Database) -> None:
    # What identifies a track to a player or a service, kept from the exports that carry it:
    # `mbid` (above) is the MusicBrainz recording id; the release (album) MBID, the Spotify
    # track URI (spotify:track:<id>) and the ISRC join it. Later imports fill them in.
    tracks = db.table("tracks")
    for column in ("release_mbid", "spotify_uri", "isrc"):
        if column not in tracks.columns_dict:
            tracks.add_column(column, str)
    tracks.create_index(["mbid"], index_name="tracks_mbid", if_not_exists=True)
    tracks.create_index(["spotify_uri"], index_name="tracks_spotify_uri", if_not_exists=True)


@CORE.step("003_feedback")
def _feedback(db: sqlite_utils.Database) -> None:
    # What a listener told us, never a listen: loves, hates and skips, from the exports that
    # carry them or typed by hand. `artist_id`/`track_id` are NULL while the artist or track is
    # not in the store yet (a ListenBrainz love names only a recording MBID or MSID); the
    # names and ids as given are kept so the row is resolved once the item arrives. `dedupe`
    # makes re-imports no-ops, as for listens.
    execute_script(
        db,
        """
        CREATE TABLE IF NOT EXISTS feedback (
            id INTEGER PRIMARY KEY,
            listener_id INTEGER NOT NULL REFERENCES listeners(id) ON DELETE CASCADE,
            kind TEXT NOT NULL CHECK (kind IN ('love', 'hate', 'skip')),
            artist_id INTEGER REFERENCES artists(id),
            track_id INTEGER REFERENCES tracks(id),
            artist_name TEXT,
            track_title TEXT,
            recording_mbid TEXT,
            recording_msid TEXT,
            at INTEGER,
            source TEXT NOT NULL,
            import_id INTEGER REFERENCES imports(id) ON DELETE SET NULL,
            dedupe TEXT NOT NULL,
            UNIQUE (listener_id, dedupe)
        );
        CREATE INDEX IF NOT EXISTS feedback_listener ON feedback (listener_id, kind);
        CREATE INDEX IF NOT EXISTS feedback_pending ON feedback (recording_mbid)
            WHERE artist_id IS NULL;
        """,
    )


@CORE.step("004_feedback_terms")
def _feedback_terms(db: sqlite_utils.Database) -> None:
    # The terms of issue 17 (NULL: the default): learn from skips or not, after how many
    # ignored offers a pick is rested, and the listener's time zone for playlists of a moment.
    terms = db.table("terms")
    for column, kind in (("learn_from_skips", int), ("rest_after_offers", int), ("time_zone", str)):
        if column not in terms.columns_dict:
            terms.add_column(column, kind)


@CORE.step("005_library_files")
def _library_files(db: sqlite_utils.Database) -> None:
    # The listener's music folder (`recommender.library` reads and writes it): one row per
    # audio file found, with what a rescan compares (size, mtime) and the tags it read, the
    # name keys it matches tracks by, and the track it matched (NULL: none yet, or unreadable:
    # `error` then says why).
    execute_script(
        db,
        """
        CREATE TABLE IF NOT EXISTS library_files (
            id INTEGER PRIMARY KEY,
            path TEXT NOT NULL UNIQUE,
            folder TEXT NOT NULL,
            size INTEGER NOT NULL,
            mtime_ns INTEGER NOT NULL,
            artist TEXT,
            album_artist TEXT,
            album TEXT,
            title TEXT,
            track_number INTEGER,
            duration_ms INTEGER,
            recording_mbid TEXT,
            release_mbid TEXT,
            artist_mbid TEXT,
            artist_key TEXT,
            album_artist_key TEXT,
            title_key TEXT,
            track_id INTEGER REFERENCES tracks(id) ON DELETE SET NULL,
            matched_by TEXT CHECK (matched_by IN ('mbid', 'artist', 'album_artist')),
            error TEXT,
            scanned_at TEXT NOT NULL
        );
        CREATE INDEX IF NOT EXISTS library_files_track ON library_files (track_id);
        """,
    )


@CORE.step("006_terms_playable")
def _terms_playable(db: sqlite_utils.Database) -> None:
    # Which tracks a listener's playlists may hold, by where they can be played (NULL: the
    # default, every track; see `recommender.terms.PLAYABLE_CHOICES`).
    terms = db.table("terms")
    if "playable" not in terms.columns_dict:
        terms.add_column("playable", str)


@CORE.step("007_store_state")
def _store_state(db: sqlite_utils.Database) -> None:
    # Small named counters about the store itself, never about a person: the data generation
    # that every forget raises and whether a forget has work left (`recommender.generation`).
    execute_script(
        db,
        """
        CREATE TABLE IF NOT EXISTS store_state (
            name TEXT PRIMARY KEY,
            value INTEGER NOT NULL
        );
        """,
    )


def default_db_path() -> Path:
    """Where the store lives when neither --db nor TASTEMAKER_DB says otherwise."""
    env = os.environ.get(DB_ENV)
    if env:
        return Path(env)
    return Path(platformdirs.user_data_dir("tastemaker")) / "tastemaker.db"


def utc_now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


WaitCallback = Callable[[str], None]


class Store:
    """The store: a sqlite-utils database with the tastemaker schema."""

    def __init__(
        self,
        conn: sqlite3.Connection,
        path: Path | None,
        *,
        read_only: bool = False,
        on_wait: WaitCallback | None = None,
    ) -> None:
        self._conn = conn
        self.path = path
        self.read_only = read_only
        self.on_wait = on_wait  # told while a write waits for another process
        self._current_parts: set[str] = set()

    @classmethod
    def open(
        cls,
        path: str | os.PathLike[str] | None = None,
        *,
        on_wait: WaitCallback | None = None,
        read_only: bool = False,
    ) -> Store:
        """Open (creating if needed) the store at `path`, or in memory when `path` is ":memory:".

        A store the user cannot write opens read-only; a file that is not a tastemaker store
        is refused unchanged (StoreError). With `read_only` the store must exist and is never
        written (nor converted to WAL), whoever may write it.
        """
        if path is not None and str(path) == ":memory:":
            # Autocommit mode, like the file store: transactions are opened explicitly.
            store = cls(sqlite3.connect(":memory:", isolation_level=None), None, on_wait=on_wait)
        else:
            # Absolute, so paths recorded from it (model bundles) hold from any folder.
            target = (Path(path) if path is not None else default_db_path()).expanduser().absolute()
            store = cls._open_file(target, on_wait, read_only)
        try:
            store._configure()
            store.migrate()
        except sqlite3.Error as exc:
            store.close()
            raise StoreError(
                f"cannot open the store at {store.path}: {exc}; pass --db PATH to use another file"
            ) from exc
        except BaseException:
            store.close()
            raise
        return store

    @classmethod
    def _open_file(cls, target: Path, on_wait: WaitCallback | None, read_only: bool) -> Store:
        hint = "pass --db PATH to use another file"
        if read_only and not target.exists():
            raise StoreError(f"there is no store at {target}: {hint}")
        try:
            if target.exists():
                _refuse_foreign_file(target)
                read_only = read_only or not _writable(target)
            else:
                target.parent.mkdir(parents=True, exist_ok=True)
                read_only = False
            conn = _connect(target, read_only)
            if target.stat().st_size:
                _refuse_foreign_schema(conn, target)
        except (OSError, sqlite3.Error) as exc:
            raise StoreError(f"cannot open the store at {target}: {exc}; {hint}") from exc
        return cls(conn, target, read_only=read_only, on_wait=on_wait)

    def _configure(self) -> None:
        try:
            self.conn.execute("PRAGMA foreign_keys = ON")
            if self.path is not None and not self.read_only:
                if self.conn.execute("PRAGMA journal_mode").fetchone()[0].lower() != "wal":
                    self.conn.execute("PRAGMA journal_mode = wal")
                self.conn.execute("PRAGMA synchronous = NORMAL")
            self.conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        except sqlite3.DatabaseError as exc:
            raise StoreError(
                f"{self.path} is not a tastemaker store ({exc}); pass --db PATH to use another file"
            ) from exc

    @property
    def conn(self) -> sqlite3.Connection:
        return self._conn

    @cached_property
    def db(self) -> sqlite_utils.Database:
        """The same connection through sqlite-utils (its table helpers and migrations)."""
        import sqlite_utils

        return sqlite_utils.Database(self._conn)

    @property
    def version(self) -> int:
        """The store format (PRAGMA user_version)."""
        return int(self.conn.execute("PRAGMA user_version").fetchone()[0])

    def migrate(self) -> None:
        """Bring the core schema and every registered part up to date."""
        current = self.version
        if current > SCHEMA_VERSION:
            raise SchemaTooNew(
                f"the store at {self.path} has format version {current}, newer than this "
                f"tastemaker understands ({SCHEMA_VERSION}); upgrade tastemaker"
            )
        self.ensure_schema(CORE)
        if current < SCHEMA_VERSION:
            self._refuse_if_read_only("upgraded to this tastemaker's format")
            self.conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        for part in list(_REGISTERED.values()):
            self.ensure_schema(part)

    def ensure_schema(self, part: SchemaPart) -> None:
        """Apply `part`'s pending migrations, under the write lock so that two processes
        opening one new store do not both migrate it. Cheap once the part is current."""
        if part.name in self._current_parts:
            return
        newer = part.unknown_steps(self.conn)
        if newer:
            raise SchemaTooNew(
                f"the store at {self.path} has {part.name} migrations this tastemaker does not "
                f"know ({', '.join(newer)}); upgrade tastemaker"
            )
        if not part.is_current(self.conn):
            self._refuse_if_read_only(f"upgraded ({part.name} tables)")
            if self.conn.in_transaction:  # each step then runs in a savepoint of the caller's
                part.apply(self.db)
            else:
                with self.transaction():
                    part.apply(self.db)
        self._current_parts.add(part.name)

    def _refuse_if_read_only(self, what: str) -> None:
        if self.read_only:
            raise StoreError(
                f"the store at {self.path} is read-only and needs to be {what}: open it once "
                "where you may write it (or copy it), then read it anywhere"
            )

    @contextmanager
    def page_cache(self, mb: int) -> Iterator[None]:
        """SQLite's page cache at `mb` MB for a bulk write, then back to what it was.

        SQLite's default is 2 MB. An import inserts into indexes whose pages lie all over a
        large store (listens by artist), so once those outgrow the cache every insert is a
        page miss: 3 M listens took 45 CPU-s and 114 s with 2 MB, 25 CPU-s and 56 s with
        256 MB. The cache takes memory only as pages are read.
        """
        before = int(self.conn.execute("PRAGMA cache_size").fetchone()[0])
        self.conn.execute(f"PRAGMA cache_size = {-int(mb) * 1024}")
        try:
            yield
        finally:
            self.conn.execute(f"PRAGMA cache_size = {before}")

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One write transaction: everything inside lands, or nothing does.

        Waits while another process writes (see the module docstring); a full disk or a
        read-only store is a StoreError and changes nothing.
        """
        conn = self.conn
        if conn.in_transaction:
            raise StoreError("a transaction is already open on this store")
        self._refuse_if_read_only("written")
        self._begin()
        try:
            yield conn
        except sqlite3.OperationalError as exc:
            self._rollback()
            raise self._explained(exc) from exc
        except BaseException:
            self._rollback()
            raise
        try:
            conn.execute("COMMIT")
        except sqlite3.OperationalError as exc:
            self._rollback()
            raise self._explained(exc) from exc

    def _begin(self) -> None:
        """BEGIN IMMEDIATE, waiting (with progress messages) while another process writes."""
        started = time.monotonic()
        while True:
            try:
                self.conn.execute("BEGIN IMMEDIATE")
                return
            except sqlite3.OperationalError as exc:
                if not _is_busy(exc):
                    raise self._explained(exc) from exc
            waited = time.monotonic() - started
            if waited >= MAX_WAIT_SECONDS:
                raise StoreError(
                    f"another tastemaker process has been writing to {self.path} for over "
                    f"{MAX_WAIT_SECONDS // 60} minutes: let it finish (or stop it), then run "
                    "this again"
                )
            if self.on_wait is not None:
                self.on_wait(
                    f"... waiting for another tastemaker process writing to {self.path} "
                    f"(an import or a train): {waited:.0f} s"
                )

    def _rollback(self) -> None:
        # SQLite may already have rolled back (a full disk): there is nothing left to undo.
        if self.conn.in_transaction:
            self.conn.execute("ROLLBACK")

    def _explained(self, exc: sqlite3.OperationalError) -> Exception:
        """A StoreError saying what to do for the errors a user can meet, else `exc`."""
        text = str(exc).lower()
        if "full" in text:
            return StoreError(
                f"the disk holding {self.path or 'the store'} is full: nothing was changed; "
                "free some space and run this again"
            )
        if "readonly" in text or "read-only" in text:
            return StoreError(
                f"the store at {self.path} is read-only: nothing was changed; make the file "
                "and its folder writable to change it"
            )
        if _is_busy(exc):
            return StoreError(
                f"the store at {self.path} is busy with another writer: run this again"
            )
        return exc

    def snapshot(self, target: str | os.PathLike[str], *, empty: Iterable[str] = ()) -> Path:
        """A consistent copy of the store in the new file `target` (see the module docstring).

        The copy is in rollback-journal mode, so it opens read-only with no -wal or -shm file
        beside it. The tables in `empty` keep their schema and lose their rows, the pages that
        held them overwritten (secure_delete), for what must not travel with the copy; rows
        elsewhere that point at them are kept as they are.
        """
        target = Path(target)
        tables = {
            str(r[0])
            for r in self.conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        }
        emptied = sorted(set(empty))
        unknown = [name for name in emptied if name not in tables]
        if unknown:
            raise StoreError(
                f"the store has no table {', '.join(unknown)} to leave out of a copy:"
                " name tables it has"
            )
        if target.exists():
            raise StoreError(f"{target} exists: a snapshot is written to a new file only")
        if self.conn.in_transaction:
            raise StoreError("a snapshot cannot be taken inside a transaction: finish it first")
        try:
            self.conn.execute("VACUUM INTO ?", (str(target),))
            copy = sqlite3.connect(target, isolation_level=None)
            try:
                # Off, so that emptying `imports` does not rewrite every listen's import_id
                # (ON DELETE SET NULL): the copy keeps the rows as the store has them.
                copy.execute("PRAGMA foreign_keys = OFF")
                copy.execute("PRAGMA secure_delete = ON")
                copy.execute("BEGIN")
                for name in emptied:
                    copy.execute(f'DELETE FROM "{name}"')
                copy.execute("COMMIT")
            finally:
                copy.close()
        except sqlite3.Error as exc:
            target.unlink(missing_ok=True)
            raise StoreError(
                f"the store could not be copied to {target} ({exc}): nothing was left there;"
                " free some space there (or pick another folder) and run this again"
            ) from exc
        return target

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

    def query(self, sql: str, args: Sequence[object] = ()) -> Iterator[dict[str, Any]]:
        """The rows of `sql` as dicts by column name, read straight from the connection: a
        playlist's few reads and writes do not import sqlite-utils (it imports pandas, which
        costs a command more than the playlist)."""
        cursor = self.conn.execute(sql, args)
        names = [d[0] for d in cursor.description]
        return (dict(zip(names, row, strict=True)) for row in cursor)

    def insert(self, table: str, rows: Iterable[Mapping[str, Any]]) -> int | None:
        """Insert plain rows (the keys of the first one name the columns of all) into
        `table`; the last row's rowid (None when there were none). Call inside a transaction."""
        last: int | None = None
        statement, columns = "", list[str]()
        for row in rows:
            if not statement:
                columns = list(row)
                names = ", ".join(f"[{c}]" for c in columns)
                marks = ", ".join("?" for _ in columns)
                statement = f"INSERT INTO [{table}] ({names}) VALUES ({marks})"
            last = self.conn.execute(statement, [row[c] for c in columns]).lastrowid
        return last

    def counts(self) -> dict[str, int]:
        """Row counts of the main tables."""
        tables = ["listeners", "artists", "tracks", "listens", "tags", "artist_tags", "imports"]
        return {t: self.db.table(t).count for t in tables}

    def rows_in(
        self,
        table: str,
        columns: str | tuple[str, ...],
        values: Iterable[Any],
        *,
        where: str = "",
        where_args: Sequence[object] = (),
        select: str = "*",
    ) -> Iterator[dict[str, Any]]:
        """Rows of `table` whose `columns` hold one of `values` (a value per row, or a tuple
        per row for several columns), read in bounded chunks: the bulk half of lookup-or-insert.

        Several columns are matched as `(a = ? AND b = ?) OR ...`, which SQLite answers with one
        index probe per tuple; a row value `(a, b) IN (VALUES ...)` would scan the table.
        """
        names: tuple[str, ...]
        if isinstance(columns, str):
            names, keys = (columns,), [(v,) for v in values]
        else:
            names, keys = columns, [tuple(v) for v in values]
        wanted = list(dict.fromkeys(keys))
        if len(names) == 1:
            one, joiner = "?", ", "
        else:
            one = "(" + " AND ".join(f"[{c}] = ?" for c in names) + ")"
            joiner = " OR "
        step = max(1, _IN_CHUNK // len(names))
        for start in range(0, len(wanted), step):
            chunk = wanted[start : start + step]
            matches = joiner.join(one for _ in chunk)
            condition = f"[{names[0]}] IN ({matches})" if len(names) == 1 else f"({matches})"
            if where:
                condition += f" AND ({where})"
            args = [v for row in chunk for v in row]
            yield from self.query(
                f"SELECT {select} FROM [{table}] WHERE {condition}", [*args, *where_args]
            )

    def values_in(
        self, table: str, column: str, values: Iterable[Any], *, select: str
    ) -> list[tuple[Any, ...]]:
        """`rows_in` for one column, as plain tuples from one statement: the values travel as
        one JSON array (so no bound-parameter limit to chunk by), and no dict is made per row.
        For the playlist's reads of thousands of rows, where the dicts cost more than the read.
        The values must be JSON numbers or strings (ints, not numpy ints)."""
        wanted = json.dumps(list(dict.fromkeys(values)))
        return self.conn.execute(
            f"SELECT {select} FROM [{table}] WHERE [{column}] IN"
            " (SELECT value FROM json_each(?))",
            (wanted,),
        ).fetchall()

    def lookup_many(
        self, table: str, key: tuple[str, ...], rows: Mapping[tuple[Any, ...], dict[str, Any]]
    ) -> tuple[dict[tuple[Any, ...], int], int]:
        """Lookup-or-insert in bulk: the `id` of each row by its unique `key` columns, adding
        the rows not stored yet in the order given. `rows` maps each key (a tuple of the key
        columns' values) to the row to add if that key is new. Returns the ids by key and how
        many rows were added. Call inside a write transaction."""
        select = "id, " + ", ".join(f"[{c}]" for c in key)
        key_of = _key_getter(key)
        ids = {key_of(r): int(r["id"]) for r in self.rows_in(table, key, rows, select=select)}
        new = [k for k in rows if k not in ids]
        if new:
            self.db.table(table).insert_all(rows[k] for k in new)
            for r in self.rows_in(table, key, new, select=select):
                ids[key_of(r)] = int(r["id"])
        return ids, len(new)


def _is_busy(exc: sqlite3.OperationalError) -> bool:
    text = str(exc).lower()
    return "locked" in text or "busy" in text


def _writable(target: Path) -> bool:
    """Whether this process may change the store (the file, and its folder for the WAL)."""
    return os.access(target, os.W_OK) and os.access(target.parent, os.W_OK)


def _connect(target: Path, read_only: bool) -> sqlite3.Connection:
    if not read_only:
        return sqlite3.connect(str(target), isolation_level=None)
    uri = target.as_uri()
    try:
        conn = sqlite3.connect(f"{uri}?mode=ro", uri=True, isolation_level=None)
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
        return conn
    except sqlite3.OperationalError:
        # A WAL store in a folder nobody may write: no -shm can be made, so read the file as
        # it is (nothing else can be writing it either).
        return sqlite3.connect(f"{uri}?immutable=1", uri=True, isolation_level=None)


def _refuse_foreign_file(target: Path) -> None:
    """StoreError for a path that is not a file. The file's bytes are only ever read through
    SQLite: opening (and closing) it any other way would drop the POSIX locks other
    connections of this process hold on it (a server's threads), and corrupt their reads."""
    if not target.is_file():
        raise StoreError(f"{target} is not a file: pass --db PATH with a store file")


def _refuse_foreign_schema(conn: sqlite3.Connection, target: Path) -> None:
    """StoreError for another program's SQLite database, before anything writes to it."""
    try:
        version = int(conn.execute("PRAGMA user_version").fetchone()[0])
        tables = {
            str(r[0]) for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        }
    except sqlite3.DatabaseError as exc:
        conn.close()
        raise StoreError(
            f"{target} is not a tastemaker store ({exc}); it was left unchanged: pass --db PATH "
            "with your store, or a new file"
        ) from exc
    ours = _STORE_TABLES <= tables
    if (tables and not ours) or (version and not ours):
        conn.close()
        shown = ", ".join(sorted(tables)[:5]) + (", ..." if len(tables) > 5 else "")
        raise StoreError(
            f"{target} is an SQLite database but not a tastemaker store (it holds "
            f"{shown or 'no tables'}); it was left unchanged: pass --db PATH with your store, "
            "or a new file"
        )


def _key_getter(columns: tuple[str, ...]) -> Callable[[dict[str, Any]], tuple[Any, ...]]:
    """A function from a row to the tuple of its `columns` (a 1-tuple for one column)."""
    if len(columns) == 1:
        (column,) = columns
        return lambda row: (row[column],)
    return itemgetter(*columns)
