"""What a listener told us: loves, hates and skips. The one reader of the `feedback` table and
the one place that writes it by hand (`tastemaker feedback`); imports write it through the
import writer (`recommender.ingest.writer`), with the dedupe key made here (`dedupe_key`).

Feedback is never a listen: nothing here reads or changes `listens`, so play counts stay what
was played. What it changes is documented where it is used and summed up here:

- **Hates** (artist or track): never offered again to that listener, by any stage; left out of
  the model input (`weigh_model_input`: the model's items are artists, so a hated artist's
  entry is removed; a hated track alone only keeps that track out of playlists).
- **Loves** (artist or track): loved tracks (and the tracks of a loved artist) come first among
  familiar picks and their reasons say when they were loved; in the model input the artist's
  entry counts `LOVE_WEIGHT` times (an artist loved but never played enters as one play).
- **Skips** (a track, or an artist typed by hand): a track's share of skipped plays is
  skips / (skips + plays); its weight in familiar picks is multiplied by 1 - share, and above
  `SKIP_OUT_SHARE` it is kept out. The listener's term `learn_from_skips` switches this off.

The opinion in force: for each artist or track, the newest love or hate (by `at`, then by row)
is the one that counts, so hating something once loved takes the love back, and loving it again
takes the hate back. Skips are events: each one counts.

Pending feedback: a row whose artist (or, for a track, the track) is not in the store yet keeps
`artist_id`/`track_id` NULL and the names and ids as given. It is resolved against the catalogue
every time it is read, in this order: the recording MBID (`tracks.mbid`), then the artist's name
key and the track title's key (as imports match names); a row that names only a MessageBrainz
MSID stays pending until a reader or the writer fills in a name. So feedback for something not
in the store is applied as soon as the item arrives. `resolve_pending` writes the ids found into
the rows (the import writer calls it at the end of an import, inside its transaction; it is also
what keeps SQL over `feedback` able to re-derive the numbers in reasons).

Feedback from a source the listener ignores is not read; a listener who turned personalisation
off has no model input at all, but their hates still keep things out of their playlists (a hate
is an instruction, like an exclusion).
"""

from __future__ import annotations

import hashlib
import json
import time
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import numpy as np
import scipy.sparse as sp

from recommender.catalog import did_you_mean, resolve_listener
from recommender.errors import InvalidFeedback, NoSuchFeedback
from recommender.names import name_key
from recommender.store import Store
from recommender.terms_storage import load_terms

LOVE, HATE, SKIP = "love", "hate", "skip"
KINDS = (LOVE, HATE, SKIP)
BY_HAND = "hand"  # the source of feedback typed with `tastemaker feedback`
LOVE_WEIGHT = 2.0  # a loved artist's entry in the model input counts this many times
SKIP_OUT_SHARE = 0.5  # a track skipped on more than this share of its plays is kept out
TRACK_SEPARATOR = " - "  # "Artist - Title", as typed after --track

# A feedback condition on the unaliased `feedback` table: not from a source the listener ignores.
_NOT_IGNORED = (
    "NOT EXISTS (SELECT 1 FROM terms ut WHERE ut.listener_id = feedback.listener_id"
    " AND EXISTS (SELECT 1 FROM json_each(ut.ignore_sources) j WHERE j.value = feedback.source))"
)
_COLUMNS = (
    "id, listener_id, kind, artist_id, track_id, artist_name, track_title, recording_mbid,"
    " recording_msid, at, source"
)


def dedupe_key(
    kind: str,
    at: int | None,
    artist: str | None = None,
    title: str | None = None,
    recording_mbid: str | None = None,
    recording_msid: str | None = None,
) -> str:
    """What makes two feedback rows of one listener the same one (unique per listener), so that
    importing the same feedback twice adds nothing. The import writer uses this too."""
    parts = [
        kind,
        "" if at is None else str(int(at)),
        name_key(artist) if artist else "",
        name_key(title) if title else "",
        recording_mbid or "",
        recording_msid or "",
    ]
    return "|".join(parts)


# Rows and their resolution -----------------------------------------------------------------


