"""The import writer every reader shares: a stream of records into the store, all or nothing.

`import_records` writes a reader's records (`recommender.ingest.records`) in ONE transaction: if
the reader raises or the process dies, the store is exactly as it was. Re-importing the same
data changes nothing, because every listen carries a dedupe key that is unique per listener.

Records are written in batches. A record whose names are all known becomes its row at once;
the others wait in the batch, and the names they mention are resolved with a few bulk reads and
added with sqlite-utils bulk inserts (lookup-or-insert in bulk, `Store.lookup_many`). Names are
resolved in record order against what the store holds plus what the batch has added so far, so
ids come out as if every record had been written on its own (a property test checks that).
The batch's listens then go in with one insert that ignores listens already stored.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from recommender.errors import IngestError
from recommender.ingest.records import (
    Artist,
    ArtistTag,
    DefaultListener,
    Listen,
    Note,
    Record,
    Rejected,
    Skipped,
    StoredTerms,
    Track,
)
from recommender.names import name_key, tag_key
from recommender.store import Store, utc_now
from recommender.terms_storage import write_terms

BATCH = 5000
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


def checksum(path: Path) -> str:
    """sha256 over a file, or over every file of a folder in name order."""
    digest = hashlib.sha256()
    try:
        files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
        for file in files:
            digest.update(file.name.encode())
            with file.open("rb") as handle:
                for block in iter(lambda: handle.read(1 << 20), b""):
                    digest.update(block)
    except OSError as exc:
        raise IngestError(
            f"cannot read {path} ({exc.strerror or exc}): check the path and its permissions"
        ) from exc
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
    with store.transaction():
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
        seen = 0
        for record in records:
            writer.add(record)
            seen += 1
            if progress is not None and seen % 50_000 == 0:
                progress(seen)
        writer.flush()
        report.listener = writer.default_listener
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
    return report


# How a record names an artist: (name, MusicBrainz id, the dataset's own id).
_ArtistRef = tuple[str, str | None, str | None]
# A record naming something the writer has not resolved yet: the record, the artist it names,
# whose listen it is (listens only) and its place among the batch's listens or tag links (-1:
# none).
_Waiting = tuple[Listen | Artist | Track | ArtistTag, _ArtistRef, str, int]
_ListenRow = tuple[int, int, int | None, int | None, int | None, int, str, int, str]
_Link = tuple[int, str, int]  # (artist id, tag key, count)


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
        # The batch: listen rows and tag links in record order (None: waiting), the waiting.
        self.rows: list[_ListenRow | None] = []
        self.links: list[_Link | None] = []
        self.waiting: list[_Waiting] = []
        self.new_listeners: dict[str, None] = {}  # names not stored yet, in record order
        self.rows_of_new_listeners: list[tuple[int, str]] = []  # (place in rows, name)
        self.queued = 0
        # What is resolved, so a name seen again costs a dictionary lookup.
        self.listener_ids: dict[str, int] = {}
        self.artist_ids: dict[tuple[str, str | None], int] = {}  # (name key, external id)
        self.track_ids: dict[tuple[int, str], int] = {}
        self.tag_ids: dict[str, int] = {}
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
        elif isinstance(record, ArtistTag):
            self._link(record)
        elif isinstance(record, Track):
            artist_id = self.artist_ids.get((self.key(record.artist), record.artist_external_id))
            title = record.title.strip()
            if artist_id is None or (
                title and (artist_id, self.key(record.title)) not in self.track_ids
            ):
                self._wait(record, (record.artist, None, record.artist_external_id), "", -1)
        elif isinstance(record, Artist):
            if (self.key(record.name), record.external_id) not in self.artist_ids:
                self._wait(record, (record.name, record.mbid, record.external_id), "", -1)
        elif isinstance(record, StoredTerms):
            if not self.default_listener:
                raise IngestError(
                    f"this {self.source} file does not say whose terms these are: "
                    "pass --listener NAME"
                )
            self.flush()
            listener_id = self._listeners([self.default_listener])[self.default_listener]
            write_terms(self.store, listener_id, record.terms)
        elif isinstance(record, Skipped):
            self.report.skipped += 1
            reasons = self.report.skip_reasons
            reasons[record.reason] = reasons.get(record.reason, 0) + 1
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

    def _listen(self, listen: Listen) -> None:
        name = listen.listener or self.default_listener
        if not name:
            raise IngestError(
                f"this {self.source} file does not say whose listens these are: "
                "pass --listener NAME"
            )
        listener_id = self.listener_ids.get(name)
        if listener_id is None:
            self.new_listeners[name] = None  # added by `flush`, in the order first named
        artist_id = self.artist_ids.get((self.key(listen.artist), listen.artist_external_id))
        track_key = self.key(listen.title) if listen.title else ""
        track_id: int | None = None
        if listen.title and artist_id is not None:
            track_id = self.track_ids.get((artist_id, track_key))
        if artist_id is None or (listen.title and track_id is None):
            self.rows.append(None)
            ref = (listen.artist, listen.artist_mbid, listen.artist_external_id)
            self._wait(listen, ref, name, len(self.rows) - 1)
            return
        if listener_id is None:  # only the listener's id waits
            self.rows_of_new_listeners.append((len(self.rows), name))
            listener_id = 0
        self.rows.append(self._row(listen, listener_id, artist_id, track_id, track_key))
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
        artist_id = self.artist_ids.get((self.key(link.artist), link.artist_external_id))
        if artist_id is None:  # the artist is made even when the tag is not kept
            if wanted:
                self.links.append(None)
            slot = len(self.links) - 1 if wanted else -1
            self._wait(link, (link.artist, None, link.artist_external_id), "", slot)
        elif wanted:
            self.links.append((artist_id, tag, link.count))
            self._count()

    def _wait(
        self, record: Listen | Artist | Track | ArtistTag, ref: _ArtistRef, name: str, slot: int
    ) -> None:
        self.waiting.append((record, ref, name, slot))
        self._count()

    def _count(self) -> None:
        self.queued += 1
        if self.queued >= BATCH:
            self.flush()

    def flush(self) -> None:
        """Resolve what waits, then write the batch: new artists, tracks, tags, then listens."""
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
        self.rows, self.links, self.waiting, self.queued = [], [], [], 0
        self.new_listeners, self.rows_of_new_listeners = {}, []
        if links:
            self._tags(links)
        if rows:
            before = self.store.conn.total_changes
            # A listen already stored is ignored and counted as a duplicate. The two tables
            # that take a row per input row (listens, tag links) are written with one
            # `executemany`; the catalogue tables use sqlite-utils. Measured: `insert_all` for
            # the listens added about 1.5 s CPU per 200,000 listens (+35%), and `upsert_all`
            # for the tag links 0.5 s to a HetRec import (every value goes through its JSON
            # check).
            self.store.conn.executemany(
                f"INSERT OR IGNORE INTO listens ({', '.join(LISTEN_COLUMNS)})"
                f" VALUES ({', '.join('?' for _ in LISTEN_COLUMNS)})",
                rows,
            )
            inserted = self.store.conn.total_changes - before
            self.report.imported += inserted
            self.report.duplicates += len(rows) - inserted

    def _resolve(self, waiting: Sequence[_Waiting]) -> None:
        """Give every waiting record its ids, in record order, and fill its place."""
        artist_ids = self._artists([ref for _, ref, _, _ in waiting])
        tracks: dict[tuple[int, str], dict[str, Any]] = {}
        for (record, _, _, _), artist_id in zip(waiting, artist_ids, strict=True):
            if isinstance(record, Listen) and record.title:
                title: str = record.title
                album, duration_ms, mbid = record.album, record.duration_ms, record.track_mbid
            elif isinstance(record, Track) and record.title.strip():
                title, album, duration_ms, mbid = (
                    record.title,
                    record.album,
                    record.duration_ms,
                    record.mbid,
                )
            else:
                continue
            key = (artist_id, self.key(title))
            if key not in self.track_ids and key not in tracks:
                tracks[key] = {
                    "artist_id": artist_id,
                    "title": title,
                    "key": key[1],
                    "album": album,
                    "duration_ms": duration_ms,
                    "mbid": mbid,
                }
        if tracks:
            ids, _ = self.store.lookup_many("tracks", ("artist_id", "key"), tracks)
            self.track_ids.update({(int(a), str(k)): i for (a, k), i in ids.items()})
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

    def _artists(self, refs: Sequence[_ArtistRef]) -> list[int]:
        """The artist id of every reference, adding artists the store does not know."""
        cache_keys = [(self.key(name), external_id) for name, _, external_id in refs]
        unresolved = [r for r, k in zip(refs, cache_keys, strict=True) if k not in self.artist_ids]
        if unresolved:
            known = _KnownArtists(self.store, self.source, self.key, unresolved)
            resolved: dict[tuple[str, str | None], str] = {}
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
            # Set in one `executemany`, like the listens (see `flush` for why).
            self.store.conn.executemany(
                "INSERT INTO artist_tags (artist_id, tag_id, source, count) VALUES (?, ?, ?, ?)"
                " ON CONFLICT (artist_id, tag_id, source) DO UPDATE SET count = excluded.count",
                [(a, t, self.source, c) for (a, t), c in changed.items()],
            )


class _KnownArtists:
    """What the store knows about the artists one batch names, read in bulk, and the artists
    the batch adds. `resolve` follows the identity order (the dataset's own id, then the MBID,
    then the name key) exactly as row-by-row lookups would, batch additions included."""

    def __init__(
        self,
        store: Store,
        source: str,
        key: Callable[[str], str],
        refs: Sequence[_ArtistRef],
    ) -> None:
        self.store = store
        self.source = source
        self.key = key
        keys = {key(name) for name, _, _ in refs}
        keys |= {self.separate_key(key(name), ext) for name, _, ext in refs if ext is not None}
        external = {ext for _, _, ext in refs if ext is not None}
        mbids = {mbid for _, mbid, _ in refs if mbid}
        by_external = {
            str(r["external_id"]): int(r["artist_id"])
            for r in store.rows_in(
                "artist_external_ids",
                "external_id",
                external,
                where="source = ?",
                where_args=[source],
                select="external_id, artist_id",
            )
        }
        found: dict[int, dict[str, Any]] = {}
        for column, values in (("key", keys), ("mbid", mbids), ("id", set(by_external.values()))):
            for row in store.rows_in("artists", column, values, select="id, key, mbid"):
                found[int(row["id"])] = row
        self.ids: dict[str, int] = {str(r["key"]): i for i, r in found.items()}
        self.mbid_of: dict[str, str | None] = {str(r["key"]): r["mbid"] for r in found.values()}
        # A lookup by MBID finds the oldest artist holding it.
        self.by_mbid: dict[str, str] = {}
        for artist_id in sorted(found):
            if found[artist_id]["mbid"]:
                self.by_mbid.setdefault(str(found[artist_id]["mbid"]), str(found[artist_id]["key"]))
        self.by_external = {ext: str(found[i]["key"]) for ext, i in by_external.items()}
        self.claimed = {
            str(found[int(r["artist_id"])]["key"])
            for r in store.rows_in(
                "artist_external_ids",
                "artist_id",
                [i for i, r in found.items() if r["key"] in keys],
                where="source = ?",
                where_args=[source],
                select="DISTINCT artist_id",
            )
        }
        self.new: dict[str, dict[str, Any]] = {}  # key -> row, in the order first named
        self.new_mbids: dict[int, str] = {}  # existing artist id -> MBID learnt now
        self.new_external: dict[str, str] = {}  # external id -> artist key

    def separate_key(self, key: str, external_id: str) -> str:
        """The key of an artist the dataset keeps apart from another holding the same name."""
        return f"{key} [{self.source} {external_id}]"

    def resolve(self, name: str, mbid: str | None, external_id: str | None) -> str:
        """The key of the artist this reference means, adding it to the batch if it is new."""
        found: str | None = None
        if external_id is not None:
            found = self.by_external.get(external_id)
        if found is None and mbid:
            found = self.by_mbid.get(mbid)
        if found is None:
            found = self.key(name)
            if found in self.mbid_of and external_id is not None and found in self.claimed:
                # The dataset lists this as a different artist from the one holding the key.
                found = self.separate_key(found, external_id)
            if found not in self.mbid_of:
                self.new[found] = {"name": name, "key": found, "mbid": mbid}
                self.mbid_of[found] = mbid
            elif mbid and self.mbid_of[found] is None:
                self.mbid_of[found] = mbid
                if found in self.new:
                    self.new[found]["mbid"] = mbid
                else:
                    self.new_mbids[self.ids[found]] = mbid
            if mbid and self.mbid_of[found] == mbid:
                self.by_mbid.setdefault(mbid, found)
        if external_id is not None and external_id not in self.by_external:
            self.by_external[external_id] = self.new_external[external_id] = found
            self.claimed.add(found)
        return found

    def write(self, ids: dict[str, int]) -> int:
        """Store what the batch added; fill `ids` (artists.key -> id); return artists added."""
        ids.update(self.ids)
        if self.new:
            added, _ = self.store.lookup_many(
                "artists", ("key",), {(key,): row for key, row in self.new.items()}
            )
            ids.update({str(key): i for (key,), i in added.items()})
        artists = self.store.db.table("artists")
        for artist_id, mbid in self.new_mbids.items():
            artists.update(artist_id, {"mbid": mbid})
        if self.new_external:
            self.store.db.table("artist_external_ids").insert_all(
                (
                    {"source": self.source, "external_id": ext, "artist_id": ids[key]}
                    for ext, key in self.new_external.items()
                ),
                ignore=True,
            )
        return len(self.new)
