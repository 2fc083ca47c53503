"""One play is one listen across services: the same play imported from two sources is merged.

A listen is already imported from another source when that source holds a listen of the
same listener, artist and track starting within `TOLERANCE` seconds of it. The services time
a play differently: Spotify's history gives the end of the play (the start is computed from
`ms_played`, which leaves out pauses), Last.fm exports round scrobbles down to the minute
(Spotify 18:00:12 is Last.fm 18:00) and devices' clocks drift by seconds. Two minutes covers
all of that, and is shorter than any track: two real plays of one track cannot start that
close together, since a play under 30 s is never a listen.

The copy imported first is kept (its source, time and play length); the later one is counted
as "already imported from <source>" and dropped, although what it tells about the track
(MBIDs, Spotify URI, album, duration) still fills in the track. Each stored listen absorbs at
most one listen of each other source, so two plays in one history are never merged into one
play of another. Within one source nothing is merged by time: repeats stay distinct plays
(only the very same listen, at the same second, is a duplicate).
"""

from __future__ import annotations

from bisect import bisect_left, insort
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

from recommender.store import Store

TOLERANCE = 120  # seconds between the starts of one play as two services record it

# A listens row as the writer inserts it:
# (listener_id, artist_id, track_id, listened_at, ms_played, plays, source, import_id, dedupe)
ListenRow = tuple[int, int, int | None, int | None, int | None, int, str, int, str]


@dataclass
class _Copies:
    """The timed listens of one listener that a new listen may turn out to repeat."""

    by_track: dict[tuple[int, int | None], list[tuple[int, str, str]]] = field(
        default_factory=lambda: defaultdict(list)
    )  # (artist, track) -> sorted (time, dedupe, source)

    def add(self, artist_id: int, track_id: int | None, at: int, dedupe: str, source: str) -> None:
        insort(self.by_track[(artist_id, track_id)], (at, dedupe, source))


class Overlaps:
    """Finds, batch by batch, the listens another source already holds (see the module doc).

    Rows are checked in the order given, against the store and against the batch's earlier
    rows, so a batch comes out as if its rows had been written one at a time.
    """

    def __init__(self, store: Store) -> None:
        self.store = store
        self.sources: dict[int, set[str]] = {}  # listener -> sources of their timed listens
        self.absorbed: set[tuple[int, str, str]] = set()  # (listener, stored dedupe, source)

    def _sources_of(self, listener_id: int) -> set[str]:
        found = self.sources.get(listener_id)
        if found is None:
            found = self.sources[listener_id] = {
                str(row[0])
                for row in self.store.conn.execute(
                    "SELECT DISTINCT source FROM listens"
                    " WHERE listener_id = ? AND listened_at IS NOT NULL",
                    (listener_id,),
                )
            }
        return found

    def drop(self, rows: Sequence[ListenRow]) -> tuple[list[ListenRow], dict[str, int]]:
        """The rows to insert, and how many were dropped per source already holding them."""
        # Which listeners have timed listens from more than one source, counting this batch
        # (one pass of a set comprehension: most batches need no check at all).
        pairs = {(row[0], row[6]) for row in rows if row[3] is not None}
        needs_check: set[int] = set()
        for listener_id, source in sorted(pairs):
            known = self.sources.get(listener_id)
            if known is None:
                known = self._sources_of(listener_id)
            known.add(source)
            if len(known) > 1:
                needs_check.add(listener_id)
        merged: dict[str, int] = {}
        if not needs_check:
            return list(rows), merged
        by_listener: dict[int, list[int]] = defaultdict(list)
        for index, row in enumerate(rows):
            if row[3] is not None and row[0] in needs_check:
                by_listener[row[0]].append(index)
        dropped: set[int] = set()
        for listener_id in sorted(needs_check):
            self._check(rows, by_listener[listener_id], dropped, merged)
        return [row for index, row in enumerate(rows) if index not in dropped], merged

    def _check(
        self,
        rows: Sequence[ListenRow],
        indices: list[int],
        dropped: set[int],
        merged: dict[str, int],
    ) -> None:
        listener_id = rows[indices[0]][0]
        times = [at for i in indices if (at := rows[i][3]) is not None]
        low, high = min(times) - TOLERANCE, max(times) + TOLERANCE
        copies = _Copies()
        # dedupe -> source of what is stored (or kept from this batch) under that key
        seen: dict[str, str] = {}
        for artist_id, track_id, at, dedupe, source in self.store.conn.execute(
            "SELECT artist_id, track_id, listened_at, dedupe, source FROM listens"
            " WHERE listener_id = ? AND listened_at BETWEEN ? AND ?",
            (listener_id, low, high),
        ):
            copies.add(int(artist_id), track_id, int(at), str(dedupe), str(source))
            seen[str(dedupe)] = str(source)
        for index in indices:
            _, artist_id, track_id, at, _, _, source, _, dedupe = rows[index]
            if at is None:
                continue
            held = seen.get(dedupe)
            if held is not None:
                # The very same listen: from this source a plain duplicate (the insert ignores
                # it), from another one the copy kept.
                if held != source:
                    self.absorbed.add((listener_id, dedupe, source))
                    merged[held] = merged.get(held, 0) + 1
                    dropped.add(index)
                continue
            match = self._match(copies, listener_id, artist_id, track_id, at, source)
            if match is not None:
                self.absorbed.add((listener_id, match[1], source))
                merged[match[2]] = merged.get(match[2], 0) + 1
                dropped.add(index)
                continue
            seen[dedupe] = source
            copies.add(artist_id, track_id, at, dedupe, source)

    def _match(
        self,
        copies: _Copies,
        listener_id: int,
        artist_id: int,
        track_id: int | None,
        at: int,
        source: str,
    ) -> tuple[int, str, str] | None:
        """The nearest copy from another source not yet absorbing one from `source`."""
        candidates = copies.by_track.get((artist_id, track_id))
        if not candidates:
            return None
        start = bisect_left(candidates, (at - TOLERANCE, "", ""))
        best: tuple[int, str, str] | None = None
        for copy in candidates[start:]:
            if copy[0] > at + TOLERANCE:
                break
            if copy[2] == source or (listener_id, copy[1], source) in self.absorbed:
                continue
            if best is None or abs(copy[0] - at) < abs(best[0] - at):
                best = copy
        return best