@dataclass(frozen=True)
class FeedbackRow:
    """One stored feedback row, with the artist and track it resolves to now (None: pending)."""

    id: int
    listener_id: int
    kind: str
    artist_id: int | None
    track_id: int | None
    artist: str | None  # the store's name once resolved, else as given
    title: str | None
    recording_mbid: str | None
    recording_msid: str | None
    at: int | None
    source: str

    @property
    def names_track(self) -> bool:
        return bool(self.title or self.recording_mbid or self.recording_msid or self.track_id)

    @property
    def pending(self) -> bool:
        return self.artist_id is None or (self.names_track and self.track_id is None)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "kind": self.kind,
            "artist": self.artist,
            "artist_id": self.artist_id,
            "title": self.title,
            "track_id": self.track_id,
            "recording_mbid": self.recording_mbid,
            "recording_msid": self.recording_msid,
            "at": iso(self.at),
            "source": self.source,
            "pending": self.pending,
        }


def iso(ts: int | None) -> str | None:
    """Unix seconds as ISO 8601 UTC (None stays None)."""
    if ts is None:
        return None
    return datetime.fromtimestamp(int(ts), UTC).isoformat(timespec="seconds")


def _rows(store: Store, where: str, args: Sequence[object]) -> list[FeedbackRow]:
    """Feedback rows matching `where`, each resolved against the catalogue as it is now."""
    raw = store.conn.execute(
        f"SELECT {_COLUMNS} FROM feedback WHERE {where} ORDER BY id", list(args)
    ).fetchall()
    found = _match(store, [r for r in raw if _needs_match(r)])
    names = _artist_names(
        store, {int(r[3]) for r in raw if r[3] is not None} | {a for a, _ in found.values()}
    )
    out = []
    for fid, lid, kind, artist_id, track_id, artist, title, mbid, msid, at, source in raw:
        if fid in found:
            artist_id, track_id = found[fid]
        elif _needs_match((fid, lid, kind, artist_id, track_id, artist, title, mbid, msid)):
            artist_id = track_id = None
        out.append(
            FeedbackRow(
                id=int(fid),
                listener_id=int(lid),
                kind=str(kind),
                artist_id=None if artist_id is None else int(artist_id),
                track_id=None if track_id is None else int(track_id),
                artist=names.get(int(artist_id), artist) if artist_id is not None else artist,
                title=title,
                recording_mbid=mbid,
                recording_msid=msid,
                at=None if at is None else int(at),
                source=str(source),
            )
        )
    return out


def _needs_match(row: Sequence[Any]) -> bool:
    """A stored row whose ids are not (all) filled in: it names an artist or track not found
    when it was written."""
    _, _, _, artist_id, track_id, _, title, mbid, msid = row[:9]
    names_track = bool(title or mbid or msid or track_id)
    return artist_id is None or (names_track and track_id is None)


def _artist_names(store: Store, artist_ids: Iterable[int]) -> dict[int, str]:
    return {
        int(r["id"]): str(r["name"])
        for r in store.rows_in("artists", "id", sorted(set(artist_ids)), select="id, name")
    }


def _match(store: Store, raw: Sequence[Sequence[Any]]) -> dict[int, tuple[int, int | None]]:
    """feedback id -> (artist id, track id or None) for pending rows that resolve now (see the
    module docstring for the order)."""
    if not raw:
        return {}
    by_mbid: dict[str, tuple[int, int]] = {}
    mbids = sorted({str(r[7]) for r in raw if r[7]})
    for row in store.rows_in("tracks", "mbid", mbids, select="id, artist_id, mbid"):
        current = by_mbid.get(str(row["mbid"]))
        if current is None or int(row["id"]) < current[1]:
            by_mbid[str(row["mbid"])] = (int(row["artist_id"]), int(row["id"]))
    artist_of = {
        key: artist_id
        for key in {name_key(str(r[5])) for r in raw if r[5]}
        if (artist_id := _artist_by_key(store, key)) is not None
    }
    wanted_tracks = {
        (artist_of[name_key(str(r[5]))], name_key(str(r[6])))
        for r in raw
        if r[5] and r[6] and name_key(str(r[5])) in artist_of
    }
    track_of = {
        (int(t["artist_id"]), str(t["key"])): int(t["id"])
        for t in store.rows_in(
            "tracks", ("artist_id", "key"), wanted_tracks, select="id, artist_id, key"
        )
    }
    found: dict[int, tuple[int, int | None]] = {}
    for r in raw:
        fid, title, mbid, msid = int(r[0]), r[6], r[7], r[8]
        if mbid and str(mbid) in by_mbid:
            found[fid] = by_mbid[str(mbid)]
            continue
        artist_id = artist_of.get(name_key(str(r[5]))) if r[5] else None
        if artist_id is None:
            continue
        if title:
            track_id = track_of.get((artist_id, name_key(str(title))))
            if track_id is not None:
                found[fid] = (artist_id, track_id)
        elif not (mbid or msid):
            found[fid] = (artist_id, None)
    return found


