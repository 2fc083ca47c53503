"""An honest offline evaluation: the tastemaker model and its baselines, side by side.

The protocol is BENCHMARKS.md's. Per listener with at least two artists (seed 42), hold out
max(1, round(0.2 n)) artists, either at random (`random`) or the least-played ones, ties at
random (`discovery`). Every model ranks the whole catalogue minus the listener's training
artists; relevance is binary. Nothing here writes to the store.

One fit of a model whose training is random (LightFM's sampling, and its parallel updates on
two threads) is one sample, not a measurement: such a model is fitted with `SEEDS` seeds and
every metric is reported as the mean, with its sample standard deviation beside it
(`ndcg@10_sd`). A model without randomness is fitted once (its standard deviation is 0). Scores
are computed for a batch of listeners at a time, the batch sized so that it stays within
`SCORE_BATCH_BYTES` whatever the catalogue's size.
"""

from __future__ import annotations

import dataclasses
import math
import statistics
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace

import numpy as np
import scipy.sparse as sp

from recommender.errors import BadArgument, NothingToEvaluate, UnknownSplit
from recommender.features import tag_profile
from recommender.interactions import Interactions, load_interactions
from recommender.models import (
    DEFAULT_SEED,
    DEFAULT_THREADS,
    ModelConfig,
    RowScorer,
    make_scorer,
)
from recommender.store import Store

SPLITS = ("random", "discovery")
CUTOFFS = (10, 50)
SEED = 42
HOLDOUT_SHARE = 0.2
# The models `evaluate` compares when none are named (registry names; BENCHMARKS.md's table).
DEFAULT_MODELS = ("most-popular", "item-knn", "ease", "tastemaker")
SEEDS = 3  # fits of a model whose training is random: seeds 42, 43, 44
SCORE_BATCH_BYTES = 256 * 2**20  # a batch's scores and their float64 working copies


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


def self_information(ranked: np.ndarray, popularity: np.ndarray, n_listeners: int) -> np.ndarray:
    """Per list, the mean self-information -log2 p of its artists, p = (listeners + 1) / (all +
    1): how surprising the list is to a listener who knows what everyone plays."""
    share = (popularity[ranked] + 1.0) / (n_listeners + 1.0)
    return np.asarray(np.mean(-np.log2(share), axis=-1))


def novelty(ranked: np.ndarray, popularity: np.ndarray, n_listeners: int) -> float:
    """Mean self-information of recommended artists over all the lists (`self_information`)."""
    return float(np.mean(self_information(ranked, popularity, n_listeners)))


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


