"""Playlist formats: a terminal table, JSON, JSPF, XSPF and M3U8, plus JSPF/XSPF parsers.

JSPF follows ListenBrainz's conventions: the reason sentence is each track's `annotation`,
ListenBrainz's own extensions (`https://musicbrainz.org/doc/jspf#playlist` / `#track`) say who
made it and for whom, and the structured reason travels in tastemaker's own extension
(`TRACK_EXTENSION`, with `PLAYLIST_EXTENSION` at playlist level) so that the parsers below
rebuild the exact `Playlist`. XSPF carries the same extensions as `<extension application=...>`
elements holding JSON text.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections.abc import Callable
from typing import Any

from playlists.errors import PlaylistFormatError
from playlists.model import KINDS, Playlist, PlaylistTrack, Reason

TRACK_EXTENSION = "https://tastemaker.invalid/jspf/track/1"
PLAYLIST_EXTENSION = "https://tastemaker.invalid/jspf/playlist/1"
MB_PLAYLIST = "https://musicbrainz.org/doc/jspf#playlist"
MB_TRACK = "https://musicbrainz.org/doc/jspf#track"
XSPF_NS = "http://xspf.org/ns/0/"


def title_of(playlist: Playlist) -> str:
    kind = "Tastemaker" if playlist.personalised else "Tastemaker (not personalised)"
    return f"{kind} playlist for {playlist.listener}"


# Table -------------------------------------------------------------------------------------


def to_table(playlist: Playlist, width: int = 38) -> str:
    """A readable terminal listing: position, kind, artist - title, reason; then the notes."""
    counts = ", ".join(f"{playlist.count(k)} {k}" for k in KINDS)
    label = "personalised" if playlist.personalised else "NOT personalised"
    lines = [
        f"{title_of(playlist)}  [{playlist.id}]",
        f"{len(playlist.tracks)} tracks ({counts}); {label}; model {playlist.model_id}; "
        f"surprise {playlist.params.get('surprise')}",
        "",
        f"{'#':>3}  {'kind':<10}  {'track':<{width}}  reason",
    ]
    for t in playlist.tracks:
        name = _display(t)
        if len(name) > width:
            name = name[: width - 1] + "…"
        lines.append(f"{t.position:>3}  {t.kind:<10}  {name:<{width}}  {t.reason.text}")
    if playlist.notes:
        lines.append("")
        lines.extend(f"note: {n}" for n in playlist.notes)
    return "\n".join(lines) + "\n"


def _display(track: PlaylistTrack) -> str:
    return f"{track.artist} - {track.title}" if track.title else track.artist


# JSON --------------------------------------------------------------------------------------


def to_json(playlist: Playlist) -> str:
    return json.dumps(playlist.to_dict(), indent=2, ensure_ascii=False) + "\n"


# JSPF --------------------------------------------------------------------------------------


def _track_extension(t: PlaylistTrack) -> dict[str, Any]:
    return {
        "position": t.position,
        "artist_id": t.artist_id,
        "track_id": t.track_id,
        "kind": t.kind,
        "reason": t.reason.to_dict(),
    }


def _playlist_extension(p: Playlist) -> dict[str, Any]:
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


def to_jspf_dict(playlist: Playlist) -> dict[str, Any]:
    tracks = []
    for t in playlist.tracks:
        entry: dict[str, Any] = {"creator": t.artist, "annotation": t.reason.text}
        if t.title is not None:
            entry["title"] = t.title
        if t.duration_ms is not None:
            entry["duration"] = t.duration_ms
        entry["trackNum"] = t.position
        entry["extension"] = {
            MB_TRACK: {
                "added_by": "tastemaker",
                "added_at": playlist.created_at,
                "additional_metadata": {"kind": t.kind},
            },
            TRACK_EXTENSION: _track_extension(t),
        }
        tracks.append(entry)
    return {
        "playlist": {
            "title": title_of(playlist),
            "creator": "tastemaker",
            "date": playlist.created_at,
            "annotation": "; ".join(playlist.notes),
            "identifier": f"https://tastemaker.invalid/playlist/{playlist.id}",
            "extension": {
                MB_PLAYLIST: {
                    "created_for": playlist.listener,
                    "creator": "tastemaker",
                    "public": False,
                    "additional_metadata": {
                        "algorithm_metadata": {"source_patch": "tastemaker"},
                        "personalised": playlist.personalised,
                    },
                },
                PLAYLIST_EXTENSION: _playlist_extension(playlist),
            },
            "track": tracks,
        }
    }


def to_jspf(playlist: Playlist) -> str:
    return json.dumps(to_jspf_dict(playlist), indent=2, ensure_ascii=False) + "\n"


def parse_jspf(text: str) -> Playlist:
    """Rebuild the structured playlist from tastemaker's JSPF (its extensions)."""
    try:
        root = json.loads(text)["playlist"]
        meta = root["extension"][PLAYLIST_EXTENSION]
        tracks = [
            _track_from(t.get("extension", {}).get(TRACK_EXTENSION), t) for t in root["track"]
        ]
    except (KeyError, TypeError, ValueError) as exc:
        raise PlaylistFormatError(
            f"not a tastemaker JSPF playlist ({exc}); export one with --format jspf"
        ) from exc
    return _playlist_from(meta, tracks)