def _artist_by_key(store: Store, key: str) -> int | None:
    """The artist a name key means, as the resolver picks it (the plain key, else the shortest
    "key [source id]" of two artists a dataset keeps apart under one name)."""
    row = store.conn.execute(
        "SELECT id FROM artists WHERE key = ? OR key LIKE ? ORDER BY length(key), id LIMIT 1",
        (key, f"{key} [%"),
    ).fetchone()
    return None if row is None else int(row[0])


def resolve_pending(store: Store) -> int:
    """Write the artist and track ids of pending rows that resolve now; returns how many.

    Call inside a write transaction (the import writer does, at the end of an import)."""
    raw = store.conn.execute(
        f"SELECT {_COLUMNS} FROM feedback WHERE artist_id IS NULL OR (track_id IS NULL AND"
        " (track_title IS NOT NULL OR recording_mbid IS NOT NULL OR recording_msid IS NOT NULL))"
    ).fetchall()
    found = _match(store, raw)
    store.conn.executemany(
        "UPDATE feedback SET artist_id = ?, track_id = ? WHERE id = ?",
        [(a, t, fid) for fid, (a, t) in found.items()],
    )
    return len(found)


# Opinions in force -------------------------------------------------------------------------


@dataclass(frozen=True)
class Opinion:
    """The love or hate in force for one artist or track: the newest of them."""

    kind: str
    at: int | None
    source: str
    feedback_id: int

    @property
    def loved(self) -> bool:
        return self.kind == LOVE


def _in_force(rows: Iterable[FeedbackRow]) -> tuple[dict[int, Opinion], dict[int, Opinion]]:
    """(artist id -> opinion from artist-level rows, track id -> opinion) over resolved loves
    and hates; the newest row per item wins."""
    newest: dict[tuple[str, int], tuple[tuple[int, int], Opinion]] = {}
    for row in rows:
        if row.kind == SKIP or row.pending or row.artist_id is None:
            continue
        item = ("track", row.track_id) if row.track_id is not None else ("artist", row.artist_id)
        order = (-1 if row.at is None else row.at, row.id)
        current = newest.get(item)
        if current is None or order > current[0]:
            newest[item] = (order, Opinion(row.kind, row.at, row.source, row.id))
    artists = {i: o for (scope, i), (_, o) in newest.items() if scope == "artist"}
    tracks = {i: o for (scope, i), (_, o) in newest.items() if scope == "track"}
    return artists, tracks


@dataclass(frozen=True)
class Loved:
    """Why a pick counts as loved: the love in force, on the track itself or on its artist."""

    at: int | None
    scope: str  # "track" or "artist"
    feedback_id: int


@dataclass(frozen=True)
class ListenerFeedback:
    """One listener's feedback as playlists use it: opinions in force and skip counts, over
    resolved rows from the sources they let us use."""

    artist_opinions: Mapping[int, Opinion] = field(default_factory=dict)
    track_opinions: Mapping[int, Opinion] = field(default_factory=dict)
    track_skips: Mapping[int, int] = field(default_factory=dict)  # empty: skips not learnt
    artist_skips: Mapping[int, int] = field(default_factory=dict)  # artist-level skips only
    track_artist: Mapping[int, int] = field(default_factory=dict)  # artist of each named track
    pending: int = 0  # rows that name nothing in the store yet

    @property
    def hated_artists(self) -> frozenset[int]:
        return frozenset(a for a, o in self.artist_opinions.items() if o.kind == HATE)

    @property
    def hated_tracks(self) -> frozenset[int]:
        return frozenset(t for t, o in self.track_opinions.items() if o.kind == HATE)

    def loved(self, artist_id: int, track_id: int | None) -> Loved | None:
        """The love in force for this pick: the track's own, else its artist's."""
        if track_id is not None:
            own = self.track_opinions.get(track_id)
            if own is not None:
                return Loved(own.at, "track", own.feedback_id) if own.loved else None
        artist = self.artist_opinions.get(artist_id)
        if artist is not None and artist.loved:
            return Loved(artist.at, "artist", artist.feedback_id)
        return None

    def loved_tracks(self, artist_id: int) -> list[int]:
        """The artist's tracks loved in their own right, oldest love first."""
        return [
            t
            for t, o in sorted(self.track_opinions.items(), key=lambda x: (x[1].at or 0, x[0]))
            if o.loved and self.track_artist.get(t) == artist_id
        ]


