"""Scale benchmark: the real CLI on 1x, 10x and 100x HetRec's rows beside issue 15's targets.

    .venv/bin/python bench/scale_bench.py                       # hetrec-1x, 1m and 100x
    .venv/bin/python bench/scale_bench.py --worlds hetrec-1x --hetrec   # and the real HetRec
    .venv/bin/python bench/scale_bench.py --worlds 1m --stages generate,import,train --nice 19
    .venv/bin/python bench/scale_bench.py --lastfm360k           # also the Last.fm-360K shape
    .venv/bin/python bench/scale_bench.py --report               # only print the saved results

Each world gets a folder under --work (default bench/out/scale, git-ignored): the generated
files (made by bench/worlds.py when missing), a fresh store and its models folder, one log per
stage and `result.json`. Every stage is a child process run as the user would run it
(`tastemaker --db DB import hetrec DIR`, `train`, `playlist --listener L --length 30`,
`similar A`) and measured from outside: wall time, CPU seconds and peak resident memory from
`os.wait4`. The child gets --timeout seconds and an address-space limit (--memory-limit GB,
`RLIMIT_AS`), so a run cannot take the machine down; a stage that fails is recorded with its
last error line and its time, and the benchmark goes on with the next world. The in-process
figures (a loaded model building 30-track playlists for several listeners, and `similar`) come
from `scale_bench.py probe`, also in a child.

The tables at the end combine this run with earlier saved ones: every figure beside its
target, then how time and memory grow from 1x to 10x to 100x per stage ("exponent" is the
slope of log(figure) against log(rows): 1 grows linearly, 2 quadratically). MB = 10^6 bytes.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib
import json
import math
import os
import resource
import shutil
import signal
import sqlite3
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
WORLDS_SCRIPT = ROOT / "bench" / "worlds.py"
DEFAULT_WORK = ROOT / "bench" / "out" / "scale"
GROWTH = ("hetrec-1x", "1m", "100x")  # 1x, 10x and 100x HetRec's rows
STAGES = ("generate", "import", "train", "playlist", "similar", "inprocess")
REAL_HETREC = "hetrec-real"
PLAYLIST_RUNS = 3  # CLI playlists (and similar calls) per world: each a fresh process

# Issue 15's targets table, row by row: (1 M-row world, Last.fm-360K shape, Last.fm-1K shape),
# in seconds, MB and ms; then its line for HetRec itself.
Target = dict[str, float]
TARGET_COLUMNS = ("1m", "lastfm360k", "lastfm1k")
TARGET_ROWS: dict[str, tuple[Target, Target, Target]] = {
    "import": (
        {"wall_s": 120, "peak_mb": 500},
        {"wall_s": 900, "peak_mb": 1000},
        {"wall_s": 1200, "peak_mb": 1000},
    ),
    "train": (
        {"wall_s": 300, "peak_mb": 4000},
        {"wall_s": 2700, "peak_mb": 12000},
        {"wall_s": 1200, "peak_mb": 8000},
    ),
    "bundle": ({"mb": 300}, {"mb": 2000}, {"mb": 1000}),
    "playlist": ({"wall_s": 2.0}, {"wall_s": 3.0}, {"wall_s": 3.0}),
    "inprocess_playlist": ({"median_ms": 100}, {"median_ms": 150}, {"median_ms": 150}),
    "similar": ({"wall_s": 1.5}, {"wall_s": 2.0}, {"wall_s": 2.0}),
}
HETREC_TARGETS: dict[str, Target] = {
    "train": {"wall_s": 30},
    "bundle": {"mb": 50},
    "playlist": {"wall_s": 1.0},
}
TARGETS: dict[str, dict[str, Target]] = {
    **{
        world: {what: row[column] for what, row in TARGET_ROWS.items()}
        for column, world in enumerate(TARGET_COLUMNS)
    },
    "hetrec-1x": HETREC_TARGETS,
    REAL_HETREC: HETREC_TARGETS,
}


# -- running one child -----------------------------------------------------------------------


@dataclass
class Measured:
    """Figures of a child process (or of several, summarised), and how it failed if it did."""

    ok: bool
    wall_s: float
    cpu_s: float
    peak_mb: float
    error: str | None = None
    traceback: bool = False


@dataclass
class Run(Measured):
    """One child process as measured from outside."""

    argv: list[str] = field(default_factory=list)
    stdout: str = ""


@dataclass
class Limits:
    timeout_s: float
    memory_bytes: int | None
    nice: int


def _child_setup(limits: Limits) -> Callable[[], None]:
    def setup() -> None:
        if limits.memory_bytes is not None:
            resource.setrlimit(resource.RLIMIT_AS, (limits.memory_bytes, limits.memory_bytes))
        if limits.nice:
            os.nice(limits.nice)

    return setup


def _error_line(stderr: str) -> str | None:
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    return lines[-1][:300] if lines else None


# A user's install keeps compiled bytecode (pip writes it); an environment that forbids it
# (PYTHONDONTWRITEBYTECODE, set on some build machines) makes every command compile the
# project's sources again, about 0.2 s per command, which no user sees.
CHILD_ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def run_child(argv: list[str], log: Path, limits: Limits, timeout_s: float | None = None) -> Run:
    """Run argv with the limits, its output in `log`; never raises for a failing child."""
    log.parent.mkdir(parents=True, exist_ok=True)
    budget = limits.timeout_s if timeout_s is None else timeout_s
    started = time.perf_counter()
    with log.open("w") as err, log.with_suffix(".out").open("w+") as out:
        err.write("$ " + " ".join(argv) + "\n")
        err.flush()
        proc = subprocess.Popen(
            argv,
            env=CHILD_ENV,
            stdout=out,
            stderr=err,
            stdin=subprocess.DEVNULL,
            start_new_session=True,  # its own process group, so a timeout ends all of it
            preexec_fn=_child_setup(limits),
        )
        timed_out = False
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            if time.perf_counter() - started > budget:
                timed_out = True
                os.killpg(proc.pid, signal.SIGKILL)
                _, status, usage = os.wait4(proc.pid, 0)
                break
            time.sleep(0.05)
        wall = time.perf_counter() - started
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        stdout = out.read()
    stderr = log.read_text(errors="replace")
    cpu = usage.ru_utime + usage.ru_stime
    peak_mb = usage.ru_maxrss * 1024 / 1e6  # Linux reports KiB
    error = None
    if timed_out:
        error = f"timed out after {budget:g} s (--timeout)"
    elif proc.returncode < 0:
        error = f"killed by signal {-proc.returncode}: " + (_error_line(stderr) or "")
    elif proc.returncode:
        error = _error_line(stderr) or f"exit status {proc.returncode}"
    return Run(
        argv=argv,
        ok=error is None,
        wall_s=round(wall, 3),
        cpu_s=round(cpu, 3),
        peak_mb=round(peak_mb, 1),
        error=error,
        traceback="Traceback (most recent call last)" in stderr,
        stdout=stdout[-20_000:],
    )


# -- one world -------------------------------------------------------------------------------


@dataclass
class Stage(Measured):
    """A stage's figures: one run, or the median/max over several (playlists, similar)."""

    runs: int = 1
    max_wall_s: float | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def _stage(runs: Sequence[Run], summed: bool = False) -> Stage:
    """Several runs as one stage: summed (a loop of imports) or typical (median wall time)."""
    failed = next((r for r in runs if not r.ok), None)
    walls = [r.wall_s for r in runs]
    return Stage(
        ok=failed is None,
        wall_s=round(sum(walls) if summed else statistics.median(walls), 3),
        cpu_s=round(
            sum(r.cpu_s for r in runs) if summed else statistics.median(r.cpu_s for r in runs), 3
        ),
        peak_mb=max(r.peak_mb for r in runs),
        error=None if failed is None else failed.error,
        traceback=any(r.traceback for r in runs),
        runs=len(runs),
        max_wall_s=None if summed else max(walls),
    )


