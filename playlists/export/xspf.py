"""XSPF (xspf.org version 1) and its parser.

Each track has one `location`: the percent-encoded `file://` URI of its file, or its Spotify
URI when that is preferred or the only one (players disagree on which of several they take;
the other is a `<link rel="https://tastemaker.invalid/xspf/also-at">`). Then its `identifier`
`https://musicbrainz.org/recording/<mbid>`, title, creator, the reason as `annotation`,
`album`, `trackNum` (its place on that album, never the playlist position) and `duration` in
ms, in the order the XSPF schema requires; tastemaker's extensions are
`<extension application=...>` elements holding JSON text. Characters that XML 1.0 cannot hold
(most control characters) are written as U+FFFD.
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from typing import Any

from playlists.errors import PlaylistFormatError
from playlists.export.locations import located_from, preferred, uris
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

XSPF_NS = "http://xspf.org/ns/0/"
ALSO_AT = "https://tastemaker.invalid/xspf/also-at"  # a <link rel> for the other locations
_NOT_XML = re.compile("[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _xml_text(text: str) -> str:
    return _NOT_XML.sub("\ufffd", text)


def to_xspf(playlist: Playlist) -> str:
    """The playlist as XSPF text (see the module docstring)."""
    ET.register_namespace("", XSPF_NS)

    def el(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
        child = ET.SubElement(parent, f"{{{XSPF_NS}}}{tag}", attrs)
        if text is not None:
            child.text = _xml_text(text)
        return child

    prefer = preferred(playlist.terms.get("playable"))
    root = ET.Element(f"{{{XSPF_NS}}}playlist", {"version": "1"})
    el(root, "title", title_of(playlist))
    el(root, "creator", "tastemaker")
    if playlist.notes:
        el(root, "annotation", "; ".join(playlist.notes))
    el(root, "identifier", PLAYLIST_ID_PREFIX + playlist.id)
    el(root, "date", playlist.created_at)
    el(
        root,
        "extension",
        json.dumps(playlist_extension(playlist), ensure_ascii=False),
        application=PLAYLIST_EXTENSION,
    )
    track_list = el(root, "trackList")
    for t in playlist.tracks:
        track = el(track_list, "track")
        # One location: totem-pl-parser keeps only the last of several, VLC the first.
        places = uris(t, prefer)
        for uri in places[:1]:
            el(track, "location", uri)
        recording = t.locations.recording_url
        if recording:
            el(track, "identifier", recording)
        if t.title is not None:
            el(track, "title", t.title)
        el(track, "creator", t.artist)
        el(track, "annotation", t.reason.text)
        if t.locations.album:
            el(track, "album", t.locations.album)
        if t.locations.track_number is not None:
            el(track, "trackNum", str(t.locations.track_number))
        if t.duration_ms is not None:
            el(track, "duration", str(t.duration_ms))
        for uri in places[1:]:
            el(track, "link", uri, rel=ALSO_AT)
        el(
            track,
            "extension",
            json.dumps(track_extension(t), ensure_ascii=False),
            application=TRACK_EXTENSION,
        )
    ET.indent(root)
    body = ET.tostring(root, encoding="unicode")
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + body + "\n"


def parse_xspf(text: str) -> Playlist:
    """Rebuild the structured playlist from tastemaker's XSPF: its extension elements, and
    where each track is from its locations, identifier, album and trackNum."""
    ns = {"x": XSPF_NS}
    try:
        root = ET.fromstring(text)
        meta = _extension(root, PLAYLIST_EXTENSION)
        tracks = []
        for node in root.iterfind("x:trackList/x:track", ns):
            fields: dict[str, Any] = {}
            for tag in ("title", "creator", "duration", "album", "trackNum"):
                child = node.find(f"x:{tag}", ns)
                if child is not None:
                    fields[tag] = child.text or ""
            also = [n for n in node.iterfind("x:link", ns) if n.get("rel") == ALSO_AT]
            located = located_from(
                [(n.text or "").strip() for n in [*node.iterfind("x:location", ns), *also]],
                [(n.text or "").strip() for n in node.iterfind("x:identifier", ns)],
                fields.get("album"),
                fields.get("trackNum"),
            )
            tracks.append(track_from(_extension(node, TRACK_EXTENSION), fields, located))
    except (ET.ParseError, KeyError, TypeError, ValueError) as exc:
        raise PlaylistFormatError(
            f"not a tastemaker XSPF playlist ({exc}); export one with --format xspf"
        ) from exc
    return playlist_from(meta, tracks)


def _extension(node: ET.Element, application: str) -> Any:
    for ext in node.findall(f"{{{XSPF_NS}}}extension"):
        if ext.get("application") == application:
            return json.loads(ext.text or "")
    raise KeyError(application)
