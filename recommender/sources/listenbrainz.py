"""Reader for a ListenBrainz export: the zip (or its unpacked folder), or a bare listens file.

The export zip holds `user.json` (the account name, used as the listener when --listener is
not given), `listens/YYYY/M.jsonl` (one listen per line) and `feedback.jsonl` (loves and
hates). A bare file may be JSON Lines or one JSON array (older exports), read as a stream.

Per listen: `listened_at` (int or float Unix seconds, UTC), `track_metadata.artist_name`,
`track_name`, `release_name`, `additional_info.duration_ms` (or `duration`, seconds) and the
MusicBrainz ids from `mbid_mapping` (preferred) or `additional_info`. An artist MBID is used
for matching only when the listen credits exactly one artist: for "A feat. B" the first MBID
names A alone, and matching the credit to it would merge two names.

Feedback is a statement about a recording, not a play: each love or hate is counted as
skipped ("feedback, not a listen") so the listener sees it was read, and no listen is made
up from it.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from recommender.errors import IngestError
from recommender.ingest.records import DefaultListener, Listen, Note, Record, Rejected, Skipped
from recommender.sources._common import (
    Member,
    instant,
    is_bundle,
    json_items,
    mbid,
    open_export,
    small_json,
    text_field,
    whole_number,
)

FEEDBACK = "feedback (love/hate), not a listen"


def read(path: Path, encoding: str = "utf-8") -> Iterator[Record]:
    with open_export(path) as files:
        if not is_bundle(path):
            yield from _listens(files[0], encoding, name_from_listens=True)
            return
        user = [m for m in files if m.name == "user.json"]
        feedback = [m for m in files if m.name == "feedback.jsonl"]
        listens = [m for m in files if _is_listens_file(m.name)]
        if not listens:
            raise IngestError(
                f"{path} has no listens/YYYY/M.jsonl files: point at the ListenBrainz export "
                "zip (Settings > Export) or at one listens file"
            )
        if user:
            yield from _user(user[0], encoding)
        for member in listens:
            yield from _listens(member, encoding, name_from_listens=not user)
        for member in feedback:
            yield from _feedback(member, encoding)
        others = [m.name for m in files if m not in user + feedback + listens]
        if others:
            shown = ", ".join(others[:5]) + (" ..." if len(others) > 5 else "")
            yield Note(f"not read (not listens): {shown}")


def _is_listens_file(name: str) -> bool:
    return (name.startswith("listens/") or name in ("listens.jsonl", "listens.json")) and (
        name.endswith((".jsonl", ".json"))
    )


def _user(member: Member, encoding: str) -> Iterator[Record]:
    value = small_json(member, encoding)
    if isinstance(value, dict):
        name = text_field(value, "username") or text_field(value, "user_name")
        if name:
            yield DefaultListener(name)
            return
    yield Rejected(member.name, "user.json has no username; pass --listener NAME")


def _listens(member: Member, encoding: str, name_from_listens: bool) -> Iterator[Record]:
    for location, value in json_items(member, encoding):
        if isinstance(value, ValueError):
            yield Rejected(location, str(value))
            continue
        if name_from_listens and isinstance(value, dict):
            # Older exports carry the account name on every listen instead of in user.json.
            name = text_field(value, "user_name")
            if name:
                yield DefaultListener(name)
                name_from_listens = False
        yield listen(location, value)


def listen(location: str, value: object) -> Listen | Rejected:
    """One listen object as a Listen, or why it cannot be one."""
    if not isinstance(value, dict):
        return Rejected(location, "not a JSON object")
    meta = value.get("track_metadata")
    if not isinstance(meta, dict):
        return Rejected(location, "no track_metadata object")
    artist = text_field(meta, "artist_name")
    title = text_field(meta, "track_name")
    if artist is None or title is None:
        return Rejected(location, "no artist_name or track_name")
    listened_at = instant(whole_number(value.get("listened_at")))
    if listened_at is None:
        return Rejected(location, "listened_at is missing or not a time between 1990 and 2100")
    info = meta.get("additional_info")
    info = info if isinstance(info, dict) else {}
    mapping = meta.get("mbid_mapping")
    mapping = mapping if isinstance(mapping, dict) else {}
    return Listen(
        artist=artist,
        title=title,
        album=text_field(meta, "release_name"),
        listened_at=listened_at,
        duration_ms=_duration_ms(info),
        artist_mbid=_single_artist_mbid(mapping) or _single_artist_mbid(info),
        track_mbid=mbid(mapping.get("recording_mbid")) or mbid(info.get("recording_mbid")),
    )


def _duration_ms(info: dict[str, object]) -> int | None:
    duration = whole_number(info.get("duration_ms"))
    if duration is None:
        seconds = whole_number(info.get("duration"))
        duration = None if seconds is None else seconds * 1000
    # Longer than a day is a broken tag, not a track.
    return duration if duration is not None and 0 < duration < 86_400_000 else None


def _single_artist_mbid(source: dict[str, object]) -> str | None:
    ids = source.get("artist_mbids")
    if isinstance(ids, list) and len(ids) == 1:
        return mbid(ids[0])
    return None


def _feedback(member: Member, encoding: str) -> Iterator[Record]:
    for location, value in json_items(member, encoding):
        if isinstance(value, dict) and whole_number(value.get("score")) in (1, -1):
            yield Skipped(location, FEEDBACK)
        elif isinstance(value, dict) and whole_number(value.get("score")) == 0:
            continue  # feedback that was withdrawn
        else:
            yield Rejected(location, "feedback needs a score of 1 (love) or -1 (hate)")
