"""Benchmark the model side on HetRec: train time, load time, scoring latency, and the
side-by-side evaluation, printed next to the figures in BENCHMARKS.md.

    .venv/bin/python bench/model_bench.py [--hetrec DIR] [--db .bench/hetrec.db] [--no-eval]

Targets (issues 4 and 15): train < 30 s on 2 cores; scoring one listener < 2 ms; tastemaker
NDCG@10 >= 1.03 x EASE on both splits (the mean over three seeds) with coverage@10 >= 0.10.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

from shared_data import hetrec_dir

from recommender.evaluate import evaluate
from recommender.sources import import_path
from recommender.store import Store
from recommender.training import load_model, train

DEFAULT_HETREC = hetrec_dir()

# NDCG@10 random / discovery and coverage@10 measured with standard tools (BENCHMARKS.md).
REFERENCE = {
    "ease": (0.231, 0.119, 0.068),
    "item-knn": (0.217, 0.111, 0.067),
    "most-popular": (0.079, 0.036, 0.001),
    "tastemaker": (0.250, 0.125, 0.101),  # the known-good blend recipe
}


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def open_hetrec(db: Path, hetrec: Path) -> Store:
    fresh = not db.exists()
    store = Store.open(db)
    if fresh:
        started = time.perf_counter()
        import_path(store, "hetrec", hetrec)
        print(f"imported HetRec into {db} in {time.perf_counter() - started:.1f} s")
    return store


def bench_training(store: Store) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as folder:
        wall, cpu = time.perf_counter(), cpu_seconds()
        model = train(store, models_dir=Path(folder))
        figures = {
            "train_seconds": time.perf_counter() - wall,
            "train_cpu_seconds": cpu_seconds() - cpu,
        }
        wall = time.perf_counter()
        loaded = load_model(store, models_dir=Path(folder))
        figures["load_seconds"] = time.perf_counter() - wall
        timings = []
        for listener in loaded.listeners[:300]:
            started = time.perf_counter()
            loaded.scores(listener)
            timings.append(time.perf_counter() - started)
        figures["score_ms_median"] = 1000 * statistics.median(timings)
        figures["score_ms_p95"] = 1000 * sorted(timings)[int(0.95 * len(timings))]
        figures["bundle_mb"] = sum(
            p.stat().st_size for p in (Path(folder) / model.model_id).iterdir()
        ) / 1e6
        with store.transaction() as conn:  # the benchmark leaves no model rows behind
            conn.execute("DELETE FROM models WHERE id = ?", (model.model_id,))
    return figures


def print_table(report: dict[str, dict[str, dict[str, float | None]]]) -> None:
    print()
    print("| model | NDCG@10 random (ref) | NDCG@10 discovery (ref) | coverage@10 r/d (ref) |"
          " recall@50 r/d | novelty@10 | ILD@10 | cold recall@50 | fit s r/d |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for name in ("tastemaker", "ease", "item-knn", "most-popular"):
        r, d = report["random"].get(name), report["discovery"].get(name)
        if r is None or d is None:
            continue
        ref = REFERENCE[name]
        cold = r["cold_recall@50"]
        print(
            f"| {name} | {r['ndcg@10']:.4f} ± {r['ndcg@10_sd']:.4f} ({ref[0]:.3f}) |"
            f" {d['ndcg@10']:.4f} ± {d['ndcg@10_sd']:.4f} ({ref[1]:.3f}) |"
            f" {r['coverage@10']:.3f} / {d['coverage@10']:.3f} ({ref[2]:.3f}) |"
            f" {r['recall@50']:.3f} / {d['recall@50']:.3f} | {r['novelty@10']:.2f} |"
            f" {r['diversity@10']:.3f} | {'-' if cold is None else f'{cold:.3f}'} |"
            f" {r['fit_seconds']:.1f} / {d['fit_seconds']:.1f} |"
        )
    for split in ("random", "discovery"):
        ratio = float(report[split]["tastemaker"]["ndcg@10"] or 0) / float(
            report[split]["ease"]["ndcg@10"] or 1
        )
        coverage = float(report[split]["tastemaker"]["coverage@10"] or 0)
        print(
            f"tastemaker / ease NDCG@10 on {split} (seed means): {ratio:.3f} (target >= 1.03),"
            f" coverage@10 {coverage:.3f} (target >= 0.10)"
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hetrec", type=Path, default=DEFAULT_HETREC)
    parser.add_argument("--db", type=Path, default=Path(".bench/hetrec.db"))
    parser.add_argument("--no-eval", action="store_true", help="Only time train/load/score.")
    parser.add_argument("--json", type=Path, help="Also write every figure to this file.")
    args = parser.parse_args()
    if not (args.hetrec / "user_artists.dat").is_file():
        print(f"HetRec not found at {args.hetrec}: pass --hetrec DIR", file=sys.stderr)
        return 2
    print(f"cores: {os.cpu_count()}, load average: {os.getloadavg()[0]:.1f}")
    store = open_hetrec(args.db, args.hetrec)
    timings = bench_training(store)
    for key, value in timings.items():
        print(f"{key}: {value:.3f}")
    figures: dict[str, object] = dict(timings)
    if not args.no_eval:
        started = time.perf_counter()
        report = evaluate(store, progress=print)
        print(f"evaluate: {time.perf_counter() - started:.0f} s")
        print_table(report)
        figures["evaluate"] = report
    if args.json:
        args.json.write_text(json.dumps(figures, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
