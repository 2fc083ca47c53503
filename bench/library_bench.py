"""The music folder at scale: scan a generated folder of 50,000 real audio files, then rescan it.

Usage: .venv/bin/python bench/library_bench.py [--files 50000] [--folder .bench/library-50000]

Generates (once, then reuses) a folder of tiny real FLAC files: one 50 ms tone written by sox,
copied and tagged by mutagen with an artist, album, title, track number and, for every third
file, a recording MBID; 500 artists, 10 per album folder. A fresh store gets a catalogue
holding four in five of those tracks (the MBID on every sixth). Then it times, through the
library calls the CLI uses: the first scan (every file read), a rescan with nothing changed
(the target: seconds), a rescan after 100 files were retagged, 100 moved and 100 deleted,
and `library status`. Prints wall seconds, files per second and the peak resident memory.
"""

from __future__ import annotations

import argparse
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import mutagen

from recommender.ingest.records import Track
from recommender.ingest.writer import import_records
from recommender.library import library_status, scan_folder
from recommender.store import Store

ARTISTS = 500
PER_ALBUM = 10
TARGET_UNCHANGED_S = 10.0


def _name(i: int) -> tuple[str, str, str, int]:
    artist = f"Bench Artist {i % ARTISTS:03d}"
    album = f"Album {i // (ARTISTS * PER_ALBUM):03d}"
    return artist, album, f"Song {i:06d}", i // ARTISTS % PER_ALBUM + 1


def _path(folder: Path, i: int) -> Path:
    artist, album, title, number = _name(i)
    return folder / artist / album / f"{number:02d} {title}.flac"


def _mbid(i: int) -> str:
    return str(uuid.UUID(int=i + 1))


def _template(folder: Path) -> Path:
    return folder.with_name(folder.name + ".template.flac")  # beside it: not scanned


def _write(folder: Path, i: int) -> None:
    target = _path(folder, i)
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(_template(folder), target)
    audio = mutagen.File(str(target), easy=True)
    artist, album, title, number = _name(i)
    audio.update({"artist": artist, "album": album, "title": title})
    audio["tracknumber"] = str(number)
    if i % 3 == 0:
        audio["musicbrainz_trackid"] = _mbid(i)
    audio.save()


def generate(folder: Path, files: int) -> float:
    """Write the folder (skipped when a complete one is there); returns the seconds it took."""
    if (folder / f".complete-{files}").exists():
        return 0.0
    sox = shutil.which("sox")
    if sox is None:
        sys.exit("bench/library_bench.py needs sox: apt-get install sox libsox-fmt-base")
    started = time.perf_counter()
    folder.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [sox, "-n", "-r", "8000", "-c", "1", str(_template(folder))]
        + ["synth", "0.05", "sine", "440"],
        check=True,
    )
    for i in range(files):
        _write(folder, i)
        if (i + 1) % 10_000 == 0:
            print(f"... {i + 1:,} files written", file=sys.stderr)
    (folder / f".complete-{files}").touch()
    return time.perf_counter() - started


def catalogue(files: int) -> list[Track]:
    tracks = []
    for i in range(files):
        if i % 5 == 4:
            continue
        artist, album, title, _ = _name(i)
        tracks.append(Track(artist, title, album=album, mbid=_mbid(i) if i % 6 == 0 else None))
    return tracks


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=50_000)
    parser.add_argument("--folder", type=Path, default=None)
    args = parser.parse_args()
    folder = args.folder or Path(".bench") / f"library-{args.files}"
    made = generate(folder, args.files)
    rows: list[tuple[str, float, int]] = []
    with tempfile.TemporaryDirectory() as tmp, Store.open(Path(tmp) / "bench.db") as store:
        import_records(store, "lastfm", Path("bench-catalogue.csv"), catalogue(args.files))

        def timed(label: str) -> None:
            started = time.perf_counter()
            report = scan_folder(store, folder)
            rows.append((label, time.perf_counter() - started, report.files))
            print(
                f"  {label:<44} read {report.read:,}, unchanged {report.unchanged:,}, "
                f"moved {report.moved:,}, deleted {report.deleted:,}, matched {report.matched:,}"
            )

        written = f" (written in {made:.0f} s)" if made else ""
        print(f"folder {folder}: {args.files:,} files{written}")
        timed("first scan (every file read)")
        timed("rescan, nothing changed")
        changed = [_path(folder, i) for i in range(0, 300, 3)]
        for path in changed:  # retagged
            audio = mutagen.File(str(path), easy=True)
            audio["title"] = audio["title"][0] + " (edit)"
            audio.save()
        moved = [_path(folder, i) for i in range(1, 300, 3)]
        (folder / "Moved").mkdir(exist_ok=True)
        for path in moved:
            path.rename(folder / "Moved" / path.name)
        removed = [_path(folder, i) for i in range(2, 300, 3)]
        for path in removed:
            path.unlink()
        timed("rescan after 100 retagged, moved, deleted")
        started = time.perf_counter()
        status = library_status(store)
        rows.append(("library status", time.perf_counter() - started, status.files))
        print(f"  status: {status.files:,} files, {status.matched_tracks:,} tracks matched")
        # Put the folder back as generated, so the next run reuses it.
        for path in moved:
            (folder / "Moved" / path.name).rename(path)
        for i in [*range(0, 300, 3), *range(2, 300, 3)]:
            _write(folder, i)
    print()
    for label, seconds, files in rows:
        rate = f"{files / seconds:12,.0f} files/s" if seconds else ""
        print(f"  {label:<44} {seconds:7.2f} s {rate}")
    unchanged = rows[1][1]
    print(f"  rescan unchanged: {unchanged:.2f} s (target < {TARGET_UNCHANGED_S:.0f} s)")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"  peak RSS {peak:.0f} MiB")
    return 0 if unchanged < TARGET_UNCHANGED_S else 1


if __name__ == "__main__":
    sys.exit(main())
