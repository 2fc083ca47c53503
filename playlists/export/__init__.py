"""Playlist formats, one module per format, each with its parser for round trips.

- `table`: a terminal listing (no parser: it is for people);
- `as_json`: the JSON contract (`Playlist.to_dict`), `parse_json`;
- `jspf`: JSPF in the shape ListenBrainz imports, `parse_jspf`;
- `xspf`: XSPF, `parse_xspf`;
- `m3u8`: extended M3U, `parse_m3u8`.

Every playable format points each track at something a player can open (its file in the music
folder, its Spotify URI) and says what identifies it (its MusicBrainz recording); how file
locations are written is `playlists.export.locations`. `render(playlist, fmt, options)` is what
the CLI calls.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from playlists.errors import PlaylistFormatError
from playlists.export.as_json import parse_json, to_json
from playlists.export.jspf import (
    MB_PLAYLIST,
    MB_TRACK,
    listenbrainz_problem,
    parse_jspf,
    to_jspf,
    to_jspf_dict,
)
from playlists.export.m3u8 import M3U8Entry, M3U8Playlist, parse_m3u8, to_m3u8
from playlists.export.records import PLAYLIST_EXTENSION, TRACK_EXTENSION, title_of
from playlists.export.table import to_table
from playlists.export.xspf import XSPF_NS, parse_xspf, to_xspf
from playlists.model import Playlist


@dataclass(frozen=True)
class ExportOptions:
    """What some formats need beyond the playlist."""

    playlist_dir: Path | None = None  # M3U8: the folder the file goes to (None: absolute paths)
    created_for: str | None = None  # JSPF: the ListenBrainz user (approved playlist bots only)


FORMATS: dict[str, Callable[[Playlist, ExportOptions], str]] = {
    "table": lambda p, o: to_table(p),
    "json": lambda p, o: to_json(p),
    "jspf": lambda p, o: to_jspf(p, created_for=o.created_for),
    "xspf": lambda p, o: to_xspf(p),
    "m3u8": lambda p, o: to_m3u8(p, playlist_dir=o.playlist_dir),
}


def render(playlist: Playlist, fmt: str, options: ExportOptions | None = None) -> str:
    """The playlist in format `fmt` (one of FORMATS)."""
    try:
        write = FORMATS[fmt]
    except KeyError:
        raise PlaylistFormatError(
            f"unknown format {fmt!r}: choose one of {', '.join(FORMATS)}"
        ) from None
    return write(playlist, options or ExportOptions())


__all__ = [
    "FORMATS",
    "MB_PLAYLIST",
    "MB_TRACK",
    "PLAYLIST_EXTENSION",
    "TRACK_EXTENSION",
    "XSPF_NS",
    "ExportOptions",
    "M3U8Entry",
    "M3U8Playlist",
    "PlaylistFormatError",
    "listenbrainz_problem",
    "parse_jspf",
    "parse_json",
    "parse_m3u8",
    "parse_xspf",
    "render",
    "title_of",
    "to_jspf",
    "to_jspf_dict",
    "to_json",
    "to_m3u8",
    "to_table",
    "to_xspf",
]
