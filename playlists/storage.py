"""Playlists and curators' verdicts in the store: the one module that reads and writes them.

Three tables (created by the store's schema migrations):

- `playlists`: id, listener (`listener_id`, NULL for a listener not in the store, and
  `listener_name`), `created_at`, `params` JSON (which also records `personalised`),
  `model_id`, `terms` JSON (the terms in force and their effects) and `notes` JSON;
- `playlist_tracks`: one row per position with artist, track (NULL for an artist-level
  entry), kind and the reason JSON (`{"kind", "text", "evidence"}`, see `playlists.reasons`);
- `verdicts`: one row per verdict, never updated (the newest per subject is in force, see
  `playlists.review`): playlist, position (NULL for the whole playlist), subject, verdict,
  note, curator, time, and the one reason link judged (`link_from`, `link_to`: artist ids).

Every other module calls the functions below; `tests/test_table_owner.py` fails when another
module names these tables in SQL. Values cross this boundary as the playlist records
(`playlists.model`), `Verdict`, `PlaylistSummary` and `StoredEntry`; raw rows never leave.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Iterable, Iterator, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from playlists.errors import UnknownPlaylist, UnknownPosition
from playlists.model import Playlist, PlaylistTrack, Reason, track_ids, with_locations
from recommender.library import locate_tracks
from recommender.store import Store

# Enough ids per `IN (...)` to keep the statement well under SQLite's variable limit.
_CHUNK = 500
_RECENT = 5


class Judgement(StrEnum):
    """What a curator decided; stored as the plain string."""

    APPROVE = "approve"
    REJECT = "reject"
    FLAG = "flag"


class Subject(StrEnum):
    """What a verdict is about: the whole playlist, one track, or that track's reason."""

    PLAYLIST = "playlist"
    TRACK = "track"
    REASON = "reason"


@dataclass(frozen=True)
class Verdict:
    """One stored verdict (`link_from`/`link_to`: the one reason link judged, artist ids)."""

    id: int
    playlist_id: str
    position: int | None
    subject: Subject
    verdict: Judgement
    note: str | None
    curator: str | None
    created_at: str
    link_from: int | None = None
    link_to: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return {**self.__dict__, "subject": str(self.subject), "verdict": str(self.verdict)}


@dataclass(frozen=True)
class PlaylistSummary:
    """A stored playlist's head: who it is for, when it was made, how many tracks it has."""

    id: str
    listener: str
    listener_id: int | None
    created_at: str
    tracks: int


@dataclass(frozen=True)
class StoredEntry:
    """One stored track of a playlist, with the listener it was made for."""

    playlist_id: str
    listener: str
    position: int
    artist_id: int
    artist: str
    track_id: int | None
    reason: Reason


# Playlists ---------------------------------------------------------------------------------


def save_playlist(store: Store, playlist: Playlist) -> None:
    """Store `playlist` and all its tracks in one transaction."""
    params = {**dict(playlist.params), "personalised": playlist.personalised}
    with store.transaction():
        store.insert(
            "playlists",
            [
                {
                    "id": playlist.id,
                    "listener_id": store.listener_id(playlist.listener),
                    "listener_name": playlist.listener,
                    "created_at": playlist.created_at,
                    "params": json.dumps(params),
                    "model_id": playlist.model_id,
                    "terms": json.dumps(dict(playlist.terms)),
                    "notes": json.dumps(list(playlist.notes)),
                }
            ],
        )
        store.insert(
            "playlist_tracks",
            (
                {
                    "playlist_id": playlist.id,
                    "position": t.position,
                    "artist_id": t.artist_id,
                    "track_id": t.track_id,
                    "kind": t.kind,
                    "reason": json.dumps(t.reason.to_dict()),
                }
                for t in playlist.tracks
            ),
        )