@dataclass
class WorldPlan:
    label: str  # a name from bench/worlds.py, or hetrec-real
    layout: str  # hetrec or listenbrainz
    data: Path
    generated: bool


def _tastemaker() -> str:
    local = ROOT / ".venv" / "bin" / "tastemaker"
    found = str(local) if local.exists() else shutil.which("tastemaker")
    if found is None:
        raise SystemExit("Error: no tastemaker command: run `make test` to build .venv first")
    return found


def _folder_mb(folder: Path) -> float:
    if not folder.exists():
        return 0.0
    return round(sum(p.stat().st_size for p in folder.rglob("*") if p.is_file()) / 1e6, 1)


def _real_hetrec_probe(folder: Path) -> dict[str, list[str]]:
    """20 listeners spread over the ids, and the three artists with the most listeners."""
    users: list[str] = []
    listeners: dict[str, int] = {}
    with (folder / "user_artists.dat").open(encoding="utf-8") as handle:
        next(handle)
        for line in handle:
            user, artist, _ = line.rstrip("\r\n").split("\t")
            if not users or users[-1] != user:
                users.append(user)
            listeners[artist] = listeners.get(artist, 0) + 1
    names = {}
    with (folder / "artists.dat").open(encoding="utf-8") as handle:
        next(handle)
        for line in handle:
            fields = line.rstrip("\r\n").split("\t")
            names[fields[0]] = fields[1]
    top = sorted(listeners, key=lambda a: (-listeners[a], int(a)))[:3]
    step = max(1, len(users) // 20)
    return {"listeners": users[::step][:20], "artists": [names[a] for a in top]}


def _probe_targets(plan: WorldPlan) -> dict[str, list[str]]:
    if not plan.generated:
        return _real_hetrec_probe(plan.data)
    truth = json.loads((plan.data / "truth.json").read_text(encoding="utf-8"))
    probe: dict[str, list[str]] = truth["probe"]
    return probe


def _truth_size(plan: WorldPlan) -> dict[str, Any]:
    if not plan.generated:
        return {"listeners": 1_892, "artists": 17_632, "rows": 92_834}
    truth = json.loads((plan.data / "truth.json").read_text(encoding="utf-8"))
    keys = ("listeners", "artists", "rows", "tag_rows", "listens", "tracks")
    return {k: truth[k] for k in keys if k in truth}


def bench_world(
    plan: WorldPlan, work: Path, stages: set[str], limits: Limits, seed: int
) -> dict[str, Any]:
    """Run the stages asked for on one world; figures go to its result.json as they come."""
    folder = work / plan.label
    logs = folder / "logs"
    store_dir = folder / "store"
    db = store_dir / "tastemaker.db"
    result_path = folder / "result.json"
    result: dict[str, Any] = (
        json.loads(result_path.read_text()) if result_path.exists() else {"stages": {}}
    )
    result.update(label=plan.label, layout=plan.layout, data=str(plan.data), seed=seed)
    cli = [_tastemaker(), "--db", str(db)]

    def record(name: str, stage: Stage) -> Stage:
        stage_dict = asdict(stage)
        stage_dict["when"] = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        stage_dict["limits"] = {
            "timeout_s": limits.timeout_s,
            "memory_gb": None if limits.memory_bytes is None else limits.memory_bytes / 1e9,
            "nice": limits.nice,
        }
        result["stages"][name] = stage_dict
        folder.mkdir(parents=True, exist_ok=True)
        result_path.write_text(json.dumps(result, indent=2) + "\n")
        status = "ok" if stage.ok else f"FAILED: {stage.error}"
        print(
            f"[{plan.label}] {name:<18} {stage.wall_s:>9.2f} s wall {stage.cpu_s:>9.2f} s CPU"
            f" {stage.peak_mb:>8.0f} MB peak  {status}",
            flush=True,
        )
        return stage

    if plan.generated and "generate" in stages:
        if (plan.data / "truth.json").exists():
            truth = json.loads((plan.data / "truth.json").read_text(encoding="utf-8"))
            digest = hashlib.sha256(WORLDS_SCRIPT.read_bytes()).hexdigest()
            made = (truth.get("seed"), truth.get("world"), truth.get("generator_sha256"))
            if made != (seed, plan.label, digest):
                shutil.rmtree(plan.data)  # another seed or generator version: make it again
        if not (plan.data / "truth.json").exists():
            argv = [sys.executable, str(WORLDS_SCRIPT), "--world", plan.label]
            argv += ["--out", str(plan.data), "--seed", str(seed), "--force"]
            record("generate", _stage([run_child(argv, logs / "generate.log", limits)]))
    if plan.generated and not (plan.data / "truth.json").exists():
        print(f"[{plan.label}] no generated world at {plan.data}: add the generate stage")
        return result
    result["size"] = _truth_size(plan)
    result["data_mb"] = _folder_mb(plan.data)
    folder.mkdir(parents=True, exist_ok=True)
    result_path.write_text(json.dumps(result, indent=2) + "\n")

    if "import" in stages:
        shutil.rmtree(store_dir, ignore_errors=True)
        store_dir.mkdir(parents=True)
        if plan.layout == "hetrec":
            argv = [*cli, "import", "hetrec", str(plan.data)]
            imported = _stage([run_child(argv, logs / "import.log", limits)])
        else:
            imported = _import_listener_folders(plan, cli, logs, limits, db)
        imported.extra["store_mb"] = _folder_mb(store_dir)
        if not record("import", imported).ok:
            return result
    if "train" in stages:
        shutil.rmtree(store_dir / "models", ignore_errors=True)
        trained = _stage([run_child([*cli, "train"], logs / "train.log", limits)])
        trained.extra["bundle_mb"] = _folder_mb(store_dir / "models")
        if not record("train", trained).ok:
            return result
    probe = _probe_targets(plan)
    if "playlist" in stages:
        runs = [
            run_child(
                [*cli, "playlist", "--listener", listener, "--length", "30"],
                logs / f"playlist-{n}.log",
                limits,
            )
            for n, listener in enumerate(probe["listeners"][:PLAYLIST_RUNS])
        ]
        record("playlist", _stage(runs))
    if "similar" in stages:
        runs = [
            run_child([*cli, "similar", artist], logs / f"similar-{n}.log", limits)
            for n, artist in enumerate(probe["artists"][:PLAYLIST_RUNS])
        ]
        record("similar", _stage(runs))
    if "inprocess" in stages:
        argv = [sys.executable, str(Path(__file__).resolve()), "probe", "--db", str(db)]
        argv += ["--listeners", json.dumps(probe["listeners"]), "--artists"]
        argv += [json.dumps(probe["artists"])]
        run = run_child(argv, logs / "inprocess.log", limits)
        stage = _stage([run])
        if run.ok:
            stage.extra = json.loads(run.stdout.strip().splitlines()[-1])
            stage.ok = not stage.extra.get("errors")
            stage.error = "; ".join(stage.extra.get("errors", [])) or None
        record("inprocess", stage)
    return result


def _import_listener_folders(
    plan: WorldPlan, cli: list[str], logs: Path, limits: Limits, db: Path
) -> Stage:
    """One `tastemaker import listenbrainz` over every listener's export folder, as an operator
    gathering a community's exports runs it; each folder lands as its own import."""
    folders = sorted(p for p in plan.data.iterdir() if p.is_dir())
    argv = [*cli, "import", "listenbrainz", *map(str, folders)]
    run = run_child(argv, logs / "import.log", limits)
    stage = _stage([run])
    # Each export that landed left its listener (a failure stops the command at its export).
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        landed = conn.execute("SELECT count(*) FROM listeners").fetchone()[0]
    stage.extra["listeners_imported"] = int(landed)
    stage.extra["listeners"] = len(folders)
    return stage


# -- the in-process probe (runs in a child) --------------------------------------------------


def probe(db: Path, listeners: list[str], artists: list[str]) -> dict[str, Any]:
    """Load the newest model once, then time playlists and `similar` as a library user would.

    Imported by name so the probe follows the public API wherever the refactor puts it; any
    failure is reported as text, not raised.
    """
    found: dict[str, Any] = {"errors": []}
    try:
        store_module: Any = importlib.import_module("recommender.store")
        training: Any = importlib.import_module("recommender.training")
        playlists: Any = importlib.import_module("playlists")
        catalog: Any = importlib.import_module("recommender.catalog")
        started = time.perf_counter()
        store = store_module.Store.open(db)
        model = training.load_model(store)
        found["load_s"] = round(time.perf_counter() - started, 3)
    except Exception as exc:  # the probe reports; it never hides a failure behind a traceback
        found["errors"].append(f"load: {type(exc).__name__}: {exc}")
        return found
    build_ms: list[float] = []
    build_cpu_ms: list[float] = []  # the steadier figure on a shared machine
    for listener in listeners:
        try:
            started, cpu_started = time.perf_counter(), time.process_time()
            playlists.build_playlist(store, listener, length=30, model=model, save=False)
            build_ms.append((time.perf_counter() - started) * 1000)
            build_cpu_ms.append((time.process_time() - cpu_started) * 1000)
        except Exception as exc:
            found["errors"].append(f"playlist {listener}: {type(exc).__name__}: {exc}")
    similar_ms: list[float] = []
    for artist in artists:
        try:
            artist_id, _ = catalog.resolve_artist(store, artist)
            started = time.perf_counter()
            model.graph.similar(artist_id, k=10)
            similar_ms.append((time.perf_counter() - started) * 1000)
        except Exception as exc:
            found["errors"].append(f"similar {artist}: {type(exc).__name__}: {exc}")
    for name, values in (("playlist_ms", build_ms), ("similar_ms", similar_ms)):
        if values:
            found[name] = {
                "median": round(statistics.median(values), 2),
                "max": round(max(values), 2),
                "first": round(values[0], 2),
                "n": len(values),
            }
    if build_cpu_ms:
        found["playlist_ms"]["cpu_median"] = round(statistics.median(build_cpu_ms), 2)
    store.close()
    return found


def probe_main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="scale_bench.py probe")
    parser.add_argument("--db", type=Path, required=True)
    parser.add_argument("--listeners", required=True, help="JSON list of listener names")
    parser.add_argument("--artists", required=True, help="JSON list of artist names")
    args = parser.parse_args(argv)
    print(json.dumps(probe(args.db, json.loads(args.listeners), json.loads(args.artists))))
    return 0


