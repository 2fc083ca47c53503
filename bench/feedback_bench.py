"""Does feedback help? The demo world evaluated with and without feedback in the model input.

    .venv/bin/python bench/feedback_bench.py [--models tastemaker,ease] [--seed 42] [--json]

The demo world (`datasets/demo`) plants loves, hates and skips (`truth.json` -> feedback). Each
split holds out part of every listener's artists (`recommender.evaluate.split`, seed 42) from
the play counts, which feedback never changes, so both arms are scored on the same held-out
plays. Held-out artists the listener hates are dropped from the test set in both arms: playing
something before hating it does not make it a good recommendation.

- without: the model input is the listens alone (`load_interactions(feedback=False)`);
- with: the training part weighed as `tastemaker train` does (`weigh_model_input`: hated artists
  left out, loved ones doubled; a love whose artist is held out is held out too, so nothing of
  the test set leaks in), and hated artists never ranked (as playlists never offer them).

Printed per split and model: NDCG@10 on the held-out plays, and the share of the top-10 slots
of listeners with hates that hold an artist they hate.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from dataclasses import replace
from pathlib import Path

import numpy as np
import scipy.sparse as sp

from recommender.demo import ensure_demo
from recommender.evaluate import SEED, Split, evaluate_scorer, split, top_k, training_view
from recommender.features import tag_profile
from recommender.feedback import ModelOpinions, model_opinions, weigh_model_input
from recommender.interactions import Interactions, load_interactions
from recommender.models import RowScorer, make_scorer
from recommender.store import Store


class HatesNeverRanked:
    """A fitted scorer whose scores for each listener's hated artists are -inf."""

    def __init__(self, scorer: RowScorer, hated: sp.csr_matrix) -> None:
        self.scorer = scorer
        self.hated = hated

    def score_rows(self, train: sp.csr_matrix, rows: np.ndarray) -> np.ndarray:
        scores = np.array(self.scorer.score_rows(train, rows), dtype=np.float64)
        mask = self.hated[rows].toarray() > 0
        scores[mask] = -np.inf
        return scores


def _cells(interactions: Interactions, pairs: tuple[tuple[int, int], ...]) -> list[tuple[int, int]]:
    """(row, column) of each (listener id, artist id) pair the matrices hold."""
    row = {int(v): i for i, v in enumerate(interactions.listener_ids.tolist())}
    col = interactions.artist_index
    return [(row[lid], col[a]) for lid, a in pairs if lid in row and a in col]


def _mask(interactions: Interactions, pairs: tuple[tuple[int, int], ...]) -> sp.csr_matrix:
    cells = _cells(interactions, pairs)
    return sp.csr_matrix(
        (np.ones(len(cells)), ([r for r, _ in cells], [c for _, c in cells])),
        shape=interactions.shape,
    )


def hated_share(
    scorer: RowScorer, train: sp.csr_matrix, weights: sp.csr_matrix, hated: sp.csr_matrix
) -> float:
    """Share of top-10 slots holding a hated artist, over listeners with at least one hate."""
    rows = np.flatnonzero(np.diff(hated.indptr) > 0)
    scores = scorer.score_rows(weights, rows)
    ranked = top_k(scores, train[rows], 10)
    hits = np.asarray(hated[rows[:, None], ranked].todense()) > 0
    return float(hits.mean()) if len(rows) else 0.0


def run(store: Store, models: list[str], seed: int) -> dict[str, dict[str, dict[str, float]]]:
    plain = load_interactions(store, feedback=False)
    opinions = model_opinions(store)
    hated = _mask(plain, opinions.hated)
    tags = tag_profile(plain.artist_tags, min_artists=1)
    report: dict[str, dict[str, dict[str, float]]] = {}
    for kind in ("random", "discovery"):
        held = split(plain.plays, kind, seed=seed)
        test = sp.csr_matrix(held.test - held.test.multiply(hated))
        test.eliminate_zeros()
        fair = Split(kind, held.train, test)
        view = training_view(plain, held.train)
        kept_loves = tuple(
            pair
            for pair in opinions.loved
            if any(view.weights[r, c] > 0 for r, c in _cells(plain, (pair,)))
        )
        with_feedback = replace(
            view,
            weights=weigh_model_input(
                view.weights,
                plain.listener_ids,
                plain.artists,
                ModelOpinions(kept_loves, opinions.hated),
            ),
        )
        report[kind] = {}
        for name in models:
            for arm, data in (("without", view), ("with", with_feedback)):
                scorer = make_scorer(name, num_threads=1).fit(data)
                scored: RowScorer = HatesNeverRanked(scorer, hated) if arm == "with" else scorer
                metrics = evaluate_scorer(scored, fair, data.weights, tags)
                report[kind][f"{name} {arm} feedback"] = {
                    "ndcg@10": float(metrics["ndcg@10"] or 0.0),
                    "hated_share@10": hated_share(scored, held.train, data.weights, hated),
                }
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", default="tastemaker,ease")
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder, Store.open(Path(folder) / "t.db") as store:
        ensure_demo(store)
        report = run(store, args.models.split(","), args.seed)
    if args.json:
        json.dump(report, sys.stdout, indent=2)
        print()
        return
    print("| split | model | NDCG@10 | hated share of top-10 |")
    print("| --- | --- | --- | --- |")
    for kind, rows in report.items():
        for name, m in rows.items():
            print(f"| {kind} | {name} | {m['ndcg@10']:.4f} | {m['hated_share@10']:.4f} |")


if __name__ == "__main__":
    main()