def listener_feedback(
    store: Store,
    listener_id: int | None,
    *,
    ignore_sources: Sequence[str] = (),
    learn_from_skips: bool = True,
) -> ListenerFeedback:
    """The listener's feedback in force (nothing for a listener not in the store)."""
    if listener_id is None:
        return ListenerFeedback()
    where, args = "listener_id = ?", list[object]([listener_id])
    if ignore_sources:
        where += f" AND source NOT IN ({','.join('?' for _ in ignore_sources)})"
        args += list(ignore_sources)
    rows = _rows(store, where, args)
    artists, tracks = _in_force(rows)
    track_skips: dict[int, int] = defaultdict(int)
    artist_skips: dict[int, int] = defaultdict(int)
    if learn_from_skips:
        for row in rows:
            if row.kind != SKIP or row.pending or row.artist_id is None:
                continue
            if row.track_id is not None:
                track_skips[row.track_id] += 1
            else:
                artist_skips[row.artist_id] += 1
    return ListenerFeedback(
        artist_opinions=artists,
        track_opinions=tracks,
        track_skips=dict(track_skips),
        artist_skips=dict(artist_skips),
        track_artist={
            r.track_id: r.artist_id
            for r in rows
            if r.track_id is not None and r.artist_id is not None
        },
        pending=sum(1 for r in rows if r.pending),
    )


def skip_share(plays: int, skips: int) -> float:
    """The share of the times a track (or artist) was started that it was skipped."""
    return 0.0 if skips <= 0 else skips / (skips + max(plays, 0))


def skipped_out(plays: int, skips: int) -> bool:
    """Mostly skipped: kept out of familiar picks."""
    return skip_share(plays, skips) > SKIP_OUT_SHARE


# The model input ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ModelOpinions:
    """Per (listener id, artist id): the artists each listener loves and hates, as the model
    input applies them (see `weigh_model_input`)."""

    loved: tuple[tuple[int, int], ...] = ()
    hated: tuple[tuple[int, int], ...] = ()

    def __bool__(self) -> bool:
        return bool(self.loved or self.hated)

    def digest(self) -> bytes:
        """What changes the model input, for the training data's fingerprint."""
        text = json.dumps([list(map(list, self.loved)), list(map(list, self.hated))])
        return hashlib.sha256(text.encode()).digest()


def model_opinions(store: Store) -> ModelOpinions:
    """Every listener's loved and hated artists in force (listeners who opted out and sources
    they ignore left out). An artist is loved when it, or one of its tracks, is loved and the
    artist itself is not hated; hated when the artist itself is hated."""
    opted_out = (
        "NOT EXISTS (SELECT 1 FROM terms ot WHERE ot.listener_id = feedback.listener_id"
        " AND ot.personalise = 0)"
    )
    rows = _rows(store, f"kind IN ('love', 'hate') AND {opted_out} AND {_NOT_IGNORED}", [])
    per_listener: dict[int, list[FeedbackRow]] = defaultdict(list)
    for row in rows:
        per_listener[row.listener_id].append(row)
    loved: set[tuple[int, int]] = set()
    hated: set[tuple[int, int]] = set()
    for listener_id, mine in per_listener.items():
        artists, tracks = _in_force(mine)
        artist_of = {r.track_id: r.artist_id for r in mine if r.track_id is not None}
        hated |= {(listener_id, a) for a, o in artists.items() if o.kind == HATE}
        loved_artists = {a for a, o in artists.items() if o.loved}
        loved_artists |= {a for t, o in tracks.items() if o.loved and (a := artist_of.get(t))}
        loved |= {(listener_id, a) for a in loved_artists if (listener_id, a) not in hated}
    return ModelOpinions(tuple(sorted(loved)), tuple(sorted(hated)))


