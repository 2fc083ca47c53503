"""Both engines side by side: the aggregation stages on this machine and on Spark (local mode).

    .venv/bin/python bench/spark_bench.py                    # real HetRec and the `1m` world
    .venv/bin/python bench/spark_bench.py --worlds hetrec-1x,100x --master local[2]
    .venv/bin/python bench/spark_bench.py --report           # only print the saved results
    .venv/bin/python bench/spark_bench.py --worlds 1m --store ../scale/.../1m/store/tastemaker.db
    .venv/bin/python bench/spark_bench.py --worlds lastfm360k --store S --spark-buckets 2

For each world: a store (the real HetRec at ../shared/data/hetrec2011-lastfm-2k, or a world made
by bench/worlds.py and imported with `tastemaker import hetrec`), then, in this process, the
local engine's `aggregates.compute`, `export-listens --parquet` (pyarrow), the Spark session's
start, and the Spark engine's `compute` over the export (cold: the first action reads the
files). Each timing is saved as wall seconds and CPU seconds (`<stage>_s`, `<stage>_cpu_s`; CPU
of this process and its descendants, Spark's JVM and Python workers, which a shared machine's
load does not inflate as it does wall time), the Spark engine's also per stage
(`spark_stages`, the stages `compute` names). The two results are checked equal (counts
exactly, weights to 1e-9) before the run is marked equal. Results go to --work/<world>.json
(default bench/out/spark, git-ignored), rewritten after every stage (a stage not reached stays
null), and the table printed combines every saved run.

`--store PATH` starts from a store already imported (it is copied into --work first and never
written); `--lake DIR` reuses an export instead of timing a new one. `--spark-buckets N` runs
Spark on the listeners of the export's first N listener buckets only (of its 8, by
`listener_id % buckets`): a stated fraction for a world too big for the time at hand, saved as
`<world>-spark-N-of-B.json`, with no equality check (the local engine ran on everything).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import resource
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from shared_data import hetrec_dir  # noqa: E402

from recommender import aggregates as local_engine  # noqa: E402
from recommender.aggregates import Aggregates  # noqa: E402
from recommender.graph import GraphParams  # noqa: E402
from recommender.graph.build import co_listening_spec  # noqa: E402
from recommender.lake import export_listens  # noqa: E402
from recommender.store import Store  # noqa: E402

HETREC = hetrec_dir()
REAL = "hetrec-real"


def _store(world: str, work: Path, existing: Path | None = None) -> Path:
    db = work / world / "store.db"
    if db.exists():
        return db
    db.parent.mkdir(parents=True, exist_ok=True)
    if existing is not None:
        # A copy: opening a store may upgrade it, and the original belongs to someone else.
        shutil.copyfile(existing, db)
        return db
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


def tree_cpu_seconds() -> float:
    """CPU seconds (user + system) of this process and every live descendant (Spark's JVM
    and its Python workers), each with the children it has reaped: nice does not change it,
    unlike wall time on a shared machine."""
    parent: dict[int, int] = {}
    spent: dict[int, float] = {}
    tick = os.sysconf("SC_CLK_TCK")
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            text = (entry / "stat").read_text()
        except OSError:  # gone meanwhile
            continue
        fields = text[text.rindex(")") + 2 :].split()
        parent[int(entry.name)] = int(fields[1])
        spent[int(entry.name)] = sum(int(v) for v in fields[11:15]) / tick
    mine = {os.getpid()}
    grew = True
    while grew:
        found = {pid for pid, up in parent.items() if up in mine} - mine
        grew = bool(found)
        mine |= found
    return sum(spent.get(pid, 0.0) for pid in mine)


@contextmanager
def timed(into: dict[str, Any], name: str) -> Iterator[None]:
    """Wall and CPU seconds of the block, saved as into[name + "_s"] and into[name + "_cpu_s"]."""
    wall, cpu = time.perf_counter(), tree_cpu_seconds()
    yield
    into[f"{name}_s"] = round(time.perf_counter() - wall, 1)
    into[f"{name}_cpu_s"] = round(tree_cpu_seconds() - cpu, 1)


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


def run(
    world: str,
    work: Path,
    master: str,
    *,
    existing: Path | None = None,
    lake: Path | None = None,
    spark_buckets: int | None = None,
) -> dict[str, Any]:
    db = _store(world, work, existing)
    spec = co_listening_spec(GraphParams())
    name = world
    result: dict[str, Any] = {"world": world, "master": master}
    with Store.open(db) as store:
        result["listen_rows"] = store.conn.execute("SELECT count(*) FROM listens").fetchone()[0]
        local: Aggregates | None = None
        if spark_buckets is None:
            with timed(result, "local"):
                local = local_engine.compute(store, spec)
            result["listeners"] = len(local.interactions.listeners)
            result["artists"] = len(local.interactions.artists)
            result["pairs_kept"] = int(len(local.co_listening.rows))
            _save(work, name, result)
        if lake is None:
            lake = work / world / f"lake-{int(time.time())}"
            with timed(result, "export"):
                export_listens(store, lake)
    result["lake_mb"] = round(
        sum(f.stat().st_size for f in lake.rglob("*") if f.is_file()) / 1e6, 1
    )
    if spark_buckets is not None:
        buckets = int(json.loads((lake / "manifest.json").read_text())["buckets"])
        name = f"{world}-spark-{spark_buckets}-of-{buckets}"
        result["world"] = name
        result["part"] = f"listener buckets 0..{spark_buckets - 1} of {buckets} (Spark only)"
    _save(work, name, result)
    remote = _spark(lake, master, spec, spark_buckets, result)
    if spark_buckets is not None:
        result["listeners"] = len(remote.interactions.listeners)
        result["artists"] = len(remote.interactions.artists)
        result["pairs_kept"] = int(len(remote.co_listening.rows))
    else:
        assert local is not None
        _same(local, remote)
        result["equal"] = True
    result["peak_driver_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e3)
    _save(work, name, result)
    return result


def _spark(
    lake: Path, master: str, spec: Any, spark_buckets: int | None, result: dict[str, Any]
) -> Aggregates:
    """The Spark engine over `lake` (the first `spark_buckets` listener buckets only if set),
    its session start and its aggregation timed into `result`."""
    from pyspark.sql import functions as F

    from recommender.spark.engine import compute
    from recommender.spark.listening import read_export
    from recommender.spark.session import spark_session

    with timed(result, "spark_session"):
        spark = spark_session(master)
    listening = read_export(spark, lake)
    if spark_buckets is not None:
        buckets = int(json.loads((lake / "manifest.json").read_text())["buckets"])
        listening = dataclasses.replace(
            listening,
            listens=listening.listens.where(F.col("listener_id") % buckets < spark_buckets),
            listeners=listening.listeners.where(F.col("id") % buckets < spark_buckets),
        )
        result["spark_listen_rows"] = listening.listens.count()
    stages: dict[str, Any] = {}
    result["spark_stages"] = stages

    @contextmanager
    def clock(name: str) -> Iterator[None]:
        with timed(stages, name):
            yield

    with timed(result, "spark"):
        remote = compute(listening, spec, clock=clock)
    return remote


def _save(work: Path, name: str, result: dict[str, Any]) -> None:
    (work / f"{name}.json").write_text(json.dumps(result, indent=2) + "\n")


def report(work: Path) -> None:
    rows = [json.loads(p.read_text()) for p in sorted(work.glob("*.json"))]
    head = (
        "world",
        "listen_rows",
        "listeners",
        "artists",
        "pairs_kept",
        "local_s",
        "local_cpu_s",
        "export_s",
        "spark_session_s",
        "spark_s",
        "spark_cpu_s",
        "lake_mb",
        "equal",
    )
    print("| " + " | ".join(head) + " |")
    print("|" + " --- |" * len(head))
    for r in sorted(rows, key=lambda r: r["listen_rows"]):
        cells = [r.get(h) for h in head]
        print(
            "| "
            + " | ".join(
                "-"
                if v is None
                else f"{v:,}"
                if isinstance(v, int) and not isinstance(v, bool)
                else str(v)
                for v in cells
            )
            + " |"
        )
    for r in sorted(rows, key=lambda r: r["listen_rows"]):
        stages = r.get("spark_stages") or {}
        names = [k[: -len("_s")] for k in stages if k.endswith("_s") and not k.endswith("_cpu_s")]
        if names:
            print(
                f"{r['world']} Spark stages (wall s / CPU s): "
                + ", ".join(f"{n} {stages[n + '_s']}/{stages.get(n + '_cpu_s')}" for n in names)
            )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--worlds", default=f"{REAL},1m", help="comma-separated worlds")
    parser.add_argument("--work", type=Path, default=ROOT / "bench" / "out" / "spark")
    parser.add_argument("--master", default=os.environ.get("SPARK_MASTER", "local[2]"))
    parser.add_argument("--report", action="store_true", help="only print saved results")
    parser.add_argument("--store", type=Path, help="an imported store for the (one) world")
    parser.add_argument("--lake", type=Path, help="an export-listens folder to reuse")
    parser.add_argument(
        "--spark-buckets", type=int, help="Spark only, on the first N listener buckets"
    )
    args = parser.parse_args()
    if (args.store or args.lake or args.spark_buckets) and "," in args.worlds:
        parser.error("--store, --lake and --spark-buckets apply to one world: name one")
    args.work.mkdir(parents=True, exist_ok=True)
    if not args.report:
        for world in args.worlds.split(","):
            if world == REAL and not (HETREC / "user_artists.dat").is_file():
                print(f"skipped {REAL}: no HetRec at {HETREC}")
                continue
            done = run(
                world,
                args.work,
                args.master,
                existing=args.store,
                lake=args.lake,
                spark_buckets=args.spark_buckets,
            )
            print(json.dumps(done), flush=True)
    report(args.work)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
