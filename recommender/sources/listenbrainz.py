"""Reader for a ListenBrainz export: the zip (or its unpacked folder), or a bare listens file.

The export zip (listenbrainz-server's `background/export.py`) holds `user.json`
(`{"user_id", "username"}`: the account name, used as the listener when --listener is not
given), `listens/YYYY/M.jsonl` (one listen per line), `feedback.jsonl` (loves and hates) and
`pinned_recording.jsonl`. A zip re-packed with one top folder around them reads the same. A
bare file may be JSON Lines or one JSON array (older exports), read as a stream.

Per listen: `listened_at` (int or float Unix seconds, UTC), `track_metadata.artist_name`,
`track_name`, `release_name`, `additional_info.duration_ms` (or `duration`, seconds), and what
identifies the track: the recording and release MBIDs from `mbid_mapping` (the server's match,
preferred) or `additional_info` (what the player sent), the ISRC (`additional_info.isrc`) and
the Spotify track (`additional_info.spotify_id`, or an `origin_url` on open.spotify.com). An
artist MBID is used for matching only when the listen credits exactly one artist: for
"A feat. B" the first MBID names A alone, and matching the credit to it would merge two names.

Feedback is a statement about a recording, not a play: each `feedback.jsonl` row (`score` 1 =
love, -1 = hate, 0 = withdrawn, skipped; `recording_mbid` and/or `recording_msid`; `created`,
Unix seconds) becomes a `Feedback` record, never a listen. The listens of the same export name
the artist and title behind each MSID or MBID the feedback mentions (the reader looks them up
while streaming the listens), so the feedback can be placed even when only an MSID is known.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from recommender.errors import IngestError
from recommender.ingest.records import (
    DefaultListener,
    Feedback,
    Listen,
    Note,
    Record,
    Rejected,
    Skipped,
)
from recommender.sources._common import (
    Member,
    instant,
    is_bundle,
    isrc,
    json_items,
    mbid,
    open_export,
    small_json,
    spotify_track_uri,
    text_field,
    whole_number,
)

WITHDRAWN = "feedback withdrawn (score 0)"
SCORES = {1: "love", -1: "hate"}
# Most recordings a feedback file may ask the listens to name; a real account has far fewer
# loves and hates, and past this the rest are stored by id alone (resolved when they arrive).
MAX_NAMED = 200_000

# What the listens tell about a recording the feedback mentions: (artist, title).
_Names = dict[str, tuple[str, str]]


def read(path: Path, encoding: str = "utf-8") -> Iterator[Record]:
    with open_export(path) as files:
        if not is_bundle(path):
            yield from _listens(files[0], encoding, True, {}, set())
            return
        top = _top_folder(files)
        named = {m.name[len(top) :]: m for m in files}
        user = named.get("user.json")
        feedback = named.get("feedback.jsonl")
        listens = [m for name, m in named.items() if _is_listens_file(name)]
        if not listens:
            raise IngestError(
                f"{path} has no listens/YYYY/M.jsonl files: point at the ListenBrainz export "
                "zip (Settings > Export) or at one listens file"
            )
        wanted = _feedback_ids(feedback, encoding) if feedback is not None else set()
        names: _Names = {}
        if user is not None:
            yield from _user(user, encoding)
        for member in listens:
            yield from _listens(member, encoding, user is None, names, wanted)
        if feedback is not None:
            yield from _feedback(feedback, encoding, names)
        read_now = {id(m) for m in [user, feedback, *listens] if m is not None}
        others = [m.name for m in files if id(m) not in read_now]
        if others:
            shown = ", ".join(others[:5]) + (" ..." if len(others) > 5 else "")
            yield Note(f"not read (not listens): {shown}")


def _top_folder(files: list[Member]) -> str:
    """The "name/" every file sits in when an export was re-zipped with its top folder."""
    if any(m.name == "user.json" or m.name.startswith("listens/") for m in files):
        return ""
    tops = {m.name.split("/", 1)[0] for m in files}
    if len(tops) == 1 and all("/" in m.name for m in files):
        return f"{tops.pop()}/"
    return ""


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


def _listens(
    member: Member,
    encoding: str,
    name_from_listens: bool,
    names: _Names,
    wanted: set[str],
) -> Iterator[Record]:
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
        record = listen(location, value)
        if wanted and isinstance(record, Listen) and isinstance(value, dict):
            meta = value.get("track_metadata")
            msid = _text(meta, "recording_msid") or _text(value, "recording_msid")
            for key in (msid, record.track_mbid):
                if key is not None and key in wanted and key not in names:
                    names[key] = (record.artist, record.title or "")
        yield record


def _text(obj: object, key: str) -> str | None:
    return text_field(obj, key) if isinstance(obj, dict) else None


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
        return Rejected(location, "no artist_name or track_name (or not valid text)")
    listened_at = instant(whole_number(value.get("listened_at")))
    if listened_at is None:
        return Rejected(location, "listened_at is missing or not a time between 1990 and 2100")
    info = meta.get("additional_info")
    info = info if isinstance(info, dict) else {}
    mapping = meta.get("mbid_mapping")
    mapping = mapping if isinstance(mapping, dict) else {}
    # Most listens carry few of these: each is parsed only when it is there.
    recording = mapping.get("recording_mbid") or info.get("recording_mbid")
    release = mapping.get("release_mbid") or info.get("release_mbid")
    code = info.get("isrc")
    spotify = info.get("spotify_id") or info.get("origin_url")
    return Listen(
        artist=artist,
        title=title,
        album=text_field(meta, "release_name"),
        listened_at=listened_at,
        duration_ms=_duration_ms(info),
        artist_mbid=_single_artist_mbid(mapping) or _single_artist_mbid(info),
        track_mbid=mbid(recording) if recording else None,
        release_mbid=mbid(release) if release else None,
        isrc=isrc(code) if code else None,
        spotify_uri=spotify_track_uri(spotify) if spotify else None,
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


def _feedback_ids(member: Member, encoding: str) -> set[str]:
    """The recording MSIDs and MBIDs the feedback mentions (for the listens to name)."""
    wanted: set[str] = set()
    for _, value in json_items(member, encoding):
        if len(wanted) >= MAX_NAMED:
            break
        if isinstance(value, dict):
            for key in ("recording_msid", "recording_mbid"):
                found = mbid(value.get(key))
                if found is not None:
                    wanted.add(found)
    return wanted


def _feedback(member: Member, encoding: str, names: _Names) -> Iterator[Record]:
    for location, value in json_items(member, encoding):
        if not isinstance(value, dict):
            yield Rejected(location, "feedback must be a JSON object")
            continue
        score = whole_number(value.get("score"))
        if score == 0:
            yield Skipped(location, WITHDRAWN)
            continue
        kind = SCORES.get(score) if score is not None else None
        if kind is None:
            yield Rejected(location, "feedback needs a score of 1 (love) or -1 (hate)")
            continue
        recording = mbid(value.get("recording_mbid"))
        msid = mbid(value.get("recording_msid"))
        if recording is None and msid is None:
            yield Rejected(location, "feedback names no recording_mbid or recording_msid")
            continue
        found = names.get(msid or "") or names.get(recording or "")
        yield Feedback(
            kind=kind,
            artist=None if found is None else found[0],
            title=None if found is None else found[1] or None,
            recording_mbid=recording,
            recording_msid=msid,
            at=instant(whole_number(value.get("created"))),
        )
