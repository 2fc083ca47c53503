"""Playlist speed: a 30-track playlist in-process (model loaded) and from the CLI.

Targets: < 100 ms in-process once the model is loaded, < 3 s from the CLI (a fresh process
that opens the store, loads the model, builds, stores and prints the playlist).

Usage:
    python bench/playlist_bench.py                 # the demo world
    python bench/playlist_bench.py --hetrec PATH   # also HetRec 2011 (artist-level)
    python bench/playlist_bench.py --db STORE      # a store already imported and trained

Besides the whole build, it times the model side of a playlist on its own (loading the
bundle, the listener's scores, the bridge search from their artists, `similar`), so what the
model costs can be told apart from the playlist side's own reads of the store.

Stores are built once under .bench/ (import + train) and reused by later runs.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

from playlists import build_playlist
from recommender.resources import demo_dir
from recommender.sources import import_path
from recommender.store import Store
from recommender.training import load_model, train

HERE = Path(__file__).resolve().parent.parent
CACHE = HERE / ".bench"


def prepared(name: str, fmt: str, source: Path) -> Path:
    path = CACHE / f"{name}.db"
    CACHE.mkdir(exist_ok=True)
    with Store.open(path) as store:
        if not store.counts()["listens"]:
            print(f"[{name}] importing {source} ...", flush=True)
            import_path(store, fmt, source)
        try:
            load_model(store)
        except Exception:  # missing or stale: train once
            print(f"[{name}] training ...", flush=True)
            train(store)
    return path


def bench(name: str, path: Path, runs: int) -> None:
    with Store.open(path) as store:
        started = time.perf_counter()
        model = load_model(store)
        load_s = time.perf_counter() - started
        listeners = [
            r[0]
            for r in store.conn.execute(
                "SELECT p.name FROM listeners p JOIN listens l ON l.listener_id = p.id"
                " GROUP BY p.id ORDER BY count(*) DESC LIMIT ?",
                (runs,),
            )
        ]
        scores_ms, bridges_ms, similar_ms = [], [], []
        for listener in listeners:
            if not model.has_listener(listener):
                continue
            t0 = time.perf_counter()
            model.scores(listener)
            scores_ms.append((time.perf_counter() - t0) * 1000)
            row = model._row(listener)
            heard = model.artist_ids[model._heard(row)].tolist()
            t0 = time.perf_counter()
            model.graph.bridges_from(heard)
            bridges_ms.append((time.perf_counter() - t0) * 1000)
            t0 = time.perf_counter()
            model.similar(int(heard[0]), n=10)
            similar_ms.append((time.perf_counter() - t0) * 1000)
        build_ms, stored_ms = [], []
        for listener in listeners:
            t0 = time.perf_counter()
            build_playlist(store, listener, length=30, surprise=0.2, model=model, save=False)
            build_ms.append((time.perf_counter() - t0) * 1000)
            t0 = time.perf_counter()
            build_playlist(store, listener, length=30, surprise=0.2, model=model, save=True)
            stored_ms.append((time.perf_counter() - t0) * 1000)
    cli = [
        HERE / ".venv" / "bin" / "tastemaker",
        "--db",
        str(path),
        "playlist",
        "--listener",
        listeners[0],
        "--length",
        "30",
        "--format",
        "json",
    ]
    cli_s = []
    for _ in range(3):
        t0 = time.perf_counter()
        subprocess.run(cli, check=True, capture_output=True)
        cli_s.append(time.perf_counter() - t0)
    print(f"\n[{name}] model load {load_s * 1000:.0f} ms; {len(listeners)} listeners")
    print(f"{'measure':<38} {'median':>10} {'max':>10} {'target':>10}")
    for label, values in (
        ("model side: scores for one listener", scores_ms),
        ("model side: bridge search", bridges_ms),
        ("model side: similar (k = 10)", similar_ms),
    ):
        if values:
            print(
                f"{label:<38} {statistics.median(values):>8.1f}ms {max(values):>8.1f}ms"
                f" {'':>10}"
            )
    print(
        f"{'in-process build (30 tracks)':<38} {statistics.median(build_ms):>8.1f}ms"
        f" {max(build_ms):>8.1f}ms {'< 100ms':>10}"
    )
    print(
        f"{'in-process build + store':<38} {statistics.median(stored_ms):>8.1f}ms"
        f" {max(stored_ms):>8.1f}ms {'< 100ms':>10}"
    )
    print(
        f"{'CLI, fresh process, json':<38} {statistics.median(cli_s):>9.2f}s"
        f" {max(cli_s):>9.2f}s {'< 3s':>10}"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hetrec", type=Path, help="HetRec 2011 Last.fm 2k folder")
    parser.add_argument("--runs", type=int, default=20, help="listeners per store")
    parser.add_argument("--db", type=Path, help="only this store (imported and trained)")
    args = parser.parse_args()
    if args.db:
        bench(args.db.stem, args.db, args.runs)
        return 0
    bench("demo", prepared("demo", "demo", demo_dir()), args.runs)
    if args.hetrec:
        bench("hetrec", prepared("hetrec", "hetrec", args.hetrec), args.runs)
    return 0


if __name__ == "__main__":
    sys.exit(main())
