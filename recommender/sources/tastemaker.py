"""Reader for tastemaker's own export (`tastemaker export-data`), so a listener can come back.

Listens keep the source they were first imported from (so ignored sources stay ignored), the
terms are restored as they were, and playlists are reported as skipped: they are what a past
model made, and a new `train` + `playlist` makes fresh ones. See docs/export-format.md.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from recommender.errors import IngestError, TastemakerError
from recommender.ingest.records import (
    DefaultListener,
    Listen,
    Record,
    Rejected,
    Skipped,
    StoredTerms,
)
from recommender.terms import terms_from_dict

# What `export-data` (`playlists.privacy`, above this package) writes in the file's "format" and
# "version" fields, and all this reader accepts: the reader sits lower, so both can import them.
EXPORT_FORMAT = "tastemaker-export"
EXPORT_VERSION = 1


def read(path: Path) -> Iterator[Record]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise IngestError(
            f"{path} is not a tastemaker export ({exc}): pass the file `export-data` wrote"
        ) from None
    if not isinstance(data, dict) or data.get("format") != EXPORT_FORMAT:
        raise IngestError(f"{path} is not a tastemaker export: pass the file `export-data` wrote")
    if data.get("version") != EXPORT_VERSION:
        raise IngestError(
            f"{path} is export format version {data.get('version')}, this tastemaker reads "
            f"version {EXPORT_VERSION}: upgrade tastemaker"
        )
    who = data.get("listener")
    name = who.get("name") if isinstance(who, dict) else None
    if not isinstance(name, str) or not name:
        raise IngestError(f"{path} does not name its listener: the file is damaged")

    # The owner named in the file, unless `import --listener` names another.
    yield DefaultListener(name)
    listens = data.get("listens")
    if not isinstance(listens, list):
        raise IngestError(f"{path} has no list of listens: the file is damaged")
    for number, row in enumerate(listens):
        listen = _listen(row)
        yield (
            listen
            if listen is not None
            else Rejected(
                f"listens[{number}]",
                "a listen needs an artist, a positive plays count and a source",
            )
        )

    if data.get("terms") is not None:
        values = data["terms"]
        if not isinstance(values, dict):
            yield Rejected("terms", "terms must be an object")
        else:
            values = {k: v for k, v in values.items() if k != "updated_at"}
            try:
                yield StoredTerms(terms=terms_from_dict(values))
            except (TastemakerError, TypeError, ValueError) as exc:
                yield Rejected("terms", str(exc))

    for number, _ in enumerate(data.get("playlists") or []):
        yield Skipped(
            f"playlists[{number}]", "playlists are not re-imported: run train and playlist again"
        )


def _listen(row: Any) -> Listen | None:
    if not isinstance(row, dict):
        return None
    artist, source, plays = row.get("artist"), row.get("source"), row.get("plays", 1)
    if not isinstance(artist, str) or not artist.strip() or not isinstance(source, str):
        return None
    if not isinstance(plays, int) or isinstance(plays, bool) or plays <= 0:
        return None
    ints = {}
    for key in ("listened_at", "ms_played", "duration_ms"):
        value = row.get(key)
        if value is not None and (not isinstance(value, int) or isinstance(value, bool)):
            return None
        ints[key] = value
    strings = {}
    for key in ("title", "album", "artist_mbid", "track_mbid"):
        value = row.get(key)
        if value is not None and not isinstance(value, str):
            return None
        strings[key] = value or None
    return Listen(
        artist=artist,
        title=strings["title"],
        album=strings["album"],
        listened_at=ints["listened_at"],
        ms_played=ints["ms_played"],
        plays=plays,
        duration_ms=ints["duration_ms"],
        artist_mbid=strings["artist_mbid"],
        track_mbid=strings["track_mbid"],
        source=source,
    )
