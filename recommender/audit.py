"""Who is served worse: the evaluation split, per listener group and per artist, model by model.

Popularity bias is the known way music recommendation fails quietly (Kowald, Schedl and Lex,
ECIR 2020, on Last.fm data): listeners whose taste is far from the mainstream get the worst
recommendations and the long tail of artists is hardly recommended at all. The audit uses
`recommender.evaluate`'s split and multi-seed fits (`fits`) and measures, on the same ranked
lists, per group of listeners and per model:

- `ndcg@10`, `recall@50`: as in `evaluate`, averaged over the group's listeners;
- `popularity_lift` (Delta GAP, Abdollahpouri et al. 2019): GAP(lists) / GAP(history) - 1,
  GAP being the group's mean over listeners of the mean popularity (share of training listeners
  who played the artist) of a listener's top-10, or of their training artists. Positive: the
  group is pushed towards better-known artists than it plays;
- `miscalibration` (Steck 2018): per listener KL(p || q~) of the top-10's tag mix q from the
  history's tag mix p, with q~ = (1 - a) q + a p and a = `CALIBRATION_SMOOTHING` (0.01, Steck's
  choice) so a list that misses a tag of the history gives a large but finite value. An
  artist's tag mix is its tag counts scaled to sum to 1; a list's or a history's is the mean of
  its artists' (each artist once; artists without tags left out). Listeners whose history has
  no tags are left out of this figure;
- `novelty@10` (mean self-information, as in `evaluate`) and `coverage@10` (distinct artists in
  the group's top-10 lists / catalogue size).

The groups are computed from the split's training part, over the listeners with held-out
artists, and their thresholds go into the report (`groups`):

- `mainstream:low|medium|high`: mainstreaminess is the share of a listener's plays that go to
  the head (the most played artists that together make `HEAD_SHARE` = 20% of all plays); three
  equal-size groups by rank (ties in listener order), as in the paper;
- `activity:light|medium|heavy`: three equal-size groups by number of artists, ties (every
  HetRec listener has 50) broken by total plays;
- `new`: listeners with at most `NEW_LISTENER_ARTISTS` training artists (may be empty).

Artist side, over every evaluated listener's top-10: `long_tail_share` (the share of all slots
given to artists outside the head) beside `long_tail_plays` (the long tail's share of plays),
`gini` of exposure (slots per artist, over the whole catalogue: 0 everyone equally, 1 one artist
takes every slot) and `cold_recommended` (artists without a training listener ever in a top-10).

Every figure is the mean over the fits of a model (`<figure>_sd` its standard deviation). The
audit is deterministic for a seed (the groups and metrics are; a LightFM fit on more than one
thread is not, see `evaluate`). `FEATURES` lists every input the model sees.
"""

from __future__ import annotations

import html
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp

from recommender.evaluate import (
    SEED,
    SEEDS,
    SPLITS,
    ModelChoice,
    Split,
    evaluate_scorer,
    evaluated_rows,
    fits,
    hits_matrix,
    listener_counts,
    ndcg,
    ranked_batches,
    self_information,
    summarise,
)
from recommender.features import tag_profile
from recommender.files import Written, write_output
from recommender.interactions import Interactions, load_interactions
from recommender.models import DEFAULT_THREADS, RowScorer
from recommender.store import Store

HEAD_SHARE = 0.2  # the head: most played artists making this share of all plays
NEW_LISTENER_ARTISTS = 10  # a listener with at most this many training artists is new
CALIBRATION_SMOOTHING = 0.01  # Steck's alpha
TOP = 10  # the list every per-list figure is taken on
DEPTH = 50  # recall@50 needs the top 50
LEVELS = {"mainstream": ("low", "medium", "high"), "activity": ("light", "medium", "heavy")}
GROUP_METRICS = (
    "ndcg@10",
    "recall@50",
    "popularity_lift",
    "miscalibration",
    "novelty@10",
    "coverage@10",
)
ARTIST_METRICS = ("long_tail_share", "gini", "cold_recommended")


@dataclass(frozen=True)
class Feature:
    """One input of the model: whose it is, what it is, and the store tables it is read from."""

    name: str
    level: str  # "listener" or "artist"
    meaning: str
    tables: tuple[str, ...]


