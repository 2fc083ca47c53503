"""Reader for Spotify's streaming history: the zip, its unpacked folder, or one JSON file.

Two exports exist. The Extended Streaming History (`Streaming_History_Audio_*.json`, older
`endsong_*.json`) has per row `ts` (UTC, the END of the play), `ms_played`,
`master_metadata_track_name`, `master_metadata_album_artist_name`,
`master_metadata_album_album_name`, `spotify_track_uri`, `skipped`, `reason_end` and
`incognito_mode`; podcast rows carry `episode_name` / `spotify_episode_uri` instead. The
account-data export (`StreamingHistory*.json`) has `endTime` ("YYYY-MM-DD HH:MM", UTC),
`artistName`, `trackName` and `msPlayed`.

Rules: a listen is stored at the START of the play, `end - ms_played` (rounded down to the
second), the way Last.fm and ListenBrainz time a scrobble, so the same play imported from two
services lands at the same moment. Incognito rows are dropped, podcast and audiobook rows are
skipped, and a play under 30 s is not a listen. The track's `spotify_track_uri` is kept on the
track. The IP address, user agent, country, platform and account name in each row are never
read into a record.

Skips are feedback, never listens: a row is a skip (`Feedback(kind="skip")`, at the start of
the play) when Spotify marks it `skipped: true`, or when it was ended by the forward button
(`reason_end` "fwdbtn") before 30 s of play. A track played for three minutes and then skipped
is still a listen AND a skip; a track that simply ended under 30 s (`trackdone`) is neither.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

from recommender.errors import IngestError
from recommender.ingest.records import Feedback, Listen, Note, Record, Rejected, Skipped
from recommender.sources._common import (
    MIN_PLAY_MS,
    SHORT_PLAY,
    Member,
    instant,
    is_bundle,
    iso_instant,
    json_items,
    open_export,
    spotify_track_uri,
    text_field,
    text_instant,
    whole_number,
)

HISTORY_FILE = re.compile(
    r"^(Streaming_History_(Audio|Video)_.*|endsong_.*|StreamingHistory.*)\.json$", re.IGNORECASE
)
INCOGNITO = "incognito (private session)"
PODCAST = "podcast episode"
AUDIOBOOK = "audiobook"
NO_TRACK = "no track or artist name (removed or local content)"


def read(path: Path, encoding: str = "utf-8") -> Iterator[Record]:
    with open_export(path) as files:
        if is_bundle(path):
            history = [m for m in files if HISTORY_FILE.match(m.basename)]
            if not history:
                raise IngestError(
                    f"{path} has no Streaming_History_Audio_*.json, endsong_*.json or "
                    "StreamingHistory*.json: point at the Spotify export zip or its folder"
                )
            if len(history) < len(files):
                yield Note(f"read {len(history)} of {len(files)} files (the streaming history)")
            files = history
        for member in files:
            yield from _history(member, encoding)


def _history(member: Member, encoding: str) -> Iterator[Record]:
    for location, value in json_items(member, encoding):
        if isinstance(value, ValueError):
            yield Rejected(location, str(value))
        elif not isinstance(value, dict):
            yield Rejected(location, "not a JSON object")
        elif "ts" in value:
            yield from extended_row(location, value)
        elif "endTime" in value:
            yield account_row(location, value)
        else:
            yield Rejected(location, "neither ts (extended history) nor endTime (account data)")


# The forward button (Spotify's `reason_end` "fwdbtn") this early is a skip.
FORWARD_BUTTON = "fwdbtn"
MAX_PLAY_MS = 86_400_000  # a play longer than a day is a broken row


def extended_row(location: str, row: dict[str, object]) -> tuple[Record, ...]:
    """One Extended Streaming History row as a Listen, a skip, or a reject, and its skip
    feedback when it was skipped."""
    if row.get("incognito_mode") is True:
        return (Skipped(location, INCOGNITO),)
    if text_field(row, "episode_name") or text_field(row, "spotify_episode_uri"):
        return (Skipped(location, PODCAST),)
    if text_field(row, "audiobook_title") or text_field(row, "audiobook_uri"):
        return (Skipped(location, AUDIOBOOK),)
    end = iso_instant(row.get("ts"))
    if end is None:
        return (Rejected(location, "ts is not a UTC time between 1990 and 2100"),)
    played = whole_number(row.get("ms_played"))
    if played is None or not 0 <= played <= MAX_PLAY_MS:
        return (Rejected(location, "ms_played is not a whole number of milliseconds up to a day"),)
    title = text_field(row, "master_metadata_track_name")
    artist = text_field(row, "master_metadata_album_artist_name")
    if title is None or artist is None:
        return (Skipped(location, NO_TRACK),)
    album = text_field(row, "master_metadata_album_album_name")
    play = _play(location, artist, title, album, end, played, row.get("spotify_track_uri"))
    skipped = row.get("skipped") is True or (
        row.get("reason_end") == FORWARD_BUTTON and played < MIN_PLAY_MS
    )
    if not skipped or isinstance(play, Rejected):
        return (play,)
    start = instant((end * 1000 - played) // 1000)
    return (play, Feedback(kind="skip", artist=artist, title=title, at=start))


def account_row(location: str, row: dict[str, object]) -> Record:
    """One account-data StreamingHistory row as a Listen, a skip, or a reject."""
    if text_field(row, "episodeName") or text_field(row, "podcastName"):
        return Skipped(location, PODCAST)
    end_text = row.get("endTime")
    end = text_instant(end_text) if isinstance(end_text, str) else None
    if end is None:
        return Rejected(location, 'endTime is not a UTC time like "2021-03-04 12:34"')
    played = whole_number(row.get("msPlayed"))
    if played is None or not 0 <= played <= MAX_PLAY_MS:
        return Rejected(location, "msPlayed is not a whole number of milliseconds up to a day")
    title = text_field(row, "trackName")
    artist = text_field(row, "artistName")
    if title is None or artist is None:
        return Skipped(location, NO_TRACK)
    return _play(location, artist, title, None, end, played)


def _play(
    location: str,
    artist: str,
    title: str,
    album: str | None,
    end: int,
    played: int,
    uri: object = None,
) -> Record:
    if played < MIN_PLAY_MS:
        return Skipped(location, SHORT_PLAY)
    start = instant((end * 1000 - played) // 1000)
    if start is None:
        return Rejected(location, "the play would start before 1990")
    return Listen(
        artist=artist,
        title=title,
        album=album,
        listened_at=start,
        ms_played=played,
        spotify_uri=spotify_track_uri(uri),
    )