def load_playlist(store: Store, playlist_id: str) -> Playlist:
    """The stored playlist `playlist_id`, exactly as it was built."""
    row = _head(store, playlist_id)
    params: dict[str, Any] = json.loads(row["params"])
    tracks = tuple(
        PlaylistTrack(
            position=int(r["position"]),
            artist_id=int(r["artist_id"]),
            artist=str(r["artist"]),
            track_id=_int_or_none(r["track_id"]),
            title=r["title"],
            duration_ms=_int_or_none(r["duration_ms"]),
            kind=str(r["kind"]),
            reason=Reason.from_dict(json.loads(r["reason"])),
        )
        for r in store.db.query(
            "SELECT pt.position, pt.artist_id, a.name AS artist, pt.track_id, t.title,"
            " t.duration_ms, pt.kind, pt.reason FROM playlist_tracks pt"
            " JOIN artists a ON a.id = pt.artist_id LEFT JOIN tracks t ON t.id = pt.track_id"
            " WHERE pt.playlist_id = ? ORDER BY pt.position",
            [playlist_id],
        )
    )
    # Where each track can be played is looked up now, not stored: files come and go.
    tracks = with_locations(tracks, locate_tracks(store, track_ids(tracks)))
    # `personalised` is stored inside params for SQL readers; in memory it is its own field.
    return Playlist(
        id=str(row["id"]),
        listener=str(row["listener_name"]),
        created_at=str(row["created_at"]),
        params=params,
        model_id=row["model_id"],
        personalised=bool(params.pop("personalised", True)),
        terms=json.loads(row["terms"]),
        notes=tuple(json.loads(row["notes"])),
        tracks=tracks,
    )


def explain_playlist(store: Store, playlist_id: str) -> Playlist:
    """The stored playlist with its reasons, to be shown again (`tastemaker explain`)."""
    return load_playlist(store, playlist_id)


def playlist_summary(store: Store, playlist_id: str) -> PlaylistSummary:
    """The head of the stored playlist `playlist_id` (raises UnknownPlaylist)."""
    row = _head(store, playlist_id)
    tracks = store.db.table("playlist_tracks").count_where("playlist_id = ?", [playlist_id])
    return _summary(row, tracks)


def list_playlists(store: Store) -> list[PlaylistSummary]:
    """Every stored playlist's head, oldest first."""
    return [
        _summary(row, int(row["tracks"]))
        for row in store.db.query(
            "SELECT p.id, p.listener_name, p.listener_id, p.created_at, count(pt.position)"
            " AS tracks FROM playlists p LEFT JOIN playlist_tracks pt ON pt.playlist_id = p.id"
            " GROUP BY p.id ORDER BY p.created_at, p.id"
        )
    ]


def _head(store: Store, playlist_id: str) -> dict[str, Any]:
    for row in store.db.table("playlists").rows_where("id = ?", [playlist_id], limit=1):
        return row
    recent = [
        str(r["id"])
        for r in store.db.table("playlists").rows_where(
            select="id", order_by="created_at DESC, id", limit=_RECENT
        )
    ]
    hint = f"; recent playlists: {', '.join(recent)}" if recent else ""
    raise UnknownPlaylist(
        f"no playlist with id {playlist_id!r}: build one with `tastemaker playlist`, or list "
        f"those waiting for review with `tastemaker review --queue`{hint}"
    )


def _summary(row: Mapping[str, Any], tracks: int) -> PlaylistSummary:
    return PlaylistSummary(
        id=str(row["id"]),
        listener=str(row["listener_name"]),
        listener_id=_int_or_none(row["listener_id"]),
        created_at=str(row["created_at"]),
        tracks=tracks,
    )


def _int_or_none(value: Any) -> int | None:
    return None if value is None else int(value)


# Tracks as stored --------------------------------------------------------------------------


def track_evidence(store: Store, playlist_id: str, position: int) -> dict[str, Any]:
    """The evidence of the stored reason at `position` (raises UnknownPosition)."""
    table = store.db.table("playlist_tracks")
    for row in table.rows_where(
        "playlist_id = ? AND position = ?", [playlist_id, position], select="reason", limit=1
    ):
        return dict(json.loads(row["reason"]).get("evidence") or {})
    count = table.count_where("playlist_id = ?", [playlist_id])
    raise UnknownPosition(
        f"playlist {playlist_id} has no track {position}; positions run from 1 to {count}"
    )


def stored_entries(
    store: Store, places: Collection[tuple[str, int]]
) -> dict[tuple[str, int], StoredEntry]:
    """The stored tracks at these (playlist id, position) places; places with none are left out."""
    wanted = set(places)
    found: dict[tuple[str, int], StoredEntry] = {}
    for chunk in _chunks(sorted({pid for pid, _ in wanted})):
        marks = ", ".join("?" for _ in chunk)
        for r in store.db.query(
            "SELECT pt.playlist_id, p.listener_name, pt.position, pt.artist_id,"
            " a.name AS artist, pt.track_id, pt.reason FROM playlist_tracks pt"
            " JOIN playlists p ON p.id = pt.playlist_id JOIN artists a ON a.id = pt.artist_id"
            f" WHERE pt.playlist_id IN ({marks})",
            chunk,
        ):
            place = (str(r["playlist_id"]), int(r["position"]))
            if place in wanted:
                found[place] = StoredEntry(
                    playlist_id=place[0],
                    listener=str(r["listener_name"]),
                    position=place[1],
                    artist_id=int(r["artist_id"]),
                    artist=str(r["artist"]),
                    track_id=_int_or_none(r["track_id"]),
                    reason=Reason.from_dict(json.loads(r["reason"])),
                )
    return found


