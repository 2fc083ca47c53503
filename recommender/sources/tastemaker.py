"""Reader for tastemaker's own export (`tastemaker export-data`), so a listener can come back.

Listens keep the source they were first imported from (so ignored sources stay ignored) and
what identifies their track (MBIDs, Spotify URI, ISRC, album, duration), feedback (loves,
hates, skips) comes back as feedback, the terms are restored as they were, and playlists are
reported as skipped: they are what a past model made, and a new `train` + `playlist` makes
fresh ones. See docs/export-format.md.

The file is read as a stream (`JsonStream`): one listen in memory at a time, so an export of
millions of listens imports in bounded memory. `format` and `version` must come before the
data, and `listener` before the listens and feedback, as `export-data` writes them. A value
of the wrong type or out of range (a time in the year 30,000, a play count of 10^20, a name
that is not valid Unicode) rejects that row, with its place in the file.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from recommender.errors import IngestError, TastemakerError
from recommender.ingest.records import (
    DefaultListener,
    Feedback,
    Listen,
    Record,
    Rejected,
    Skipped,
    StoredTerms,
)
from recommender.sources._common import (
    JsonStream,
    instant,
    is_text,
    isrc,
    mbid,
    open_export,
    spotify_track_uri,
)
from recommender.terms import terms_from_dict

# What `export-data` (`playlists.privacy`, above this package) writes in the file's "format" and
# "version" fields, and all this reader accepts: the reader sits lower, so both can import them.
EXPORT_FORMAT = "tastemaker-export"
EXPORT_VERSION = 1

MAX_PLAYS = 10**9
MAX_MS = 10**11  # a play or a track longer than three years is not one
MAX_TEXT = 10_000  # characters in one name


def read(path: Path) -> Iterator[Record]:
    if path.is_dir():
        raise IngestError(f"{path} is a folder: pass the file `export-data` wrote")
    with open_export(path) as files, JsonStream(files[0], "utf-8") as stream:
        if stream.peek() != "{":
            raise IngestError(
                f"{path} is not a tastemaker export: pass the file `export-data` wrote"
            )
        stream.expect("{", "it does not start with {")
        yield from _document(path, stream)
        stream.end()


def _document(path: Path, stream: JsonStream) -> Iterator[Record]:
    seen_format = seen_version = False
    name: str | None = None
    terms: list[Record] = []  # written after the listens, as the file's data comes first
    for key in stream.members():
        if key == "format":
            if stream.value("format") != EXPORT_FORMAT:
                raise IngestError(
                    f"{path} is not a tastemaker export: pass the file `export-data` wrote"
                )
            seen_format = True
            continue
        if not seen_format:
            raise IngestError(
                f"{path} is not a tastemaker export: pass the file `export-data` wrote"
            )
        if key == "version":
            version = stream.value("version")
            if version != EXPORT_VERSION:
                raise IngestError(
                    f"{path} is export format version {version!r}, this tastemaker reads "
                    f"version {EXPORT_VERSION}: upgrade tastemaker"
                )
            seen_version = True
            continue
        if not seen_version:
            raise IngestError(f"{path} does not say its export format version: the file is damaged")
        if key == "listener":
            who = stream.value("listener")
            found = who.get("name") if isinstance(who, dict) else None
            if not isinstance(found, str) or not found.strip() or not is_text(found):
                raise IngestError(f"{path} does not name its listener: the file is damaged")
            name = found
            # The owner named in the file, unless `import --listener` names another.
            yield DefaultListener(name)
        elif key in ("listens", "feedback"):
            if name is None:
                raise IngestError(
                    f"{path} lists {key} before naming its listener: the file is damaged"
                )
            if stream.peek() != "[":
                raise IngestError(f"{path} has no list of {key}: the file is damaged")
            stream.expect("[", key)
            parse = _listen if key == "listens" else _feedback
            for number, (_, row) in enumerate(stream.items(key)):
                yield parse(f"{key}[{number}]", row)
        elif key == "terms":
            terms = list(_terms(stream.value("terms")))
        elif key == "playlists":
            if stream.peek() == "[":
                stream.expect("[", "playlists")
                for number, _ in enumerate(stream.items("playlist")):
                    yield Skipped(
                        f"playlists[{number}]",
                        "playlists are not re-imported: run train and playlist again",
                    )
            else:
                stream.value("playlists")
        else:
            stream.skip(key)  # exported_at, imports: records of the past, not data
    if name is None:
        raise IngestError(f"{path} does not name its listener: the file is damaged")
    yield from terms


def _terms(values: object) -> Iterator[Record]:
    if values is None:
        return
    if not isinstance(values, dict):
        yield Rejected("terms", "terms must be an object")
        return
    values = {k: v for k, v in values.items() if k != "updated_at"}
    try:
        yield StoredTerms(terms=terms_from_dict(values))
    except (TastemakerError, TypeError, ValueError) as exc:
        yield Rejected("terms", str(exc)[:200])


def _int(row: dict[str, Any], key: str, low: int, high: int) -> tuple[bool, int | None]:
    """(valid, value) for an optional whole number within [low, high]."""
    value = row.get(key)
    if value is None:
        return True, None
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        return False, None
    return True, value


def _text(row: dict[str, Any], key: str) -> tuple[bool, str | None]:
    """(valid, value) for an optional string that SQLite can store."""
    value = row.get(key)
    if value is None:
        return True, None
    if not isinstance(value, str) or len(value) > MAX_TEXT or not is_text(value):
        return False, None
    return True, value or None


def _listen(location: str, row: object) -> Listen | Rejected:
    bad = Rejected(
        location,
        "a listen needs an artist, a source, a positive plays count and values of the "
        "documented types and ranges",
    )
    if not isinstance(row, dict):
        return bad
    ok_artist, artist = _text(row, "artist")
    ok_source, source = _text(row, "source")
    plays = row.get("plays", 1)
    if not (ok_artist and ok_source) or artist is None or source is None:
        return bad
    if isinstance(plays, bool) or not isinstance(plays, int) or not 0 < plays <= MAX_PLAYS:
        return bad
    numbers = {
        "listened_at": _int(row, "listened_at", -(2**62), 2**62),
        "ms_played": _int(row, "ms_played", 0, MAX_MS),
        "duration_ms": _int(row, "duration_ms", 1, MAX_MS),
    }
    texts = {
        key: _text(row, key)
        for key in (
            "title",
            "album",
            "artist_mbid",
            "track_mbid",
            "release_mbid",
            "spotify_uri",
            "isrc",
        )
    }
    if not all(ok for ok, _ in numbers.values()) or not all(ok for ok, _ in texts.values()):
        return bad
    listened_at = numbers["listened_at"][1]
    if listened_at is not None and instant(listened_at) is None:
        return Rejected(location, "listened_at is not a time between 1990 and 2100")
    return Listen(
        artist=artist,
        title=texts["title"][1],
        album=texts["album"][1],
        listened_at=listened_at,
        ms_played=numbers["ms_played"][1],
        plays=plays,
        duration_ms=numbers["duration_ms"][1],
        artist_mbid=mbid(texts["artist_mbid"][1]),
        track_mbid=mbid(texts["track_mbid"][1]),
        release_mbid=mbid(texts["release_mbid"][1]),
        spotify_uri=spotify_track_uri(texts["spotify_uri"][1]),
        isrc=isrc(texts["isrc"][1]),
        source=source,
    )


def _feedback(location: str, row: object) -> Feedback | Rejected:
    bad = Rejected(
        location,
        "feedback needs a kind (love, hate or skip), an artist or a recording id, and values "
        "of the documented types",
    )
    if not isinstance(row, dict):
        return bad
    kind = row.get("kind")
    ok_at, at = _int(row, "at", -(2**62), 2**62)
    texts = {
        key: _text(row, key)
        for key in ("artist", "title", "recording_mbid", "recording_msid", "source")
    }
    # Imported here: recommender.feedback loads scipy, which reading a file never needs.
    from recommender.feedback import KINDS

    if kind not in KINDS or not ok_at or not all(ok for ok, _ in texts.values()):
        return bad
    artist, recording, msid = (
        texts["artist"][1],
        mbid(texts["recording_mbid"][1]),
        mbid(texts["recording_msid"][1]),
    )
    if artist is None and recording is None and msid is None:
        return bad
    return Feedback(
        kind=str(kind),
        artist=artist,
        title=texts["title"][1],
        recording_mbid=recording,
        recording_msid=msid,
        at=None if at is None else instant(at),
        source=texts["source"][1],
    )
