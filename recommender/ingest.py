"""The import pipeline every reader shares.

A reader turns a file into a stream of records (listens, artists, tags, skips, rejects).
`import_file` writes that stream in ONE transaction: if the reader raises or the process dies,
the store is exactly as it was. Re-importing the same data changes nothing, because every
listen carries a dedupe key that is unique per listener.
"""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from recommender.errors import IngestError
from recommender.names import name_key
from recommender.store import Store, utc_now
from recommender.terms import Terms, write_terms

BATCH = 5000


@dataclass(frozen=True)
class Listen:
    """One listen (plays=1 with a time) or an aggregate play count (no time, artist-level data)."""

    artist: str
    listener: str | None = None
    title: str | None = None
    album: str | None = None
    listened_at: int | None = None  # Unix seconds, UTC
    ms_played: int | None = None
    plays: int = 1
    duration_ms: int | None = None
    artist_mbid: str | None = None
    track_mbid: str | None = None
    artist_external_id: str | None = None
    source: str | None = None  # where the listen first came from, when not the import format


@dataclass(frozen=True)
class Artist:
    """An artist known to the catalogue, listened to or not (cold-start items need this)."""

    name: str
    mbid: str | None = None
    external_id: str | None = None


@dataclass(frozen=True)
class Track:
    """A track in the catalogue, listened to or not (so a cold-start artist has tracks to play)."""

    artist: str
    title: str
    album: str | None = None
    duration_ms: int | None = None
    mbid: str | None = None
    artist_external_id: str | None = None


@dataclass(frozen=True)
class ArtistTag:
    """`count` people gave `tag` to the artist."""

    artist: str
    tag: str
    count: int
    artist_external_id: str | None = None


@dataclass(frozen=True)
class StoredTerms:
    """A listener's terms carried by a file (a tastemaker export), for the import's listener."""

    terms: Terms


@dataclass(frozen=True)
class Skipped:
    """A well-formed row that is deliberately not a listen (podcast, incognito, under 30 s)."""

    location: str
    reason: str


@dataclass(frozen=True)
class Rejected:
    """A malformed row: reported with its location, never silently dropped."""

    location: str
    reason: str


@dataclass(frozen=True)
class DefaultListener:
    """The export names its owner: their listens go to `name` unless --listener says otherwise."""

    name: str


@dataclass(frozen=True)
class Note:
    """Something the listener should know about the import that is not a count."""

    text: str


Record = (
    Listen | Artist | Track | ArtistTag | StoredTerms | Skipped | Rejected | DefaultListener | Note
)
Reader = Callable[[Path], Iterator[Record]]


@dataclass
class ImportReport:
    format: str
    path: str
    imported: int = 0
    duplicates: int = 0
    skipped: int = 0
    rejected: int = 0
    artists: int = 0
    tags: int = 0
    rejects: list[Rejected] = field(default_factory=list)
    skip_reasons: dict[str, int] = field(default_factory=dict)
    listener: str | None = None
    notes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, object]:
        return {
            "format": self.format,
            "path": self.path,
            "imported": self.imported,
            "duplicates": self.duplicates,
            "skipped": self.skipped,
            "rejected": self.rejected,
            "artists_added": self.artists,
            "tag_links": self.tags,
            "skip_reasons": dict(self.skip_reasons),
            "rejects": [{"location": r.location, "reason": r.reason} for r in self.rejects],
            "listener": self.listener,
            "notes": list(self.notes),
        }


def tag_key(tag: str) -> str:
    """Tags are compared case-folded with spacing collapsed."""
    return " ".join(tag.casefold().split())


def checksum(path: Path) -> str:
    """sha256 over a file, or over every file of a folder in name order."""
    digest = hashlib.sha256()
    files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
    for file in files:
        digest.update(file.name.encode())
        with file.open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()


def import_records(
    store: Store,
    fmt: str,
    path: Path,
    records: Iterable[Record],
    listener: str | None = None,
    progress: Callable[[int], None] | None = None,
) -> ImportReport:
    """Write `records` into the store in one transaction and return what happened."""
    report = ImportReport(format=fmt, path=str(path))
    started = utc_now()
    digest = checksum(path) if path.exists() else ""
    with store.transaction() as conn:
        # The imports row comes first so every listen can point at the import that brought it
        # (forget and export-data follow that link); its counts are filled in at the end.
        cur = conn.execute(
            "INSERT INTO imports (format, path, checksum, listener, imported, duplicates,"
            " skipped, rejected, started_at, finished_at) VALUES (?,?,?,?,0,0,0,0,?,?)",
            (fmt, str(path), digest, listener, started, started),
        )
        writer = _Writer(conn, fmt, listener, report, import_id=_row_id(cur))
        seen = 0
        for record in records:
            writer.add(record)
            seen += 1
            if progress is not None and seen % 50_000 == 0:
                progress(seen)
        writer.flush()
        report.listener = writer.default_listener
        conn.execute(
            "UPDATE imports SET listener = ?, imported = ?, duplicates = ?, skipped = ?,"
            " rejected = ?, finished_at = ? WHERE id = ?",
            (
                report.listener,
                report.imported,
                report.duplicates,
                report.skipped,
                report.rejected,
                utc_now(),
                writer.import_id,
            ),
        )
    return report


