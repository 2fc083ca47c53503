"""What fewer LightFM epochs cost in accuracy: the blend's NDCG@10 at several epoch counts.

    .venv/bin/python bench/epoch_bench.py --db STORE [--epochs 30,10,5] [--learning-rates 0.08]
        [--seeds 2] [--splits discovery] [--threads 2]

`HybridConfig.epoch_pairs` caps a fit's pair updates, so a large community gets fewer epochs
(five on Last.fm-360K, where each costs about 350 s on 2 cores). This measures that trade on a
store small enough to fit all 30: the `1m` world has Last.fm-360K's pairs per listener (about
49), so its curve is the nearest measurable stand-in. Like bench/tune_model.py it scores on a
validation split carved from the protocol's training part (the test split is never seen), fits
each setting with `--seeds` seeds on `--threads` threads and prints mean +- sd. Scores are
computed a batch of listeners at a time (`evaluate_scorer`), so a 20,000 x 100,000 world never
needs a dense score matrix. The EASE part is fitted once and shared by every blend. With
several `--learning-rates` every epoch count is fitted at each (can a larger step make up for
fewer epochs?); the first row of a split is the one the others are compared with.
"""

from __future__ import annotations

import argparse
import dataclasses
import statistics
import time
from pathlib import Path

from recommender.evaluate import SPLITS, evaluate_scorer, split, training_view
from recommender.features import tag_profile
from recommender.interactions import load_interactions
from recommender.models import EASE, TastemakerBlend, TastemakerConfig
from recommender.models.hybrid import HybridModel
from recommender.store import Store

VALIDATION_SEED = 43


def _spread(values: list[float]) -> str:
    sd = statistics.stdev(values) if len(values) > 1 else 0.0
    return f"{statistics.fmean(values):.4f} +- {sd:.4f}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", type=Path, required=True)
    parser.add_argument("--epochs", default="30,10,5")
    parser.add_argument("--learning-rates", default=str(TastemakerConfig().learning_rate))
    parser.add_argument("--seeds", type=int, default=2)
    parser.add_argument("--splits", default=",".join(SPLITS))
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    settings = [
        (int(e), float(r)) for e in args.epochs.split(",") for r in args.learning_rates.split(",")
    ]
    interactions = load_interactions(Store.open(args.db))
    tags = tag_profile(interactions.artist_tags, min_artists=1)
    print(
        f"{interactions.weights.shape[0]:,} listeners, {interactions.weights.shape[1]:,} artists,"
        f" {interactions.weights.nnz:,} pairs",
        flush=True,
    )
    for kind in args.splits.split(","):
        outer = split(interactions.plays, kind)  # the protocol's split; its test part is unused
        inner = split(outer.train, kind, seed=VALIDATION_SEED)
        view = training_view(interactions, inner.train)
        base = TastemakerConfig()
        ease = EASE(base.ease).fit(view)
        first: float | None = None
        for epochs, rate in settings:
            ndcg: list[float] = []
            coverage: list[float] = []
            seconds: list[float] = []
            for run in range(args.seeds):
                config = dataclasses.replace(
                    base, epochs=epochs, learning_rate=rate, random_state=42 + run
                )
                started = time.perf_counter()
                hybrid = HybridModel(config.hybrid, num_threads=args.threads).fit(view)
                seconds.append(time.perf_counter() - started)
                blend = TastemakerBlend.from_parts(config, hybrid, ease)
                m = evaluate_scorer(blend, inner, view.weights, tags)
                ndcg.append(float(m["ndcg@10"] or 0.0))
                coverage.append(float(m["coverage@10"] or 0.0))
            mean = statistics.fmean(ndcg)
            first = mean if first is None else first
            print(
                f"{kind} epochs {epochs:>3} rate {rate:.3f}: ndcg@10 {_spread(ndcg)}"
                f" ({mean / first:.3f}x the first row) coverage@10 {_spread(coverage)}"
                f" fit {statistics.fmean(seconds):.0f} s",
                flush=True,
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
