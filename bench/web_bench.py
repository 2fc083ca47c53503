"""The workbench under a steady loop: 1,000 requests from this process to `tastemaker serve`
running in a child process on a free localhost port.

The loop mixes what curators do: the queue, a playlist page, a verdict (approve, reject or
flag on a track, a reason link or the whole playlist), a listener page. Every request must
answer as expected (200, or 303 after a verdict): one error fails the run.

Memory: the server's resident set (VmRSS from /proc) after a warm-up of 100 requests and after
the loop. The bound: it grows by at most 32 MiB over the 1,000 requests (verdicts accumulate,
so pages grow a little; a leak of a page or a connection per request would pass that bound
within a few hundred requests). Exit status 1 when a request fails or the bound is broken.

Usage:
    python bench/web_bench.py [--requests 1000] [--bound-mib 32]

The store (demo world, trained model, three playlists) is built once under .bench/web/ and
copied afresh for every run, so runs compare.
Requests go only to 127.0.0.1.
"""

from __future__ import annotations

import argparse
import random
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

from playlists.build import build_playlist
from playlists.storage import list_playlists
from playlists.web import curators
from playlists.web.client import WorkbenchClient, served
from recommender.resources import demo_dir
from recommender.sources import import_path
from recommender.store import Store
from recommender.training import train

HERE = Path(__file__).resolve().parent.parent
CACHE = HERE / ".bench" / "web"
LISTENERS = ("listener-013", "listener-020", "listener-042")
WARM_UP = 100
SEED = 7


def prepared_store(folder: Path) -> tuple[Path, list[str]]:
    """A fresh copy (in `folder`) of the benchmark's store, and its playlist ids. The store
    itself (no verdicts yet) is built once, under .bench/web/."""
    base = CACHE / "workbench.db"
    if not base.exists():
        CACHE.mkdir(parents=True, exist_ok=True)
        partial = CACHE / "workbench.db.partial"
        with Store.open(partial) as store:
            import_path(store, "demo", demo_dir())
            train(store)
            for listener in LISTENERS:
                build_playlist(store, listener, length=20, save=True)
        partial.rename(base)
    db = folder / "workbench.db"
    shutil.copyfile(base, db)  # closed stores are checkpointed: the file is the whole store
    with Store.open(db) as store:
        ids = [p.id for p in list_playlists(store)]  # oldest first
    return db, ids[: len(LISTENERS)]


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for process {pid}")


def one_request(
    client: WorkbenchClient, i: int, playlists: list[str], rng: random.Random
) -> tuple[str, int, int]:
    """(what, status, expected status) of request number i."""
    playlist = playlists[i % len(playlists)]
    step = i % 4
    if step == 0:
        return "queue", client.page("/queue").status, 200
    if step == 1:
        return "playlist", client.page(f"/playlists/{playlist}").status, 200
    if step == 2:
        verdict = rng.choice(("approve", "reject", "flag"))
        whole = rng.random() < 0.1
        track = None if whole else rng.randint(1, 20)
        reply = client.post_verdict(playlist, verdict, track=track, note=f"bench {i}")
        return "verdict", reply.status, 303
    listener = LISTENERS[i % len(LISTENERS)]
    return "listener", client.page(f"/listeners/{listener}").status, 200


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--bound-mib", type=float, default=32.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        return run(Path(folder), args.requests, args.bound_mib)


def run(folder: Path, requests: int, bound_mib: float) -> int:
    db, playlists = prepared_store(folder)
    with Store.open(db) as store:
        token = curators.add_curator(store, "bench").token
    rng = random.Random(SEED)
    errors: list[str] = []
    timings: dict[str, list[float]] = {}
    with served(db) as server:
        client = WorkbenchClient(server.url)
        client.sign_in(token)
        client.page(f"/playlists/{playlists[0]}")
        for i in range(WARM_UP):
            one_request(client, i, playlists, rng)
        start_rss = rss_kib(server.pid)
        started = time.perf_counter()
        for i in range(requests):
            t0 = time.perf_counter()
            what, status, expected = one_request(client, i, playlists, rng)
            timings.setdefault(what, []).append(time.perf_counter() - t0)
            if status != expected:
                errors.append(f"request {i} ({what}): {status}, expected {expected}")
        elapsed = time.perf_counter() - started
        end_rss = rss_kib(server.pid)
    growth_mib = (end_rss - start_rss) / 1024
    print(f"{requests} requests in {elapsed:.1f} s ({requests / elapsed:.0f}/s)")
    for what, values in sorted(timings.items()):
        ms = sorted(v * 1000 for v in values)
        p95 = ms[int(0.95 * (len(ms) - 1))]
        median = statistics.median(ms)
        print(f"  {what:9} n={len(ms):4}  median {median:6.1f} ms  p95 {p95:6.1f} ms")
    print(
        f"server memory: {start_rss / 1024:.1f} MiB after warm-up, {end_rss / 1024:.1f} MiB "
        f"after the loop: growth {growth_mib:+.1f} MiB (bound {bound_mib:.0f} MiB)"
    )
    print(f"errors: {len(errors)}")
    for line in errors[:10]:
        print(f"  {line}")
    return 1 if errors or growth_mib > bound_mib else 0


if __name__ == "__main__":
    sys.exit(main())
