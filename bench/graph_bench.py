"""Artist-graph benchmark on HetRec 2011 Last.fm 2k: speed, look-alikes and held-out recovery.

Usage: .venv/bin/python bench/graph_bench.py [--hetrec DIR] [--db bench/out/hetrec.db]

Held-out recovery (the honest check that the graph still finds same-scene pairs):
  listeners are split at random (seed 42) into a build half and a held-out half. Both the graph
  and the baseline (plain co-listening cosine top-k, no shrinkage, no look-alike rule) are built
  on the build half only. A "same-scene pair" is two artists that share a distinctive tag among
  their three strongest tags AND are played together by at least 2 listeners of the held-out
  half: evidence neither method saw. For every artist with such pairs and >= 5 build-half
  listeners, we compare the top-10 lists: recall@10 (hits / min(10, pairs)), precision@10, and
  how many listed pairs the full-data graph judges to be look-alikes.
"""

from __future__ import annotations

import argparse
import dataclasses
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import scipy.sparse as sp
from shared_data import hetrec_dir

from recommender.graph import ArtistGraph
from recommender.graph.build import specific_tags, top_tags
from recommender.interactions import Interactions, load_interactions
from recommender.sources import import_path
from recommender.store import Store

K = 10
CASUALTIES, EARTH_CRISIS = "6997", "8930"  # HetRec artist ids: street punk vs metalcore


def _store(db: Path, hetrec: Path) -> Store:
    fresh = not db.exists()
    db.parent.mkdir(parents=True, exist_ok=True)
    store = Store.open(db)
    if fresh:
        started = time.perf_counter()
        import_path(store, "hetrec", hetrec)
        print(f"imported HetRec into {db} in {time.perf_counter() - started:.1f} s")
    return store


def _rows(interactions: Interactions, rows: np.ndarray) -> Interactions:
    """The same catalogue, seen through a subset of listeners."""
    return dataclasses.replace(
        interactions,
        listeners=[interactions.listeners[r] for r in rows],
        listener_ids=interactions.listener_ids[rows],
        plays=sp.csr_matrix(interactions.plays[rows]),
        weights=sp.csr_matrix(interactions.weights[rows]),
        listener_index={interactions.listeners[r]: n for n, r in enumerate(rows)},
    )


def _binary(plays: sp.csr_matrix) -> sp.csc_matrix:
    out = sp.csc_matrix(plays, copy=True)
    out.eliminate_zeros()
    out.data = np.ones_like(out.data)
    return out


def _cosine_top(binary: sp.csc_matrix, k: int) -> dict[int, list[int]]:
    """Plain co-listening cosine top-k per artist position (the baseline)."""
    counts = np.asarray(binary.sum(axis=0)).ravel()
    shared = sp.csr_matrix(binary.T @ binary)
    shared.setdiag(0)
    shared.eliminate_zeros()
    out = {}
    for r in range(shared.shape[0]):
        start, end = shared.indptr[r], shared.indptr[r + 1]
        if start == end:
            continue
        cols = shared.indices[start:end]
        cos = shared.data[start:end] / np.sqrt(counts[r] * counts[cols])
        order = np.lexsort((cols, -cos))[:k]
        out[r] = [int(c) for c in cols[order]]
    return out


def _truth(
    held_out: sp.csc_matrix, interactions: Interactions, min_shared: int = 2
) -> dict[int, set[int]]:
    """Same-scene pairs: a shared distinctive top-3 tag and >= min_shared held-out co-listeners."""
    specific = specific_tags(interactions, 0.2)
    top3 = [
        {t for t in row if t in specific}
        for row in top_tags(interactions.artist_tags, interactions.tags, 3)
    ]
    shared = sp.triu(sp.csr_matrix(held_out.T @ held_out), k=1).tocoo()
    truth: dict[int, set[int]] = {}
    for a, b, n in zip(shared.row, shared.col, shared.data, strict=True):
        if n >= min_shared and top3[a] & top3[b]:
            truth.setdefault(int(a), set()).add(int(b))
            truth.setdefault(int(b), set()).add(int(a))
    return truth


def _score(lists: dict[int, list[int]], truth: dict[int, set[int]], queries: list[int]):  # type: ignore[no-untyped-def]
    recall, precision = [], []
    for q in queries:
        got = lists.get(q, [])[:K]
        hits = len(set(got) & truth[q])
        recall.append(hits / min(K, len(truth[q])))
        precision.append(hits / K)
    return float(np.mean(recall)), float(np.mean(precision))


