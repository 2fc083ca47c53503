"""Storing feedback (loves, hates, skips): never a listen, placed on an artist or track when it
can be, kept pending when it cannot, and placed once the item arrives.

A feedback row is placed in this order: by its recording MBID (the oldest track holding it),
else by its artist name (the identity rules of `recommender.ingest.artists`, without ever
adding an artist) and, with a title, the track of that name. Feedback is never what adds an
artist or a track: one whose item is not in the store keeps its names and ids and is placed
at the end of a later import that brings the item (`place_pending`, run by every import).
Two imports of the same feedback change nothing: each row carries a dedupe key (kind, time,
and the recording id or the name keys) that is unique per listener.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from recommender.ingest.artists import KnownArtists
from recommender.ingest.records import Feedback
from recommender.names import name_key
from recommender.store import Store

COLUMNS = (
    "listener_id",
    "kind",
    "artist_id",
    "track_id",
    "artist_name",
    "track_title",
    "recording_mbid",
    "recording_msid",
    "at",
    "source",
    "import_id",
    "dedupe",
)


@dataclass(frozen=True)
class FeedbackCounts:
    """What writing a batch of feedback did."""

    added: int = 0
    duplicates: int = 0


def dedupe_key(record: Feedback) -> str:
    """The same love, hate or skip gets the same key in every import."""
    if record.recording_mbid:
        item = f"mb:{record.recording_mbid}"
    elif record.recording_msid:
        item = f"ms:{record.recording_msid}"
    else:
        item = f"n:{name_key(record.artist or '')}|{name_key(record.title or '')}"
    return f"{record.kind}|{record.at if record.at is not None else ''}|{item}"


class Placer:
    """Places feedback on artists and tracks the store holds, in bulk, adding nothing."""

    def __init__(self, store: Store, source: str, key: Callable[[str], str], import_id: int):
        self.store = store
        self.source = source
        self.key = key
        self.import_id = import_id

    def place(
        self, items: Sequence[tuple[str | None, str | None, str | None]]
    ) -> list[tuple[int | None, int | None]]:
        """(artist id, track id) for each (artist name, title, recording MBID); None where the
        store does not hold it."""
        by_mbid: dict[str, tuple[int, int]] = {}
        mbids = sorted({m for _, _, m in items if m})
        for row in self.store.rows_in(
            "tracks", "mbid", mbids, select="id, artist_id, mbid", where="1"
        ):
            current = by_mbid.get(str(row["mbid"]))
            if current is None or int(row["id"]) < current[1]:
                by_mbid[str(row["mbid"])] = (int(row["artist_id"]), int(row["id"]))
        names = [(name, None, None) for name, _, mbid in items if name and mbid not in by_mbid]
        known = KnownArtists(self.store, self.source, self.key, names, self.import_id)
        artist_of: dict[str, int | None] = {}
        for typed, _, _ in names:
            if typed not in artist_of:
                found = known.find(typed)
                artist_of[typed] = None if found is None else known.ids.get(found)
        wanted = {
            (artist_id, self.key(title))
            for name, title, _ in items
            if name and title and (artist_id := artist_of.get(name)) is not None
        }
        track_of = {
            (int(r["artist_id"]), str(r["key"])): int(r["id"])
            for r in self.store.rows_in(
                "tracks", ("artist_id", "key"), wanted, select="id, artist_id, key"
            )
        }
        placed: list[tuple[int | None, int | None]] = []
        for name, title, mbid in items:
            if mbid and mbid in by_mbid:
                placed.append(by_mbid[mbid])
                continue
            artist_id = artist_of.get(name) if name else None
            track_id = None
            if artist_id is not None and title:
                track_id = track_of.get((artist_id, self.key(title)))
            placed.append((artist_id, track_id))
        return placed


def write_feedback(
    store: Store,
    placer: Placer,
    batch: Sequence[tuple[int, Feedback]],
) -> FeedbackCounts:
    """Insert a batch of (listener id, feedback), placed where the store allows."""
    if not batch:
        return FeedbackCounts()
    placed = placer.place([(r.artist, r.title, r.recording_mbid) for _, r in batch])
    rows = [
        (
            listener_id,
            record.kind,
            artist_id,
            track_id,
            record.artist,
            record.title,
            record.recording_mbid,
            record.recording_msid,
            record.at,
            record.source or placer.source,
            placer.import_id,
            dedupe_key(record),
        )
        for (listener_id, record), (artist_id, track_id) in zip(batch, placed, strict=True)
    ]
    conn = store.conn
    before = conn.total_changes
    # A row repeating a stored one (or an earlier one of this batch) is ignored: a duplicate.
    conn.executemany(
        f"INSERT OR IGNORE INTO feedback ({', '.join(COLUMNS)})"
        f" VALUES ({', '.join('?' for _ in COLUMNS)})",
        rows,
    )
    added = conn.total_changes - before
    return FeedbackCounts(added=added, duplicates=len(rows) - added)


def place_pending(store: Store, placer: Placer) -> int:
    """Place every pending feedback row whose artist (or track) the store now holds; returns
    how many rows of earlier imports were placed further."""
    rows = store.conn.execute(
        "SELECT id, artist_id, artist_name, track_title, recording_mbid, import_id FROM feedback"
        " WHERE artist_id IS NULL OR (track_id IS NULL AND track_title IS NOT NULL)"
    ).fetchall()
    if not rows:
        return 0
    placed = placer.place([(name, title, mbid) for _, _, name, title, mbid, _ in rows])
    updates = []
    earlier = 0
    for (row_id, old_artist, _, _, _, import_id), (artist_id, track_id) in zip(
        rows, placed, strict=True
    ):
        newly_placed = old_artist is None and artist_id is not None
        track_found = old_artist is not None and artist_id == old_artist and track_id is not None
        if newly_placed or track_found:
            updates.append((artist_id, track_id, row_id))
            earlier += import_id != placer.import_id
    store.conn.executemany("UPDATE feedback SET artist_id = ?, track_id = ? WHERE id = ?", updates)
    return earlier
