"""An honest offline evaluation: the tastemaker model and its baselines, side by side.

The protocol is BENCHMARKS.md's. Per listener with at least two artists (seed 42), hold out
max(1, round(0.2 n)) artists, either at random (`random`) or the least-played ones, ties at
random (`discovery`). Every model ranks the whole catalogue minus the listener's training
artists; relevance is binary. Nothing here writes to the store.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace

import numpy as np
import scipy.sparse as sp

from recommender.errors import NothingToEvaluate, UnknownSplit
from recommender.features import tag_profile
from recommender.interactions import Interactions, load_interactions
from recommender.models import DEFAULT_THREADS, ModelConfig, RowScorer, make_scorer
from recommender.store import Store

SPLITS = ("random", "discovery")
CUTOFFS = (10, 50)
SEED = 42
HOLDOUT_SHARE = 0.2
# The models `evaluate` compares when none are named (registry names; BENCHMARKS.md's table).
DEFAULT_MODELS = ("most-popular", "item-knn", "ease", "tastemaker")


@dataclass(frozen=True)
class Split:
    """Training plays (same shape as the input) and the held-out artists, both sparse."""

    name: str
    train: sp.csr_matrix  # decayed play counts, training part only
    test: sp.csr_matrix  # 1 where an artist is held out


def holdout_size(n: int) -> int:
    """How many of a listener's `n` artists are held out (half rounds up, as people expect)."""
    return max(1, math.floor(HOLDOUT_SHARE * n + 0.5))


def split(plays: sp.csr_matrix, kind: str, seed: int = SEED) -> Split:
    """Hold out part of each listener's artists; see the module docstring."""
    _check_splits([kind])
    plays = sp.csr_matrix(plays)
    plays.sort_indices()
    rng = np.random.default_rng(seed)
    held = np.zeros(plays.nnz, dtype=bool)
    for row in range(plays.shape[0]):
        start, end = plays.indptr[row], plays.indptr[row + 1]
        n = end - start
        if n < 2:
            continue
        size = holdout_size(n)
        tiebreak = rng.random(n)
        if kind == "random":
            chosen = np.argsort(tiebreak)[:size]
        else:
            chosen = np.lexsort((tiebreak, plays.data[start:end]))[:size]
        held[start + chosen] = True
    coo = plays.tocoo()
    train = sp.csr_matrix((coo.data[~held], (coo.row[~held], coo.col[~held])), shape=plays.shape)
    test = sp.csr_matrix(
        (np.ones(held.sum(), dtype=np.float32), (coo.row[held], coo.col[held])), shape=plays.shape
    )
    return Split(kind, train, test)


def training_view(interactions: Interactions, train_plays: sp.csr_matrix) -> Interactions:
    """The interactions a model may see while the held-out artists stay hidden."""
    weights = train_plays.copy()
    weights.data = np.log1p(weights.data)
    return replace(interactions, plays=train_plays, weights=weights)


# -- metrics ---------------------------------------------------------------------------------


def top_k(scores: np.ndarray, exclude: sp.csr_matrix, k: int) -> np.ndarray:
    """Indices of each row's k best scores (best first), never an excluded (training) artist."""
    scores = np.array(scores, dtype=np.float64, copy=True)
    coo = exclude.tocoo()
    scores[coo.row, coo.col] = -np.inf
    k = min(k, scores.shape[1])
    part = np.argpartition(-scores, k - 1, axis=1)[:, :k]
    order = np.argsort(-np.take_along_axis(scores, part, axis=1), axis=1, kind="stable")
    return np.take_along_axis(part, order, axis=1)


def hits_matrix(ranked: np.ndarray, test: sp.csr_matrix) -> np.ndarray:
    """hits[u, r] = 1 when the artist ranked r for listener u is held out for them."""
    return np.asarray(test[np.arange(ranked.shape[0])[:, None], ranked].todense(), dtype=bool)


def ndcg(hits: np.ndarray, n_relevant: np.ndarray) -> np.ndarray:
    """Per-listener NDCG with the ideal over min(k, |test|) hits."""
    k = hits.shape[1]
    gains = 1.0 / np.log2(np.arange(2, k + 2))
    dcg = hits @ gains
    ideal = np.cumsum(gains)[np.minimum(n_relevant, k) - 1]
    return np.asarray(dcg / ideal)


def novelty(ranked: np.ndarray, popularity: np.ndarray, n_listeners: int) -> float:
    """Mean self-information -log2 p of recommended artists, p = (listeners + 1) / (all + 1)."""
    share = (popularity[ranked] + 1.0) / (n_listeners + 1.0)
    return float(np.mean(-np.log2(share)))


def intra_list_diversity(ranked: np.ndarray, tags: sp.csr_matrix) -> float:
    """Mean pairwise 1 - cosine of the recommended artists' tag vectors (rows L2-normalised).

    The sum of pairwise cosines in a list is |sum of its vectors|^2 minus their own norms, so the
    whole batch is one sparse product instead of a loop over pairs.
    """
    users, k = ranked.shape
    if k < 2:
        return 0.0
    chosen = sp.csr_matrix(
        (np.ones(ranked.size), (np.repeat(np.arange(users), k), ranked.ravel())),
        shape=(users, tags.shape[0]),
    )
    summed = chosen @ tags
    total = np.asarray(summed.multiply(summed).sum(axis=1)).ravel()
    own = np.asarray(tags.multiply(tags).sum(axis=1)).ravel()[ranked].sum(axis=1)
    pairwise_cosine = (total - own) / (k * (k - 1))
    return float(np.mean(1.0 - pairwise_cosine))


