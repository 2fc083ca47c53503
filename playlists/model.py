"""The playlist's plain data: frozen records shared by every stage, the store and the exports.

`Reason.evidence` holds the numbers that chose a track (documented in `playlists.reasons`);
`Reason.text` is only those numbers rendered as a sentence. `PlaylistTrack.locations` says
where the track can be played (`recommender.library.Locations`): filled in when a playlist is
built or loaded, it is not part of the track's record (`PlaylistTrack.to_dict`), and the
playlist's JSON carries it beside the record.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any

from recommender.library import NOWHERE, Locations


class Kind(StrEnum):
    """The built-in candidate kinds. Members are the strings stored in `playlist_tracks.kind`;
    a kind added by a new stage is any other such string (see the README's developer guide)."""

    FAMILIAR = "familiar"
    DISCOVERY = "discovery"
    UNEXPECTED = "unexpected"


FAMILIAR = Kind.FAMILIAR
DISCOVERY = Kind.DISCOVERY
UNEXPECTED = Kind.UNEXPECTED
KINDS = tuple(Kind)


@dataclass(frozen=True)
class Reason:
    """Why one track is on the playlist: its kind, the evidence, and the sentence built from it."""

    kind: str
    text: str
    evidence: Mapping[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "text": self.text, "evidence": dict(self.evidence)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Reason:
        return cls(
            kind=str(data["kind"]), text=str(data["text"]), evidence=dict(data.get("evidence", {}))
        )


@dataclass(frozen=True)
class PlaylistTrack:
    """One entry. Artist-level data (HetRec) has no track: `track_id` and `title` are None."""

    position: int
    artist_id: int
    artist: str
    track_id: int | None
    title: str | None
    duration_ms: int | None
    kind: str
    reason: Reason
    locations: Locations = NOWHERE

    def to_dict(self) -> dict[str, Any]:
        """The track and its reason, as stored (without `locations`)."""
        return {
            "position": self.position,
            "artist": self.artist,
            "artist_id": self.artist_id,
            "title": self.title,
            "track_id": self.track_id,
            "duration_ms": self.duration_ms,
            "kind": self.kind,
            "reason": self.reason.to_dict(),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> PlaylistTrack:
        return cls(
            position=int(data["position"]),
            artist_id=int(data["artist_id"]),
            artist=str(data["artist"]),
            track_id=None if data.get("track_id") is None else int(data["track_id"]),
            title=data.get("title"),
            duration_ms=None if data.get("duration_ms") is None else int(data["duration_ms"]),
            kind=str(data["kind"]),
            reason=Reason.from_dict(data["reason"]),
            locations=Locations.from_dict(data.get("locations") or {}),
        )


def track_ids(entries: Iterable[PlaylistTrack | Candidate]) -> list[int]:
    """The track ids of these entries (artist-level entries have none)."""
    return [e.track_id for e in entries if e.track_id is not None]


def with_locations(
    tracks: Iterable[PlaylistTrack], located: Mapping[int, Locations]
) -> tuple[PlaylistTrack, ...]:
    """The tracks, each with where it can be played (`located` by track id; an artist-level
    entry, or a track not found there, keeps no location)."""
    return tuple(
        t if t.track_id is None else replace(t, locations=located.get(t.track_id, NOWHERE))
        for t in tracks
    )


@dataclass(frozen=True)
class Playlist:
    """A built (or stored) playlist with everything needed to explain it again."""

    id: str
    listener: str
    created_at: str
    params: Mapping[str, Any]
    model_id: str | None
    personalised: bool
    terms: Mapping[str, Any]
    notes: tuple[str, ...]
    tracks: tuple[PlaylistTrack, ...]

    def count(self, kind: str) -> int:
        return sum(1 for t in self.tracks if t.kind == kind)

    def to_dict(self) -> dict[str, Any]:
        """The JSON contract: id, listener, tracks[position, artist, title, kind, reason{text}],
        and each track's `locations` (where it can be played, what identifies it)."""
        return {
            "id": self.id,
            "listener": self.listener,
            "created_at": self.created_at,
            "personalised": self.personalised,
            "model_id": self.model_id,
            "params": dict(self.params),
            "terms": dict(self.terms),
            "notes": list(self.notes),
            "tracks": [
                {**t.to_dict(), "locations": t.locations.to_dict(), "playable": t.locations.kinds}
                for t in self.tracks
            ],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Playlist:
        return cls(
            id=str(data["id"]),
            listener=str(data["listener"]),
            created_at=str(data.get("created_at", "")),
            params=dict(data.get("params", {})),
            model_id=data.get("model_id"),
            personalised=bool(data.get("personalised", True)),
            terms=dict(data.get("terms", {})),
            notes=tuple(data.get("notes", ())),
            tracks=tuple(PlaylistTrack.from_dict(t) for t in data["tracks"]),
        )


@dataclass(frozen=True)
class Candidate:
    """A track proposed by a candidate stage, with the reason built from the numbers that chose it.

    Candidates come in preference order; `score` is the number the stage ranked them by.
    """

    artist_id: int
    artist: str
    track_id: int | None
    title: str | None
    duration_ms: int | None
    kind: str
    reason: Reason
    score: float = 0.0

    @property
    def key(self) -> tuple[int, int | None]:
        """What makes two entries the same track (an artist-level entry is the artist)."""
        return (self.artist_id, self.track_id)

    def at(self, position: int) -> PlaylistTrack:
        return PlaylistTrack(
            position=position,
            artist_id=self.artist_id,
            artist=self.artist,
            track_id=self.track_id,
            title=self.title,
            duration_ms=self.duration_ms,
            kind=self.kind,
            reason=self.reason,
        )
