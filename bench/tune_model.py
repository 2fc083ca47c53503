"""Tune the tastemaker blend on validation splits carved from HetRec's TRAINING data only.

    .venv/bin/python bench/tune_model.py [--db .bench/hetrec.db] [--configs JSON]

For each split kind, the protocol's training part is split again the same way (seed 43):
models fit on what remains and are scored on the carved-out part, so the test split is never
seen. Each LightFM configuration is fitted once per split; every EASE share is then scored
from the same fit. The chosen values are the defaults of `HybridConfig`
(recommender/models/hybrid.py) and `TastemakerConfig` (recommender/models/blend.py), and the
output of the last run is kept in bench/tune_model.txt.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import scipy.sparse as sp

from recommender.evaluate import SPLITS, evaluate_scorer, split, training_view
from recommender.features import tag_profile
from recommender.interactions import load_interactions
from recommender.models import EASE, TastemakerBlend, TastemakerConfig
from recommender.store import Store

VALIDATION_SEED = 43
SHARES = (0.0, 0.05, 0.1, 0.15, 0.2, 0.3)
CONFIGS = [
    {"no_components": 128, "epochs": 120, "learning_rate": 0.05},
    {"no_components": 64, "epochs": 60, "learning_rate": 0.05},
    {"no_components": 96, "epochs": 40, "learning_rate": 0.08},
]


class Fixed:
    """Scores computed once, served to evaluate_scorer."""

    def __init__(self, scores: np.ndarray) -> None:
        self.scores = scores

    def score_rows(self, train: sp.csr_matrix, rows: np.ndarray) -> np.ndarray:
        return self.scores[rows]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", type=Path, default=Path(".bench/hetrec.db"))
    parser.add_argument("--configs", type=json.loads, default=CONFIGS)
    parser.add_argument("--splits", default=",".join(SPLITS))
    args = parser.parse_args()
    interactions = load_interactions(Store.open(args.db))
    tags = tag_profile(interactions.artist_tags, min_artists=1)
    for kind in args.splits.split(","):
        outer = split(interactions.plays, kind)  # the protocol's split; its test part is unused
        inner = split(outer.train, kind, seed=VALIDATION_SEED)
        view = training_view(interactions, inner.train)
        rows = np.arange(view.weights.shape[0])
        started = time.perf_counter()
        ease = EASE().fit(view)
        ease_scores = ease.score_rows(view.weights, rows)
        ease_metrics = evaluate_scorer(Fixed(ease_scores), inner, view.weights, tags)
        print(
            f"{kind} ease: ndcg@10 {ease_metrics['ndcg@10']:.4f}"
            f" coverage@10 {ease_metrics['coverage@10']:.3f}"
            f" ({time.perf_counter() - started:.0f} s)",
            flush=True,
        )
        for config in args.configs:
            started = time.perf_counter()
            scorer = TastemakerBlend(TastemakerConfig(**config, ease_share=0.0)).fit(view)
            fitted = time.perf_counter() - started
            hybrid = scorer.score_rows(view.weights, rows)
            for share in SHARES:
                blend = TastemakerBlend.from_parts(
                    TastemakerConfig(**config, ease_share=share), scorer.hybrid_, ease
                )
                scores = blend.score_rows(view.weights, rows) if share else hybrid
                m = evaluate_scorer(Fixed(scores), inner, view.weights, tags)
                print(
                    f"{kind} {json.dumps(config)} share {share:.2f}: ndcg@10 {m['ndcg@10']:.4f}"
                    f" ({m['ndcg@10'] / ease_metrics['ndcg@10']:.3f} x ease)"
                    f" coverage@10 {m['coverage@10']:.3f} fit {fitted:.0f} s",
                    flush=True,
                )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