def score_batch(n_items: int, budget: int = SCORE_BATCH_BYTES) -> int:
    """Listeners scored at once: at most 256, fewer when the catalogue is large (each listener
    costs about 24 bytes per artist while ranked)."""
    return max(1, min(256, budget // max(1, 24 * n_items)))


def evaluated_rows(split_: Split) -> np.ndarray:
    """The listeners (rows) that have held-out artists: the ones every metric averages over."""
    return np.flatnonzero(np.diff(split_.test.indptr) > 0)


def ranked_batches(
    scorer: RowScorer,
    split_: Split,
    train_weights: sp.csr_matrix,
    depth: int = max(CUTOFFS),
    batch: int | None = None,
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """(rows, their top `depth` artists best first) for every evaluated listener, a batch of
    listeners at a time (`score_batch`), never a training artist."""
    batch = score_batch(split_.test.shape[1]) if batch is None else batch
    rows = evaluated_rows(split_)
    for start in range(0, len(rows), batch):
        chunk = rows[start : start + batch]
        scores = scorer.score_rows(train_weights, chunk)
        yield chunk, top_k(scores, split_.train[chunk], depth)


def listener_counts(train: sp.csr_matrix) -> tuple[np.ndarray, int]:
    """(training listeners per artist, listeners with any training artist)."""
    popularity = np.diff(sp.csc_matrix(train).indptr).astype(np.float64)
    return popularity, int(np.count_nonzero(np.diff(train.indptr)))


def evaluate_scorer(
    scorer: RowScorer,
    split_: Split,
    train_weights: sp.csr_matrix,
    tags: sp.csr_matrix,
    batch: int | None = None,
) -> dict[str, float | None]:
    """Every metric at every cutoff for one fitted model on one split."""
    n_items = split_.test.shape[1]
    popularity, n_listeners = listener_counts(split_.train)
    cold = popularity == 0
    acc = {k: _Accumulator(k) for k in CUTOFFS}
    for chunk, ranked in ranked_batches(scorer, split_, train_weights, batch=batch):
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


Report = dict[str, dict[str, dict[str, float | None]]]


def seeded(config: ModelConfig | None, name: str, seed: int) -> ModelConfig | None:
    """`config` (the model's defaults when None) with its random seed set to `seed`; None
    for a model whose fit has no randomness."""
    settings = make_scorer(name, config).config
    if "random_state" not in {f.name for f in dataclasses.fields(settings)}:
        return None
    changed: ModelConfig = dataclasses.replace(settings, random_state=seed)
    return changed


def summarise(runs: list[dict[str, float | None]]) -> dict[str, float | None]:
    """Mean of every metric over the runs, with `<metric>_sd` (sample standard deviation,
    0 for a single run) beside it, and how many runs there were (`seeds`)."""
    out: dict[str, float | None] = {}
    for key in runs[0]:
        values = [r[key] for r in runs]
        if any(v is None for v in values):
            out[key], out[f"{key}_sd"] = None, None
            continue
        numbers = [float(v) for v in values if v is not None]
        out[key] = statistics.fmean(numbers)
        out[f"{key}_sd"] = statistics.stdev(numbers) if len(numbers) > 1 else 0.0
    out["seeds"] = float(len(runs))
    return out


def evaluate_interactions(
    interactions: Interactions,
    models: ModelChoice | None = None,
    splits: Iterable[str] = SPLITS,
    seed: int = SEED,
    progress: Callable[[str], None] | None = None,
    num_threads: int = DEFAULT_THREADS,
    seeds: int = SEEDS,
) -> Report:
    """{split: {model: {metric: mean, metric_sd: spread}}}, every model fitted on the split's
    training part; a model whose fit is random is fitted `seeds` times (seeds 42, 43, ...).

    `models` names registered models (`DEFAULT_MODELS` when None), or maps names to settings.
    `seed` seeds the split itself.
    """
    tags = tag_profile(interactions.artist_tags, min_artists=1)
    report: Report = {}
    runs: dict[tuple[str, str], list[dict[str, float | None]]] = {}
    for fit in fits(interactions, models, splits, seed, num_threads, seeds):
        metrics = evaluate_scorer(fit.scorer, fit.split, fit.view.weights, tags)
        metrics["fit_seconds"] = round(fit.seconds, 2)
        runs.setdefault((fit.split.name, fit.model), []).append(metrics)
        if progress is not None:
            progress(
                f"{fit.describe()}: ndcg@10 {metrics['ndcg@10']:.4f}"
                f" coverage@10 {metrics['coverage@10']:.3f} in {fit.seconds:.1f} s"
            )
    for (kind, name), model_runs in runs.items():
        report.setdefault(kind, {})[name] = summarise(model_runs)
    return report


@dataclass(frozen=True)
class Fit:
    """One model fitted on the training part of one split: what each measurement starts from."""

    split: Split
    view: Interactions  # what the model saw (the held-out artists hidden)
    model: str  # registry name
    seed: int | None  # the fit's random seed; None for a model without randomness
    scorer: RowScorer
    seconds: float  # fit time

    def describe(self) -> str:
        which = "" if self.seed is None else f" seed {self.seed}"
        return f"{self.split.name} {self.model}{which}"


def fits(
    interactions: Interactions,
    models: ModelChoice | None = None,
    splits: Iterable[str] = SPLITS,
    seed: int = SEED,
    num_threads: int = DEFAULT_THREADS,
    seeds: int = SEEDS,
) -> Iterator[Fit]:
    """Every model fitted on every split's training part, one `Fit` at a time: a model whose
    fit is random `seeds` times (seeds 42, 43, ...), any other once. Everything is checked
    before the first fit. `seed` seeds the split itself."""
    chosen = _chosen_models(models)
    kinds = _check_splits(splits)
    if isinstance(seeds, bool) or not isinstance(seeds, int) or seeds < 1:
        raise BadArgument(f"seeds must be a whole number of at least 1, not {seeds!r}")
    if interactions.plays.nnz == 0 or np.all(np.diff(interactions.plays.indptr) < 2):
        raise NothingToEvaluate(
            "no listener has two or more artists to hold one out: import more listening first"
        )
    for kind in kinds:
        split_ = split(interactions.plays, kind, seed=seed)
        view = training_view(interactions, split_.train)
        for name, config in chosen.items():
            random = seeded(config, name, DEFAULT_SEED) is not None
            for run in range(seeds if random else 1):
                settings = seeded(config, name, DEFAULT_SEED + run) if random else config
                started = time.perf_counter()
                scorer = make_scorer(name, settings, num_threads=num_threads).fit(view)
                fitted = time.perf_counter() - started
                run_seed = DEFAULT_SEED + run if random else None
                yield Fit(split_, view, name, run_seed, scorer, fitted)


def evaluate(
    store: Store,
    models: ModelChoice | None = None,
    seed: int = SEED,
    progress: Callable[[str], None] | None = None,
    seeds: int = SEEDS,
) -> Report:
    """Evaluate registered models (the tastemaker model and its baselines when `models` is
    None) on the store's data, side by side; see `evaluate_interactions`. Read only."""
    chosen = _chosen_models(models)
    return evaluate_interactions(
        load_interactions(store), chosen, seed=seed, progress=progress, seeds=seeds
    )