# -- tables ----------------------------------------------------------------------------------


def _load_results(work: Path) -> dict[str, dict[str, Any]]:
    results = {}
    for path in sorted(work.glob("*/result.json")):
        data = json.loads(path.read_text())
        results[data["label"]] = data
    return results


def _figure(result: dict[str, Any], what: str) -> dict[str, float] | str | None:
    """The figures of `what` (a stage, bundle or inprocess_playlist), or why there are none."""
    stages: dict[str, Any] = result.get("stages", {})
    if what == "bundle":
        train = stages.get("train")
        if train is None:
            return None
        return {"mb": train["extra"]["bundle_mb"]} if train["ok"] else "no bundle (train failed)"
    if what == "inprocess_load":
        probe_stage = stages.get("inprocess")
        if probe_stage is None or "load_s" not in probe_stage["extra"]:
            return None
        return {"load_s": probe_stage["extra"]["load_s"]}
    if what in ("inprocess_playlist", "inprocess_similar"):
        probe_stage = stages.get("inprocess")
        key = "playlist_ms" if what == "inprocess_playlist" else "similar_ms"
        if probe_stage is None:
            return None
        figures = probe_stage["extra"].get(key)
        if figures is None:
            return f"failed: {probe_stage['error']}"
        shown = {"median_ms": figures["median"], "max_ms": figures["max"]}
        if "cpu_median" in figures:  # older results have none
            shown["cpu_median_ms"] = figures["cpu_median"]
        return shown
    stage = stages.get(what)
    if stage is None:
        return None
    if not stage["ok"]:
        return f"FAILED after {stage['wall_s']:.0f} s, {stage['peak_mb']:.0f} MB: {stage['error']}"
    return {"wall_s": stage["wall_s"], "cpu_s": stage["cpu_s"], "peak_mb": stage["peak_mb"]}