def weigh_model_input(
    weights: sp.csr_matrix,
    listener_ids: np.ndarray,
    artist_ids: np.ndarray,
    opinions: ModelOpinions,
) -> sp.csr_matrix:
    """The model input (listener x artist weights, log-scaled plays) with feedback applied:
    hated artists' entries removed, loved artists' entries times LOVE_WEIGHT (one play's weight
    times LOVE_WEIGHT for a loved artist never played). Listeners or artists not in the matrix
    are ignored. The play counts themselves are not touched."""
    row_of = {int(v): i for i, v in enumerate(np.asarray(listener_ids).tolist())}
    col_of = {int(v): j for j, v in enumerate(np.asarray(artist_ids).tolist())}

    def mask(pairs: Iterable[tuple[int, int]]) -> sp.csr_matrix:
        cells = [(row_of[lid], col_of[a]) for lid, a in pairs if lid in row_of and a in col_of]
        rows = np.array([r for r, _ in cells], dtype=np.int64)
        cols = np.array([c for _, c in cells], dtype=np.int64)
        return sp.csr_matrix((np.ones(len(cells)), (rows, cols)), shape=weights.shape)

    out = sp.csr_matrix(weights, dtype=np.float64, copy=True)
    hated, loved = mask(opinions.hated), mask(opinions.loved)
    out = sp.csr_matrix(out - out.multiply(hated))
    present = sp.csr_matrix((out != 0).astype(np.float64))
    missing = loved - loved.multiply(present)
    out = sp.csr_matrix(
        out + out.multiply(loved) * (LOVE_WEIGHT - 1.0) + missing * (LOVE_WEIGHT * np.log1p(1.0))
    )
    out.eliminate_zeros()
    return sp.csr_matrix(out, dtype=weights.dtype)


# By hand: add, take back, show -------------------------------------------------------------


@dataclass(frozen=True)
class FeedbackChange:
    """What `add_feedback` or `take_back` did."""

    listener: str
    kind: str
    artist: str
    title: str | None
    artist_id: int | None
    track_id: int | None
    rows: int  # rows added (0: the same feedback was already stored) or taken back
    pending: bool  # not in the store yet: kept, applied once it arrives
    hint: str = ""  # near misses for a name that matched nothing

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def split_track(store: Store, text: str) -> tuple[str, str]:
    """("Artist", "Title") from "Artist - Title". With several " - ", the split whose artist is
    in the store wins (an artist's name may hold the separator itself), else the first."""
    pieces = text.split(TRACK_SEPARATOR)
    if len(pieces) < 2:
        raise InvalidFeedback(
            f'{text!r} is not "Artist - Title": put a space, a dash and a space between them'
        )
    splits = [
        (TRACK_SEPARATOR.join(pieces[:i]).strip(), TRACK_SEPARATOR.join(pieces[i:]).strip())
        for i in range(1, len(pieces))
    ]
    for artist, title in splits:
        if artist and title and _artist_by_key(store, name_key(artist)) is not None:
            return artist, title
    artist, title = splits[0]
    if not artist or not title:
        raise InvalidFeedback(f'{text!r} needs both an artist and a title around " - "')
    return artist, title


def _item(
    store: Store, kind: str, artist: str | None, track: str | None
) -> tuple[str, str | None, int | None, int | None]:
    """(artist as typed, title or None, artist id, track id) for the item named; ids are None
    while it is not in the store."""
    if kind not in KINDS:
        raise InvalidFeedback(f"no feedback kind {kind!r}: use love, hate or skip")
    if (artist is None) == (track is None):
        raise InvalidFeedback('name exactly one item: --artist A, or --track "A - T"')
    if track is not None:
        name, title = split_track(store, track)
    else:
        name, title = str(artist).strip(), None
        if not name:
            raise InvalidFeedback("the artist's name is empty: give --artist A")
    artist_id = _artist_by_key(store, name_key(name))
    track_id = None
    if artist_id is not None and title is not None:
        row = store.conn.execute(
            "SELECT id FROM tracks WHERE artist_id = ? AND key = ?", (artist_id, name_key(title))
        ).fetchone()
        track_id = None if row is None else int(row[0])
    return name, title, artist_id, track_id


