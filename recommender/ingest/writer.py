"""The import writer every reader shares: a stream of records into the store, all or nothing.

`import_records` writes a reader's records (`recommender.ingest.records`) in ONE transaction: if
the reader raises or the process dies, the store is exactly as it was. Re-importing the same
data changes nothing, because every listen and every feedback row carries a dedupe key that
is unique per listener.

Records are written in batches. A record whose names are all known becomes its row at once;
the others wait in the batch, and the names they mention are resolved with a few bulk reads and
added with sqlite-utils bulk inserts (lookup-or-insert in bulk, `Store.lookup_many`). Names are
resolved in record order against what the store holds plus what the batch has added so far, so
ids come out as if every record had been written on its own (a property test checks that).
The batch's listens then go in with one insert that ignores listens already stored. A bulk
record (`PlayCounts`, `TagCounts`: millions of artist-level rows from one reader) is written
at once, as its rows one record each would be, with its tables' plain indexes paused while it
fills an empty table (`_PausedIndexes`).

What the writer decides for every reader:

- Which artist a name means: `recommender.ingest.artists` (dataset id, then MusicBrainz id,
  then name; namesakes with different MBIDs stay apart).
- Placeholder artist names (`recommender.names.PLACEHOLDER_NAMES`: "<Untagged>", "Unknown
  Artist", "[unknown]", an empty name, ...) are never made into artists: such a listen or
  feedback is skipped with the reason, such a catalogue entry is left out.
- A track keeps the first value seen of what identifies it (recording and release MBIDs,
  Spotify URI, ISRC, album, duration): a later import fills in what is still missing and never
  changes the track's id or a value already stored.
- The same play from two services is one listen (`recommender.ingest.overlaps`).
- Feedback is stored in `feedback`, never as a listen, with the dedupe key of
  `recommender.feedback` (the table's owner); at the end of every import, `resolve_pending`
  places it (and any earlier feedback that was waiting) on the artists and tracks it names.
- A stream of rows none of which could be read (only rejects) is refused (`NothingRead`),
  so a file of another format writes nothing.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from itertools import repeat
from pathlib import Path
from typing import TYPE_CHECKING, Any

from recommender.errors import IngestError, NothingRead
from recommender.ingest.artists import ArtistRef, KnownArtists
from recommender.ingest.files import checksum
from recommender.ingest.overlaps import Overlaps
from recommender.ingest.records import (
    PROGRESS_ROWS,
    Artist,
    ArtistTag,
    DefaultListener,
    Feedback,
    Listen,
    Note,
    PlayCounts,
    Record,
    Rejected,
    RowsRead,
    Skipped,
    StoredTerms,
    TagCounts,
    Track,
)
from recommender.names import is_placeholder, name_key, tag_key
from recommender.store import Store, utc_now
from recommender.terms_storage import write_terms

if TYPE_CHECKING:  # numpy is imported where the bulk records are written, not at import time
    import numpy as np
    import numpy.typing as npt

    Column = npt.NDArray[np.int64]

__all__ = ["BATCH", "ImportReport", "checksum", "import_records"]

BATCH = 5000
IMPORT_CACHE_MB = 256  # SQLite's page cache during an import (see Store.page_cache)
# Rejects kept with their location in the report; the count goes on past it, so that a huge
# file of garbage cannot fill memory with reject records.
LISTED_REJECTS = 1000
LISTEN_COLUMNS = [
    "listener_id",
    "artist_id",
    "track_id",
    "listened_at",
    "ms_played",
    "plays",
    "source",
    "import_id",
    "dedupe",
]
# What identifies a track (columns of `tracks`), filled in by later imports when missing.
TRACK_IDENTIFIERS = ("album", "duration_ms", "mbid", "release_mbid", "spotify_uri", "isrc")
# The Listen field of each (a Track record's fields are named as the columns).
_TRACK_COLUMNS = ("artist_id", "title", "key", *TRACK_IDENTIFIERS)
_SAME = {c: c for c in TRACK_IDENTIFIERS}
_ATTRIBUTE = {**_SAME, "mbid": "track_mbid"}
PLACEHOLDER = "placeholder artist name ({name}): not an artist"


@dataclass
class Community:
    """How much of one listener's history the rest of the store knows."""

    artists: int  # the listener's distinct artists
    known_artists: int  # ... that another listener also played
    plays: int
    known_plays: int  # the listener's plays of those artists
    others: int  # other listeners in the store

    def as_dict(self) -> dict[str, int]:
        return {
            "artists": self.artists,
            "known_artists": self.known_artists,
            "plays": self.plays,
            "known_plays": self.known_plays,
            "other_listeners": self.others,
        }


