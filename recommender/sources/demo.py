"""Reader for the embedded demo world (`datasets/demo`, written by `recommender.demo_world`).

Streams `listens.csv.gz` row by row; the small catalogue files are read first. A row that names
an unknown artist or track, or carries a number that is not a whole number, is rejected with its
location instead of stopping the import. `feedback.csv` (loves, hates and skips: never listens)
is read last when it is there; older copies of the world without it import as before.
"""

from __future__ import annotations

import csv
import gzip
from collections.abc import Iterator
from pathlib import Path

from recommender.errors import IngestError
from recommender.ingest.files import folder_member
from recommender.ingest.records import (
    Artist,
    ArtistTag,
    Feedback,
    Listen,
    Record,
    Rejected,
    Track,
)

FILES = ("artists.csv", "artist_tags.csv", "tracks.csv", "listens.csv.gz")
FEEDBACK_FILE = "feedback.csv"  # optional
FEEDBACK_KINDS = ("love", "hate", "skip")
COLUMNS = {
    "artists.csv": ["artist_id", "name"],
    "artist_tags.csv": ["artist_id", "tag", "count"],
    "tracks.csv": ["track_id", "artist_id", "title", "album", "duration_ms"],
    "listens.csv.gz": ["listener", "track_id", "listened_at", "ms_played"],
    FEEDBACK_FILE: ["listener", "kind", "artist_id", "track_id", "at"],
}


def _rows(folder: Path, name: str) -> Iterator[tuple[str, dict[str, str]]]:
    """Yield (location, row) for every data row of one file, after checking its header."""
    path = folder / name
    opened = (
        gzip.open(path, "rt", encoding="utf-8", newline="")
        if name.endswith(".gz")
        else path.open(encoding="utf-8", newline="")
    )
    with opened as handle:
        reader = csv.DictReader(handle)
        if reader.fieldnames != COLUMNS[name]:
            raise IngestError(
                f"{path} does not start with the header {','.join(COLUMNS[name])}: "
                "regenerate it with `python -m recommender.demo_world --out DIR`"
            )
        for row in reader:
            yield f"{name}:{reader.line_num}", row


def _whole(text: str | None) -> int | None:
    if text is None:
        return None
    digits = text.strip().removeprefix("-")
    if not (digits.isascii() and digits.isdigit()) or len(digits) > 15:
        return None
    return int(text)


def read(folder: Path) -> Iterator[Record]:
    missing = [name for name in FILES if folder_member(folder, name) is None]
    if missing:
        raise IngestError(
            f"{folder} has no {', '.join(missing)}: point at datasets/demo, or regenerate it with "
            "`python -m recommender.demo_world --out DIR`"
        )
    names: dict[str, str] = {}
    for location, row in _rows(folder, "artists.csv"):
        if not row["name"]:
            yield Rejected(location, "the artist has no name")
            continue
        names[row["artist_id"]] = row["name"]
        yield Artist(name=row["name"], external_id=row["artist_id"])

    for location, row in _rows(folder, "artist_tags.csv"):
        count = _whole(row["count"])
        if row["artist_id"] not in names or count is None:
            yield Rejected(location, "unknown artist id or a count that is not a whole number")
            continue
        yield ArtistTag(
            artist=names[row["artist_id"]],
            tag=row["tag"],
            count=count,
            artist_external_id=row["artist_id"],
        )

    tracks: dict[str, tuple[str, str, str, str, int | None]] = {}
    for location, row in _rows(folder, "tracks.csv"):
        artist_id = row["artist_id"]
        if artist_id not in names or not row["title"]:
            yield Rejected(location, f"artist {artist_id} is not in artists.csv, or no title")
            continue
        duration = _whole(row["duration_ms"])
        tracks[row["track_id"]] = (
            artist_id,
            names[artist_id],
            row["title"],
            row["album"],
            duration,
        )
        # Every track enters the catalogue, heard or not: cold-start artists need something to play.
        yield Track(
            artist=names[artist_id],
            title=row["title"],
            album=row["album"] or None,
            duration_ms=duration,
            artist_external_id=artist_id,
        )

    for location, row in _rows(folder, "listens.csv.gz"):
        known = tracks.get(row["track_id"])
        if known is None:
            yield Rejected(location, f"track {row['track_id']} is not in tracks.csv")
            continue
        listened_at, ms_played = _whole(row["listened_at"]), _whole(row["ms_played"])
        if listened_at is None or ms_played is None or not row["listener"]:
            yield Rejected(location, "needs a listener and whole-number listened_at, ms_played")
            continue
        artist_id, artist, title, album, duration = known
        yield Listen(
            artist=artist,
            listener=row["listener"],
            title=title,
            album=album,
            listened_at=listened_at,
            ms_played=ms_played,
            duration_ms=duration,
            artist_external_id=artist_id,
        )

    if folder_member(folder, FEEDBACK_FILE) is None:
        return
    for location, row in _rows(folder, FEEDBACK_FILE):
        at, track = _whole(row["at"]), row["track_id"]
        named = tracks.get(track) if track else None
        if (
            row["kind"] not in FEEDBACK_KINDS
            or row["artist_id"] not in names
            or at is None
            or not row["listener"]
            or (track and (named is None or named[0] != row["artist_id"]))
        ):
            yield Rejected(
                location,
                "needs a listener, love/hate/skip, a known artist (and its "
                "track) and a whole-number time",
            )
            continue
        yield Feedback(
            kind=row["kind"],
            artist=names[row["artist_id"]],
            title=None if named is None else named[2],
            listener=row["listener"],
            at=at,
        )
