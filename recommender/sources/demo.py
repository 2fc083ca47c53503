"""Reader for the embedded demo world (`datasets/demo`, written by `recommender.demo_world`)."""

from __future__ import annotations

import csv
import gzip
from collections.abc import Iterator
from pathlib import Path

from recommender.errors import IngestError
from recommender.ingest import Artist, ArtistTag, Listen, Record, Rejected

FILES = ("artists.csv", "artist_tags.csv", "tracks.csv", "listens.csv.gz")


def read(folder: Path) -> Iterator[Record]:
    missing = [name for name in FILES if not (folder / name).is_file()]
    if missing:
        raise IngestError(
            f"{folder} has no {', '.join(missing)}: point at datasets/demo, or regenerate it with "
            "`python -m recommender.demo_world --out DIR`"
        )
    names: dict[str, str] = {}
    with (folder / "artists.csv").open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            names[row["artist_id"]] = row["name"]
            yield Artist(name=row["name"], external_id=row["artist_id"])
    with (folder / "artist_tags.csv").open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            yield ArtistTag(
                artist=names[row["artist_id"]],
                tag=row["tag"],
                count=int(row["count"]),
                artist_external_id=row["artist_id"],
            )
    tracks: dict[str, tuple[str, str, str, str, int]] = {}
    with (folder / "tracks.csv").open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            artist_id = row["artist_id"]
            tracks[row["track_id"]] = (
                artist_id,
                names[artist_id],
                row["title"],
                row["album"],
                int(row["duration_ms"]),
            )
    with gzip.open(folder / "listens.csv.gz", "rt", encoding="utf-8", newline="") as handle:
        for line, row in enumerate(csv.DictReader(handle), start=2):
            track = tracks.get(row["track_id"])
            if track is None:
                yield Rejected(
                    f"listens.csv.gz:{line}", f"track {row['track_id']} is not in tracks.csv"
                )
                continue
            artist_id, artist, title, album, duration = track
            yield Listen(
                artist=artist,
                listener=row["listener"],
                title=title,
                album=album,
                listened_at=int(row["listened_at"]),
                ms_played=int(row["ms_played"]),
                duration_ms=duration,
                artist_external_id=artist_id,
            )