def _show(figures: dict[str, float]) -> str:
    parts = []
    if "wall_s" in figures:
        parts.append(f"{figures['wall_s']:.2f} s wall, {figures['cpu_s']:.1f} CPU-s")
        parts.append(f"{figures['peak_mb']:.0f} MB")
    if "mb" in figures:
        parts.append(f"{figures['mb']:.1f} MB")
    if "load_s" in figures:
        parts.append(f"{figures['load_s']:.2f} s")
    if "median_ms" in figures:
        parts.append(f"{figures['median_ms']:.1f} ms median, {figures['max_ms']:.1f} ms max")
    if "cpu_median_ms" in figures:
        parts.append(f"{figures['cpu_median_ms']:.1f} CPU-ms median")
    return ", ".join(parts)


def _verdict(figures: dict[str, float], target: Target) -> str:
    misses = [key for key, limit in target.items() if figures.get(key, 0.0) > limit]
    return "meets" if not misses else "MISSES (" + ", ".join(misses) + ")"


def _target_text(target: Target | None) -> str:
    if not target:
        return ""
    units = {"wall_s": "s", "peak_mb": "MB", "mb": "MB", "median_ms": "ms"}
    return "<= " + ", <= ".join(f"{v:g} {units[k]}" for k, v in target.items())


