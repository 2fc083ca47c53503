"""Unexpected picks: discoveries or hits? Measured on a sample of HetRec listeners.

For a seeded sample of listeners (with at least 10 artists), 20% of each one's artists are held
out (chosen at random, seed 42) and left out of the import; the model is trained on the rest and
every sampled listener gets a playlist with the default settings. Then:

- popularity (distinct listeners per artist in the training store) of the unexpected picks,
  against the listener's own artists and against their discovery picks (medians);
- held-out hit rate: the share of unexpected picks that are held-out artists of that listener,
  against a random artist from the same outside scene (the expected hit rate of one drawn
  uniformly from the scene's artists the listener has not played, computed exactly).

Goal (issue 18): the median unexpected pick less popular than the listener's own median artist,
at a held-out hit rate at least twice the random outside-scene baseline.

Usage:
    python bench/surprise_bench.py [--hetrec PATH] [--listeners 150] [--seed 42]

The training store is built once under .bench/ (import + train) and reused for the same
sample; builds that fail (not enough unexpected candidates) are counted and reported.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections import defaultdict
from pathlib import Path

import numpy as np
from shared_data import hetrec_dir

from playlists import build_playlist
from playlists.errors import NotEnoughCandidates, NotEnoughUnexpected
from playlists.model import DISCOVERY, UNEXPECTED
from playlists.profile import Catalogue
from recommender.evaluate import holdout_size
from recommender.ingest import Listen, Record, expanded
from recommender.ingest.writer import import_records
from recommender.sources import hetrec
from recommender.store import Store
from recommender.training import load_model, train

HERE = Path(__file__).resolve().parent.parent
CACHE = HERE / ".bench"
DEFAULT_HETREC = hetrec_dir()
MIN_ARTISTS = 10


def held_out_sample(
    records: list[Record], listeners: int, seed: int
) -> tuple[dict[str, set[str]], list[Record]]:
    """({sampled listener: held-out artist names}, the records without those listens)."""
    rng = np.random.default_rng(seed)
    artists_of: dict[str, list[str]] = defaultdict(list)
    for r in records:
        if isinstance(r, Listen) and r.listener is not None:
            artists_of[r.listener].append(r.artist)
    eligible = sorted(n for n, a in artists_of.items() if len(set(a)) >= MIN_ARTISTS)
    chosen = rng.choice(eligible, size=min(listeners, len(eligible)), replace=False)
    held: dict[str, set[str]] = {}
    for name in sorted(str(c) for c in chosen):
        artists = sorted(set(artists_of[name]))
        order = rng.permutation(len(artists))[: holdout_size(len(artists))]
        held[name] = {artists[i] for i in order}
    kept = [
        r
        for r in records
        if not (isinstance(r, Listen) and r.listener in held and r.artist in held[r.listener])
    ]
    return held, kept


def prepared(source: Path, listeners: int, seed: int) -> tuple[Path, dict[str, set[str]]]:
    records = list(expanded(hetrec.read(source)))  # single rows, to hold some out
    held, kept = held_out_sample(records, listeners, seed)
    CACHE.mkdir(exist_ok=True)
    path = CACHE / f"surprise-{listeners}-{seed}.db"
    with Store.open(path) as store:
        if not store.counts()["listens"]:
            print(f"importing {source} without {sum(map(len, held.values()))} held-out pairs")
            import_records(store, "hetrec", source, kept)
        try:
            load_model(store)
        except Exception:  # missing or stale: train once
            print("training ...", flush=True)
            train(store)
    return path, held


def measure(path: Path, held: dict[str, set[str]]) -> dict[str, float]:
    with Store.open(path) as store:
        model = load_model(store)
        catalogue = Catalogue.of(store, model.graph)
        popularity = catalogue.popularity
        id_of = {name: a for a, name in catalogue.names.items()}
        scene_ids = np.asarray(model.graph.artist_ids)
        scene_labels = np.asarray(model.graph.scene_labels)
        members: dict[int, np.ndarray] = {
            int(s): scene_ids[scene_labels == s] for s in np.unique(scene_labels) if s >= 0
        }
        unexpected_pop: list[int] = []
        discovery_pop: list[int] = []
        below_own, compared = 0, 0
        own_medians: list[float] = []
        hits, baseline, picks, failed, built = 0, 0.0, 0, 0, 0
        started = time.perf_counter()
        for name, held_names in held.items():
            listener_id = store.listener_id(name)
            own = {
                int(a)
                for (a,) in store.conn.execute(
                    "SELECT DISTINCT artist_id FROM listens WHERE listener_id = ?", (listener_id,)
                )
            }
            held_ids = {id_of[n] for n in held_names if n in id_of}
            try:
                playlist = build_playlist(store, name, model=model)
            except (NotEnoughUnexpected, NotEnoughCandidates):
                failed += 1
                continue
            built += 1
            own_median = statistics.median(popularity.get(a, 0) for a in own)
            own_medians.append(own_median)
            mine = [popularity.get(t.artist_id, 0) for t in playlist.tracks if t.kind == UNEXPECTED]
            discovery_pop += [
                popularity.get(t.artist_id, 0) for t in playlist.tracks if t.kind == DISCOVERY
            ]
            unexpected_pop += mine
            if mine:
                compared += 1
                below_own += statistics.median(mine) < own_median
            for t in playlist.tracks:
                if t.kind != UNEXPECTED:
                    continue
                picks += 1
                hits += t.artist_id in held_ids
                scene = catalogue.scene_of(t.artist_id)
                pool = [int(a) for a in members.get(-1 if scene is None else scene, [])]
                pool = [a for a in pool if a not in own]
                if pool:
                    baseline += sum(a in held_ids for a in pool) / len(pool)
        seconds = time.perf_counter() - started
    hit_rate = hits / picks if picks else 0.0
    random_rate = baseline / picks if picks else 0.0
    return {
        "listeners": float(len(held)),
        "built": float(built),
        "failed": float(failed),
        "unexpected_picks": float(picks),
        "unexpected_median_listeners": float(statistics.median(unexpected_pop or [0])),
        "discovery_median_listeners": float(statistics.median(discovery_pop or [0])),
        "own_median_listeners": float(statistics.median(own_medians or [0])),
        "listeners_with_unexpected_below_own_median": below_own / compared if compared else 0.0,
        "unexpected_hit_rate": hit_rate,
        "random_outside_scene_hit_rate": random_rate,
        "hit_rate_ratio": hit_rate / random_rate if random_rate else float("inf"),
        "build_seconds": seconds,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hetrec", type=Path, default=DEFAULT_HETREC)
    parser.add_argument("--listeners", type=int, default=150)
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args()
    path, held = prepared(args.hetrec, args.listeners, args.seed)
    result = measure(path, held)
    width = max(map(len, result))
    for key, value in result.items():
        print(f"{key:<{width}}  {value:.4f}" if value % 1 else f"{key:<{width}}  {value:.0f}")
    goal_pop = result["unexpected_median_listeners"] < result["own_median_listeners"]
    goal_hits = result["hit_rate_ratio"] >= 2.0
    print(
        f"goal: median below own median {'met' if goal_pop else 'NOT met'};"
        f" hit rate >= 2x random {'met' if goal_hits else 'NOT met'}"
    )


if __name__ == "__main__":
    main()
