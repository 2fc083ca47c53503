"""Offline evaluation: the project's model and its baselines, side by side, on one protocol.

The protocol is BENCHMARKS.md's: per listener with at least two artists, hold out
max(1, round(0.2 n)) artists (seed 42), either at random (`random`) or the least-played
(`discovery`, ties broken at random); rank every artist except the listener's training artists;
relevance is binary. Nothing is written to the store.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np
import scipy.sparse as sp

from recommender.baselines import EASE, ItemKNN, MostPopular, Scorer, binary
from recommender.features import tag_profile
from recommender.interactions import Interactions

CUTOFFS = (10, 50)
SPLITS = ("random", "discovery")


@dataclass(frozen=True)
class Split:
    name: str
    train: Interactions
    test: sp.csr_matrix  # binary listener x artist


def split(interactions: Interactions, kind: str, seed: int = 42, share: float = 0.2) -> Split:
    """Hold out each listener's share of artists (at random, or their least-played)."""
    if kind not in SPLITS:
        raise ValueError(f"unknown split {kind!r}: choose one of {', '.join(SPLITS)}")
    rng = np.random.default_rng(seed)
    plays = interactions.plays.tocsr()
    train_rows, train_cols, train_vals, test_rows, test_cols = [], [], [], [], []
    for u in range(plays.shape[0]):
        start, end = plays.indptr[u], plays.indptr[u + 1]
        cols, vals = plays.indices[start:end], plays.data[start:end]
        n = len(cols)
        held = np.zeros(n, dtype=bool)
        if n >= 2:
            k = max(1, int(math.floor(share * n + 0.5)))
            if kind == "random":
                chosen = rng.choice(n, size=k, replace=False)
            else:
                tiebreak = rng.random(n)
                chosen = np.lexsort((tiebreak, vals))[:k]
            held[chosen] = True
        train_rows.append(np.full(int((~held).sum()), u))
        train_cols.append(cols[~held])
        train_vals.append(vals[~held])
        test_rows.append(np.full(int(held.sum()), u))
        test_cols.append(cols[held])
    shape = plays.shape
    train_plays = sp.csr_matrix(
        (np.concatenate(train_vals), (np.concatenate(train_rows), np.concatenate(train_cols))),
        shape=shape,
    )
    weights = train_plays.copy()
    weights.data = np.log1p(weights.data)
    test_rows_all = np.concatenate(test_rows)
    test = sp.csr_matrix(
        (np.ones(len(test_rows_all)), (test_rows_all, np.concatenate(test_cols))), shape=shape
    )
    train = replace(interactions, plays=train_plays, weights=weights)
    return Split(kind, train, test)


def rank_top(scorer: Scorer, train: Interactions, k: int, batch: int = 256) -> np.ndarray:
    """Top-k artist positions per listener, excluding their training artists."""
    seen = binary(train.plays)
    n_users = seen.shape[0]
    top = np.zeros((n_users, k), dtype=np.int64)
    for start in range(0, n_users, batch):
        rows = np.arange(start, min(start + batch, n_users))
        scores = np.array(scorer.score(rows), dtype=np.float32, copy=True)
        block = seen[rows].tocoo()
        scores[block.row, block.col] = -np.inf
        part = np.argpartition(-scores, k, axis=1)[:, :k]
        order = np.argsort(-np.take_along_axis(scores, part, axis=1), axis=1, kind="stable")
        top[rows] = np.take_along_axis(part, order, axis=1)
    return top


def metrics(top: np.ndarray, data: Split, cutoffs: tuple[int, ...] = CUTOFFS) -> dict[str, float]:
    """Precision, recall, NDCG, coverage, novelty, tag diversity and cold-artist recall at k."""
    test = data.test.tocsr()
    train_counts = np.asarray(binary(data.train.plays).sum(axis=0)).ravel()
    n_users, n_items = test.shape
    users = np.flatnonzero(np.diff(test.indptr) > 0)
    self_info = -np.log2(np.maximum(train_counts, 1) / n_users)
    tags = tag_profile(data.train.artist_tags, min_artists=1).tocsr()
    cold = train_counts == 0
    out: dict[str, float] = {}
    for k in cutoffs:
        hits = np.zeros((len(users), k), dtype=bool)
        cold_hits, cold_total = [], []
        for i, u in enumerate(users):
            relevant = test.indices[test.indptr[u] : test.indptr[u + 1]]
            hits[i] = np.isin(top[u, :k], relevant)
            cold_relevant = relevant[cold[relevant]]
            if len(cold_relevant):
                cold_hits.append(np.isin(cold_relevant, top[u, :k]).sum())
                cold_total.append(len(cold_relevant))
        n_relevant = np.diff(test.indptr)[users]
        discounts = 1.0 / np.log2(np.arange(2, k + 2))
        dcg = (hits * discounts).sum(axis=1)
        ideal = np.array([discounts[: min(k, int(n))].sum() for n in n_relevant])
        out[f"precision@{k}"] = float(hits.sum(axis=1).mean() / k)
        out[f"recall@{k}"] = float((hits.sum(axis=1) / n_relevant).mean())
        out[f"ndcg@{k}"] = float((dcg / ideal).mean())
        out[f"coverage@{k}"] = float(len(np.unique(top[users, :k])) / n_items)
        out[f"novelty@{k}"] = float(self_info[top[users, :k]].mean())
        out[f"diversity@{k}"] = _diversity(tags, top[users, :k])
        out[f"cold_recall@{k}"] = (
            float(np.sum(cold_hits) / np.sum(cold_total)) if cold_total else float("nan")
        )
    out["listeners"] = float(len(users))
    return out


def _diversity(tags: sp.csr_matrix, lists: np.ndarray) -> float:
    """Mean pairwise (1 - tag cosine) within each list (artists without tags are skipped)."""
    values = []
    for items in lists:
        vectors = tags[items]
        tagged = np.flatnonzero(np.diff(vectors.indptr) > 0)
        if len(tagged) < 2:
            continue
        sims = np.asarray((vectors[tagged] @ vectors[tagged].T).todense())
        n = len(tagged)
        values.append(1.0 - (sims.sum() - np.trace(sims)) / (n * (n - 1)))
    return float(np.mean(values)) if values else float("nan")


def default_models() -> dict[str, Callable[[], Scorer]]:
    from recommender.training import TastemakerScorer

    return {
        "most-popular": MostPopular,
        "item-knn": ItemKNN,
        "ease": EASE,
        "tastemaker": TastemakerScorer,
    }


def evaluate(
    interactions: Interactions,
    models: dict[str, Callable[[], Scorer]] | None = None,
    splits: tuple[str, ...] = SPLITS,
    seed: int = 42,
    progress: Callable[[str], None] | None = None,
) -> dict[str, dict[str, dict[str, float]]]:
    """{split: {model: {metric: value}}} for every model on every split."""
    chosen = models or default_models()
    results: dict[str, dict[str, dict[str, float]]] = {}
    for kind in splits:
        data = split(interactions, kind, seed=seed)
        results[kind] = {}
        for name, make in chosen.items():
            started = time.perf_counter()
            scorer = make().fit(data.train)
            fitted = time.perf_counter() - started
            top = rank_top(scorer, data.train, max(CUTOFFS))
            scores = metrics(top, data)
            scores["fit_seconds"] = round(fitted, 2)
            results[kind][name] = scores
            if progress is not None:
                progress(f"{kind} {name}: ndcg@10 {scores['ndcg@10']:.4f} ({fitted:.1f} s fit)")
    return results
