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
candidates. The verdicts themselves are stored and read by `playlists.storage`; this module
holds the rules: what may be judged, which verdict is in force, and what it blocks.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from playlists import storage
from playlists.errors import NoReasonLink, ReviewError
from playlists.model import Playlist
from playlists.storage import Judgement, Subject, Verdict
from recommender.names import name_key
from recommender.store import Store, utc_now


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


def reason_links(evidence: Mapping[str, Any]) -> list[Link]:
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
    try:
        judgement = Judgement(verdict)
    except ValueError:
        choices = ", ".join(Judgement)
        raise ReviewError(f"verdict must be one of {choices}, got {verdict!r}") from None
    storage.playlist_summary(store, playlist_id)  # raises UnknownPlaylist, with a hint
    on_reason = on_reason or link_from is not None
    if on_reason and position is None:
        raise ReviewError("a verdict on a reason needs --track N: the position of the track")
    if position is None:
        subject = Subject.PLAYLIST
    else:
        subject = Subject.REASON if on_reason else Subject.TRACK
    chosen: Link | None = None
    if position is not None:
        links = reason_links(storage.track_evidence(store, playlist_id, position))
        if on_reason and not links:
            raise NoReasonLink(
                f"the reason of track {position} quotes the listener's own plays or popularity, "
                "not an 'A explains B' link; judge the track instead (drop --reason/--link)"
            )
        if link_from is not None:
            chosen = _pick_link(links, link_from, position)
    return storage.add_verdict(
        store,
        playlist_id,
        position=position,
        subject=subject,
        verdict=judgement,
        note=note,
        curator=curator,
        created_at=now or utc_now(),
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


# What is in force -------------------------------------------------------------------------


def _current(verdicts: Iterable[Verdict]) -> dict[tuple[Any, ...], Verdict]:
    """The verdict in force per subject: the newest one."""
    newest: dict[tuple[Any, ...], Verdict] = {}
    for v in sorted(verdicts, key=lambda v: (v.created_at, v.id)):
        newest[(v.playlist_id, v.position, v.subject, v.link_from, v.link_to)] = v
    return newest


def _all_current(store: Store) -> list[Verdict]:
    return list(_current(storage.all_verdicts(store)).values())


def in_force(verdicts: Iterable[Verdict]) -> list[Verdict]:
    """The verdicts in force among `verdicts`: the newest per subject, oldest first."""
    return sorted(_current(verdicts).values(), key=lambda v: (v.created_at, v.id))


def blocked_for(store: Store, listener: str | None) -> Blocks:
    """What later playlists for `listener` must leave out (links: for every listener)."""
    current = [
        v for v in _all_current(store) if v.verdict == Judgement.REJECT and v.position is not None
    ]
    if not current:
        return Blocks()
    entries = storage.stored_entries(
        store, [(v.playlist_id, v.position) for v in current if v.position is not None]
    )
    tracks: set[int] = set()
    artists: set[int] = set()
    links: set[tuple[int, int]] = set()
    for v in current:
        entry = None if v.position is None else entries.get((v.playlist_id, v.position))
        if entry is None:
            continue
        if v.subject == Subject.TRACK:
            if listener is None or entry.listener != listener:
                continue
            if entry.track_id is None:
                artists.add(entry.artist_id)
            else:
                tracks.add(entry.track_id)
        elif v.subject == Subject.REASON:
            if v.link_from is not None and v.link_to is not None:
                links.add(link_pair(v.link_from, v.link_to))
            else:
                links.update(link.pair for link in reason_links(entry.reason.evidence))
    return Blocks(frozenset(tracks), frozenset(artists), frozenset(links))


def describe(verdict: Verdict, names: dict[int, str]) -> str:
    """One line for a terminal: what was judged, how, by whom, when, and why."""
    what = "the playlist" if verdict.position is None else f"track {verdict.position}"
    if verdict.subject == Subject.REASON:
        what += "'s reason"
        if verdict.link_from is not None and verdict.link_to is not None:
            what += (
                f" (link {names.get(verdict.link_from, verdict.link_from)} -> "
                f"{names.get(verdict.link_to, verdict.link_to)})"
            )
    note = f": {verdict.note}" if verdict.note else ""
    who = verdict.curator or "unnamed curator"
    return f"{verdict.verdict} {what} by {who} at {verdict.created_at}{note}"


@dataclass(frozen=True)
class Explanation:
    """A stored playlist shown again (`tastemaker explain`): its tracks and its verdicts."""

    playlist: Playlist
    verdicts: tuple[Verdict, ...]

    def to_dict(self) -> dict[str, Any]:
        return {**self.playlist.to_dict(), "verdicts": [v.to_dict() for v in self.verdicts]}

    def verdict_lines(self) -> list[str]:
        """One `describe` line per verdict, oldest first, naming artists as the reasons do."""
        names = {t.artist_id: t.artist for t in self.playlist.tracks}
        for track in self.playlist.tracks:
            for link in reason_links(track.reason.evidence):
                names.setdefault(link.explainer_id, link.explainer)
        return [describe(v, names) for v in self.verdicts]


def explain(store: Store, playlist_id: str) -> Explanation:
    """The stored playlist `playlist_id` with every verdict on it (raises UnknownPlaylist)."""
    playlist = storage.explain_playlist(store, playlist_id)
    return Explanation(playlist, tuple(storage.verdicts_for(store, playlist_id)))


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

    def filtered(
        self,
        *,
        listener: str | None = None,
        subject: str | None = None,
        since: str | None = None,
        until: str | None = None,
    ) -> ReviewQueue:
        """Only the items for `listener`, flags about `subject` (playlist, track or reason),
        made on or after `since` and on or before `until` (dates, YYYY-MM-DD, UTC).

        A subject filter keeps only flags: a waiting playlist is not a flag of any kind.
        """
        if subject is not None and subject not in set(Subject):
            choices = ", ".join(Subject)
            raise ReviewError(f"a flag is about one of {choices}, got {subject!r}")
        first, last = _day(since, "since"), _day(until, "until")

        def keep(item: Waiting | Flagged) -> bool:
            day = item.created_at[:10]
            return (
                (listener is None or item.listener == listener)
                and (first is None or day >= first)
                and (last is None or day <= last)
            )

        waiting = () if subject is not None else tuple(w for w in self.waiting if keep(w))
        flagged = tuple(
            f for f in self.flagged if keep(f) and (subject is None or f.subject == subject)
        )
        return ReviewQueue(waiting, flagged)


def _day(value: str | None, name: str) -> str | None:
    """A YYYY-MM-DD date as given, or None; ReviewError for anything else."""
    if value is None:
        return None
    try:
        return date.fromisoformat(value).isoformat()
    except ValueError:
        raise ReviewError(f"{name} must be a date like 2026-01-31, got {value!r}") from None


def review_queue(store: Store) -> ReviewQueue:
    """Playlists waiting for review (oldest first) and every flag still in force."""
    current = _all_current(store)
    reviewed_whole = {v.playlist_id for v in current if v.subject == Subject.PLAYLIST}
    judged: dict[str, set[int]] = {}
    for v in current:
        if v.position is not None:
            judged.setdefault(v.playlist_id, set()).add(v.position)
    playlists = storage.list_playlists(store)
    waiting = []
    for p in playlists:
        done = len(judged.get(p.id, set()))
        if p.id in reviewed_whole or (p.tracks and done >= p.tracks):
            continue
        waiting.append(Waiting(p.id, p.listener, p.created_at, p.tracks, done))
    flags = sorted(
        (v for v in current if v.verdict == Judgement.FLAG), key=lambda v: (v.created_at, v.id)
    )
    if not flags:
        return ReviewQueue(tuple(waiting), ())
    listeners = {p.id: p.listener for p in playlists}
    entries = storage.stored_entries(
        store, [(v.playlist_id, v.position) for v in flags if v.position is not None]
    )
    names = dict(store.conn.execute("SELECT id, name FROM artists").fetchall())
    flagged = []
    for v in flags:
        entry = None if v.position is None else entries.get((v.playlist_id, v.position))
        link = None
        if v.link_from is not None and v.link_to is not None:
            link = f"{names.get(v.link_from, v.link_from)} -> {names.get(v.link_to, v.link_to)}"
        flagged.append(
            Flagged(
                playlist_id=v.playlist_id,
                listener=listeners[v.playlist_id],
                position=v.position,
                subject=str(v.subject),
                artist=None if entry is None else entry.artist,
                reason=None if entry is None else entry.reason.text,
                note=v.note,
                curator=v.curator,
                created_at=v.created_at,
                link=link,
            )
        )
    return ReviewQueue(tuple(waiting), tuple(flagged))