def _lookalikes_listed(lists: dict[int, list[int]], full: ArtistGraph, ids: np.ndarray) -> int:
    return sum(
        full.is_lookalike(int(ids[q]), int(ids[p])) for q, got in lists.items() for p in got[:K]
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--hetrec", type=Path, default=hetrec_dir()
    )
    parser.add_argument("--db", type=Path, default=Path("bench/out/hetrec.db"))
    args = parser.parse_args()
    if not (args.hetrec / "user_artists.dat").is_file():
        print(f"HetRec not found at {args.hetrec}: pass --hetrec DIR", file=sys.stderr)
        return 1
    store = _store(args.db, args.hetrec)
    interactions = load_interactions(store)
    ids = interactions.artists

    # -- speed ------------------------------------------------------------------------------
    builds, build_cpu = [], []
    for _ in range(3):
        started, cpu = time.perf_counter(), time.process_time()
        full = ArtistGraph.build(interactions, seed=42)
        builds.append(time.perf_counter() - started)
        build_cpu.append(time.process_time() - cpu)
    rng = np.random.default_rng(42)
    listened = np.flatnonzero(full.listener_counts > 0)
    sample = rng.choice(listened, size=min(1000, len(listened)), replace=False)
    started = time.perf_counter()
    for p in sample:
        full.similar(int(ids[p]), k=K)
    similar_ms = (time.perf_counter() - started) / len(sample) * 1000
    with tempfile.TemporaryDirectory() as scratch:
        folder = full.save(Path(scratch) / "graph")
        started, cpu = time.perf_counter(), time.process_time()
        ArtistGraph.load(folder)
        load_s, load_cpu = time.perf_counter() - started, time.process_time() - cpu

    # -- the brief's look-alike pair ----------------------------------------------------------
    def by_hetrec(external: str) -> int:
        row = store.conn.execute(
            "SELECT artist_id FROM artist_external_ids WHERE source = 'hetrec' AND external_id = ?",
            (external,),
        ).fetchone()
        return int(row[0])

    cas, ec = by_hetrec(CASUALTIES), by_hetrec(EARTH_CRISIS)
    cas_list = [n.artist_id for n in full.similar(cas, k=50)]
    ec_list = [n.artist_id for n in full.similar(ec, k=50)]

    # -- held-out recovery ----------------------------------------------------------------------
    order = rng.permutation(len(interactions.listeners))
    half = len(order) // 2
    build_rows, held_rows = np.sort(order[:half]), np.sort(order[half:])
    build_half = _rows(interactions, build_rows)
    held_binary = _binary(interactions.plays[held_rows])
    truth = _truth(held_binary, interactions)
    graph = ArtistGraph.build(build_half, seed=42)
    build_binary = _binary(build_half.plays)
    build_counts = np.asarray(build_binary.sum(axis=0)).ravel()
    queries = sorted(q for q in truth if build_counts[q] >= 5)
    graph_lists = {
        q: [graph.position(n.artist_id) for n in graph.similar(int(ids[q]), k=K)] for q in queries
    }
    cosine_all = _cosine_top(build_binary, K)
    cosine_lists = {q: cosine_all.get(q, []) for q in queries}
    g_recall, g_precision = _score(graph_lists, truth, queries)
    c_recall, c_precision = _score(cosine_lists, truth, queries)
    every_graph = {
        int(p): [graph.position(n.artist_id) for n in graph.similar(int(ids[p]), k=K)]
        for p in np.flatnonzero(build_counts > 0)
    }
    every_cosine = {int(p): cosine_all.get(int(p), []) for p in np.flatnonzero(build_counts > 0)}

    print(f"HetRec: {len(interactions.listeners)} listeners, {len(ids)} artists")
    print(
        f"graph: {full.edge_count} edges, {len(full.scenes)} scenes, "
        f"{len(full.lookalike_pairs)} look-alike artist pairs, "
        f"{len(full.scene_lookalikes)} look-alike scene pairs"
    )
    print(
        f"build: {statistics.median(builds):.2f} s wall, "
        f"{statistics.median(build_cpu):.2f} s CPU, median of 3 (target < 5 s); "
        f"load {load_s:.2f} s wall, {load_cpu:.2f} s CPU; "
        f"similar {similar_ms:.2f} ms/call (target < 50 ms)"
    )
    print(
        f"The Casualties ({full.listeners_of(cas)} listeners) and Earth Crisis "
        f"({full.listeners_of(ec)}): shared {full.shared_listeners(cas, ec)}, "
        f"EC in Casualties' top-50: {ec in cas_list}, Casualties in EC's top-50: {cas in ec_list}"
    )
    busiest = sorted(
        full.lookalike_pairs,
        key=lambda pair: -int(full.listener_counts[pair[0]] * full.listener_counts[pair[1]]),
    )
    for i, j in busiest[:6]:
        a, b = int(ids[i]), int(ids[j])
        print(
            f"  look-alike: {full.names[i]} ({full.listeners_of(a)} listeners; "
            f"{', '.join(full.top_tags[i][:3])}) / {full.names[j]} ({full.listeners_of(b)}; "
            f"{', '.join(full.top_tags[j][:3])}): {full.shared_listeners(a, b)} shared"
        )
    print()
    print(
        f"held-out recovery: {len(queries)} query artists, "
        f"{sum(len(truth[q]) for q in queries)} same-scene pairs (held-out listeners)"
    )
    print(f"{'method':<28}{'recall@10':>10}{'prec@10':>10}{'look-alikes listed (all lists)':>32}")
    print(
        f"{'co-listening cosine top-10':<28}{c_recall:>10.3f}{c_precision:>10.3f}"
        f"{_lookalikes_listed(every_cosine, full, ids):>32}"
    )
    print(
        f"{'tastemaker graph similar':<28}{g_recall:>10.3f}{g_precision:>10.3f}"
        f"{_lookalikes_listed(every_graph, full, ids):>32}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