# Every input a model sees (`recommender.interactions.Interactions`); tests/test_audit.py fails
# when the model input reads a listener-level table that is not here.
FEATURES = (
    Feature(
        "artists played",
        "listener",
        "log play counts per artist, faded by the listener's half-life",
        ("listens", "tracks", "sources"),
    ),
    Feature(
        "own feedback",
        "listener",
        "artists the listener loved count double, hated ones are left out",
        ("feedback",),
    ),
    Feature(
        "own terms",
        "listener",
        "half-life, ignored sources, opting out of personalisation",
        ("terms", "listeners"),
    ),
    Feature("artist identity", "artist", "one feature per artist", ("artists",)),
    Feature(
        "artist tags",
        "artist",
        "tags people gave the artist, with how many gave each",
        ("artist_tags", "tags"),
    ),
)


# -- groups ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Groups:
    """Listener groups as boolean masks over the evaluated rows, and how they were drawn."""

    rows: np.ndarray  # the evaluated listeners (rows of the split)
    masks: dict[str, np.ndarray]  # group name -> mask over `rows`
    head: np.ndarray  # artist mask: the head
    definitions: dict[str, Any]


def head_artists(train: sp.csr_matrix, share: float = HEAD_SHARE) -> np.ndarray:
    """Mask of the fewest most-played artists whose plays reach `share` of all plays (ties in
    column order)."""
    return head_of(np.asarray(train.sum(axis=0)).ravel(), share)


def head_of(plays: np.ndarray, share: float = HEAD_SHARE) -> np.ndarray:
    """Mask of the fewest largest `plays` (one per artist) reaching `share` of their sum, ties
    in order: the head; everything else is the long tail."""
    plays = np.asarray(plays, dtype=np.float64)
    head = np.zeros(len(plays), dtype=bool)
    total = plays.sum()
    if total <= 0:
        return head
    order = np.argsort(-plays, kind="stable")
    reached = np.cumsum(plays[order]) >= share * total - 1e-9 * total
    head[order[: int(np.argmax(reached)) + 1]] = True
    return head


def mainstreaminess(train: sp.csr_matrix, head: np.ndarray) -> np.ndarray:
    """Per listener, the share of their (training) plays that go to head artists."""
    total = np.asarray(train.sum(axis=1)).ravel()
    in_head = np.asarray(train[:, head].sum(axis=1)).ravel()
    return np.asarray(np.divide(in_head, total, out=np.zeros_like(total), where=total > 0))


def thirds(*keys: np.ndarray) -> list[np.ndarray]:
    """Positions split into three equal-size groups (sizes differ by one at most), lowest
    first, ordered by the last key then the ones before it, ties in position order."""
    order = np.lexsort((np.arange(len(keys[0])), *keys))
    return list(np.array_split(order, 3))


def listener_groups(split_: Split, new_artists: int = NEW_LISTENER_ARTISTS) -> Groups:
    """The groups of the module docstring for the split's evaluated listeners."""
    train = sp.csr_matrix(split_.train)
    rows = evaluated_rows(split_)
    head = head_artists(train)
    sub = train[rows]
    mainstream = mainstreaminess(sub, head)
    n_artists = np.diff(sub.indptr)
    plays = np.asarray(sub.sum(axis=1)).ravel()
    masks: dict[str, np.ndarray] = {}
    definitions: dict[str, Any] = {}

    def add(name: str, positions: np.ndarray, low: float, high: float, unit: str) -> None:
        mask = np.zeros(len(rows), dtype=bool)
        mask[positions] = True
        masks[name] = mask
        definitions[name] = {"listeners": int(mask.sum()), "from": low, "to": high, "unit": unit}

    for level, part in zip(LEVELS["mainstream"], thirds(mainstream), strict=True):
        values = mainstream[part]
        low, high = (float(values.min()), float(values.max())) if len(part) else (0.0, 0.0)
        add(f"mainstream:{level}", part, low, high, "share of plays on head artists")
    for level, part in zip(LEVELS["activity"], thirds(plays, n_artists), strict=True):
        values = n_artists[part]
        low, high = (float(values.min()), float(values.max())) if len(part) else (0.0, 0.0)
        add(f"activity:{level}", part, low, high, "training artists (ties by plays)")
    add(
        "new",
        np.flatnonzero(n_artists <= new_artists),
        1,
        new_artists,
        "training artists",
    )
    all_plays = float(train.sum())
    definitions["head"] = {
        "artists": int(head.sum()),
        "plays_share": float(train[:, head].sum()) / all_plays if all_plays else 0.0,
    }
    definitions["long_tail_plays"] = 1.0 - definitions["head"]["plays_share"]
    return Groups(rows, masks, head, definitions)


