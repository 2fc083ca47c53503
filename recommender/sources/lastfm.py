"""Reader for Last.fm scrobble exports: CSV files and portable players' `.scrobbler.log`.

CSV layouts are told apart by their first rows:

- headerless `artist,album,track,date` with dates like "31 Jan 2021 14:05" (UTC), as written
  by the lastfm-to-csv web exporter (benfoxall/lastfm-to-csv: it drops quotes and commas from
  every value and writes no header). Its first row is often the track still playing when the
  export was made, with an empty date: such a now-playing row, anywhere in the file, is
  skipped with a reason, and the layout is read from the rows after it;
- a header naming at least an artist, a track and a time column, e.g. mainstream.ghan.nl's
  `uts,utc_time,artist,artist_mbid,album,album_mbid,track,track_mbid`. `uts` (Unix
  seconds) wins over a text date when both are present; comma, semicolon and tab separators
  are accepted; `album_mbid` is kept as the track's release MBID.

Loved tracks: a CSV whose file name contains "loved" (`rob_loved.csv`, `lovedtracks.csv`) is
read as the listener's loves, never as listens: each row (headerless `artist,track,date` or
`artist,album,track,date`, or a header as above) becomes a love at its date.

`.scrobbler.log` (AUDIOSCROBBLER/1.1, written by Rockbox and other players) is tab-separated
`artist, album, title, track number, length (s), rating, timestamp[, track MBID]`; rating
"L" is a listen and "S" a skip (stored as skip feedback, never a listen). A log whose `#TZ/`
line says UNKNOWN recorded the player's local clock: its times are read as UTC and the report
says so.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from recommender.errors import IngestError, UnknownLayout
from recommender.ingest.records import Feedback, Listen, Note, Record, Rejected, Skipped
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

PLAYER_SKIP = "skipped on the player (rating S): skip feedback, not a listen"
NOW_PLAYING = "now playing when the export was made (no time yet): not a listen yet"
LOVED = "loved"  # a file name holding this is a loved-tracks export
SAMPLE_ROWS = 50  # rows looked at to tell a headerless layout (past now-playing rows)

# Header spellings seen in exporters, by the field they fill.
COLUMNS: dict[str, tuple[str, ...]] = {
    "artist": ("artist", "artist_name", "artistname"),
    "track": ("track", "track_name", "trackname", "title", "song", "name"),
    "album": ("album", "album_name", "albumname", "release"),
    "uts": ("uts", "timestamp", "unix_timestamp", "date_uts"),
    "date": ("utc_time", "date", "time", "datetime", "date_text", "played_at"),
    "artist_mbid": ("artist_mbid", "artistmbid"),
    "track_mbid": ("track_mbid", "trackmbid", "recording_mbid"),
    "album_mbid": ("album_mbid", "albummbid", "release_mbid"),
}
HEADERLESS = {"artist": 0, "album": 1, "track": 2, "date": 3}
HEADERLESS_LOVED = {"artist": 0, "track": 1, "date": 2}  # a loved export without the album


@dataclass(frozen=True)
class Layout:
    """Where each field sits in a CSV row."""

    delimiter: str
    columns: dict[str, int]
    has_header: bool
    loved: bool = False

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
            yield from _csv(member, encoding, head, loved=LOVED in member.basename.casefold())


# -- CSV -----------------------------------------------------------------------------------


def detect_layout(lines: Sequence[str], loved: bool = False) -> Layout:
    """The layout the first lines of a CSV announce, or UnknownLayout saying what was expected.

    A header must be the first line. Without one, the first row with a date decides (rows of
    a track still playing, with an empty date, are passed over).
    """
    first_line = lines[0] if lines else ""
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
            return Layout(delimiter, columns, has_header=True, loved=loved)
    now_playing = False
    for line in lines[:SAMPLE_ROWS]:
        cells = next(csv.reader([line]), [])
        if len(cells) == 4 and text_instant(cells[3]) is not None:
            return Layout(",", dict(HEADERLESS), has_header=False, loved=loved)
        if loved and len(cells) == 3 and text_instant(cells[2]) is not None:
            return Layout(",", dict(HEADERLESS_LOVED), has_header=False, loved=True)
        if _is_now_playing(cells):
            now_playing = True
            continue
        break
    if now_playing:  # nothing but the track still playing
        return Layout(",", dict(HEADERLESS), has_header=False, loved=loved)
    raise UnknownLayout(
        f"unrecognised Last.fm CSV layout (first line {first_line.strip()[:120]!r}): expected "
        "headerless artist,album,track,date rows (date like 31 Jan 2021 14:05) or a header "
        "with uts, artist, album and track columns"
    )


def _is_now_playing(cells: list[str]) -> bool:
    """lastfm-to-csv's row for the track playing during the export: no date."""
    return len(cells) == 4 and bool(cells[0].strip()) and not cells[3].strip()


def _header_name(cell: str) -> str:
    return "_".join(cell.strip().lstrip("\ufeff").casefold().split())


def _csv(member: Member, encoding: str, head: str, loved: bool) -> Iterator[Record]:
    sample = [line for line in head.splitlines() if line.strip()]
    if not sample:
        return  # an empty file holds no scrobbles
    if len(head) >= 4096 and len(sample) > 1:
        sample = sample[:-1]  # the last line of the sample may be cut
    layout = detect_layout(sample, loved)
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
    """One scrobble row as a Listen (or, in a loved export, a love), or why it cannot be one."""
    headerless_width = len(HEADERLESS_LOVED) if layout.columns == HEADERLESS_LOVED else 4
    if len(cells) < layout.width or (not layout.has_header and len(cells) != headerless_width):
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
        return Skipped(location, NOW_PLAYING)
    if listened_at is None:
        return Rejected(location, "the time is not a UTC date between 1990 and 2100")
    if layout.loved:
        return Feedback(
            kind="love",
            artist=artist,
            title=title,
            recording_mbid=mbid(cell("track_mbid")),
            at=listened_at,
        )
    return Listen(
        artist=artist,
        title=title,
        album=cell("album") or None,
        listened_at=listened_at,
        artist_mbid=mbid(cell("artist_mbid")),
        track_mbid=mbid(cell("track_mbid")),
        release_mbid=mbid(cell("album_mbid")),
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
        record = log_row(location, text.split("\t"))
        yield record
        if isinstance(record, Skipped) and record.reason == PLAYER_SKIP:
            yield _player_skip(text.split("\t"))


def _player_skip(fields: list[str]) -> Feedback:
    artist, _album, title, *_ = (f.strip() for f in fields)
    return Feedback(
        kind="skip",
        artist=artist,
        title=title,
        at=instant(whole_number(fields[6])),
        recording_mbid=mbid(fields[7]) if len(fields) == 8 else None,
    )


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
