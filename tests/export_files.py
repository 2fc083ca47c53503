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