# -- per-listener figures ----------------------------------------------------------------------


def tag_mix(artist_tags: sp.csr_matrix) -> sp.csr_matrix:
    """Each artist's tag counts scaled to sum to 1 (a row of zeros for an untagged artist)."""
    counts = sp.csr_matrix(artist_tags, dtype=np.float64)
    sums = np.asarray(counts.sum(axis=1)).ravel()
    sums[sums == 0] = 1.0
    return sp.csr_matrix(sp.diags(1.0 / sums) @ counts)


def _mean_mix(chosen: sp.csr_matrix, mix: sp.csr_matrix) -> sp.csr_matrix:
    """Rows: the mean tag mix of each row's chosen artists that carry tags."""
    tagged = (np.asarray(mix.sum(axis=1)).ravel() > 0).astype(np.float64)
    picked = sp.csr_matrix(chosen @ sp.diags(tagged))
    counts = np.asarray(picked.sum(axis=1)).ravel()
    counts[counts == 0] = 1.0
    return sp.csr_matrix(sp.diags(1.0 / counts) @ picked @ mix)


def kl_calibration(
    history: sp.csr_matrix, lists: sp.csr_matrix, alpha: float = CALIBRATION_SMOOTHING
) -> np.ndarray:
    """Per row KL(p || (1 - alpha) q + alpha p) of tag mixes p (history) and q (list), NaN for
    a row whose history has no tags. Sparse throughout: only the history's tags count."""
    p = sp.csr_matrix(history)
    p.eliminate_zeros()
    smoothed = sp.csr_matrix((1.0 - alpha) * lists + alpha * p)
    on_p = sp.csr_matrix(smoothed.multiply(p > 0))  # positive wherever p is, so same pattern
    on_p.data = np.log(on_p.data)
    cross = np.asarray(p.multiply(on_p).sum(axis=1)).ravel()
    own = p.copy()
    own.data = own.data * np.log(own.data)
    entropy = np.asarray(own.sum(axis=1)).ravel()
    result = entropy - cross
    result[np.diff(p.indptr) == 0] = np.nan
    return np.asarray(result)


def indicator(ranked: np.ndarray, n_items: int) -> sp.csr_matrix:
    """Rows with a 1 at each ranked artist."""
    users, k = ranked.shape
    return sp.csr_matrix(
        (np.ones(ranked.size), (np.repeat(np.arange(users), k), ranked.ravel())),
        shape=(users, n_items),
    )


@dataclass(frozen=True)
class ListenerFigures:
    """Per evaluated listener (aligned with `Groups.rows`) for one fit, and their top-10s."""

    ndcg: np.ndarray  # NDCG@top
    recall: np.ndarray  # recall@depth
    list_popularity: np.ndarray  # mean popularity of the top-10
    history_popularity: np.ndarray  # mean popularity of the training artists
    miscalibration: np.ndarray  # NaN: no tagged history
    novelty: np.ndarray
    top: np.ndarray  # (listeners, TOP) artist columns


