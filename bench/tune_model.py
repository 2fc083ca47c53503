"""Tune the tastemaker blend on validation splits carved from HetRec's TRAINING data only.

    .venv/bin/python bench/tune_model.py [--db .bench/hetrec.db] [--configs JSON]
        [--shares 0.02,0.03,0.05] [--seeds 3] [--threads 2]

For each split kind, the protocol's training part is split again the same way (seed 43):
models fit on what remains and are scored on the carved-out part, so the test split is never
seen. Each LightFM configuration is fitted `--seeds` times per split (seeds 42, 43, ...) on
`--threads` threads, as `tastemaker evaluate` does, and every figure is the mean over the seeds
with its standard deviation: one multi-threaded fit is one sample, not a measurement. Every EASE
share is scored from the same fits; the EASE part is fitted once per distinct EASE setting.
The chosen values are the defaults of `HybridConfig` (recommender/models/hybrid.py) and
`TastemakerConfig` (recommender/models/blend.py); the output of the last run is kept in
bench/tune_model.txt.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import statistics
import time
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp

from recommender.evaluate import SPLITS, evaluate_scorer, split, training_view
from recommender.features import tag_profile
from recommender.interactions import load_interactions
from recommender.models import EASE, TastemakerBlend, TastemakerConfig
from recommender.store import Store

VALIDATION_SEED = 43
CONFIGS: list[dict[str, Any]] = [
    {},  # the current defaults
    {"no_components": 96, "epochs": 30, "learning_rate": 0.06},
    {"no_components": 64, "epochs": 40, "learning_rate": 0.06},
]


class Fixed:
    """Scores computed once, served to evaluate_scorer."""

    def __init__(self, scores: np.ndarray) -> None:
        self.scores = scores

    def score_rows(self, train: sp.csr_matrix, rows: np.ndarray) -> np.ndarray:
        picked: np.ndarray = self.scores[rows]
        return picked


def _spread(values: list[float]) -> str:
    sd = statistics.stdev(values) if len(values) > 1 else 0.0
    return f"{statistics.fmean(values):.4f} +- {sd:.4f}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", type=Path, default=Path(".bench/hetrec.db"))
    parser.add_argument("--configs", type=json.loads, default=CONFIGS)
    parser.add_argument("--splits", default=",".join(SPLITS))
    parser.add_argument("--shares", default="0.02,0.03,0.04,0.05")
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    shares = [float(s) for s in args.shares.split(",")]
    interactions = load_interactions(Store.open(args.db))
    tags = tag_profile(interactions.artist_tags, min_artists=1)
    for kind in args.splits.split(","):
        outer = split(interactions.plays, kind)  # the protocol's split; its test part is unused
        inner = split(outer.train, kind, seed=VALIDATION_SEED)
        view = training_view(interactions, inner.train)
        rows = np.arange(view.weights.shape[0])
        started = time.perf_counter()
        baseline = EASE().fit(view)
        base = evaluate_scorer(
            Fixed(baseline.score_rows(view.weights, rows)), inner, view.weights, tags
        )
        print(
            f"{kind} ease: ndcg@10 {base['ndcg@10']:.4f} coverage@10 {base['coverage@10']:.3f}"
            f" ({time.perf_counter() - started:.0f} s)",
            flush=True,
        )
        eases: dict[Any, EASE] = {}
        for overrides in args.configs:
            config = TastemakerConfig(**{**overrides, "ease_share": 0.0})
            key = config.ease
            if key not in eases:
                eases[key] = EASE(key).fit(view)
            ratios: dict[float, list[float]] = {s: [] for s in [0.0, *shares]}
            coverage: dict[float, list[float]] = {s: [] for s in ratios}
            fits = []
            for run in range(args.seeds):
                seeded = dataclasses.replace(config, random_state=42 + run)
                started = time.perf_counter()
                scorer = TastemakerBlend(seeded, num_threads=args.threads).fit(view)
                fits.append(time.perf_counter() - started)
                for share in ratios:
                    blend = TastemakerBlend.from_parts(
                        dataclasses.replace(seeded, ease_share=share), scorer.hybrid_, eases[key]
                    )
                    m = evaluate_scorer(
                        Fixed(blend.score_rows(view.weights, rows)), inner, view.weights, tags
                    )
                    ratios[share].append(float(m["ndcg@10"] or 0) / float(base["ndcg@10"] or 1))
                    coverage[share].append(float(m["coverage@10"] or 0))
            for share in ratios:
                print(
                    f"{kind} {json.dumps(overrides)} share {share:.2f}:"
                    f" x ease {_spread(ratios[share])} coverage@10 {_spread(coverage[share])}"
                    f" fit {statistics.fmean(fits):.0f} s",
                    flush=True,
                )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