def _hint(store: Store, artist: str, artist_id: int | None) -> str:
    if artist_id is not None:
        return ""
    known = [str(r[0]) for r in store.conn.execute("SELECT name FROM artists")]
    return did_you_mean(artist, known, cutoff=0.75).removeprefix("; ")


def add_feedback(
    store: Store,
    listener: str,
    kind: str,
    *,
    artist: str | None = None,
    track: str | None = None,
    at: int | None = None,
    source: str = BY_HAND,
) -> FeedbackChange:
    """Record a love, hate or skip of an artist or a track ("Artist - Title") for a listener in
    the store, at `at` (Unix seconds; now by default). Something not in the store is kept as
    pending and applied once it arrives."""
    listener_id = resolve_listener(store, listener)
    name, title, artist_id, track_id = _item(store, kind, artist, track)
    when = int(time.time()) if at is None else int(at)
    pending = artist_id is None or (title is not None and track_id is None)
    with store.transaction() as conn:
        added = conn.execute(
            "INSERT OR IGNORE INTO feedback (listener_id, kind, artist_id, track_id, artist_name,"
            " track_title, at, source, dedupe) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                listener_id,
                kind,
                None if pending else artist_id,
                None if pending else track_id,
                name,
                title,
                when,
                source,
                dedupe_key(kind, when, name, title),
            ),
        ).rowcount
    return FeedbackChange(
        listener,
        kind,
        name,
        title,
        artist_id,
        track_id,
        added,
        pending,
        _hint(store, name, artist_id),
    )


def take_back(
    store: Store, listener: str, kind: str, *, artist: str | None = None, track: str | None = None
) -> FeedbackChange:
    """Remove every `kind` row of the listener for this artist (artist-level rows) or track,
    from any source; feedback from an import comes back if the same file is imported again."""
    listener_id = resolve_listener(store, listener)
    name, title, artist_id, track_id = _item(store, kind, artist, track)
    mine = [
        r
        for r in _rows(store, "listener_id = ? AND kind = ?", [listener_id, kind])
        if _same_item(r, name, title, artist_id, track_id)
    ]
    if not mine:
        what = f"{name} - {title}" if title else name
        raise NoSuchFeedback(
            f"{listener} has no {kind} for {what} to take back: "
            f"`tastemaker feedback --listener {listener} --show` lists what is stored"
        )
    with store.transaction() as conn:
        conn.executemany("DELETE FROM feedback WHERE id = ?", [(r.id,) for r in mine])
    return FeedbackChange(listener, kind, name, title, artist_id, track_id, len(mine), False)


def _same_item(
    row: FeedbackRow, name: str, title: str | None, artist_id: int | None, track_id: int | None
) -> bool:
    if title is None:
        if row.names_track:
            return False
        if artist_id is not None and row.artist_id is not None:
            return row.artist_id == artist_id
        return bool(row.artist) and name_key(str(row.artist)) == name_key(name)
    if track_id is not None and row.track_id is not None:
        return row.track_id == track_id
    return (
        bool(row.artist and row.title)
        and name_key(str(row.artist)) == name_key(name)
        and name_key(str(row.title)) == name_key(title)
    )


@dataclass(frozen=True)
class SkipTally:
    """How often the listener skipped one track (or an artist, by hand)."""

    artist: str | None
    title: str | None
    artist_id: int | None
    track_id: int | None
    skips: int
    last_at: int | None

    def to_dict(self) -> dict[str, Any]:
        return {**self.__dict__, "last_at": iso(self.last_at)}


@dataclass(frozen=True)
class FeedbackReport:
    """What `feedback --show` prints: every love and hate (and whether it is in force), the
    skips per track, and how many rows wait for their item to arrive."""

    listener: str
    opinions: tuple[tuple[FeedbackRow, bool], ...]  # (row, in force), oldest first
    skips: tuple[SkipTally, ...]  # most skipped first
    learn_from_skips: bool
    pending: int

    def as_dict(self) -> dict[str, Any]:
        return {
            "listener": self.listener,
            "learn_from_skips": self.learn_from_skips,
            "loves": [{**r.to_dict(), "in_force": f} for r, f in self.opinions if r.kind == LOVE],
            "hates": [{**r.to_dict(), "in_force": f} for r, f in self.opinions if r.kind == HATE],
            "skips": [s.to_dict() for s in self.skips],
            "pending": self.pending,
        }