def listener_figures(
    scorer: RowScorer,
    split_: Split,
    train_weights: sp.csr_matrix,
    mix: sp.csr_matrix,
    top_n: int = TOP,
    depth: int = DEPTH,
    batch: int | None = None,
) -> ListenerFigures:
    """Every per-listener figure of the module docstring for one fitted model (lists of
    `top_n`, recall at `depth`), listeners in `evaluated_rows` order."""
    n_items = split_.test.shape[1]
    listeners, n_listeners = listener_counts(split_.train)
    popularity = listeners / max(n_listeners, 1)
    binary_train = sp.csr_matrix(split_.train, copy=True)
    binary_train.data = np.ones_like(binary_train.data)
    parts: dict[str, list[np.ndarray]] = {k: [] for k in ListenerFigures.__dataclass_fields__}
    for chunk, ranked in ranked_batches(scorer, split_, train_weights, depth=depth, batch=batch):
        test = split_.test[chunk]
        hits = hits_matrix(ranked, test)
        n_rel = np.diff(test.indptr)
        top = ranked[:, :top_n]
        history = binary_train[chunk]
        sizes = np.maximum(np.diff(history.indptr), 1)
        parts["ndcg"].append(ndcg(hits[:, :top_n], n_rel))
        parts["recall"].append(hits[:, :depth].sum(axis=1) / n_rel)
        parts["list_popularity"].append(popularity[top].mean(axis=1))
        parts["history_popularity"].append(np.asarray(history @ popularity).ravel() / sizes)
        parts["miscalibration"].append(
            kl_calibration(_mean_mix(history, mix), _mean_mix(indicator(top, n_items), mix))
        )
        parts["novelty"].append(self_information(top, listeners, n_listeners))
        parts["top"].append(top)
    if not parts["top"]:
        empty = np.zeros(0)
        return ListenerFigures(empty, empty, empty, empty, empty, empty, np.zeros((0, top_n), int))
    return ListenerFigures(**{k: np.concatenate(v) for k, v in parts.items()})


# -- group and artist figures ------------------------------------------------------------------


def popularity_lift(list_popularity: np.ndarray, history_popularity: np.ndarray) -> float | None:
    """Delta GAP: the group's mean list popularity over its mean history popularity, minus 1."""
    history = float(np.mean(history_popularity)) if len(history_popularity) else 0.0
    if history <= 0:
        return None
    return float(np.mean(list_popularity)) / history - 1.0


def gini(exposure: np.ndarray) -> float:
    """Gini coefficient of non-negative values: sum (2i - n - 1) x_(i) / (n sum x), x sorted."""
    values = np.sort(np.asarray(exposure, dtype=np.float64))
    n, total = len(values), float(values.sum())
    if n == 0 or total == 0:
        return 0.0
    ranks = np.arange(1, n + 1)
    return float(np.sum((2 * ranks - n - 1) * values) / (n * total))


def group_figures(
    figures: ListenerFigures, mask: np.ndarray, n_items: int
) -> dict[str, float | None]:
    """The group metrics of one fit for the listeners in `mask`."""
    if not mask.any():
        return dict.fromkeys(GROUP_METRICS)
    calibration = figures.miscalibration[mask]
    known = calibration[~np.isnan(calibration)]
    return {
        "ndcg@10": float(np.mean(figures.ndcg[mask])),
        "recall@50": float(np.mean(figures.recall[mask])),
        "popularity_lift": popularity_lift(
            figures.list_popularity[mask], figures.history_popularity[mask]
        ),
        "miscalibration": float(np.mean(known)) if len(known) else None,
        "novelty@10": float(np.mean(figures.novelty[mask])),
        "coverage@10": len(np.unique(figures.top[mask])) / n_items,
    }


def artist_figures(figures: ListenerFigures, split_: Split, head: np.ndarray) -> dict[str, float]:
    """The artist-side figures of one fit over every evaluated listener's top-10."""
    n_items = split_.test.shape[1]
    exposure = np.bincount(figures.top.ravel(), minlength=n_items)
    slots = int(exposure.sum())
    listeners, _ = listener_counts(split_.train)
    cold = listeners == 0
    return {
        "long_tail_share": float(exposure[~head].sum()) / slots if slots else 0.0,
        "gini": gini(exposure),
        "cold_recommended": float(np.count_nonzero(exposure[cold])),
    }


# -- the runner --------------------------------------------------------------------------------

AuditReport = dict[str, Any]


def features_used() -> list[dict[str, str | list[str]]]:
    """`FEATURES` as plain data for the report."""
    return [
        {"name": f.name, "level": f.level, "meaning": f.meaning, "tables": list(f.tables)}
        for f in FEATURES
    ]


