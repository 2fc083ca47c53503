"""Reader for Last.fm scrobble exports: CSV files and portable players' `.scrobbler.log`.

CSV layouts are told apart by their first row:

- headerless `artist,album,track,date` with dates like "31 Jan 2021 14:05" (UTC), as written
  by the lastfm-to-csv web exporter;
- a header naming at least an artist, a track and a time column, e.g. mainstream.ghan.nl's
  `uts,utc_time,artist,artist_mbid,album,album_mbid,track,track_mbid`. `uts` (Unix
  seconds) wins over a text date when both are present; comma, semicolon and tab separators
  are accepted.

`.scrobbler.log` (AUDIOSCROBBLER/1.1, written by Rockbox and other players) is tab-separated
`artist, album, title, track number, length (s), rating, timestamp[, track MBID]`; rating
"L" is a listen and "S" a skip. A log whose `#TZ/` line says UNKNOWN recorded the player's
local clock: its times are read as UTC and the report says so.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from recommender.errors import IngestError, UnknownLayout
from recommender.ingest.records import Listen, Note, Record, Rejected, Skipped
from recommender.sources._common import (
    LATEST,
    Member,
    first_text,
    instant,
    is_bundle,
    mbid,
    open_export,
    text_instant,
    text_lines,
    whole_number,
)

PLAYER_SKIP = "skipped on the player (rating S)"
NO_TIME = "no time (a track still playing when the export was made?)"

# Header spellings seen in exporters, by the field they fill.
COLUMNS: dict[str, tuple[str, ...]] = {
    "artist": ("artist", "artist_name", "artistname"),
    "track": ("track", "track_name", "trackname", "title", "song", "name"),
    "album": ("album", "album_name", "albumname", "release"),
    "uts": ("uts", "timestamp", "unix_timestamp", "date_uts"),
    "date": ("utc_time", "date", "time", "datetime", "date_text", "played_at"),
    "artist_mbid": ("artist_mbid", "artistmbid"),
    "track_mbid": ("track_mbid", "trackmbid", "recording_mbid"),
}
HEADERLESS = {"artist": 0, "album": 1, "track": 2, "date": 3}


@dataclass(frozen=True)
class Layout:
    """Where each field sits in a CSV row."""

    delimiter: str
    columns: dict[str, int]
    has_header: bool

    @property
    def width(self) -> int:
        return max(self.columns.values()) + 1


def read(path: Path, encoding: str = "utf-8") -> Iterator[Record]:
    if is_bundle(path):
        raise IngestError(
            f"{path} is a folder or zip: the lastfm format reads one scrobble CSV or "
            ".scrobbler.log file; pass that file"
        )
    with open_export(path) as files:
        member = files[0]
        head = first_text(member, encoding).lstrip("\ufeff")
        if head.startswith("#AUDIOSCROBBLER/"):
            yield from _scrobbler_log(member, encoding)
        else:
            yield from _csv(member, encoding, head)


# -- CSV -----------------------------------------------------------------------------------


def detect_layout(first_line: str) -> Layout:
    """The layout a CSV's first line announces, or UnknownLayout saying what was expected."""
    for delimiter in (",", ";", "\t"):
        cells = next(csv.reader([first_line], delimiter=delimiter), [])
        names = [_header_name(cell) for cell in cells]
        columns = {}
        for field, spellings in COLUMNS.items():
            for index, name in enumerate(names):
                if name in spellings:
                    columns[field] = index
                    break
        if "artist" in columns and "track" in columns:
            if "uts" not in columns and "date" not in columns:
                raise UnknownLayout(
                    f"the header {first_line.strip()[:120]!r} has no time column: "
                    "expected uts (Unix seconds) or utc_time/date"
                )
            return Layout(delimiter, columns, has_header=True)
    cells = next(csv.reader([first_line]), [])
    if len(cells) == 4 and text_instant(cells[3]) is not None:
        return Layout(",", dict(HEADERLESS), has_header=False)
    raise UnknownLayout(
        f"unrecognised Last.fm CSV layout (first line {first_line.strip()[:120]!r}): expected "
        "headerless artist,album,track,date rows (date like 31 Jan 2021 14:05) or a header "
        "with uts, artist, album and track columns"
    )


