"""JSPF in the shape ListenBrainz accepts for import, and its parser.

ListenBrainz (`POST /1/playlist/create`, which its "import playlist" page uses) takes the title,
`public` in its playlist extension (`https://musicbrainz.org/doc/jspf#playlist`), and from
each track the first `identifier`, which must be `https://musicbrainz.org/recording/<mbid>`;
a `created_for` is refused unless the submitter is one of its approved playlist bots, so it is
written only when asked for (`created_for=`). Every track without a recording MBID makes
ListenBrainz refuse the whole playlist: `listenbrainz_problem` says so before it is uploaded.

Beyond that the file is ordinary JSPF: `location` lists the file URI and the Spotify URI
(the preferred first), `album`, `trackNum` (the track's place on that album, never the
playlist position), `duration` in ms; the reason sentence is the track's `annotation`, and
ListenBrainz's track extension names the artist and release MBIDs as it does. The structured
reason stays in tastemaker's extension (`playlists.export.records`).
"""

from __future__ import annotations

import json
from typing import Any

from playlists.errors import PlaylistFormatError
from playlists.export.locations import (
    MB_ARTIST,
    MB_RELEASE,
    located_from,
    preferred,
    uris,
)
from playlists.export.records import (
    PLAYLIST_EXTENSION,
    PLAYLIST_ID_PREFIX,
    TRACK_EXTENSION,
    playlist_extension,
    playlist_from,
    title_of,
    track_extension,
    track_from,
)
from playlists.model import Playlist

MB_PLAYLIST = "https://musicbrainz.org/doc/jspf#playlist"
MB_TRACK = "https://musicbrainz.org/doc/jspf#track"


def to_jspf_dict(playlist: Playlist, *, created_for: str | None = None) -> dict[str, Any]:
    prefer = preferred(playlist.terms.get("playable"))
    tracks = []
    for t in playlist.tracks:
        entry: dict[str, Any] = {}
        locations = uris(t, prefer)
        if locations:
            entry["location"] = locations
        recording = t.locations.recording_url
        if recording:
            entry["identifier"] = [recording]
        if t.title is not None:
            entry["title"] = t.title
        entry["creator"] = t.artist
        entry["annotation"] = t.reason.text
        if t.locations.album:
            entry["album"] = t.locations.album
        if t.locations.track_number is not None:
            entry["trackNum"] = t.locations.track_number
        if t.duration_ms is not None:
            entry["duration"] = t.duration_ms
        mb_track: dict[str, Any] = {
            "added_by": "tastemaker",
            "added_at": playlist.created_at,
            "additional_metadata": {"kind": t.kind},
        }
        if t.locations.artist_mbid:
            mb_track["artist_identifiers"] = [MB_ARTIST + t.locations.artist_mbid]
        if t.locations.release_mbid:
            mb_track["release_identifier"] = MB_RELEASE + t.locations.release_mbid
        entry["extension"] = {MB_TRACK: mb_track, TRACK_EXTENSION: track_extension(t)}
        tracks.append(entry)
    mb_playlist: dict[str, Any] = {
        "creator": "tastemaker",
        "public": False,
        "additional_metadata": {
            "algorithm_metadata": {"source_patch": "tastemaker"},
            "personalised": playlist.personalised,
        },
    }
    if created_for:
        mb_playlist["created_for"] = created_for
    return {
        "playlist": {
            "title": title_of(playlist),
            "creator": "tastemaker",
            "date": playlist.created_at,
            "annotation": "; ".join(playlist.notes),
            "identifier": PLAYLIST_ID_PREFIX + playlist.id,
            "extension": {
                MB_PLAYLIST: mb_playlist,
                PLAYLIST_EXTENSION: playlist_extension(playlist),
            },
            "track": tracks,
        }
    }


def to_jspf(playlist: Playlist, *, created_for: str | None = None) -> str:
    """The playlist as JSPF text (see the module docstring)."""
    doc = to_jspf_dict(playlist, created_for=created_for)
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"


def listenbrainz_problem(playlist: Playlist) -> str | None:
    """Why ListenBrainz would refuse this playlist's JSPF, or None when it would take it."""
    missing = [t for t in playlist.tracks if not t.locations.recording_mbid]
    if not missing:
        return None
    return (
        f"{len(missing)} of {len(playlist.tracks)} tracks have no MusicBrainz recording id, "
        "and ListenBrainz refuses a playlist unless every track has one: build it with "
        "--playable musicbrainz to import it there"
    )


def parse_jspf(text: str) -> Playlist:
    """Rebuild the structured playlist from tastemaker's JSPF: its extensions, and where each
    track is from its `location`, `identifier`, `album` and `trackNum`."""
    try:
        root = json.loads(text)["playlist"]
        meta = root["extension"][PLAYLIST_EXTENSION]
        tracks = [
            track_from(t.get("extension", {}).get(TRACK_EXTENSION), t, _located(t))
            for t in root["track"]
        ]
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise PlaylistFormatError(
            f"not a tastemaker JSPF playlist ({exc}); export one with --format jspf"
        ) from exc
    return playlist_from(meta, tracks)


def _located(track: dict[str, Any]) -> dict[str, Any]:
    identifiers = track.get("identifier") or []
    if isinstance(identifiers, str):  # ListenBrainz also takes a single string
        identifiers = [identifiers]
    return located_from(
        [str(u) for u in track.get("location") or []],
        [str(i) for i in identifiers],
        track.get("album"),
        track.get("trackNum"),
    )