def audit_interactions(
    interactions: Interactions,
    models: ModelChoice | None = None,
    splits: Iterable[str] = ("random",),
    seed: int = SEED,
    progress: Callable[[str], None] | None = None,
    num_threads: int = DEFAULT_THREADS,
    seeds: int = SEEDS,
    overall: bool = False,
) -> dict[str, AuditReport]:
    """{split: audit} (shape in `audit`); with `overall` each split's audit also carries
    `evaluate`'s figures (`"overall": {model: {metric: ...}}`) from the same fits."""
    mix = tag_mix(interactions.artist_tags)
    tags = tag_profile(interactions.artist_tags, min_artists=1) if overall else None
    groups_of: dict[str, Groups] = {}
    runs: dict[str, dict[str, dict[str, list[dict[str, float | None]]]]] = {}
    overall_runs: dict[str, dict[str, list[dict[str, float | None]]]] = {}
    seeds_of: dict[str, int] = {}
    for fit in fits(interactions, models, splits, seed, num_threads, seeds):
        kind = fit.split.name
        if kind not in groups_of:
            groups_of[kind] = listener_groups(fit.split)
        groups = groups_of[kind]
        figures = listener_figures(fit.scorer, fit.split, fit.view.weights, mix)
        n_items = fit.split.test.shape[1]
        per_model = runs.setdefault(kind, {})
        for name, mask in groups.masks.items():
            per_model.setdefault(name, {}).setdefault(fit.model, []).append(
                group_figures(figures, mask, n_items)
            )
        artists = artist_figures(figures, fit.split, groups.head)
        per_model.setdefault("artists", {}).setdefault(fit.model, []).append(dict(artists))
        seeds_of[fit.model] = seeds_of.get(fit.model, 0) + 1
        line = f"{fit.describe()}: fitted in {fit.seconds:.1f} s"
        if tags is not None:
            metrics = evaluate_scorer(fit.scorer, fit.split, fit.view.weights, tags)
            metrics["fit_seconds"] = round(fit.seconds, 2)
            overall_runs.setdefault(kind, {}).setdefault(fit.model, []).append(metrics)
            line += f", ndcg@10 {metrics['ndcg@10']:.4f}"
        if progress is not None:
            progress(line)
    reports: dict[str, AuditReport] = {}
    for kind, per_group in runs.items():
        artist_runs = per_group.pop("artists")
        report: AuditReport = {
            "split": kind,
            "groups": groups_of[kind].definitions,
            "listener_groups": {
                name: {model: summarise(model_runs) for model, model_runs in by_model.items()}
                for name, by_model in per_group.items()
            },
            "artists": {model: summarise(model_runs) for model, model_runs in artist_runs.items()},
            "features": features_used(),
        }
        if overall:
            report["overall"] = {
                model: summarise(model_runs) for model, model_runs in overall_runs[kind].items()
            }
        reports[kind] = report
    return reports


def audit(
    store: Store,
    models: ModelChoice | None = None,
    split: str = "random",
    seed: int = SEED,
    progress: Callable[[str], None] | None = None,
    seeds: int = SEEDS,
    num_threads: int = DEFAULT_THREADS,
) -> AuditReport:
    """The bias audit of the store's data on one evaluation split (read only):
    `{"split", "groups": {group: thresholds and size, "head": ..., "long_tail_plays"},
    "listener_groups": {group: {model: {metric: mean, "<metric>_sd": spread, "seeds"}}},
    "artists": {model: {"long_tail_share", "gini", "cold_recommended", ...}}, "features"}`.
    """
    return audit_interactions(
        load_interactions(store),
        models,
        splits=(split,),
        seed=seed,
        progress=progress,
        seeds=seeds,
        num_threads=num_threads,
    )[split]


def evaluate_with_groups(
    store: Store,
    models: ModelChoice | None = None,
    seed: int = SEED,
    progress: Callable[[str], None] | None = None,
    seeds: int = SEEDS,
) -> dict[str, Any]:
    """`evaluate`'s report ({split: {model: metrics}}) plus `"groups": {split: audit}` from the
    same fits, so the groups cost no extra fit."""
    reports = audit_interactions(
        load_interactions(store),
        models,
        SPLITS,
        seed,
        progress,
        seeds=seeds,
        overall=True,
    )
    combined: dict[str, Any] = {kind: report.pop("overall") for kind, report in reports.items()}
    combined["groups"] = reports
    return combined


