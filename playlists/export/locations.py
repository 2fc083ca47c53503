"""Where a track is played from, as each format writes it: file URIs, M3U8 paths, the order
of a track's locations, and the MusicBrainz recording URL.

A file location in XSPF and JSPF is an absolute `file://` URI with every byte outside the
unreserved set percent-encoded (so spaces, `#`, `%`, `&` and non-ASCII names survive any
reader). M3U8 lines are read by players in two ways at once: VLC reads a line as a URI
reference (`#` starts a fragment, `%20` is a space), totem-pl-parser as a plain path. So an M3U8
entry is the plain path (relative to the playlist's folder when the file is below it, else
absolute) only when both readings agree on it; otherwise it is the file URI, which both read
alike.
"""

from __future__ import annotations

import os
import unicodedata
from collections.abc import Iterable
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import quote_from_bytes, unquote_to_bytes, urlsplit

from playlists.model import PlaylistTrack
from recommender.library import MB_RECORDING_URL as MB_RECORDING

MB_RELEASE = "https://musicbrainz.org/release/"
MB_ARTIST = "https://musicbrainz.org/artist/"
SPOTIFY_SCHEME = "spotify:"

# Characters that a URI-reference reading of an M3U8 line would change.
_URI_SYNTAX = frozenset("#?%\\")


def file_uri(path: str) -> str:
    """The percent-encoded `file://` URI of an absolute path."""
    return "file://" + quote_from_bytes(os.fsencode(path), safe="/")


def path_of(uri: str) -> str | None:
    """The local path a `file:` URI names, or None for any other URI."""
    parts = urlsplit(uri)
    if parts.scheme != "file" or parts.netloc not in ("", "localhost"):
        return None
    return os.fsdecode(unquote_to_bytes(parts.path))


def is_control(ch: str) -> bool:
    """Control, format and line or paragraph separator characters (where readers split or
    hide text)."""
    return unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp")


def one_line(text: str) -> str:
    """`text` on one line: every control character or line break becomes a space."""
    return "".join(" " if is_control(ch) else ch for ch in text).strip()


def m3u8_location(path: str, playlist_dir: Path | None) -> str:
    """An M3U8 entry line for the file at `path` (see the module docstring)."""
    line = path
    if playlist_dir is not None:
        try:
            line = Path(path).relative_to(playlist_dir).as_posix()
        except ValueError:
            pass
    if _needs_uri(line):
        return file_uri(path)
    return line


def _needs_uri(line: str) -> bool:
    if not line or line != line.strip() or line.startswith("#"):
        return True
    if any(ch in _URI_SYNTAX or is_control(ch) for ch in line):
        return True
    # A relative line whose first segment holds ':' reads as a URI scheme ("c:x.flac").
    return not line.startswith("/") and ":" in PurePosixPath(line).parts[0]


def m3u8_path(line: str, playlist_dir: Path | None) -> str:
    """What an M3U8 entry line points at: a local path (absolute when `playlist_dir` is
    given), or the URI as written."""
    local = path_of(line)
    if local is not None:
        return local
    if "://" in line or line.startswith(SPOTIFY_SCHEME):
        return line
    if playlist_dir is not None and not line.startswith("/"):
        return str(playlist_dir / line)
    return line


def preferred(playlist_terms_playable: object) -> str:
    """Which location comes first: the Spotify link when the playlist was made playable on
    Spotify, else the file."""
    return "spotify" if playlist_terms_playable == "spotify" else "local"


def uris(track: PlaylistTrack, prefer: str = "local") -> list[str]:
    """The track's locations as URIs, the preferred kind first (file, Spotify)."""
    found = []
    if track.locations.file:
        found.append(("local", file_uri(track.locations.file)))
    if track.locations.spotify_uri:
        found.append(("spotify", track.locations.spotify_uri))
    found.sort(key=lambda kv: kv[0] != prefer)
    return [uri for _, uri in found]


def mbid_of(url: str, prefix: str = MB_RECORDING) -> str | None:
    return url[len(prefix) :] if url.startswith(prefix) else None


def located_from(
    locations: Iterable[str],
    identifiers: Iterable[str],
    album: str | None,
    track_number: Any,
) -> dict[str, Any]:
    """`Locations` fields from what XSPF and JSPF write: the first file URI and the first
    Spotify URI among `locations`, the first recording URL among `identifiers`."""
    located: dict[str, Any] = {
        "album": album,
        "track_number": None if track_number in (None, "") else int(track_number),
    }
    for uri in locations:
        local = path_of(uri)
        if local is not None:
            located.setdefault("file", local)
        elif uri.startswith(SPOTIFY_SCHEME):
            located.setdefault("spotify_uri", uri)
    recordings = [m for i in identifiers if (m := mbid_of(i))]
    if recordings:
        located["recording_mbid"] = recordings[0]
    return located