ROWS = (
    ("generate", "generate (bench/worlds.py)"),
    ("import", "import"),
    ("train", "train (model + graph)"),
    ("bundle", "model bundle on disk"),
    ("inprocess_load", "model load, in process"),
    ("playlist", "30-track playlist, CLI"),
    ("inprocess_playlist", "30-track playlist, in process"),
    ("similar", "`similar`, CLI"),
    ("inprocess_similar", "`similar`, in process"),
)


def targets_table(results: dict[str, dict[str, Any]]) -> str:
    lines = ["| world | what | measured | target | verdict |", "| --- | --- | --- | --- | --- |"]
    for label, result in sorted(results.items(), key=lambda kv: _rows(kv[1])):
        for key, title in ROWS:
            figures = _figure(result, key)
            if figures is None:
                continue
            target = TARGETS.get(label, {}).get(key)
            shown = figures if isinstance(figures, str) else _show(figures)
            verdict = ""
            if isinstance(figures, str):
                verdict = "fails" if target else ""
            elif target:
                verdict = _verdict(figures, target)
            lines.append(f"| {label} | {title} | {shown} | {_target_text(target)} | {verdict} |")
    return "\n".join(lines)


def _rows(result: dict[str, Any]) -> int:
    size: dict[str, int] = result.get("size", {})
    return int(size.get("rows", size.get("listens", 0)))