def feedback_report(store: Store, listener: str) -> FeedbackReport:
    """Every piece of feedback the store holds for `listener` (any source, ignored or not)."""
    listener_id = resolve_listener(store, listener)
    rows = _rows(store, "listener_id = ?", [listener_id])
    artists, tracks = _in_force(rows)
    in_force = {o.feedback_id for o in (*artists.values(), *tracks.values())}
    skips: dict[tuple[Any, ...], list[FeedbackRow]] = defaultdict(list)
    for row in rows:
        if row.kind == SKIP:
            key = (
                (row.artist_id, row.track_id)
                if not row.pending
                else (name_key(row.artist or ""), name_key(row.title or ""))
            )
            skips[key].append(row)
    tallies = [
        SkipTally(
            artist=group[0].artist,
            title=group[0].title,
            artist_id=group[0].artist_id,
            track_id=group[0].track_id,
            skips=len(group),
            last_at=max((r.at for r in group if r.at is not None), default=None),
        )
        for group in skips.values()
    ]
    tallies.sort(key=lambda s: (-s.skips, s.artist or "", s.title or ""))
    return FeedbackReport(
        listener=listener,
        opinions=tuple((r, r.id in in_force) for r in rows if r.kind != SKIP),
        skips=tuple(tallies),
        learn_from_skips=load_terms(store, listener).learn_from_skips,
        pending=sum(1 for r in rows if r.pending),
    )


# Privacy: forget and export -----------------------------------------------------------------


def forget_feedback(
    store: Store,
    listener_id: int,
    *,
    artist_id: int | None = None,
    artist_name: str | None = None,
    since: int | None = None,
    until: int | None = None,
) -> int:
    """Delete the listener's feedback on an artist (its tracks too, pending rows by name) or
    said within [since, until) (rows without a time are in no range), or all of it when no
    selection is given; returns the rows deleted. Runs inside the caller's transaction
    (`playlists.privacy.forget`)."""
    where, args = "listener_id = ?", list[object]([listener_id])
    if artist_id is not None or artist_name is not None:
        ids = [r.id for r in _rows(store, where, args) if _about(r, artist_id, artist_name)]
        store.conn.executemany("DELETE FROM feedback WHERE id = ?", [(i,) for i in ids])
        return len(ids)
    if since is not None or until is not None:
        where += " AND at IS NOT NULL"
        if since is not None:
            where += " AND at >= ?"
            args.append(since)
        if until is not None:
            where += " AND at < ?"
            args.append(until)
    return int(store.conn.execute(f"DELETE FROM feedback WHERE {where}", args).rowcount)


def _about(row: FeedbackRow, artist_id: int | None, artist_name: str | None) -> bool:
    if artist_id is not None and row.artist_id == artist_id:
        return True
    return bool(artist_name and row.artist and name_key(row.artist) == name_key(artist_name))


def export_feedback(store: Store, listener_id: int) -> list[dict[str, Any]]:
    """The listener's feedback rows as `export-data` writes them (docs/export-format.md)."""
    return [
        {
            "kind": r.kind,
            "artist": r.artist,
            "title": r.title,
            "recording_mbid": r.recording_mbid,
            "recording_msid": r.recording_msid,
            "at": r.at,
            "at_utc": iso(r.at),
            "source": r.source,
        }
        for r in _rows(store, "listener_id = ?", [listener_id])
    ]


def feedback_counts(store: Store, listener_id: int | None = None) -> dict[str, int]:
    """Rows per kind, over the whole store (`stats`) or one listener (the curator page)."""
    counts = dict.fromkeys(KINDS, 0)
    where, args = ("", []) if listener_id is None else (" WHERE listener_id = ?", [listener_id])
    for kind, n in store.conn.execute(
        f"SELECT kind, count(*) FROM feedback{where} GROUP BY kind", args
    ):
        counts[str(kind)] = int(n)
    return counts