@dataclass
class _Accumulator:
    k: int
    precision: float = 0.0
    recall: float = 0.0
    ndcg: float = 0.0
    users: int = 0
    cold_recall: float = 0.0
    cold_users: int = 0
    novelty_sum: float = 0.0
    diversity_sum: float = 0.0
    items: set[int] = field(default_factory=set)


def evaluate_scorer(
    scorer: RowScorer,
    split_: Split,
    train_weights: sp.csr_matrix,
    tags: sp.csr_matrix,
    batch: int = 256,
) -> dict[str, float | None]:
    """Every metric at every cutoff for one fitted model on one split."""
    n_users, n_items = split_.test.shape
    rows = np.flatnonzero(np.diff(split_.test.indptr) > 0)
    popularity = np.diff(sp.csc_matrix(split_.train).indptr).astype(np.float64)
    cold = popularity == 0
    n_listeners = int(np.count_nonzero(np.diff(split_.train.indptr)))
    deepest = max(CUTOFFS)
    acc = {k: _Accumulator(k) for k in CUTOFFS}
    for start in range(0, len(rows), batch):
        chunk = rows[start : start + batch]
        scores = scorer.score_rows(train_weights, chunk)
        ranked = top_k(scores, split_.train[chunk], deepest)
        test = split_.test[chunk]
        hits = hits_matrix(ranked, test)
        n_rel = np.diff(test.indptr)
        n_cold = np.asarray(test[:, cold].sum(axis=1)).ravel().astype(int)
        cold_hits = hits & cold[ranked]
        for k, a in acc.items():
            h = hits[:, :k]
            found = h.sum(axis=1)
            a.precision += float(np.sum(found / k))
            a.recall += float(np.sum(found / n_rel))
            a.ndcg += float(np.sum(ndcg(h, n_rel)))
            a.users += len(chunk)
            has_cold = n_cold > 0
            a.cold_recall += float(np.sum(cold_hits[has_cold, :k].sum(axis=1) / n_cold[has_cold]))
            a.cold_users += int(has_cold.sum())
            a.novelty_sum += novelty(ranked[:, :k], popularity, n_listeners) * len(chunk)
            a.diversity_sum += intra_list_diversity(ranked[:, :k], tags) * len(chunk)
            a.items.update(np.unique(ranked[:, :k]).tolist())
    result: dict[str, float | None] = {}
    for k, a in acc.items():
        users = max(a.users, 1)
        result[f"precision@{k}"] = a.precision / users
        result[f"recall@{k}"] = a.recall / users
        result[f"ndcg@{k}"] = a.ndcg / users
        result[f"coverage@{k}"] = len(a.items) / n_items
        result[f"novelty@{k}"] = a.novelty_sum / users
        result[f"diversity@{k}"] = a.diversity_sum / users
        result[f"cold_recall@{k}"] = a.cold_recall / a.cold_users if a.cold_users else None
    return result


# -- the side-by-side runner ----------------------------------------------------------------

ModelChoice = Mapping[str, ModelConfig | None] | Iterable[str]


def _check_splits(kinds: Iterable[str]) -> list[str]:
    chosen = list(kinds)
    for kind in chosen:
        if kind not in SPLITS:
            raise UnknownSplit(f"no split named {kind!r}: choose from {', '.join(SPLITS)}")
    return chosen


def _chosen_models(models: ModelChoice | None) -> dict[str, ModelConfig | None]:
    """{registry name: settings or None for the defaults}, every name and config checked."""
    if models is None:
        models = DEFAULT_MODELS
    chosen = dict(models) if isinstance(models, Mapping) else dict.fromkeys(models)
    for name, config in chosen.items():
        make_scorer(name, config)  # an unknown name or the wrong settings fail before any work
    return chosen


def evaluate_interactions(
    interactions: Interactions,
    models: ModelChoice | None = None,
    splits: Iterable[str] = SPLITS,
    seed: int = SEED,
    progress: Callable[[str], None] | None = None,
    num_threads: int = DEFAULT_THREADS,
) -> dict[str, dict[str, dict[str, float | None]]]:
    """{split: {model: {metric: value}}}, each model fitted on the split's training part.

    `models` names registered models (`DEFAULT_MODELS` when None), or maps names to settings.
    """
    chosen = _chosen_models(models)
    kinds = _check_splits(splits)
    if interactions.plays.nnz == 0 or np.all(np.diff(interactions.plays.indptr) < 2):
        raise NothingToEvaluate(
            "no listener has two or more artists to hold one out: import more listening first"
        )
    tags = tag_profile(interactions.artist_tags, min_artists=1)
    report: dict[str, dict[str, dict[str, float | None]]] = {}
    for kind in kinds:
        split_ = split(interactions.plays, kind, seed=seed)
        view = training_view(interactions, split_.train)
        report[kind] = {}
        for name, config in chosen.items():
            started = time.perf_counter()
            scorer = make_scorer(name, config, num_threads=num_threads).fit(view)
            fitted = time.perf_counter() - started
            metrics = evaluate_scorer(scorer, split_, view.weights, tags)
            metrics["fit_seconds"] = round(fitted, 2)
            report[kind][name] = metrics
            if progress is not None:
                progress(f"{kind} {name}: ndcg@10 {metrics['ndcg@10']:.4f} in {fitted:.1f} s")
    return report


def evaluate(
    store: Store,
    models: ModelChoice | None = None,
    seed: int = SEED,
    progress: Callable[[str], None] | None = None,
) -> dict[str, dict[str, dict[str, float | None]]]:
    """Evaluate registered models (the tastemaker model and its baselines when `models` is
    None) on the store's data, side by side. Read only."""
    chosen = _chosen_models(models)
    return evaluate_interactions(load_interactions(store), chosen, seed=seed, progress=progress)
