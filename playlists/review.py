"""Curator verdicts: recorded with time and curator, and what they change in later playlists.

A verdict is about one *subject* of a stored playlist:

- ``playlist``: the playlist as a whole (marks it reviewed; no effect on later playlists);
- ``track``: the track at one position. A rejected track is never offered to that listener
  again (an artist-level entry, as in HetRec, blocks the artist for that listener);
- ``reason``: the reason of the track at one position, that is its "A explains B" links: each
  `because_of` artist -> the discovered artist, and each step of an unexpected pick's bridge.
  A rejected link is never used to explain or justify anything again, for any listener. A
  verdict may name just one link (`link_from`): the link whose explaining artist it is.
  Co-listening is symmetric, so a rejected link is blocked in both directions.

``flag`` asks for a second look: the item is listed by `review_queue` until a later verdict
on the same subject replaces it. For every subject the newest verdict wins, so a curator can
take a rejection back by approving the same subject later.

`blocked_for(store, listener)` is the hook the playlist build reads before choosing
candidates.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from recommender.errors import NoReasonLink, ReviewError, UnknownPlaylistId, UnknownPosition
from recommender.names import name_key
from recommender.store import Store, utc_now

APPROVE, REJECT, FLAG = "approve", "reject", "flag"
VERDICTS = (APPROVE, REJECT, FLAG)
PLAYLIST, TRACK, REASON = "playlist", "track", "reason"
SUBJECTS = (PLAYLIST, TRACK, REASON)


@dataclass(frozen=True)
class Link:
    """ "`explainer` explains `explained`": one step of a reason, as artist ids and names."""

    explainer_id: int
    explainer: str
    explained_id: int
    explained: str

    @property
    def pair(self) -> tuple[int, int]:
        """The undirected pair, smaller id first (how a blocked link is looked up)."""
        return link_pair(self.explainer_id, self.explained_id)


def link_pair(a: int, b: int) -> tuple[int, int]:
    return (a, b) if a <= b else (b, a)


def reason_links(evidence: dict[str, Any]) -> list[Link]:
    """The "A explains B" links a stored reason relies on (empty for familiar and popular)."""
    links: list[Link] = []
    artist, artist_id = str(evidence.get("artist", "")), evidence.get("artist_id")
    for because in evidence.get("because_of") or []:
        if artist_id is not None:
            links.append(
                Link(int(because["artist_id"]), str(because["artist"]), int(artist_id), artist)
            )
    bridge = evidence.get("bridge") or []
    for a, b in zip(bridge, bridge[1:], strict=False):
        links.append(Link(int(a["artist_id"]), str(a["artist"]), int(b["artist_id"]), b["artist"]))
    return links


@dataclass(frozen=True)
class Verdict:
    id: int
    playlist_id: str
    position: int | None
    subject: str
    verdict: str
    note: str | None
    curator: str | None
    created_at: str
    link_from: int | None = None
    link_to: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass(frozen=True)
class Blocks:
    """What verdicts forbid for one listener: tracks and artists, and links for everyone."""

    tracks: frozenset[int] = frozenset()
    artists: frozenset[int] = frozenset()
    links: frozenset[tuple[int, int]] = frozenset()

    def blocks_entry(self, artist_id: int, track_id: int | None) -> bool:
        """True when this track (or artist-level entry) was rejected for the listener."""
        if track_id is not None and track_id in self.tracks:
            return True
        return artist_id in self.artists

    def blocks_link(self, a: int, b: int) -> bool:
        return link_pair(a, b) in self.links

    def blocks_path(self, path: Sequence[int]) -> bool:
        return any(self.blocks_link(a, b) for a, b in zip(path, path[1:], strict=False))

    def __bool__(self) -> bool:
        return bool(self.tracks or self.artists or self.links)


# Recording ---------------------------------------------------------------------------------


def record_verdict(
    store: Store,
    playlist_id: str,
    verdict: str,
    *,
    position: int | None = None,
    on_reason: bool = False,
    link_from: str | None = None,
    note: str | None = None,
    curator: str | None = None,
    now: str | None = None,
) -> Verdict:
    """Store a verdict on a playlist, one of its tracks, or that track's reason (or one link).

    `link_from` names the explaining artist of one link in the track's reason and implies
    `on_reason`. Raises a ReviewError subclass, with what to do next, for anything that does
    not exist.
    """
    if verdict not in VERDICTS:
        raise ReviewError(f"verdict must be one of {', '.join(VERDICTS)}, got {verdict!r}")
    _playlist_row(store, playlist_id)
    on_reason = on_reason or link_from is not None
    if on_reason and position is None:
        raise ReviewError("a verdict on a reason needs --track N: the position of the track")
    subject = PLAYLIST if position is None else (REASON if on_reason else TRACK)
    chosen: Link | None = None
    if position is not None:
        evidence = _track_evidence(store, playlist_id, position)
        links = reason_links(evidence)
        if on_reason and not links:
            raise NoReasonLink(
                f"the reason of track {position} quotes the listener's own plays or popularity, "
                "not an 'A explains B' link; judge the track instead (drop --reason/--link)"
            )
        if link_from is not None:
            chosen = _pick_link(links, link_from, position)
    created_at = now or utc_now()
    with store.transaction() as conn:
        cursor = conn.execute(
            "INSERT INTO verdicts (playlist_id, position, verdict, note, curator, created_at,"
            " subject, link_from, link_to) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                playlist_id,
                position,
                verdict,
                note,
                curator,
                created_at,
                subject,
                None if chosen is None else chosen.explainer_id,
                None if chosen is None else chosen.explained_id,
            ),
        )
        verdict_id = int(cursor.lastrowid or 0)
    return Verdict(
        id=verdict_id,
        playlist_id=playlist_id,
        position=position,
        subject=subject,
        verdict=verdict,
        note=note,
        curator=curator,
        created_at=created_at,
        link_from=None if chosen is None else chosen.explainer_id,
        link_to=None if chosen is None else chosen.explained_id,
    )


def _pick_link(links: list[Link], link_from: str, position: int) -> Link:
    wanted = name_key(link_from)
    for link in links:
        if name_key(link.explainer) == wanted:
            return link
    offered = ", ".join(sorted({link.explainer for link in links}))
    raise NoReasonLink(
        f"no link from {link_from!r} in the reason of track {position}; links start from: {offered}"
    )


def _playlist_row(store: Store, playlist_id: str) -> tuple[Any, ...]:
    row = store.conn.execute(
        "SELECT id, listener_id, listener_name FROM playlists WHERE id = ?", (playlist_id,)
    ).fetchone()
    if row is None:
        raise UnknownPlaylistId(
            f"no playlist with id {playlist_id!r}; `tastemaker review --queue` lists the "
            "playlists waiting for review"
        )
    return tuple(row)


def _track_evidence(store: Store, playlist_id: str, position: int) -> dict[str, Any]:
    row = store.conn.execute(
        "SELECT reason FROM playlist_tracks WHERE playlist_id = ? AND position = ?",
        (playlist_id, position),
    ).fetchone()
    if row is None:
        count = store.conn.execute(
            "SELECT count(*) FROM playlist_tracks WHERE playlist_id = ?", (playlist_id,)
        ).fetchone()[0]
        raise UnknownPosition(
            f"playlist {playlist_id} has no track {position}; positions run from 1 to {count}"
        )
    evidence = json.loads(row[0]).get("evidence") or {}
    return dict(evidence)


# Reading -----------------------------------------------------------------------------------

_VERDICT_COLUMNS = (
    "id, playlist_id, position, subject, verdict, note, curator, created_at, link_from, link_to"
)


def verdicts_for(store: Store, playlist_id: str) -> list[Verdict]:
    """Every verdict on a playlist, oldest first (the newest per subject is the one in force)."""
    rows = store.conn.execute(
        f"SELECT {_VERDICT_COLUMNS} FROM verdicts WHERE playlist_id = ? ORDER BY created_at, id",
        (playlist_id,),
    )
    return [Verdict(*row) for row in rows]


def _current(verdicts: Iterable[Verdict]) -> dict[tuple[Any, ...], Verdict]:
    """The verdict in force per subject: the newest one."""
    newest: dict[tuple[Any, ...], Verdict] = {}
    for v in sorted(verdicts, key=lambda v: (v.created_at, v.id)):
        newest[(v.playlist_id, v.position, v.subject, v.link_from, v.link_to)] = v
    return newest


def _all_current(store: Store) -> list[Verdict]:
    rows = store.conn.execute(f"SELECT {_VERDICT_COLUMNS} FROM verdicts")
    return list(_current(Verdict(*row) for row in rows).values())


def blocked_for(store: Store, listener: str | None) -> Blocks:
    """What later playlists for `listener` must leave out (links: for every listener)."""
    current = [v for v in _all_current(store) if v.verdict == REJECT and v.position is not None]
    if not current:
        return Blocks()
    entries = {
        (pid, pos): (listener_name, artist_id, track_id, reason)
        for pid, pos, listener_name, artist_id, track_id, reason in store.conn.execute(
            "SELECT pt.playlist_id, pt.position, p.listener_name, pt.artist_id, pt.track_id,"
            " pt.reason FROM playlist_tracks pt JOIN playlists p ON p.id = pt.playlist_id"
            " WHERE pt.playlist_id IN (SELECT DISTINCT playlist_id FROM verdicts"
            " WHERE verdict = 'reject')"
        )
    }
    tracks: set[int] = set()
    artists: set[int] = set()
    links: set[tuple[int, int]] = set()
    for v in current:
        entry = entries.get((v.playlist_id, v.position))
        if entry is None:
            continue
        listener_name, artist_id, track_id, reason = entry
        if v.subject == TRACK:
            if listener is None or listener_name != listener:
                continue
            if track_id is None:
                artists.add(int(artist_id))
            else:
                tracks.add(int(track_id))
        elif v.subject == REASON:
            if v.link_from is not None and v.link_to is not None:
                links.add(link_pair(v.link_from, v.link_to))
            else:
                evidence = json.loads(reason).get("evidence") or {}
                links.update(link.pair for link in reason_links(evidence))
    return Blocks(frozenset(tracks), frozenset(artists), frozenset(links))


def describe(verdict: Verdict, names: dict[int, str]) -> str:
    """One line for a terminal: what was judged, how, by whom, when, and why."""
    what = "the playlist" if verdict.position is None else f"track {verdict.position}"
    if verdict.subject == REASON:
        what += "'s reason"
        if verdict.link_from is not None and verdict.link_to is not None:
            what += (
                f" (link {names.get(verdict.link_from, verdict.link_from)} -> "
                f"{names.get(verdict.link_to, verdict.link_to)})"
            )
    note = f": {verdict.note}" if verdict.note else ""
    who = verdict.curator or "unnamed curator"
    return f"{verdict.verdict} {what} by {who} at {verdict.created_at}{note}"


# The queue ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Waiting:
    """A playlist not yet reviewed: no verdict on the whole and some tracks still unjudged."""

    playlist_id: str
    listener: str
    created_at: str
    tracks: int
    judged: int


@dataclass(frozen=True)
class Flagged:
    """A flag still in force, with what it points at."""

    playlist_id: str
    listener: str
    position: int | None
    subject: str
    artist: str | None
    reason: str | None
    note: str | None
    curator: str | None
    created_at: str
    link: str | None = None


@dataclass(frozen=True)
class ReviewQueue:
    waiting: tuple[Waiting, ...]
    flagged: tuple[Flagged, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "waiting": [dict(w.__dict__) for w in self.waiting],
            "flagged": [dict(f.__dict__) for f in self.flagged],
        }


def review_queue(store: Store) -> ReviewQueue:
    """Playlists waiting for review (oldest first) and every flag still in force."""
    current = _all_current(store)
    reviewed_whole = {v.playlist_id for v in current if v.subject == PLAYLIST}
    judged: dict[str, set[int]] = {}
    for v in current:
        if v.position is not None:
            judged.setdefault(v.playlist_id, set()).add(v.position)
    waiting = []
    for pid, listener, created_at, count in store.conn.execute(
        "SELECT p.id, p.listener_name, p.created_at, count(pt.position) FROM playlists p"
        " LEFT JOIN playlist_tracks pt ON pt.playlist_id = p.id GROUP BY p.id"
        " ORDER BY p.created_at, p.id"
    ):
        done = len(judged.get(pid, set()))
        if pid in reviewed_whole or (count and done >= count):
            continue
        waiting.append(Waiting(str(pid), str(listener), str(created_at), int(count), done))
    names = dict(store.conn.execute("SELECT id, name FROM artists").fetchall())
    flagged = []
    for v in sorted((v for v in current if v.verdict == FLAG), key=lambda v: (v.created_at, v.id)):
        listener = store.conn.execute(
            "SELECT listener_name FROM playlists WHERE id = ?", (v.playlist_id,)
        ).fetchone()[0]
        artist = text = None
        if v.position is not None:
            row = store.conn.execute(
                "SELECT a.name, pt.reason FROM playlist_tracks pt JOIN artists a"
                " ON a.id = pt.artist_id WHERE pt.playlist_id = ? AND pt.position = ?",
                (v.playlist_id, v.position),
            ).fetchone()
            if row is not None:
                artist, text = str(row[0]), str(json.loads(row[1]).get("text", ""))
        link = None
        if v.link_from is not None and v.link_to is not None:
            link = f"{names.get(v.link_from, v.link_from)} -> {names.get(v.link_to, v.link_to)}"
        flagged.append(
            Flagged(
                playlist_id=v.playlist_id,
                listener=str(listener),
                position=v.position,
                subject=v.subject,
                artist=artist,
                reason=text,
                note=v.note,
                curator=v.curator,
                created_at=v.created_at,
                link=link,
            )
        )
    return ReviewQueue(tuple(waiting), tuple(flagged))