class _Writer:
    """Resolves names to ids (with caches) and batches inserts inside the open transaction."""

    def __init__(
        self,
        conn: sqlite3.Connection,
        fmt: str,
        listener: str | None,
        report: ImportReport,
        import_id: int | None = None,
    ) -> None:
        self.conn = conn
        self.import_id = import_id
        self.source = fmt
        self.default_listener = listener
        self.report = report
        self.listeners: dict[str, int] = {}
        self.artists: dict[tuple[str, str | None], int] = {}
        self.tracks: dict[tuple[int, str], int] = {}
        self.tag_ids: dict[str, int] = {}
        self.pending: list[tuple[object, ...]] = []
        self.keys: dict[str, str] = {}

    def key(self, name: str) -> str:
        """name_key, remembered: a history names the same artists and tracks over and over."""
        found = self.keys.get(name)
        if found is None:
            if len(self.keys) >= 200_000:
                self.keys.clear()  # bounded memory on huge, varied files
            found = self.keys[name] = name_key(name)
        return found

    # -- records -------------------------------------------------------------------------

    def add(self, record: Record) -> None:
        if isinstance(record, Listen):
            self._listen(record)
        elif isinstance(record, Artist):
            self._artist(record.name, record.mbid, record.external_id)
        elif isinstance(record, Track):
            artist_id = self._artist(record.artist, None, record.artist_external_id)
            if record.title.strip():
                self._track(
                    artist_id,
                    record.title,
                    self.key(record.title),
                    record.album,
                    record.duration_ms,
                    record.mbid,
                )
        elif isinstance(record, ArtistTag):
            self._tag(record)
        elif isinstance(record, StoredTerms):
            if not self.default_listener:
                raise IngestError(
                    f"this {self.source} file does not say whose terms these are: "
                    "pass --listener NAME"
                )
            write_terms(self.conn, self._listener(self.default_listener), record.terms)
        elif isinstance(record, Skipped):
            self.report.skipped += 1
            reasons = self.report.skip_reasons
            reasons[record.reason] = reasons.get(record.reason, 0) + 1
        elif isinstance(record, Rejected):
            self.report.rejected += 1
            self.report.rejects.append(record)
        elif isinstance(record, DefaultListener):
            # --listener wins over the name the export gives.
            if self.default_listener is None and record.name.strip():
                self.default_listener = record.name.strip()
        elif isinstance(record, Note):
            self.report.notes.append(record.text)

    def _listen(self, listen: Listen) -> None:
        name = listen.listener or self.default_listener
        if not name:
            raise IngestError(
                f"this {self.source} file does not say whose listens these are: "
                "pass --listener NAME"
            )
        listener_id = self._listener(name)
        artist_id = self._artist(listen.artist, listen.artist_mbid, listen.artist_external_id)
        track_id = None
        track_key = ""
        if listen.title:
            track_key = self.key(listen.title)
            track_id = self._track(
                artist_id,
                listen.title,
                track_key,
                listen.album,
                listen.duration_ms,
                listen.track_mbid,
            )
        source = listen.source or self.source
        if listen.listened_at is None:
            dedupe = f"agg|{source}|{artist_id}|{track_key}"
        else:
            dedupe = f"t|{listen.listened_at}|{artist_id}|{track_key}"
        self.pending.append(
            (
                listener_id,
                artist_id,
                track_id,
                listen.listened_at,
                listen.ms_played,
                listen.plays,
                source,
                self.import_id,
                dedupe,
            )
        )
        if len(self.pending) >= BATCH:
            self.flush()

    def flush(self) -> None:
        if not self.pending:
            return
        before = self.conn.total_changes
        self.conn.executemany(
            "INSERT OR IGNORE INTO listens (listener_id, artist_id, track_id, listened_at,"
            " ms_played, plays, source, import_id, dedupe) VALUES (?,?,?,?,?,?,?,?,?)",
            self.pending,
        )
        inserted = self.conn.total_changes - before
        self.report.imported += inserted
        self.report.duplicates += len(self.pending) - inserted
        self.pending.clear()

    # -- resolution ----------------------------------------------------------------------

    def _listener(self, name: str) -> int:
        cached = self.listeners.get(name)
        if cached is not None:
            return cached
        row = self.conn.execute("SELECT id FROM listeners WHERE name = ?", (name,)).fetchone()
        if row is None:
            cur = self.conn.execute(
                "INSERT INTO listeners (name, created_at) VALUES (?, ?)", (name, utc_now())
            )
            listener_id = _row_id(cur)
        else:
            listener_id = int(row[0])
        self.listeners[name] = listener_id
        return listener_id

    def _artist(self, name: str, mbid: str | None, external_id: str | None) -> int:
        """Identity order: the dataset's own id, then MBID, then the name key."""
        cache_key = (self.key(name), external_id)
        cached = self.artists.get(cache_key)
        if cached is not None:
            return cached
        conn = self.conn
        artist_id: int | None = None
        if external_id is not None:
            row = conn.execute(
                "SELECT artist_id FROM artist_external_ids WHERE source = ? AND external_id = ?",
                (self.source, external_id),
            ).fetchone()
            artist_id = None if row is None else int(row[0])
        if artist_id is None and mbid:
            row = conn.execute("SELECT id FROM artists WHERE mbid = ?", (mbid,)).fetchone()
            artist_id = None if row is None else int(row[0])
        if artist_id is None:
            key = self.key(name)
            row = conn.execute("SELECT id FROM artists WHERE key = ?", (key,)).fetchone()
            if row is not None and external_id is not None and self._claimed(int(row[0])):
                # The dataset lists this as a different artist from the one holding the key.
                key = f"{key} [{self.source} {external_id}]"
                row = conn.execute("SELECT id FROM artists WHERE key = ?", (key,)).fetchone()
            if row is None:
                cur = conn.execute(
                    "INSERT INTO artists (name, key, mbid) VALUES (?, ?, ?)", (name, key, mbid)
                )
                artist_id = _row_id(cur)
                self.report.artists += 1
            else:
                artist_id = int(row[0])
                if mbid:
                    conn.execute(
                        "UPDATE artists SET mbid = ? WHERE id = ? AND mbid IS NULL",
                        (mbid, artist_id),
                    )
        if external_id is not None:
            conn.execute(
                "INSERT OR IGNORE INTO artist_external_ids (source, external_id, artist_id)"
                " VALUES (?, ?, ?)",
                (self.source, external_id, artist_id),
            )
        self.artists[cache_key] = artist_id
        return artist_id

    def _claimed(self, artist_id: int) -> bool:
        row = self.conn.execute(
            "SELECT 1 FROM artist_external_ids WHERE source = ? AND artist_id = ?",
            (self.source, artist_id),
        ).fetchone()
        return row is not None

    def _track(
        self,
        artist_id: int,
        title: str,
        key: str,
        album: str | None,
        duration_ms: int | None,
        mbid: str | None,
    ) -> int:
        cached = self.tracks.get((artist_id, key))
        if cached is not None:
            return cached
        row = self.conn.execute(
            "SELECT id FROM tracks WHERE artist_id = ? AND key = ?", (artist_id, key)
        ).fetchone()
        if row is None:
            cur = self.conn.execute(
                "INSERT INTO tracks (artist_id, title, key, album, duration_ms, mbid)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (artist_id, title, key, album, duration_ms, mbid),
            )
            track_id = _row_id(cur)
        else:
            track_id = int(row[0])
        self.tracks[(artist_id, key)] = track_id
        return track_id

    def _tag(self, link: ArtistTag) -> None:
        artist_id = self._artist(link.artist, None, link.artist_external_id)
        tag = tag_key(link.tag)
        if not tag or link.count <= 0:
            return
        tag_id = self.tag_ids.get(tag)
        if tag_id is None:
            self.conn.execute("INSERT OR IGNORE INTO tags (name) VALUES (?)", (tag,))
            tag_id = int(
                self.conn.execute("SELECT id FROM tags WHERE name = ?", (tag,)).fetchone()[0]
            )
            self.tag_ids[tag] = tag_id
        before = self.conn.total_changes
        self.conn.execute(
            "INSERT INTO artist_tags (artist_id, tag_id, source, count) VALUES (?, ?, ?, ?)"
            " ON CONFLICT (artist_id, tag_id, source) DO UPDATE SET count = excluded.count"
            " WHERE count != excluded.count",
            (artist_id, tag_id, self.source, link.count),
        )
        self.report.tags += self.conn.total_changes - before


def _row_id(cursor: sqlite3.Cursor) -> int:
    """The id of the row an INSERT just created."""
    if cursor.lastrowid is None:  # only after a statement that inserted nothing
        raise IngestError("the store did not return a new row id; run the import again")
    return cursor.lastrowid
