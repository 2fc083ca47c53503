"""Wall time and peak memory of importing HetRec and the demo world, and of `tastemaker demo`.

Run: `make bench` or `.venv/bin/python bench/import_bench.py [--hetrec DIR] [--repeat N]`.
Each case runs in its own subprocess (a fresh store in a temporary folder); peak memory is that
child's maximum resident set size from `os.wait4`. A "floor" row per data set times merely
parsing the raw files with pandas, so the import's own overhead can be read off. The target
from issue #2: import + train + playlist of the demo world in under 30 s on 2 cores.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from shared_data import hetrec_dir

ROOT = Path(__file__).resolve().parent.parent


TASTEMAKER = [sys.executable, "-m", "playlists"]

FLOOR_HETREC = """
import sys, pandas as pd
d = sys.argv[1]
for name, enc in [("artists.dat", "utf-8"), ("tags.dat", "latin-1"),
                  ("user_artists.dat", "utf-8"), ("user_taggedartists.dat", "utf-8")]:
    pd.read_csv(f"{d}/{name}", sep="\\t", encoding=enc, quoting=3)
"""
FLOOR_DEMO = """
import sys, pandas as pd
d = sys.argv[1]
for name in ["artists.csv", "artist_tags.csv", "tracks.csv", "listens.csv.gz"]:
    pd.read_csv(f"{d}/{name}")
"""


def measure(argv: list[str], env: dict[str, str] | None = None) -> tuple[float, float, float]:
    """(wall s, CPU s, peak RSS MiB) of one child process; raises if it fails."""
    started = time.perf_counter()
    proc = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - started
    proc.returncode = os.waitstatus_to_exitcode(status)
    err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
    if proc.stderr:
        proc.stderr.close()
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} failed ({proc.returncode}):\n{err}")
    cpu = usage.ru_utime + usage.ru_stime  # steadier than wall time on a busy machine
    return wall, cpu, usage.ru_maxrss / 1024  # Linux reports KiB


def cases(hetrec: Path | None) -> list[tuple[str, list[str], str]]:
    demo = ROOT / "datasets" / "demo"
    rows: list[tuple[str, list[str], str]] = []
    if hetrec is not None:
        rows.append(
            (
                "HetRec: parse only (pandas floor)",
                [sys.executable, "-c", FLOOR_HETREC, str(hetrec)],
                "",
            )
        )
        rows.append(
            (
                "HetRec: tastemaker import hetrec",
                [*TASTEMAKER, "--db", "{db}", "import", "hetrec", str(hetrec)],
                "",
            )
        )
    rows.append(
        ("demo: parse only (pandas floor)", [sys.executable, "-c", FLOOR_DEMO, str(demo)], "")
    )
    rows.append(
        (
            "demo: tastemaker import demo",
            [*TASTEMAKER, "--db", "{db}", "import", "demo", str(demo)],
            "",
        )
    )
    rows.append(
        ("demo: tastemaker demo (end to end)", [*TASTEMAKER, "--db", "{db}", "demo"], "< 30 s")
    )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hetrec", type=Path, default=hetrec_dir(), help="HetRec folder")
    parser.add_argument("--repeat", type=int, default=1, help="runs per case (median shown)")
    args = parser.parse_args()
    hetrec = args.hetrec if (args.hetrec / "user_artists.dat").is_file() else None
    if hetrec is None:
        print(f"(HetRec not found at {args.hetrec}: its rows are left out)")
    env = {**os.environ}
    env.pop("TASTEMAKER_DB", None)
    work = Path(tempfile.mkdtemp(prefix="tastemaker-bench-"))
    print(f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} at start")
    print(f"{'case':<38} {'wall s':>8} {'CPU s':>7} {'peak MiB':>9} {'target':>8}")
    try:
        for label, argv, target in cases(hetrec):
            walls, cpus, peaks = [], [], []
            for run in range(args.repeat):
                db = work / f"{label.split(':')[0]}-{len(os.listdir(work))}-{run}.db"
                wall, cpu, peak = measure([a.replace("{db}", str(db)) for a in argv], env)
                walls.append(wall)
                cpus.append(cpu)
                peaks.append(peak)
            print(
                f"{label:<38} {statistics.median(walls):>8.1f} {statistics.median(cpus):>7.1f}"
                f" {max(peaks):>9.0f} {target:>8}"
            )
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