def growth_table(results: dict[str, dict[str, Any]]) -> str:
    present = [results[w] for w in GROWTH if w in results]
    if len(present) < 2:
        return "(growth needs at least two of " + ", ".join(GROWTH) + ")"
    head = " | ".join(f"{r['label']} ({_rows(r):,} rows)" for r in present)
    lines = [
        f"| stage | figure | {head} | exponent |",
        "| --- | --- |" + " --- |" * len(present) + " --- |",
    ]
    for key, title in ROWS:
        if key == "bundle":
            metrics = [("mb", "MB")]
        elif key == "inprocess_load":
            metrics = [("load_s", "s")]
        elif key.startswith("inprocess"):
            metrics = [("median_ms", "ms median")]
        else:
            metrics = [("wall_s", "wall s"), ("cpu_s", "CPU s"), ("peak_mb", "peak MB")]
        for metric, unit in metrics:
            cells: list[str] = []
            points: list[tuple[float, float]] = []
            for r in present:
                figures = _figure(r, key)
                if isinstance(figures, dict):
                    value = figures[metric]
                    cells.append(f"{value:,.2f}" if value < 100 else f"{value:,.0f}")
                    if value > 0:
                        points.append((math.log(_rows(r)), math.log(value)))
                elif isinstance(figures, str):
                    cells.append("failed" if "FAILED" in figures or "fail" in figures else "-")
                else:
                    cells.append("-")
            if all(c == "-" for c in cells):
                continue
            slope = ""
            if len(points) >= 2 and points[-1][0] != points[0][0]:
                slope = f"{(points[-1][1] - points[0][1]) / (points[-1][0] - points[0][0]):.2f}"
            lines.append(f"| {title} | {unit} | " + " | ".join(cells) + f" | {slope} |")
    return "\n".join(lines)