@dataclass
class ImportReport:
    """What one import did: counts, the reasons rows were skipped, the rejects with locations."""

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
    # Of the duplicates: listens another source already held, per that source.
    already_from: dict[str, int] = field(default_factory=dict)
    feedback: int = 0  # feedback rows added
    feedback_duplicates: int = 0
    feedback_pending: int = 0  # of this import's feedback, not placed on an artist yet
    feedback_placed: int = 0  # earlier pending feedback this import placed
    community: Community | None = None  # for a one-listener import into a shared store

    def as_dict(self) -> dict[str, object]:
        return {
            "format": self.format,
            "path": self.path,
            "imported": self.imported,
            "duplicates": self.duplicates,
            "already_imported_from": dict(self.already_from),
            "skipped": self.skipped,
            "rejected": self.rejected,
            "artists_added": self.artists,
            "tag_links": self.tags,
            "feedback": {
                "added": self.feedback,
                "duplicates": self.feedback_duplicates,
                "pending": self.feedback_pending,
                "placed_from_earlier": self.feedback_placed,
            },
            "skip_reasons": dict(self.skip_reasons),
            "rejects": [{"location": r.location, "reason": r.reason} for r in self.rejects],
            "listener": self.listener,
            "community": None if self.community is None else self.community.as_dict(),
            "notes": list(self.notes),
        }


def import_records(
    store: Store,
    fmt: str,
    path: Path,
    records: Iterable[Record],
    listener: str | None = None,
    progress: Callable[[int], None] | None = None,
    digest: str | None = None,
    refuse_unread: bool = False,
) -> ImportReport:
    """Write `records` into the store in one transaction and return what happened.

    `digest` is the input's checksum when the caller has it (else it is computed from `path`
    when that exists). With `refuse_unread` an input every row of which was rejected raises
    NothingRead and writes nothing (a file of another format).
    """
    report = ImportReport(format=fmt, path=str(path))
    started = utc_now()
    if digest is None:
        digest = checksum(path) if path.exists() else ""
    try:
        with store.page_cache(IMPORT_CACHE_MB), store.transaction():
            writer = _write(store, fmt, path, records, listener, progress, report, digest, started)
            if refuse_unread and report.rejected and not writer.read_any:
                raise NothingRead(
                    f"none of its {report.rejected:,} rows could be read; the first was "
                    f"rejected: {report.rejects[0].reason}"
                )
    except sqlite3.OperationalError as exc:
        # Store.transaction names a full disk or a read-only store; anything else lands here.
        raise IngestError(f"the import failed ({exc}): nothing was imported; try again") from exc
    return report