def _chunks(values: list[Any]) -> Iterator[list[Any]]:
    for start in range(0, len(values), _CHUNK):
        yield values[start : start + _CHUNK]


@dataclass(frozen=True)
class Offer:
    """One stored entry of a kind that offers something new (`playlists.offers` reads these)."""

    listener: str
    playlist_id: str
    created_at: str
    position: int
    artist_id: int
    track_id: int | None
    kind: str


def offers(
    store: Store,
    kinds: Collection[str],
    *,
    listener: str | None = None,
    before: str | None = None,
    recent: int | None = None,
) -> list[Offer]:
    """The stored entries of these kinds, newest playlist first: of one listener (by name, as
    playlists are filed) or of everyone, in playlists made before `before` (ISO time); with
    `recent`, only each listener's newest `recent` playlists that hold such an entry."""
    where = ["pt.kind IN (" + ", ".join("?" for _ in kinds) + ")"]
    args: list[Any] = list(kinds)
    if listener is not None:
        where.append("p.listener_name = ?")
        args.append(listener)
    if before is not None:
        where.append("p.created_at < ?")
        args.append(before)
    rows = store.query(
        "SELECT p.listener_name, p.id, p.created_at, pt.position, pt.artist_id, pt.track_id,"
        " pt.kind FROM playlist_tracks pt JOIN playlists p ON p.id = pt.playlist_id"
        f" WHERE {' AND '.join(where)} ORDER BY p.created_at DESC, p.id DESC, pt.position",
        args,
    )
    out: list[Offer] = []
    seen: dict[str, list[str]] = {}
    for r in rows:
        mine = seen.setdefault(str(r["listener_name"]), [])
        if not mine or mine[-1] != r["id"]:
            mine.append(str(r["id"]))
        if recent is not None and len(mine) > recent:
            continue
        out.append(
            Offer(
                listener=str(r["listener_name"]),
                playlist_id=str(r["id"]),
                created_at=str(r["created_at"]),
                position=int(r["position"]),
                artist_id=int(r["artist_id"]),
                track_id=_int_or_none(r["track_id"]),
                kind=str(r["kind"]),
            )
        )
    return out


# Verdicts ----------------------------------------------------------------------------------


def add_verdict(
    store: Store,
    playlist_id: str,
    *,
    position: int | None,
    subject: Subject,
    verdict: Judgement,
    note: str | None,
    curator: str | None,
    created_at: str,
    link_from: int | None = None,
    link_to: int | None = None,
) -> Verdict:
    """Store one verdict as given (`playlists.review.record_verdict` checks it first)."""
    row = {
        "playlist_id": playlist_id,
        "position": position,
        "verdict": str(verdict),
        "note": note,
        "curator": curator,
        "created_at": created_at,
        "subject": str(subject),
        "link_from": link_from,
        "link_to": link_to,
    }
    with store.transaction():
        verdict_id = int(store.db.table("verdicts").insert(row).last_rowid or 0)
    return _verdict({**row, "id": verdict_id})


def verdicts_for(store: Store, playlist_id: str) -> list[Verdict]:
    """Every verdict on a playlist, oldest first (the newest per subject is the one in force)."""
    rows = store.db.table("verdicts").rows_where(
        "playlist_id = ?", [playlist_id], order_by="created_at, id"
    )
    return [_verdict(row) for row in rows]


def all_verdicts(store: Store) -> list[Verdict]:
    """Every stored verdict, oldest first."""
    return [_verdict(r) for r in store.query("SELECT * FROM verdicts ORDER BY created_at, id")]


def _verdict(row: Mapping[str, Any]) -> Verdict:
    return Verdict(
        id=int(row["id"]),
        playlist_id=str(row["playlist_id"]),
        position=_int_or_none(row["position"]),
        subject=Subject(row["subject"]),
        verdict=Judgement(row["verdict"]),
        note=row["note"],
        curator=row["curator"],
        created_at=str(row["created_at"]),
        link_from=_int_or_none(row["link_from"]),
        link_to=_int_or_none(row["link_to"]),
    )


# A listener's playlists (privacy) ----------------------------------------------------------

