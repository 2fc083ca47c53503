"""What JSPF and XSPF share: the title, the display name, and tastemaker's own extensions.

The structured reason travels in tastemaker's track extension (`TRACK_EXTENSION`) and the
playlist's parameters, terms and notes in `PLAYLIST_EXTENSION`, so that the parsers rebuild
the exact `Playlist`. What the formats carry in their own fields (title, creator, duration,
album, track number, locations, the recording MBID) is read back from those fields; the
track extension adds only what they have no field for (ids, kind, reason, and the release and
artist MBIDs and ISRC).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from playlists.model import Playlist, PlaylistTrack, Reason
from recommender.library import Locations

TRACK_EXTENSION = "https://tastemaker.invalid/jspf/track/1"
PLAYLIST_EXTENSION = "https://tastemaker.invalid/jspf/playlist/1"
PLAYLIST_ID_PREFIX = "https://tastemaker.invalid/playlist/"
_EXTRA_IDS = ("release_mbid", "artist_mbid", "isrc")


def title_of(playlist: Playlist) -> str:
    kind = "Tastemaker" if playlist.personalised else "Tastemaker (not personalised)"
    return f"{kind} playlist for {playlist.listener}"


def display(track: PlaylistTrack) -> str:
    """ "Artist - Title", or the artist alone for an artist-level entry."""
    return f"{track.artist} - {track.title}" if track.title else track.artist


def track_extension(t: PlaylistTrack) -> dict[str, Any]:
    return {
        "position": t.position,
        "artist_id": t.artist_id,
        "track_id": t.track_id,
        "kind": t.kind,
        "reason": t.reason.to_dict(),
        "identifiers": {k: getattr(t.locations, k) for k in _EXTRA_IDS},
    }


def playlist_extension(p: Playlist) -> dict[str, Any]:
    return {
        "id": p.id,
        "listener": p.listener,
        "created_at": p.created_at,
        "personalised": p.personalised,
        "model_id": p.model_id,
        "params": dict(p.params),
        "terms": dict(p.terms),
        "notes": list(p.notes),
    }


def track_from(ext: Any, fields: Mapping[str, Any], located: Mapping[str, Any]) -> PlaylistTrack:
    """A track from its extension, the format's own `fields` (creator, title, duration) and
    what the format says about where it is (`located`: Locations fields)."""
    if not isinstance(ext, dict):
        raise KeyError(TRACK_EXTENSION)
    duration = fields.get("duration")
    extra = ext.get("identifiers") or {}
    return PlaylistTrack(
        position=int(ext["position"]),
        artist_id=int(ext["artist_id"]),
        artist=str(fields["creator"]),
        track_id=None if ext.get("track_id") is None else int(ext["track_id"]),
        title=fields.get("title"),
        duration_ms=None if duration is None else int(duration),
        kind=str(ext["kind"]),
        reason=Reason.from_dict(ext["reason"]),
        locations=Locations.from_dict(
            {**located, **{k: extra[k] for k in _EXTRA_IDS if extra.get(k) is not None}}
        ),
    )


def playlist_from(meta: Mapping[str, Any], tracks: list[PlaylistTrack]) -> Playlist:
    return Playlist(
        id=str(meta["id"]),
        listener=str(meta["listener"]),
        created_at=str(meta["created_at"]),
        params=dict(meta["params"]),
        model_id=meta.get("model_id"),
        personalised=bool(meta["personalised"]),
        terms=dict(meta["terms"]),
        notes=tuple(meta["notes"]),
        tracks=tuple(tracks),
    )