def _track_from(ext: Any, fields: dict[str, Any]) -> PlaylistTrack:
    if not isinstance(ext, dict):
        raise KeyError(TRACK_EXTENSION)
    duration = fields.get("duration")
    return PlaylistTrack(
        position=int(ext["position"]),
        artist_id=int(ext["artist_id"]),
        artist=str(fields["creator"]),
        track_id=None if ext.get("track_id") is None else int(ext["track_id"]),
        title=fields.get("title"),
        duration_ms=None if duration is None else int(duration),
        kind=str(ext["kind"]),
        reason=Reason.from_dict(ext["reason"]),
    )


def _playlist_from(meta: dict[str, Any], tracks: list[PlaylistTrack]) -> Playlist:
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


# XSPF --------------------------------------------------------------------------------------


def to_xspf(playlist: Playlist) -> str:
    ET.register_namespace("", XSPF_NS)

    def el(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
        child = ET.SubElement(parent, f"{{{XSPF_NS}}}{tag}", attrs)
        if text is not None:
            child.text = text
        return child

    root = ET.Element(f"{{{XSPF_NS}}}playlist", {"version": "1"})
    el(root, "title", title_of(playlist))
    el(root, "creator", "tastemaker")
    if playlist.notes:
        el(root, "annotation", "; ".join(playlist.notes))
    el(root, "identifier", f"https://tastemaker.invalid/playlist/{playlist.id}")
    el(root, "date", playlist.created_at)
    el(
        root,
        "extension",
        json.dumps(_playlist_extension(playlist), ensure_ascii=False),
        application=PLAYLIST_EXTENSION,
    )
    track_list = el(root, "trackList")
    for t in playlist.tracks:
        track = el(track_list, "track")
        if t.title is not None:
            el(track, "title", t.title)
        el(track, "creator", t.artist)
        el(track, "annotation", t.reason.text)
        el(track, "trackNum", str(t.position))
        if t.duration_ms is not None:
            el(track, "duration", str(t.duration_ms))
        el(
            track,
            "extension",
            json.dumps(_track_extension(t), ensure_ascii=False),
            application=TRACK_EXTENSION,
        )
    ET.indent(root)
    body = ET.tostring(root, encoding="unicode")
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + body + "\n"


def parse_xspf(text: str) -> Playlist:
    """Rebuild the structured playlist from tastemaker's XSPF (its extension elements)."""
    ns = {"x": XSPF_NS}
    try:
        root = ET.fromstring(text)
        meta = _extension(root, PLAYLIST_EXTENSION)
        tracks = []
        for node in root.iterfind("x:trackList/x:track", ns):
            fields: dict[str, Any] = {}
            for tag in ("title", "creator", "duration"):
                child = node.find(f"x:{tag}", ns)
                if child is not None:
                    fields[tag] = child.text or ""
            tracks.append(_track_from(_extension(node, TRACK_EXTENSION), fields))
    except (ET.ParseError, KeyError, TypeError, ValueError) as exc:
        raise PlaylistFormatError(
            f"not a tastemaker XSPF playlist ({exc}); export one with --format xspf"
        ) from exc
    return _playlist_from(meta, tracks)


def _extension(node: ET.Element, application: str) -> Any:
    for ext in node.findall(f"{{{XSPF_NS}}}extension"):
        if ext.get("application") == application:
            return json.loads(ext.text or "")
    raise KeyError(application)


# M3U8 --------------------------------------------------------------------------------------


def to_m3u8(playlist: Playlist) -> str:
    """Extended M3U: `#EXTINF:<seconds>,Artist - Title`, the reason as a comment, then the entry.

    tastemaker knows no file locations, so each entry line is "Artist - Title" for a player or
    a script to resolve; unknown durations are -1 as the format expects.
    """
    lines = ["#EXTM3U", f"#PLAYLIST:{title_of(playlist)}"]
    for t in playlist.tracks:
        seconds = -1 if t.duration_ms is None else round(t.duration_ms / 1000)
        name = _display(t).replace("\n", " ")
        lines.append(f"#EXTINF:{seconds},{name}")
        lines.append(f"# {t.kind}: {t.reason.text}".replace("\n", " "))
        lines.append(name)
    return "\n".join(lines) + "\n"


FORMATS: dict[str, Callable[[Playlist], str]] = {
    "table": to_table,
    "json": to_json,
    "jspf": to_jspf,
    "xspf": to_xspf,
    "m3u8": to_m3u8,
}


def render(playlist: Playlist, fmt: str) -> str:
    """The playlist in format `fmt` (one of FORMATS)."""
    try:
        return FORMATS[fmt](playlist)
    except KeyError:
        raise PlaylistFormatError(
            f"unknown format {fmt!r}: choose one of {', '.join(FORMATS)}"
        ) from None
