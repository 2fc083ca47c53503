"""What `train --deterministic` costs, and that it delivers: HetRec trained twice each way.

    .venv/bin/python bench/determinism_bench.py [--db .bench/hetrec.db] [--hetrec DIR] [--runs 2]

Each train is a child process (`tastemaker --db DB train [--deterministic] --json`) measured
from outside (wall, CPU seconds, peak RSS); its model stage (LightFM + EASE) comes from the
command's own stage costs. Then the bundles are compared file by file: the deterministic ones
must be byte-identical, the two-thread ones usually are not (LightFM's lock-free parallel
updates). The models are removed from the store afterwards.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

from shared_data import hetrec_dir

ROOT = Path(__file__).resolve().parent.parent
CLI = ROOT / ".venv" / "bin" / "tastemaker"
DEFAULT_HETREC = hetrec_dir()


def run(argv: list[str]) -> dict[str, float | dict[str, float] | str]:
    started = time.perf_counter()
    child = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    _, status, usage = os.wait4(child.pid, 0)
    wall = time.perf_counter() - started
    out = child.stdout.read() if child.stdout else ""
    if status != 0:
        raise SystemExit(f"{' '.join(argv)} failed: {child.stderr.read() if child.stderr else ''}")
    summary = json.loads(out)
    return {
        "wall_s": wall,
        "cpu_s": usage.ru_utime + usage.ru_stime,
        "peak_mb": usage.ru_maxrss / 1024,
        "model_s": float(summary["stages"]["model"]),
        "path": str(summary["path"]),
    }


def arrays_of(folder: Path) -> dict[str, bytes]:
    return {
        p.name: p.read_bytes()
        for p in sorted(folder.iterdir())
        if p.suffix in (".npy", ".json") and p.name != "manifest.json"
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", type=Path, default=ROOT / ".bench" / "hetrec.db")
    parser.add_argument("--hetrec", type=Path, default=DEFAULT_HETREC)
    parser.add_argument("--runs", type=int, default=2)
    args = parser.parse_args()
    if not args.db.exists():
        args.db.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            [str(CLI), "--db", str(args.db), "import", "hetrec", str(args.hetrec)],
            check=True,
            capture_output=True,
        )
    print(f"cores: {os.cpu_count()}, load average: {os.getloadavg()[0]:.1f}", flush=True)
    results: dict[str, list[dict]] = {"two threads": [], "deterministic": []}  # type: ignore[type-arg]
    for _ in range(args.runs):
        for label, extra in (("two threads", []), ("deterministic", ["--deterministic"])):
            figures = run([str(CLI), "--db", str(args.db), "train", *extra, "--json"])
            results[label].append(figures)
            print(
                f"{label:<14} train {figures['wall_s']:.1f} s wall, {figures['cpu_s']:.1f} CPU-s,"
                f" {figures['peak_mb']:.0f} MB; model stage {figures['model_s']:.1f} s",
                flush=True,
            )
    print(f"load average now: {os.getloadavg()[0]:.1f}")
    model = {k: statistics.median(float(r["model_s"]) for r in v) for k, v in results.items()}
    wall = {k: statistics.median(float(r["wall_s"]) for r in v) for k, v in results.items()}
    ratio = model["deterministic"] / model["two threads"]
    print(
        f"model stage, median: {model['two threads']:.1f} s on two threads, "
        f"{model['deterministic']:.1f} s deterministic: {ratio:.2f}x"
    )
    print(
        f"whole train, median: {wall['two threads']:.1f} s / {wall['deterministic']:.1f} s "
        f"(target <= 30 s on HetRec)"
    )
    for label, runs in results.items():
        if len(runs) < 2:
            continue
        first, second = (arrays_of(Path(str(r["path"]))) for r in runs[:2])
        differ = sorted(name for name in first if first[name] != second.get(name))
        print(
            f"{label}: {len(first)} array files, {len(differ)} differ between two trains"
            + (f" ({', '.join(differ[:4])}{', ...' if len(differ) > 4 else ''})" if differ else "")
        )
    import sqlite3

    with sqlite3.connect(args.db) as conn:
        for runs in results.values():
            for r in runs:
                conn.execute("DELETE FROM models WHERE path = ?", (r["path"],))
                shutil.rmtree(str(r["path"]), ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