def _write(
    store: Store,
    fmt: str,
    path: Path,
    records: Iterable[Record],
    listener: str | None,
    progress: Callable[[int], None] | None,
    report: ImportReport,
    digest: str,
    started: str,
) -> _Writer:
    # The imports row comes first so every listen can point at the import that brought it
    # (forget and export-data follow that link); its counts are filled in at the end.
    imports = store.db.table("imports")
    imports.insert(
        {
            "format": fmt,
            "path": str(path),
            "checksum": digest,
            "listener": listener,
            "imported": 0,
            "duplicates": 0,
            "skipped": 0,
            "rejected": 0,
            "started_at": started,
            "finished_at": started,
        }
    )
    if imports.last_pk is None:  # only if SQLite inserted nothing
        raise IngestError("the store did not record the import; run the import again")
    import_id = int(imports.last_pk)
    writer = _Writer(store, fmt, listener, report, import_id)
    seen, next_report = 0, PROGRESS_ROWS
    for record in records:
        if type(record) is RowsRead:
            seen += record.count
        elif type(record) is PlayCounts or type(record) is TagCounts:
            writer.add(record)
            seen += len(record)  # as many rows as the records it stands for
        else:
            writer.add(record)
            seen += 1
        if progress is not None and seen >= next_report:
            progress(seen)
            next_report = (seen // PROGRESS_ROWS + 1) * PROGRESS_ROWS
    writer.indexes.resume()
    writer.flush()
    # Imported here: recommender.feedback loads scipy for the model input, which an import of
    # listens never needs (12 MB and a tenth of a second before the first row).
    from recommender.feedback import resolve_pending

    waiting_before = _pending(store, import_id, this_import=False)
    resolve_pending(store)
    report.feedback_placed = waiting_before - _pending(store, import_id, this_import=False)
    report.feedback_pending = _pending(store, import_id, this_import=True)
    report.listener = writer.default_listener
    report.community = _community(store, writer.listener_ids)
    imports.update(
        import_id,
        {
            "listener": report.listener,
            "imported": report.imported,
            "duplicates": report.duplicates,
            "skipped": report.skipped,
            "rejected": report.rejected,
            "finished_at": utc_now(),
        },
    )
    return writer


def _pending(store: Store, import_id: int, *, this_import: bool) -> int:
    """Feedback rows (of this import, or of the others) not placed on their artist or track."""
    same = "=" if this_import else "IS NOT"
    return int(
        store.conn.execute(
            "SELECT count(*) FROM feedback WHERE (artist_id IS NULL OR (track_id IS NULL AND"
            " (track_title IS NOT NULL OR recording_mbid IS NOT NULL"
            f" OR recording_msid IS NOT NULL))) AND import_id {same} ?",
            (import_id,),
        ).fetchone()[0]
    )


def _community(store: Store, listener_ids: dict[str, int]) -> Community | None:
    """How much of the one listener's history the rest of the store knows (None for an
    import of several listeners, or into a store of one)."""
    if len(listener_ids) != 1:
        return None
    (listener_id,) = listener_ids.values()
    others = store.conn.execute("SELECT 1 FROM listeners WHERE id != ? LIMIT 1", (listener_id,))
    if others.fetchone() is None:  # a store of one: nothing to compare (and no query to run)
        return None
    found = community(store, listener_id).get(listener_id)
    return found if found is not None and found.others else None


def community(store: Store, listener_id: int | None = None) -> dict[int, Community]:
    """Per listener id (all, or one): their artists and plays, and how many of those artists
    another listener plays too. `others` is the number of other listeners with listens."""
    where = "" if listener_id is None else "WHERE listener_id = :me"
    rows = store.conn.execute(
        f"WITH per AS (SELECT listener_id, artist_id, sum(plays) AS plays FROM listens {where}"
        "  GROUP BY listener_id, artist_id),"
        " flagged AS (SELECT per.*, EXISTS (SELECT 1 FROM listens o"
        "  WHERE o.artist_id = per.artist_id AND o.listener_id != per.listener_id) AS known"
        "  FROM per)"
        " SELECT listener_id, count(*), sum(plays), sum(known), sum(known * plays)"
        " FROM flagged GROUP BY listener_id",
        {"me": listener_id},
    ).fetchall()
    # Per listener (the listener-time index), not a DISTINCT over every listen: in a store of
    # 19 M listens that scan cost most of each one-listener import.
    listeners = int(
        store.conn.execute(
            "SELECT count(*) FROM listeners AS l"
            " WHERE EXISTS (SELECT 1 FROM listens WHERE listener_id = l.id)"
        ).fetchone()[0]
    )
    return {
        int(lid): Community(int(artists), int(known), int(plays), int(known_plays), listeners - 1)
        for lid, artists, plays, known, known_plays in rows
    }


# A record naming something the writer has not resolved yet: the record, the artist it names,
# whose listen it is (listens only) and its place among the batch's listens or tag links (-1:
# none).
_Waiting = tuple[Listen | Artist | Track | ArtistTag, ArtistRef, str, int]
_ListenRow = tuple[int, int, int | None, int | None, int | None, int, str, int, str]
_Link = tuple[int, str, int]  # (artist id, tag key, count)
_ArtistKey = tuple[str, str | None, str | None]  # (name key, external id, MBID)


class _Writer:
    """Collects records into batches and writes each batch inside the open transaction.

    A record whose names are all resolved already (the usual case: a history names the same
    artists and tracks over and over) becomes its row at once; the others wait in the batch
    in order, keeping a place for their row, and are resolved in bulk when it is written.
    """

    def __init__(
        self, store: Store, fmt: str, listener: str | None, report: ImportReport, import_id: int
    ) -> None:
        self.store = store
        self.import_id = import_id
        self.source = fmt
        self.default_listener = listener
        self.report = report
        self.read_any = False  # whether any row was read (not rejected)
        # The batch: listen rows and tag links in record order (None: waiting), the waiting.
        self.rows: list[_ListenRow | None] = []
        self.links: list[_Link | None] = []
        self.waiting: list[_Waiting] = []
        self.feedback: list[tuple[str, Feedback]] = []
        self.new_listeners: dict[str, None] = {}  # names not stored yet, in record order
        self.rows_of_new_listeners: list[tuple[int, str]] = []  # (place in rows, name)
        self.queued = 0
        # What is resolved, so a name seen again costs a dictionary lookup.
        self.listener_ids: dict[str, int] = {}
        self.artist_ids: dict[_ArtistKey, int] = {}
        self.track_ids: dict[tuple[int, str], int] = {}
        self.tag_ids: dict[str, int] = {}
        self.keys: dict[str, str] = {}
        # Track identifiers: the columns each track still lacks, and what this batch fills in.
        self.missing: dict[int, list[str]] = {}
        self.fills: dict[int, dict[str, object]] = {}
        self.overlaps = Overlaps(store)
        # A bulk record's artist table and the artist id of each entry (see `_bulk_artists`).
        self._tables: dict[tuple[int, bool], tuple[Sequence[Artist], Column]] = {}
        self._tag_tables: dict[tuple[int, bool], tuple[Sequence[str], Column]] = {}
        self.indexes = _PausedIndexes(store)

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
        if self.indexes.paused and type(record) is not PlayCounts and type(record) is not TagCounts:
            self.indexes.resume()  # anything else may read the tables through them
        if type(record) is Listen:  # the common case, first and without a union check
            self.read_any = True
            if is_placeholder(record.artist):
                self._skip(PLACEHOLDER.format(name=record.artist.strip() or "empty"))
            else:
                self._listen(record)
        elif isinstance(record, Listen | ArtistTag | Track | Artist):
            self.read_any = True
            name = record.name if isinstance(record, Artist) else record.artist
            if is_placeholder(name):
                self._skip(PLACEHOLDER.format(name=name.strip() or "empty"))
            elif isinstance(record, Listen):
                self._listen(record)
            elif isinstance(record, ArtistTag):
                self._link(record)
            elif isinstance(record, Track):
                self._track(record)
            elif (self.key(name), record.external_id, record.mbid) not in self.artist_ids:
                self._wait(record, (name, record.mbid, record.external_id), "", -1)
        elif isinstance(record, PlayCounts):
            self.read_any = True
            self._play_counts(record)
        elif isinstance(record, TagCounts):
            self.read_any = True
            self._tag_counts(record)
        elif isinstance(record, Feedback):
            self.read_any = True
            self._feedback(record)
        elif isinstance(record, StoredTerms):
            self.read_any = True
            if not self.default_listener:
                raise IngestError(
                    f"this {self.source} file does not say whose terms these are: "
                    "pass --listener NAME"
                )
            self.flush()
            listener_id = self._listeners([self.default_listener])[self.default_listener]
            write_terms(self.store, listener_id, record.terms)
        elif isinstance(record, Skipped):
            self.read_any = True
            self._skip(record.reason)
        elif isinstance(record, Rejected):
            self.report.rejected += 1
            if len(self.report.rejects) < LISTED_REJECTS:
                self.report.rejects.append(record)
        elif isinstance(record, DefaultListener):
            # --listener wins over the name the export gives.
            if self.default_listener is None and record.name.strip():
                self.default_listener = record.name.strip()
        elif isinstance(record, Note):
            self.report.notes.append(record.text)

    def _skip(self, reason: str) -> None:
        self.report.skipped += 1
        reasons = self.report.skip_reasons
        reasons[reason] = reasons.get(reason, 0) + 1

    def _whose(self, named: str | None, what: str) -> str:
        name = named or self.default_listener
        if not name:
            raise IngestError(
                f"this {self.source} file does not say whose {what} these are: "
                "pass --listener NAME"
            )
        return name

    def _listen(self, listen: Listen) -> None:
        name = self._whose(listen.listener, "listens")
        listener_id = self.listener_ids.get(name)
        if listener_id is None:
            self.new_listeners[name] = None  # added by `flush`, in the order first named
        artist_id = self.artist_ids.get(
            (self.key(listen.artist), listen.artist_external_id, listen.artist_mbid)
        )
        track_key = self.key(listen.title) if listen.title else ""
        track_id: int | None = None
        if listen.title and artist_id is not None:
            track_id = self.track_ids.get((artist_id, track_key))
        if artist_id is None or (listen.title and track_id is None):
            self.rows.append(None)
            ref = (listen.artist, listen.artist_mbid, listen.artist_external_id)
            self._wait(listen, ref, name, len(self.rows) - 1)
            return
        if track_id is not None and self.missing.get(track_id):
            self._fill(track_id, listen)
        if listener_id is None:  # only the listener's id waits
            self.rows_of_new_listeners.append((len(self.rows), name))
            listener_id = 0
        self.rows.append(self._row(listen, listener_id, artist_id, track_id, track_key))
        self._count()

    def _track(self, record: Track) -> None:
        artist_id = self.artist_ids.get((self.key(record.artist), record.artist_external_id, None))
        title = record.title.strip()
        track_id = None
        if artist_id is not None and title:
            track_id = self.track_ids.get((artist_id, self.key(record.title)))
        if artist_id is None or (title and track_id is None):
            self._wait(record, (record.artist, None, record.artist_external_id), "", -1)
        elif track_id is not None:
            self._fill(track_id, record)

    def _fill(self, track_id: int, record: Listen | Track) -> None:
        """Remember what this record tells about a stored track that the track lacks (the
        first value seen wins; a value already stored is never replaced)."""
        missing = self.missing.get(track_id)
        if not missing:
            return
        names = _ATTRIBUTE if isinstance(record, Listen) else _SAME
        found = [(c, v) for c in missing if (v := getattr(record, names[c])) is not None]
        if found:
            fills = self.fills.setdefault(track_id, {})
            for column, value in found:
                missing.remove(column)
                fills[column] = value

    def _feedback(self, record: Feedback) -> None:
        if record.artist is not None and is_placeholder(record.artist):
            self._skip(PLACEHOLDER.format(name=record.artist.strip() or "empty"))
            return
        if record.artist is None and not (record.recording_mbid or record.recording_msid):
            self._skip("feedback naming no artist or recording")
            return
        name = self._whose(record.listener, "feedback")
        if name not in self.listener_ids:
            self.new_listeners[name] = None
        self.feedback.append((name, record))
        self._count()

    def _row(
        self,
        listen: Listen,
        listener_id: int,
        artist_id: int,
        track_id: int | None,
        track_key: str,
    ) -> _ListenRow:
        source = listen.source or self.source
        if listen.listened_at is None:
            dedupe = f"agg|{source}|{artist_id}|{track_key}"
        else:
            dedupe = f"t|{listen.listened_at}|{artist_id}|{track_key}"
        return (
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

    def _link(self, link: ArtistTag) -> None:
        tag = tag_key(link.tag)
        wanted = bool(tag) and link.count > 0
        artist_id = self.artist_ids.get((self.key(link.artist), link.artist_external_id, None))
        if artist_id is None:  # the artist is made even when the tag is not kept
            if wanted:
                self.links.append(None)
            slot = len(self.links) - 1 if wanted else -1
            self._wait(link, (link.artist, None, link.artist_external_id), "", slot)
        elif wanted:
            self.links.append((artist_id, tag, link.count))
            self._count()

    # -- bulk records (millions of rows without a Python object each) --------------------

    def _bulk_artists(
        self, artists: Sequence[Artist], rows: Column, *, mbids: bool
    ) -> tuple[npt.NDArray[np.bool_], Column]:
        """For a bulk record's artist column: which rows to keep (the others name a
        placeholder and are skipped, counted per row as a Listen or ArtistTag would be) and the
        artist id of each kept row. Artists are resolved (and added) in the order first used,
        as the records one per row would resolve them; without `mbids` as an ArtistTag names
        its artist (by name and dataset id only)."""
        import numpy as np

        ids = _resolution(self._tables, artists, mbids)  # 0: a placeholder
        used = _first_used(rows)
        new = used[ids[used] < 0]
        if len(new):
            names = [artists[i].name for i in new.tolist()]
            placeholder = np.array([is_placeholder(name) for name in names], dtype=bool)
            ids[new[placeholder]] = 0
            refs = [
                (artists[i].name, artists[i].mbid if mbids else None, artists[i].external_id)
                for i in new[~placeholder].tolist()
            ]
            if refs:
                ids[new[~placeholder]] = self._artists(refs)
        row_ids = ids[rows]
        kept = row_ids > 0
        if not kept.all():
            skipped = rows[~kept]
            at = _first_used(skipped)  # each placeholder's reason, in the order first met
            counts = np.bincount(skipped, minlength=len(artists))
            for index in at.tolist():
                name = artists[index].name
                reason = PLACEHOLDER.format(name=name.strip() or "empty")
                self.report.skipped += int(counts[index])
                reasons = self.report.skip_reasons
                reasons[reason] = reasons.get(reason, 0) + int(counts[index])
        return kept, row_ids[kept]

    def _bulk_tags(self, tags: Sequence[str], rows: Column) -> Column:
        """The tag id of each entry of a bulk record's tag table that `rows` use (0: a tag
        that is not kept, an empty one), adding tags in the order first used."""
        ids = _resolution(self._tag_tables, tags, False)
        used = _first_used(rows)
        new = used[ids[used] < 0].tolist()
        if new:
            keys = {i: tag_key(tags[i]) for i in new}
            missing = {(k,): {"name": k} for k in keys.values() if k and k not in self.tag_ids}
            if missing:
                found, _ = self.store.lookup_many("tags", ("name",), missing)
                self.tag_ids.update({str(name): i for (name,), i in found.items()})
            ids[new] = [self.tag_ids[k] if k else 0 for k in keys.values()]
        return ids

    def _play_counts(self, block: PlayCounts) -> None:
        """Aggregate play counts, stored exactly as one Listen per row would be (see `_row`):
        listeners added in the order first named, then one insert for the block."""
        import numpy as np

        self.flush()  # what came before gets its ids first
        self.indexes.pause("listens")
        kept, artist_ids = self._bulk_artists(block.artists, block.artist, mbids=True)
        listener_rows, plays = block.listener[kept], block.plays[kept]
        if not len(plays):
            return
        if int(plays.min()) <= 0:
            raise IngestError(
                f"this {self.source} data has a play count below 1: nothing was imported; "
                "check the file"
            )
        used = _first_used(listener_rows)
        names = {int(i): self._whose(block.listeners[i], "listens") for i in used.tolist()}
        known = self._listeners(list(dict.fromkeys(names.values())))
        listener_of = np.zeros(len(block.listeners), dtype=np.int64)
        listener_of[used] = [known[names[i]] for i in used.tolist()]
        source = self.source
        before = self.store.conn.total_changes
        # No overlap check: these rows have no time, and only timed listens can be one play
        # from two services (`Overlaps.drop` keeps every untimed row).
        self.store.conn.executemany(
            f"INSERT OR IGNORE INTO listens ({', '.join(LISTEN_COLUMNS)})"
            " VALUES (?, ?, NULL, NULL, NULL, ?, ?, ?, ?)",
            zip(
                listener_of[listener_rows].tolist(),
                artist_ids.tolist(),
                plays.tolist(),
                repeat(source),
                repeat(self.import_id),
                [f"agg|{source}|{a}|" for a in artist_ids.tolist()],
                strict=False,  # repeat() is endless: the rows end the zip
            ),
        )
        inserted = self.store.conn.total_changes - before
        self.report.imported += inserted
        self.report.duplicates += len(plays) - inserted

    def _tag_counts(self, block: TagCounts) -> None:
        """Tag links, stored exactly as one ArtistTag per row would be (see `_tags`): a link
        whose count this source already holds is not a change; a later row for the same pair
        wins, as a later record would."""
        self.flush()
        self.indexes.pause("artist_tags")
        kept, artist_ids = self._bulk_artists(block.artists, block.artist, mbids=False)
        tag_rows, counts = block.tag[kept], block.count[kept]
        positive = counts > 0  # the artist is made even when the tag is not kept
        tag_ids = self._bulk_tags(block.tags, tag_rows[positive])[tag_rows]
        wanted = positive & (tag_ids > 0)
        artist_ids, tag_ids, counts = artist_ids[wanted], tag_ids[wanted], counts[wanted]
        if not len(counts):
            return
        before = self.store.conn.total_changes
        # The upsert's WHERE makes an unchanged count no change, so total_changes counts what
        # `_tags` counts: links added or set to another count.
        self.store.conn.executemany(
            "INSERT INTO artist_tags (artist_id, tag_id, source, count) VALUES (?, ?, ?, ?)"
            " ON CONFLICT (artist_id, tag_id, source) DO UPDATE SET count = excluded.count"
            " WHERE count != excluded.count",
            zip(
                artist_ids.tolist(),
                tag_ids.tolist(),
                repeat(self.source),
                counts.tolist(),
                strict=False,  # repeat() is endless: the rows end the zip
            ),
        )
        self.report.tags += self.store.conn.total_changes - before

    def _wait(
        self, record: Listen | Artist | Track | ArtistTag, ref: ArtistRef, name: str, slot: int
    ) -> None:
        self.waiting.append((record, ref, name, slot))
        self._count()

    def _count(self) -> None:
        self.queued += 1
        if self.queued >= BATCH:
            self.flush()

    def flush(self) -> None:
        """Resolve what waits, then write the batch: new artists, tracks, tags, listens,
        what the batch fills in on tracks, then feedback."""
        if self.new_listeners:
            listener_ids = self._listeners(list(self.new_listeners))
            for slot, name in self.rows_of_new_listeners:
                row = self.rows[slot]
                if row is not None:  # always: such a row has everything but the listener
                    self.rows[slot] = (listener_ids[name], *row[1:])
        if self.waiting:
            self._resolve(self.waiting)
        rows = [row for row in self.rows if row is not None]
        links = [link for link in self.links if link is not None]
        feedback = self.feedback
        self.rows, self.links, self.waiting, self.queued = [], [], [], 0
        self.new_listeners, self.rows_of_new_listeners, self.feedback = {}, [], []
        if links:
            self._tags(links)
        if self.fills:
            self._write_fills()
        if rows:
            self._listens(rows)
        if feedback:
            self._write_feedback(feedback)

    def _listens(self, rows: list[_ListenRow]) -> None:
        kept, already = self.overlaps.drop(rows)
        for source, count in already.items():
            self.report.already_from[source] = self.report.already_from.get(source, 0) + count
        before = self.store.conn.total_changes
        # A listen already stored is ignored and counted as a duplicate. The two tables that
        # take a row per input row (listens, tag links) are written with one `executemany`;
        # the catalogue tables use sqlite-utils. Measured: `insert_all` for the listens added
        # about 1.5 s CPU per 200,000 listens (+35%), and `upsert_all` for the tag links 0.5 s
        # to a HetRec import (every value goes through its JSON check).
        self.store.conn.executemany(
            f"INSERT OR IGNORE INTO listens ({', '.join(LISTEN_COLUMNS)})"
            f" VALUES ({', '.join('?' for _ in LISTEN_COLUMNS)})",
            kept,
        )
        inserted = self.store.conn.total_changes - before
        self.report.imported += inserted
        self.report.duplicates += len(rows) - inserted

    def _write_feedback(self, batch: Sequence[tuple[str, Feedback]]) -> None:
        """Insert the batch's feedback (placed on artists and tracks at the end of the import);
        a row repeating a stored one, or an earlier one of the batch, is a duplicate."""
        from recommender.feedback import dedupe_key  # see `_write` for why here

        rows = [
            (
                self.listener_ids[name],
                r.kind,
                r.artist,
                r.title,
                r.recording_mbid,
                r.recording_msid,
                r.at,
                r.source or self.source,
                self.import_id,
                dedupe_key(r.kind, r.at, r.artist, r.title, r.recording_mbid, r.recording_msid),
            )
            for name, r in batch
        ]
        before = self.store.conn.total_changes
        self.store.conn.executemany(
            "INSERT OR IGNORE INTO feedback (listener_id, kind, artist_name, track_title,"
            " recording_mbid, recording_msid, at, source, import_id, dedupe)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            rows,
        )
        added = self.store.conn.total_changes - before
        self.report.feedback += added
        self.report.feedback_duplicates += len(rows) - added

    def _write_fills(self) -> None:
        """Fill in the identifiers stored tracks lack (never replacing a stored value)."""
        by_column: dict[str, list[tuple[object, int]]] = {}
        for track_id, values in self.fills.items():
            for column, value in values.items():
                by_column.setdefault(column, []).append((value, track_id))
        self.fills = {}
        for column, pairs in by_column.items():
            self.store.conn.executemany(
                f"UPDATE tracks SET [{column}] = coalesce([{column}], ?) WHERE id = ?", pairs
            )

    def _resolve(self, waiting: Sequence[_Waiting]) -> None:
        """Give every waiting record its ids, in record order, and fill its place."""
        artist_ids = self._artists([ref for _, ref, _, _ in waiting])
        tracks: dict[tuple[int, str], dict[str, Any]] = {}
        titled: list[tuple[Listen | Track, tuple[int, str]]] = []
        for (record, _, _, _), artist_id in zip(waiting, artist_ids, strict=True):
            if isinstance(record, Listen) and record.title:
                title: str = record.title
            elif isinstance(record, Track) and record.title.strip():
                title = record.title
            else:
                continue
            key = (artist_id, self.key(title))
            titled.append((record, key))
            if key not in self.track_ids and key not in tracks:
                tracks[key] = _track_row(record, artist_id, title, key[1])
        if tracks:
            self._lookup_tracks(tracks)
        for record, key in titled:
            self._fill(self.track_ids[key], record)
        listener_ids = self.listener_ids  # `flush` has added the new ones
        for (record, _, name, slot), artist_id in zip(waiting, artist_ids, strict=True):
            if isinstance(record, Listen):
                track_key = self.key(record.title) if record.title else ""
                track_id = self.track_ids[(artist_id, track_key)] if record.title else None
                self.rows[slot] = self._row(
                    record, listener_ids[name], artist_id, track_id, track_key
                )
            elif isinstance(record, ArtistTag) and slot >= 0:
                self.links[slot] = (artist_id, tag_key(record.tag), record.count)

    def _lookup_tracks(self, tracks: dict[tuple[int, str], dict[str, Any]]) -> None:
        """Ids of these tracks, adding the ones not stored; what each still lacks."""
        select = "id, artist_id, key, " + ", ".join(f"[{c}]" for c in TRACK_IDENTIFIERS)
        for r in self.store.rows_in("tracks", ("artist_id", "key"), tracks, select=select):
            track_id = int(r["id"])
            self.track_ids[(int(r["artist_id"]), str(r["key"]))] = track_id
            self.missing[track_id] = [c for c in TRACK_IDENTIFIERS if r[c] is None]
        new = [k for k in tracks if k not in self.track_ids]
        if not new:
            return
        # One `executemany`, like the listens: sqlite-utils' `insert_all` checks every value of
        # the nine columns for JSON, which measured 1.5x slower on a 200,000-listen import.
        self.store.conn.executemany(
            f"INSERT INTO tracks ({', '.join(_TRACK_COLUMNS)})"
            f" VALUES ({', '.join('?' for _ in _TRACK_COLUMNS)})",
            [tuple(tracks[k][c] for c in _TRACK_COLUMNS) for k in new],
        )
        added = self.store.rows_in("tracks", ("artist_id", "key"), new, select="id, artist_id, key")
        for r in added:
            key = (int(r["artist_id"]), str(r["key"]))
            track_id = int(r["id"])
            self.track_ids[key] = track_id
            self.missing[track_id] = [c for c in TRACK_IDENTIFIERS if tracks[key][c] is None]

    # -- resolution ----------------------------------------------------------------------

    def _listeners(self, names: Sequence[str]) -> dict[str, int]:
        missing = {(n,): n for n in names if n not in self.listener_ids}
        if missing:
            now = utc_now()
            ids, _ = self.store.lookup_many(
                "listeners",
                ("name",),
                {k: {"name": name, "created_at": now} for k, name in missing.items()},
            )
            self.listener_ids.update({name: i for (name,), i in ids.items()})
        return self.listener_ids

    def _artists(self, refs: Sequence[ArtistRef]) -> list[int]:
        """The artist id of every reference, adding artists the store does not know."""
        cache_keys = [(self.key(name), ext, mbid) for name, mbid, ext in refs]
        unresolved = [r for r, k in zip(refs, cache_keys, strict=True) if k not in self.artist_ids]
        if unresolved:
            known = KnownArtists(self.store, self.source, self.key, unresolved, self.import_id)
            resolved: dict[_ArtistKey, str] = {}
            for (name, mbid, external_id), cache_key in zip(refs, cache_keys, strict=True):
                if cache_key not in self.artist_ids and cache_key not in resolved:
                    resolved[cache_key] = known.resolve(name, mbid, external_id)
            ids: dict[str, int] = {}
            self.report.artists += known.write(ids)
            self.artist_ids.update({k: ids[key] for k, key in resolved.items()})
        return [self.artist_ids[k] for k in cache_keys]

    def _tags(self, links: Sequence[_Link]) -> None:
        """Set each artist's count for each tag from this source; report the links changed."""
        missing = {(tag,): {"name": tag} for _, tag, _ in links if tag not in self.tag_ids}
        if missing:
            ids, _ = self.store.lookup_many("tags", ("name",), missing)
            self.tag_ids.update({str(name): i for (name,), i in ids.items()})
        tag_ids = self.tag_ids
        counts = {
            (int(r["artist_id"]), int(r["tag_id"])): int(r["count"])
            for r in self.store.rows_in(
                "artist_tags",
                ("artist_id", "tag_id"),
                ((a, tag_ids[t]) for a, t, _ in links),
                where="source = ?",
                where_args=[self.source],
                select="artist_id, tag_id, count",
            )
        }
        changed: dict[tuple[int, int], int] = {}
        for artist_id, tag, count in links:
            pair = (artist_id, tag_ids[tag])
            if counts.get(pair) != count:
                counts[pair] = changed[pair] = count
                self.report.tags += 1
        if changed:
            # Set in one `executemany`, like the listens (see `_listens` for why).
            self.store.conn.executemany(
                "INSERT INTO artist_tags (artist_id, tag_id, source, count) VALUES (?, ?, ?, ?)"
                " ON CONFLICT (artist_id, tag_id, source) DO UPDATE SET count = excluded.count",
                [(a, t, self.source, c) for (a, t), c in changed.items()],
            )


class _PausedIndexes:
    """The plain indexes of a table that bulk records fill from empty, dropped while they
    are written and built again (from the same SQL) before anything else touches the table.

    Building an index once from all its rows is a sort; keeping it up to date row by row is
    a random insert per row into a tree larger than the page cache. Measured on a million
    listens: 4.7 CPU-s with the two plain listens indexes kept, 1.7 s without them plus 1.0 s
    to build them. Only a table empty when its first bulk record comes is paused, so the
    build never re-sorts rows of earlier imports; the drop and the build are in the import's
    transaction, so a failed import leaves the indexes as they were.
    """

    PLAIN = {
        "listens": ("listens_listener_time", "listens_artist"),
        "artist_tags": ("artist_tags_tag",),
    }

    def __init__(self, store: Store) -> None:
        self.store = store
        self.seen: set[str] = set()  # tables decided on (each once per import)
        self.dropped: list[str] = []  # the CREATE INDEX statements to run again

    @property
    def paused(self) -> bool:
        return bool(self.dropped)

    def pause(self, table: str) -> None:
        if table in self.seen:
            return
        self.seen.add(table)
        conn = self.store.conn
        if conn.execute(f"SELECT 1 FROM [{table}] LIMIT 1").fetchone() is not None:
            return
        for name in self.PLAIN[table]:
            row = conn.execute(
                "SELECT sql FROM sqlite_master WHERE type = 'index' AND name = ? AND tbl_name = ?",
                (name, table),
            ).fetchone()
            if row is not None and row[0]:
                conn.execute(f"DROP INDEX [{name}]")
                self.dropped.append(str(row[0]))

    def resume(self) -> None:
        for sql in self.dropped:
            self.store.conn.execute(sql)
        self.dropped = []


def _resolution(
    cache: dict[tuple[int, bool], tuple[Sequence[Any], Column]], table: Sequence[Any], how: bool
) -> Column:
    """The ids resolved so far for a bulk record's table (-1: not yet; ids start at 1), to
    fill in place. One table serves many records (a reader's whole catalogue), so each entry
    is resolved once; the table is kept with its ids, so its id() cannot be reused by another
    one meanwhile. `how` tells apart resolutions of one table done differently."""
    import numpy as np

    resolved = cache.get((id(table), how))
    if resolved is None or resolved[0] is not table:
        resolved = (table, np.full(len(table), -1, dtype=np.int64))
        if len(cache) >= 4:  # a reader sending a table per record: keep memory flat
            cache.clear()
        cache[(id(table), how)] = resolved
    return resolved[1]


def _first_used(rows: Column) -> Column:
    """The distinct values of `rows` in the order each first occurs."""
    import numpy as np

    values, first = np.unique(rows, return_index=True)
    return values[np.argsort(first, kind="stable")]


def _identifiers(record: Listen | Track) -> dict[str, object]:
    """What a record tells about its track, by `tracks` column."""
    return {
        "album": record.album,
        "duration_ms": record.duration_ms,
        "mbid": record.track_mbid if isinstance(record, Listen) else record.mbid,
        "release_mbid": record.release_mbid,
        "spotify_uri": record.spotify_uri,
        "isrc": record.isrc,
    }


def _track_row(record: Listen | Track, artist_id: int, title: str, key: str) -> dict[str, Any]:
    """A new track's row, with what the record that first names it tells about it."""
    return {"artist_id": artist_id, "title": title, "key": key, **_identifiers(record)}