# -- the page ----------------------------------------------------------------------------------


def _cell(value: Any, spread: Any = None) -> str:
    if value is None:
        return "-"
    text = f"{value:.4f}" if isinstance(value, float) else html.escape(str(value))
    if isinstance(spread, float) and spread > 0:
        text += f" &plusmn; {spread:.4f}"
    return text


def head_sentence(report: AuditReport) -> str:
    """How big the head is and what share of plays the long tail holds."""
    groups = report["groups"]
    head = groups["head"]
    return (
        f"{head['artists']} artists with {head['plays_share']:.1%} of plays;"
        f" long tail {groups['long_tail_plays']:.1%} of plays"
    )


def group_sentence(report: AuditReport, name: str) -> str:
    """A group's size and the thresholds that drew it."""
    d = report["groups"][name]
    return f"{d['listeners']} listeners, {d['unit']} from {d['from']:.4g} to {d['to']:.4g}"


def audit_text(report: AuditReport) -> list[str]:
    """The audit as the lines `tastemaker audit` prints."""
    lines = [f"split: {report['split']} (mean over seeds)"]
    lines.append(f"head: {head_sentence(report)}")
    for name, values in report["listener_groups"].items():
        lines.append(f"{name}: {group_sentence(report, name)}")
        lines.append("  " + f"{'model':<14}" + "".join(f"{m:>17}" for m in GROUP_METRICS))
        for model, metrics in values.items():
            cells = "".join(
                f"{'-':>17}" if metrics[m] is None else f"{metrics[m]:>17.4f}"
                for m in GROUP_METRICS
            )
            lines.append(f"  {model:<14}{cells}")
    lines.append("artists: " + "".join(f"{m:>18}" for m in ARTIST_METRICS))
    for model, metrics in report["artists"].items():
        lines.append(f"  {model:<14}" + "".join(f"{metrics[m]:>18.4f}" for m in ARTIST_METRICS))
    used = ", ".join(f"{f['name']} ({f['level']})" for f in report["features"])
    lines.append(f"features the model uses: {used}")
    return lines


def _html_table(rows: dict[str, dict[str, Any]], metrics: tuple[str, ...]) -> list[str]:
    """One table: a row per model, a column per metric (mean +- spread)."""
    e = html.escape
    lines = ["<table><tr><th>model</th>" + "".join(f"<th>{e(m)}</th>" for m in metrics) + "</tr>"]
    for model, values in rows.items():
        cells = "".join(f"<td>{_cell(values[m], values.get(f'{m}_sd'))}</td>" for m in metrics)
        lines.append(f"<tr><td>{e(model)}</td>{cells}</tr>")
    lines.append("</table>")
    return lines


def audit_html(report: AuditReport) -> str:
    """A self-contained page (no script, nothing fetched) of the audit; every name escaped."""
    e = html.escape
    out = [
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>",
        f"<title>tastemaker audit: {e(str(report['split']))} split</title>",
        "<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse;"
        "margin-bottom:1.5em}td,th{border:1px solid #ccc;padding:.2em .6em;text-align:right}"
        "th:first-child,td:first-child{text-align:left}</style></head><body>",
        f"<h1>Bias audit ({e(str(report['split']))} split)</h1>",
    ]
    out.append(f"<p>Head: {e(head_sentence(report))}.</p>")
    for name, values in report["listener_groups"].items():
        out.append(f"<h2>{e(name)}</h2><p>{e(group_sentence(report, name))}.</p>")
        out += _html_table(values, GROUP_METRICS)
    out.append("<h2>Artists</h2>")
    out += _html_table(report["artists"], ARTIST_METRICS)
    out.append("<h2>Features the model uses</h2><ul>")
    for f in report["features"]:
        out.append(f"<li>{e(str(f['name']))} ({e(str(f['level']))}): {e(str(f['meaning']))}</li>")
    out.append("</ul></body></html>\n")
    return "\n".join(out)


def write_audit_html(report: AuditReport, path: str | os.PathLike[str]) -> Written:
    """The audit page written through the safe writer (complete or not at all)."""
    return write_output(path, audit_html(report))
