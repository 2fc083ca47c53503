"""Small builders for personal-export fixtures, with the services' real field names."""

from __future__ import annotations

import json
import struct
import zipfile
from pathlib import Path

from recommender.store import Store

# "Björk" spelled two ways: one precomposed ö (NFC), and o + combining diaeresis (NFD).
BJORK_NFC = "Bj\u00f6rk"
BJORK_NFD = "Bjo\u0308rk"
MBID_BJORK = "87c5dedd-371d-4a53-9f7f-80522fb7f3cb"
MBID_JOGA = "2b7c1f5d-43a4-4c8e-a2c4-7a1e4f5d2b10"


def write_zip(path: Path, files: dict[str, bytes | str]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in files.items():
            archive.writestr(name, content.encode() if isinstance(content, str) else content)
    return path


def declare_size(path: Path, member: str, size: int) -> None:
    """Rewrite the uncompressed size a zip's central directory declares for `member`."""
    data = bytearray(path.read_bytes())
    at = data.find(b"PK\x01\x02")
    while at >= 0:
        name_length = struct.unpack("<H", data[at + 28 : at + 30])[0]
        name = bytes(data[at + 46 : at + 46 + name_length]).decode()
        if name == member:
            data[at + 24 : at + 28] = struct.pack("<I", size)
        at = data.find(b"PK\x01\x02", at + 46)
    path.write_bytes(bytes(data))


def jsonl(rows: list[object]) -> str:
    return "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows)


def lb_listen(
    at: float | int | str | None,
    artist: str | None,
    track: str | None,
    release: str | None = None,
    artist_mbids: list[str] | None = None,
    recording_mbid: str | None = None,
    duration_ms: int | None = None,
) -> dict[str, object]:
    """A listen as ListenBrainz exports it."""
    meta: dict[str, object] = {"additional_info": {"submission_client": "test"}}
    if artist is not None:
        meta["artist_name"] = artist
    if track is not None:
        meta["track_name"] = track
    if release is not None:
        meta["release_name"] = release
    if duration_ms is not None:
        meta["additional_info"] = {"duration_ms": duration_ms}
    if artist_mbids is not None or recording_mbid is not None:
        meta["mbid_mapping"] = {
            "artist_mbids": artist_mbids or [],
            "recording_mbid": recording_mbid,
        }
    listen: dict[str, object] = {
        "inserted_at": 1700000000,
        "recording_msid": "00000000-0000-0000-0000-000000000000",
        "track_metadata": meta,
    }
    if at is not None:
        listen["listened_at"] = at
    return listen


def snapshot(store: Store) -> dict[str, int]:
    """Everything an import can change, as row counts."""
    return store.counts()


def instants(store: Store) -> list[int]:
    rows = store.conn.execute("SELECT listened_at FROM listens ORDER BY listened_at")
    return [int(row[0]) for row in rows]


def write_listenbrainz_jsonl(path: Path, count: int, start: int = 1_600_000_000) -> Path:
    """`count` distinct listens of 500 artists' 20 tracks each, one a minute, as JSON Lines."""
    with path.open("w", encoding="utf-8") as handle:
        for n in range(count):
            listen = {
                "listened_at": start + 60 * n,
                "track_metadata": {
                    "artist_name": f"Artist {n % 500}",
                    "track_name": f"Track {n % 20}",
                    "release_name": f"Album {n % 5}",
                },
            }
            handle.write(json.dumps(listen) + "\n")
    return path


# -- the services' own shapes, field for field ---------------------------------------------


def lb_export_listen(
    at: float,
    artist: str,
    track: str,
    release: str | None = None,
    *,
    msid: str = "00000000-0000-4000-8000-000000000000",
    recording_mbid: str | None = None,
    release_mbid: str | None = None,
    artist_mbids: list[str] | None = None,
    duration_ms: int | None = None,
    isrc: str | None = None,
    spotify_id: str | None = None,
) -> dict[str, object]:
    """A listen as listenbrainz-server's `export_listens_for_time_range` writes it: the stored
    `data` (artist_name, track_name, release_name, additional_info) with `recording_msid` and
    `mbid_mapping` (null when the server has no match) set, `listened_at` and `inserted_at` as
    epoch numbers."""
    info: dict[str, object] = {"submission_client": "ListenBrainz test", "media_player": "mpv"}
    if duration_ms is not None:
        info["duration_ms"] = duration_ms
    if isrc is not None:
        info["isrc"] = isrc
    if spotify_id is not None:
        info["spotify_id"] = spotify_id
        info["music_service"] = "spotify.com"
    meta: dict[str, object] = {
        "artist_name": artist,
        "track_name": track,
        "additional_info": info,
        "recording_msid": msid,
        "mbid_mapping": None,
    }
    if release is not None:
        meta["release_name"] = release
    if recording_mbid is not None:
        mbids = artist_mbids or []
        meta["mbid_mapping"] = {
            "recording_name": track,
            "recording_mbid": recording_mbid,
            "release_mbid": release_mbid,
            "artist_mbids": mbids,
            "caa_id": 12345678901,
            "caa_release_mbid": release_mbid,
            "artists": [
                {"artist_credit_name": artist, "join_phrase": "", "artist_mbid": m} for m in mbids
            ],
        }
    return {"listened_at": float(at), "inserted_at": float(at) + 3.5, "track_metadata": meta}


def lb_feedback(
    score: int, created: int, *, mbid: str | None = None, msid: str | None = None
) -> dict[str, object]:
    """A feedback.jsonl row as `export_feedback_for_user` writes it."""
    return {"recording_msid": msid, "recording_mbid": mbid, "score": score, "created": created}


def lb_export_zip(
    path: Path,
    user: str,
    listens: list[dict[str, object]],
    feedback: list[dict[str, object]] | None = None,
    top: str = "",
) -> Path:
    """The export zip: user.json, listens/YYYY/M.jsonl per month, feedback.jsonl."""
    from datetime import UTC, datetime

    files: dict[str, bytes | str] = {
        f"{top}user.json": json.dumps({"user_id": 7, "username": user}) + "\n"
    }
    for listen in listens:
        when = datetime.fromtimestamp(float(listen["listened_at"]), UTC)  # type: ignore[arg-type]
        name = f"{top}listens/{when.year}/{when.month}.jsonl"
        files[name] = str(files.get(name, "")) + json.dumps(listen) + "\n"
    if feedback:
        files[f"{top}feedback.jsonl"] = jsonl(list(feedback))
    return write_zip(path, files)


def spotify_row(
    ts: str,
    ms: int,
    track: str | None,
    artist: str | None,
    album: str | None = None,
    *,
    uri: str | None = None,
    skipped: bool | None = False,
    reason_end: str = "trackdone",
) -> dict[str, object]:
    """One Extended Streaming History row with every field Spotify documents."""
    return {
        "ts": ts,
        "platform": "android",
        "ms_played": ms,
        "conn_country": "NZ",
        "ip_addr": "203.0.113.9",
        "master_metadata_track_name": track,
        "master_metadata_album_artist_name": artist,
        "master_metadata_album_album_name": album,
        "spotify_track_uri": uri,
        "episode_name": None,
        "episode_show_name": None,
        "spotify_episode_uri": None,
        "audiobook_title": None,
        "audiobook_uri": None,
        "audiobook_chapter_uri": None,
        "audiobook_chapter_title": None,
        "reason_start": "clickrow",
        "reason_end": reason_end,
        "shuffle": False,
        "skipped": skipped,
        "offline": False,
        "offline_timestamp": None,
        "incognito_mode": False,
    }


def lastfm_to_csv(rows: list[tuple[str, str, str, str]]) -> str:
    """What benfoxall/lastfm-to-csv downloads: no header, `artist,album,name,date` per
    scrobble, quotes and commas dropped from every value, the date as Last.fm's text
    ("31 Jan 2021, 18:00" without its comma); the now-playing track has an empty date."""

    def clean(value: str) -> str:
        return value.replace('"', "").replace(",", "")

    return "".join(",".join(clean(v) for v in row) + "\n" for row in rows)
