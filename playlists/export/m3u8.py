"""Extended M3U (UTF-8) and a reader for it.

```
#EXTM3U
#PLAYLIST:Tastemaker playlist for ana
# familiar: You played Rancid 42 times
#EXTINF:181,Rancid - Roots
Rancid/Roots/03 Roots.flac
# not playable here (no file or Spotify link): Operation Ivy - Knowledge
```

Each entry is `#EXTINF:<seconds>,Artist - Title` (-1 when the duration is unknown) directly
followed by its location: the file (see `playlists.export.locations` for when it is a plain
path and when a `file://` URI), else the Spotify URI. The track's kind and reason come before
it as a comment. A track with neither is not an entry (a player would fail on it) but is named
in a `# not playable here ...` comment, so nothing is dropped silently.

Names can never make or hide an entry: every name and reason is put on one line (control
characters and line breaks become spaces), names only ever follow `#EXTINF:<n>,` or a `# `
comment, and an entry line is only ever a path or URI that tastemaker wrote.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from playlists.export.locations import m3u8_location, m3u8_path, one_line, preferred
from playlists.export.records import display, title_of
from playlists.model import Playlist, PlaylistTrack

UNPLAYABLE = "# not playable here (no file or Spotify link): "


@dataclass(frozen=True)
class M3U8Entry:
    seconds: int
    title: str
    location: str  # an absolute path (relative when read without the playlist's folder) or URI


@dataclass(frozen=True)
class M3U8Playlist:
    title: str | None
    entries: tuple[M3U8Entry, ...]
    unplayable: tuple[str, ...]  # names of the tracks listed as not playable


def entry_location(track: PlaylistTrack, playlist_dir: Path | None, prefer: str) -> str | None:
    """The entry line of a track: its file or its Spotify URI, the preferred first."""
    file, spotify = track.locations.file, track.locations.spotify_uri
    line = m3u8_location(file, playlist_dir) if file else None
    if spotify and (line is None or prefer == "spotify"):
        return spotify
    return line


def to_m3u8(playlist: Playlist, *, playlist_dir: Path | None = None) -> str:
    """The playlist as M3U8 text; file paths are relative to `playlist_dir` when the files
    are below it (pass the folder the playlist file will be written to), else absolute."""
    prefer = preferred(playlist.terms.get("playable"))
    lines = ["#EXTM3U", f"#PLAYLIST:{one_line(title_of(playlist))}"]
    for t in playlist.tracks:
        name = one_line(display(t))
        location = entry_location(t, playlist_dir, prefer)
        if location is None:
            lines.append(UNPLAYABLE + name)
            continue
        seconds = -1 if t.duration_ms is None else round(t.duration_ms / 1000)
        lines.append(one_line(f"# {t.kind}: {t.reason.text}"))
        lines.append(f"#EXTINF:{seconds},{name}")
        lines.append(location)
    return "\n".join(lines) + "\n"


def parse_m3u8(text: str, playlist_dir: Path | None = None) -> M3U8Playlist:
    """The entries of an extended M3U file as a player reads them: each location line with
    the `#EXTINF` before it; relative paths are resolved against `playlist_dir` when given."""
    title: str | None = None
    entries: list[M3U8Entry] = []
    unplayable: list[str] = []
    seconds, name = -1, ""
    for raw in text.splitlines():
        line = raw.strip()
        if not line:
            continue
        if line.startswith("#EXTINF:"):
            length, _, name = line[len("#EXTINF:") :].partition(",")
            seconds = int(float(length.split()[0])) if length.strip() else -1
        elif line.startswith("#PLAYLIST:"):
            title = line[len("#PLAYLIST:") :]
        elif raw.startswith(UNPLAYABLE):
            unplayable.append(raw[len(UNPLAYABLE) :])
        elif not line.startswith("#"):
            entries.append(M3U8Entry(seconds, name, m3u8_path(line, playlist_dir)))
            seconds, name = -1, ""
    return M3U8Playlist(title, tuple(entries), tuple(unplayable))
