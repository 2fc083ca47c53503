"""Both engines side by side: the aggregation stages on this machine and on Spark (local mode).

    .venv/bin/python bench/spark_bench.py                    # real HetRec and the `1m` world
    .venv/bin/python bench/spark_bench.py --worlds hetrec-1x,100x --master local[2]
    .venv/bin/python bench/spark_bench.py --report           # only print the saved results

For each world: a store (the real HetRec at ../shared/data/hetrec2011-lastfm-2k, or a world made
by bench/worlds.py and imported with `tastemaker import hetrec`), then, in this process, the
local engine's `aggregates.compute`, `export-listens --parquet` (pyarrow), the Spark session's
start, and the Spark engine's `compute` over the export (cold: the first action reads the
files). The two results are checked equal (counts exactly, weights to 1e-9) before any figure
is kept. Results go to --work/<world>.json (default bench/out/spark, git-ignored) and the table
printed combines every saved run.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from recommender import aggregates as local_engine  # noqa: E402
from recommender.aggregates import Aggregates  # noqa: E402
from recommender.graph import GraphParams  # noqa: E402
from recommender.graph.build import co_listening_spec  # noqa: E402
from recommender.lake import export_listens  # noqa: E402
from recommender.store import Store  # noqa: E402

HETREC = Path(
    os.environ.get("TASTEMAKER_HETREC")
    or next(
        (
            p / "shared" / "data" / "hetrec2011-lastfm-2k"
            for p in ROOT.parents
            if (p / "shared" / "data" / "hetrec2011-lastfm-2k").is_dir()
        ),
        ROOT.parent / "shared" / "data" / "hetrec2011-lastfm-2k",
    )
)
REAL = "hetrec-real"


def _store(world: str, work: Path) -> Path:
    db = work / world / "store.db"
    if db.exists():
        return db
    db.parent.mkdir(parents=True, exist_ok=True)
    folder = HETREC
    if world != REAL:
        folder = work / world / "files"
        if not folder.exists():
            subprocess.run(
                [
                    sys.executable,
                    str(ROOT / "bench" / "worlds.py"),
                    "--world",
                    world,
                    "--out",
                    str(folder),
                ],
                check=True,
            )
    subprocess.run(
        [
            str(Path(sys.executable).parent / "tastemaker"),
            "--db",
            str(db),
            "import",
            "hetrec",
            str(folder),
        ],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    return db


def _same(a: Aggregates, b: Aggregates) -> None:
    x, y = a.interactions, b.interactions
    assert x.listeners == y.listeners and np.array_equal(x.artists, y.artists)
    assert np.array_equal(x.plays.indices, y.plays.indices)
    assert np.allclose(x.plays.data, y.plays.data, rtol=1e-9)
    assert np.array_equal(a.popularity, b.popularity)
    for name in ("rows", "cols", "shared", "rank"):
        assert np.array_equal(getattr(a.co_listening, name), getattr(b.co_listening, name)), name
    assert np.array_equal(a.top_tracks.track_ids, b.top_tracks.track_ids)
    assert abs(a.tag_profile - b.tag_profile).max() < 1e-9


def run(world: str, work: Path, master: str) -> dict[str, Any]:
    from recommender.spark.engine import compute
    from recommender.spark.listening import read_export
    from recommender.spark.session import spark_session

    db = _store(world, work)
    spec = co_listening_spec(GraphParams())
    with Store.open(db) as store:
        rows = store.conn.execute("SELECT count(*) FROM listens").fetchone()[0]
        started = time.perf_counter()
        local = local_engine.compute(store, spec)
        local_s = time.perf_counter() - started
        lake = work / world / f"lake-{int(time.time())}"
        started = time.perf_counter()
        export_listens(store, lake)
        export_s = time.perf_counter() - started
    started = time.perf_counter()
    spark = spark_session(master)
    session_s = time.perf_counter() - started
    started = time.perf_counter()
    remote = compute(read_export(spark, lake), spec)
    spark_s = time.perf_counter() - started
    _same(local, remote)
    result = {
        "world": world,
        "master": master,
        "listen_rows": rows,
        "listeners": len(local.interactions.listeners),
        "artists": len(local.interactions.artists),
        "pairs_kept": int(len(local.co_listening.rows)),
        "local_s": round(local_s, 1),
        "export_s": round(export_s, 1),
        "spark_session_s": round(session_s, 1),
        "spark_s": round(spark_s, 1),
        "lake_mb": round(sum(f.stat().st_size for f in lake.rglob("*") if f.is_file()) / 1e6, 1),
        "peak_driver_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e3),
        "equal": True,
    }
    (work / f"{world}.json").write_text(json.dumps(result, indent=2) + "\n")
    return result


def report(work: Path) -> None:
    rows = [json.loads(p.read_text()) for p in sorted(work.glob("*.json"))]
    head = (
        "world",
        "listen_rows",
        "listeners",
        "artists",
        "pairs_kept",
        "local_s",
        "export_s",
        "spark_session_s",
        "spark_s",
        "lake_mb",
        "equal",
    )
    print("| " + " | ".join(head) + " |")
    print("|" + " --- |" * len(head))
    for r in sorted(rows, key=lambda r: r["listen_rows"]):
        print(
            "| "
            + " | ".join(
                f"{r[h]:,}" if isinstance(r[h], int) and not isinstance(r[h], bool) else str(r[h])
                for h in head
            )
            + " |"
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--worlds", default=f"{REAL},1m", help="comma-separated worlds")
    parser.add_argument("--work", type=Path, default=ROOT / "bench" / "out" / "spark")
    parser.add_argument("--master", default=os.environ.get("SPARK_MASTER", "local[2]"))
    parser.add_argument("--report", action="store_true", help="only print saved results")
    args = parser.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    if not args.report:
        for world in args.worlds.split(","):
            if world == REAL and not (HETREC / "user_artists.dat").is_file():
                print(f"skipped {REAL}: no HetRec at {HETREC}")
                continue
            print(json.dumps(run(world, args.work, args.master)), flush=True)
    report(args.work)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
