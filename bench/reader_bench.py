"""Import speed and peak memory of the personal-history readers on big generated exports.

Writes a ListenBrainz JSON Lines file and a Spotify Extended Streaming History (one JSON
array, the worst case for memory) of the same number of listens into a temporary folder,
imports each into a fresh on-disk store in its own subprocess, and prints wall time and the
child's CPU time and peak resident memory next to the target (< 500 MB for 1M listens).
On a busy machine wall time exceeds CPU time; CPU time is the figure to compare runs by.

    .venv/bin/python bench/reader_bench.py                 # 1,000,000 listens each
    .venv/bin/python bench/reader_bench.py --rows 100000   # a quick look
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

TARGET_MB = 500
START = 1_577_836_800  # 2020-01-01T00:00:00Z

CHILD = """
import json, resource, sys, time
from recommender.sources import import_path
from recommender.store import Store

fmt, path, db = sys.argv[1:4]
began = time.perf_counter()
with Store.open(db) as store:
    report = import_path(store, fmt, path, listener="bench")
usage = resource.getrusage(resource.RUSAGE_SELF)
print(json.dumps({
    "seconds": time.perf_counter() - began,
    "cpu_seconds": usage.ru_utime + usage.ru_stime,
    "peak_mb": usage.ru_maxrss / 1024,
    "imported": report.imported,
    "duplicates": report.duplicates,
    "skipped": report.skipped,
    "rejected": report.rejected,
}))
"""


def catalogue(rng: random.Random) -> list[tuple[str, str, str]]:
    """5,000 artists with 8 tracks each, some names with accents."""
    tracks = []
    for a in range(5000):
        artist = f"Artist {a}" if a % 10 else f"Artíst Ö {a}"
        for t in range(8):
            tracks.append((artist, f"Song {a}-{t}", f"Album {a}-{t % 2}"))
    rng.shuffle(tracks)
    return tracks


def picks(rows: int, seed: int = 42) -> list[int]:
    """Track indices with a long tail: a few tracks are played a lot, most rarely."""
    rng = random.Random(seed)
    return [min(int(40_000 * rng.random() ** 3), 39_999) for _ in range(rows)]


def write_listenbrainz(path: Path, rows: int) -> None:
    rng = random.Random(1)
    tracks = catalogue(rng)
    with path.open("w", encoding="utf-8") as out:
        for n, index in enumerate(picks(rows)):
            artist, title, album = tracks[index]
            listen = {
                "listened_at": START + 37 * n,
                "recording_msid": "00000000-0000-0000-0000-000000000000",
                "track_metadata": {
                    "artist_name": artist,
                    "track_name": title,
                    "release_name": album,
                    "additional_info": {"duration_ms": 200_000 + index, "submission_client": "b"},
                },
            }
            out.write(json.dumps(listen, ensure_ascii=False) + "\n")


def write_spotify(path: Path, rows: int) -> None:
    rng = random.Random(2)
    tracks = catalogue(rng)
    with path.open("w", encoding="utf-8") as out:
        out.write("[\n")
        for n, index in enumerate(picks(rows, seed=43)):
            artist, title, album = tracks[index]
            ms = 31_000 + (index * 7919) % 200_000
            end = datetime.fromtimestamp(START + 37 * n + ms // 1000, UTC)
            row = {
                "ts": end.strftime("%Y-%m-%dT%H:%M:%SZ"),
                "platform": "Android OS 12 API 31 (Google, Pixel 6)",
                "ms_played": ms,
                "conn_country": "NZ",
                "ip_addr": "203.0.113.77",
                "master_metadata_track_name": title,
                "master_metadata_album_artist_name": artist,
                "master_metadata_album_album_name": album,
                "spotify_track_uri": "spotify:track:3n3Ppam7vgaVa1iaRUc9Lp",
                "episode_name": None,
                "episode_show_name": None,
                "spotify_episode_uri": None,
                "reason_start": "trackdone",
                "reason_end": "trackdone",
                "shuffle": False,
                "skipped": False,
                "offline": False,
                "offline_timestamp": None,
                "incognito_mode": False,
            }
            out.write(("," if n else "") + json.dumps(row, ensure_ascii=False) + "\n")
        out.write("]\n")


def measure(fmt: str, path: Path, db: Path) -> dict[str, float]:
    began = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", CHILD, fmt, str(path), str(db)],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        sys.exit(f"{fmt} import failed:\n{done.stderr}")
    result: dict[str, float] = json.loads(done.stdout)
    result["wall_seconds"] = time.perf_counter() - began
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="listens per export")
    parser.add_argument("--keep", type=Path, help="write the files here and keep them")
    args = parser.parse_args()
    folder = args.keep or Path(tempfile.mkdtemp(prefix="reader-bench-"))
    folder.mkdir(parents=True, exist_ok=True)
    exports = [
        ("listenbrainz", folder / "listens.jsonl", write_listenbrainz),
        ("spotify", folder / "Streaming_History_Audio_2020-2023_0.json", write_spotify),
    ]
    print(f"{args.rows:,} listens per export, files in {folder}")
    print(
        f"{'format':<13}{'file MB':>9}{'import s':>10}{'cpu s':>8}{'listens/cpu s':>15}"
        f"{'peak MB':>9}{'target MB':>11}{'imported':>11}{'skipped':>9}"
    )
    try:
        for fmt, path, write in exports:
            write(path, args.rows)
            db = folder / f"{fmt}.db"
            for stale in folder.glob(f"{fmt}.db*"):
                stale.unlink()
            result = measure(fmt, path, db)
            print(
                f"{fmt:<13}{path.stat().st_size / 1e6:>9.0f}{result['wall_seconds']:>10.1f}"
                f"{result['cpu_seconds']:>8.1f}{args.rows / result['cpu_seconds']:>15,.0f}"
                f"{result['peak_mb']:>9.0f}"
                f"{TARGET_MB:>11}{int(result['imported']):>11,}{int(result['skipped']):>9,}"
            )
    finally:
        if args.keep is None:
            for file in sorted(folder.iterdir()):
                file.unlink()
            folder.rmdir()


if __name__ == "__main__":
    main()