def print_report(work: Path) -> None:
    results = _load_results(work)
    if not results:
        print(f"no results under {work}")
        return
    print("\nFigures beside issue 15's targets\n")
    print(targets_table(results))
    print("\nGrowth from 1x to 10x to 100x HetRec's rows\n")
    print(growth_table(results))
    failures = [
        (label, name, stage)
        for label, result in results.items()
        for name, stage in result.get("stages", {}).items()
        if not stage["ok"]
    ]
    if failures:
        print("\nFailures")
        for label, name, stage in failures:
            shown = "(with a traceback)" if stage["traceback"] else ""
            print(f"- {label} {name}: after {stage['wall_s']:.0f} s: {stage['error']} {shown}")


# -- command line ----------------------------------------------------------------------------


def _plans(args: argparse.Namespace, work: Path) -> list[WorldPlan]:
    sys.path.insert(0, str(WORLDS_SCRIPT.parent))
    worlds: Any = importlib.import_module("worlds")
    import_bench: Any = importlib.import_module("import_bench")  # where HetRec is looked for
    names = [w for w in args.worlds.split(",") if w]
    if args.lastfm360k:
        names.append("lastfm360k")
    plans = []
    if args.hetrec is not None:
        hetrec = Path(args.hetrec) if args.hetrec else import_bench._default_hetrec()
        if not hetrec.is_dir():
            raise SystemExit("Error: no HetRec folder found: pass --hetrec DIR")
        plans.append(WorldPlan(REAL_HETREC, "hetrec", hetrec, generated=False))
    for name in names:
        world = worlds.WORLDS.get(name)
        if world is None:
            raise SystemExit(f"Error: no world {name!r}: choose from {', '.join(worlds.WORLDS)}")
        plans.append(WorldPlan(name, world.layout, work / name / "data", generated=True))
    return plans


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["probe"]:
        return probe_main(argv[1:])
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--worlds", default=",".join(GROWTH), help="comma-separated worlds from bench/worlds.py"
    )
    parser.add_argument("--lastfm360k", action="store_true", help="also the Last.fm-360K shape")
    parser.add_argument(
        "--hetrec",
        nargs="?",
        const="",
        help="also the real HetRec folder (DIR, or found under ../shared/data when omitted)",
    )
    parser.add_argument("--stages", default=",".join(STAGES), help="subset of " + ",".join(STAGES))
    parser.add_argument(
        "--work", type=Path, default=DEFAULT_WORK, help="where worlds and stores go"
    )
    parser.add_argument("--seed", type=int, default=42, help="seed of the generated worlds")
    parser.add_argument("--timeout", type=float, default=1800, help="seconds per stage (1800)")
    parser.add_argument(
        "--memory-limit", type=float, default=8.0, help="GB of address space per child (8; 0: none)"
    )
    parser.add_argument("--nice", type=int, default=0, help="niceness of the children (0)")
    parser.add_argument("--report", action="store_true", help="only print the saved results")
    args = parser.parse_args(argv)
    work = args.work.resolve()
    if not args.report:
        stages = {s for s in args.stages.split(",") if s}
        unknown = stages - set(STAGES)
        if unknown:
            parser.error(f"unknown stages {', '.join(sorted(unknown))}: use {', '.join(STAGES)}")
        limits = Limits(
            timeout_s=args.timeout,
            memory_bytes=int(args.memory_limit * 1e9) if args.memory_limit > 0 else None,
            nice=args.nice,
        )
        for plan in _plans(args, work):
            bench_world(plan, work, stages, limits, args.seed)
    print_report(work)
    return 0


if __name__ == "__main__":
    sys.exit(main())