# A playlist made for a listener not yet in the store has no listener_id, only the name.
_MINE = "listener_id = ? OR listener_name = ?"


def playlist_ids_of(store: Store, listener_id: int | None, listener: str) -> list[str]:
    """The ids of the listener's stored playlists (also those made before they were in the
    store, which carry only their name)."""
    rows = store.conn.execute(
        f"SELECT id FROM playlists WHERE {_MINE} ORDER BY id", (listener_id, listener)
    )
    return [str(r[0]) for r in rows]


def export_playlists(store: Store, listener_id: int | None, listener: str) -> list[dict[str, Any]]:
    """The listener's playlists with tracks, reasons and verdicts (docs/export-format.md)."""
    out = []
    heads = store.db.table("playlists").rows_where(
        _MINE, [listener_id, listener], order_by="created_at, id"
    )
    for head in list(heads):
        playlist_id = head["id"]
        tracks = [
            {
                "position": r["position"],
                "artist": r["artist"],
                "title": r["title"],
                "kind": r["kind"],
                "reason": json.loads(r["reason"]),
            }
            for r in store.db.query(
                "SELECT pt.position, a.name AS artist, t.title, pt.kind, pt.reason"
                " FROM playlist_tracks pt JOIN artists a ON a.id = pt.artist_id"
                " LEFT JOIN tracks t ON t.id = pt.track_id WHERE pt.playlist_id = ?"
                " ORDER BY pt.position",
                [playlist_id],
            )
        ]
        verdicts = store.db.query(
            "SELECT v.*, fa.name AS link_from_artist, ta.name AS link_to_artist FROM verdicts v"
            " LEFT JOIN artists fa ON fa.id = v.link_from LEFT JOIN artists ta"
            " ON ta.id = v.link_to WHERE v.playlist_id = ? ORDER BY v.id",
            [playlist_id],
        )
        out.append(
            {
                "id": playlist_id,
                "created_at": head["created_at"],
                "params": json.loads(head["params"]),
                "model_id": head["model_id"],
                "terms": json.loads(head["terms"]),
                "notes": json.loads(head["notes"]),
                "tracks": tracks,
                "verdicts": [_exported_verdict(v) for v in verdicts],
            }
        )
    return out


def _exported_verdict(row: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "position": row["position"],
        "verdict": row["verdict"],
        "note": row["note"],
        "curator": row["curator"],
        "at": row["created_at"],
        "subject": row["subject"],
        "link_from": row["link_from"],
        "link_to": row["link_to"],
        "link_from_artist": row["link_from_artist"],
        "link_to_artist": row["link_to_artist"],
    }


def delete_listener_playlists(
    store: Store, listener_id: int | None, listener: str
) -> tuple[int, int]:
    """Delete the listener's playlists and the verdicts on them: (playlists, verdicts) deleted.

    Runs inside the caller's transaction (forgetting a listener is one transaction).
    """
    conn = store.conn
    mine = f"SELECT id FROM playlists WHERE {_MINE}"
    args = (listener_id, listener)
    verdicts = conn.execute(f"DELETE FROM verdicts WHERE playlist_id IN ({mine})", args).rowcount
    conn.execute(f"DELETE FROM playlist_tracks WHERE playlist_id IN ({mine})", args)
    playlists = conn.execute(f"DELETE FROM playlists WHERE {_MINE}", args).rowcount
    return playlists, verdicts


def referenced(
    store: Store, artist_ids: Iterable[int], track_ids: Iterable[int]
) -> tuple[set[int], set[int]]:
    """Which of these artists and tracks a stored playlist still names, so they must stay.

    An artist counts when it is a playlist entry or one end of a judged reason link.
    """
    artists: set[int] = set()
    for chunk in _chunks(sorted(set(artist_ids))):
        marks = ", ".join("?" for _ in chunk)
        for (artist_id,) in store.conn.execute(
            f"SELECT artist_id FROM playlist_tracks WHERE artist_id IN ({marks})"
            f" UNION SELECT link_from FROM verdicts WHERE link_from IN ({marks})"
            f" UNION SELECT link_to FROM verdicts WHERE link_to IN ({marks})",
            chunk * 3,
        ):
            artists.add(int(artist_id))
    tracks: set[int] = set()
    for chunk in _chunks(sorted(set(track_ids))):
        marks = ", ".join("?" for _ in chunk)
        for (track_id,) in store.conn.execute(
            f"SELECT DISTINCT track_id FROM playlist_tracks WHERE track_id IN ({marks})", chunk
        ):
            tracks.add(int(track_id))
    return artists, tracks