def _header_name(cell: str) -> str:
    return "_".join(cell.strip().lstrip("\ufeff").casefold().split())


def _csv(member: Member, encoding: str, head: str) -> Iterator[Record]:
    first_line = next((line for line in head.splitlines() if line.strip()), "")
    if not first_line:
        return  # an empty file holds no scrobbles
    layout = detect_layout(first_line)
    numbered = text_lines(member, encoding)
    line_of_row = 0

    def lines() -> Iterator[str]:
        nonlocal line_of_row
        for number, line in numbered:
            line_of_row = number
            yield line

    rows = csv.reader(lines(), delimiter=layout.delimiter)
    header_seen = not layout.has_header
    while True:
        try:
            cells = next(rows)
        except StopIteration:
            return
        except csv.Error as exc:
            yield Rejected(f"{member.name}:{line_of_row}", f"not valid CSV ({exc})")
            continue
        location = f"{member.name}:{line_of_row}"
        if not any(cell.strip() for cell in cells):
            continue
        if not header_seen:
            header_seen = True
            continue
        yield csv_row(location, cells, layout)


def csv_row(location: str, cells: list[str], layout: Layout) -> Record:
    """One scrobble row as a Listen, or why it cannot be one."""
    if len(cells) < layout.width or (not layout.has_header and len(cells) != 4):
        return Rejected(location, f"expected {layout.width} fields, got {len(cells)}")

    def cell(field: str) -> str:
        index = layout.columns.get(field)
        return "" if index is None else cells[index].strip()

    artist, title = cell("artist"), cell("track")
    if not artist or not title:
        return Rejected(location, "no artist or track name")
    listened_at = None
    if cell("uts"):
        listened_at = _uts(cell("uts"))
    elif cell("date"):
        listened_at = text_instant(cell("date"))
    else:
        return Rejected(location, NO_TIME)
    if listened_at is None:
        return Rejected(location, "the time is not a UTC date between 1990 and 2100")
    return Listen(
        artist=artist,
        title=title,
        album=cell("album") or None,
        listened_at=listened_at,
        artist_mbid=mbid(cell("artist_mbid")),
        track_mbid=mbid(cell("track_mbid")),
    )


def _uts(text: str) -> int | None:
    seconds = whole_number(text)
    if seconds is not None and seconds >= LATEST * 10:
        seconds //= 1000  # some exporters write milliseconds
    return instant(seconds)


# -- .scrobbler.log ------------------------------------------------------------------------


def _scrobbler_log(member: Member, encoding: str) -> Iterator[Record]:
    for number, line in text_lines(member, encoding):
        text = line.rstrip("\r\n")
        location = f"{member.name}:{number}"
        if text.startswith("#"):
            if text.strip().upper() == "#TZ/UNKNOWN":
                yield Note(
                    f"{member.name} says #TZ/UNKNOWN: the player logged its local clock, so "
                    "these times were read as UTC and may be off by your UTC offset"
                )
            continue
        if not text.strip():
            continue
        yield log_row(location, text.split("\t"))


def log_row(location: str, fields: list[str]) -> Record:
    """One `.scrobbler.log` entry as a Listen, a player skip, or a reject."""
    if len(fields) not in (7, 8):
        return Rejected(location, f"expected 7 or 8 tab-separated fields, got {len(fields)}")
    artist, album, title, _track_number, length, rating, timestamp = (f.strip() for f in fields[:7])
    if not artist or not title:
        return Rejected(location, "no artist or title")
    if rating.upper() == "S":
        return Skipped(location, PLAYER_SKIP)
    if rating.upper() != "L":
        return Rejected(location, f"rating must be L (listened) or S (skipped), not {rating!r}")
    listened_at = instant(whole_number(timestamp))
    if listened_at is None:
        return Rejected(location, "the timestamp is not a time between 1990 and 2100")
    seconds = whole_number(length)
    return Listen(
        artist=artist,
        title=title,
        album=album or None,
        listened_at=listened_at,
        duration_ms=seconds * 1000 if seconds is not None and 0 < seconds < 86_400 else None,
        track_mbid=mbid(fields[7]) if len(fields) == 8 else None,
    )
