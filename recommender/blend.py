"""The model playlists use: the LightFM hybrid blended with a little EASE, per listener.

Each model's scores are z-scored per listener (their scales are unrelated), then mixed:
mostly the hybrid, whose tag features reach the long tail and cold artists, plus a small
share of EASE, which ranks well-known artists sharply. A larger EASE share buys little
accuracy and costs catalogue coverage, so the share stays small (tuned in bench/).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.sparse as sp

from recommender.baselines import EASE
from recommender.features import item_features
from recommender.hybrid import HybridModel
from recommender.interactions import Interactions

# Tuned on a validation split carved from HetRec's training part (bench/tune_model.py).
DEFAULT_PARAMS: dict[str, Any] = {
    "no_components": 64,
    "epochs": 30,
    "learning_rate": 0.08,
    "item_alpha": 1e-6,
    "user_alpha": 1e-6,
    "max_sampled": 30,
    "random_state": 42,
    "tag_weight": 1.0,
    "top_tags": 8,
    "min_tag_artists": 5,
    "ease_share": 0.03,
    "ease_l2": 50.0,
    "ease_min_listeners": 2,
}

HYBRID_KEYS = (
    "no_components",
    "epochs",
    "learning_rate",
    "item_alpha",
    "user_alpha",
    "max_sampled",
    "random_state",
)


def zscore(scores: np.ndarray) -> np.ndarray:
    """Row-wise (per listener) standard scores; a constant row becomes zeros."""
    scores = np.asarray(scores, dtype=np.float32)
    mean = scores.mean(axis=-1, keepdims=True)
    std = scores.std(axis=-1, keepdims=True)
    std[std == 0] = 1.0
    return (scores - mean) / std


class TastemakerScorer:
    """Hybrid LightFM (+ tags) blended with EASE; scikit-learn conventions."""

    def __init__(self, num_threads: int = 2, **params: Any) -> None:
        unknown = set(params) - set(DEFAULT_PARAMS)
        if unknown:
            raise ValueError(f"unknown parameters: {', '.join(sorted(unknown))}")
        self.num_threads = num_threads
        self.params = {**DEFAULT_PARAMS, **params}

    def get_params(self) -> dict[str, Any]:
        return dict(self.params)

    def fit(self, interactions: Interactions) -> TastemakerScorer:
        p = self.params
        features = item_features(
            interactions,
            tag_weight=float(p["tag_weight"]),
            top_tags=int(p["top_tags"]),
            min_artists=int(p["min_tag_artists"]),
        )
        self.hybrid_ = HybridModel(
            num_threads=self.num_threads, **{k: p[k] for k in HYBRID_KEYS}
        ).fit(interactions.weights, features)
        self.ease_: EASE | None = None
        if float(p["ease_share"]) > 0:
            self.ease_ = EASE(
                l2=float(p["ease_l2"]), min_listeners=int(p["ease_min_listeners"])
            ).fit(interactions.weights)
        return self

    def score_rows(self, train: sp.csr_matrix, rows: np.ndarray) -> np.ndarray:
        """Blended scores of every artist for the listeners at `rows` of `train`."""
        hybrid = self.hybrid_.score_rows(rows)
        share = float(self.params["ease_share"])
        if self.ease_ is None or share == 0:
            return hybrid
        ease = self.ease_.score_rows(train, rows)
        return (1.0 - share) * zscore(hybrid) + share * zscore(ease)

    # -- plain arrays in, plain arrays out (the bundle holds numbers only) -------------------

    def to_arrays(self) -> dict[str, np.ndarray]:
        arrays: dict[str, np.ndarray] = {
            "item_vectors": self.hybrid_.item_vectors_,
            "item_bias": self.hybrid_.item_bias_,
            "user_vectors": self.hybrid_.user_vectors_,
            "user_bias": self.hybrid_.user_bias_,
        }
        if self.ease_ is not None:
            arrays["ease_items"] = self.ease_.items_
            arrays["ease_weights"] = self.ease_.weights_
        return arrays

    @classmethod
    def from_arrays(
        cls, params: dict[str, Any], arrays: dict[str, np.ndarray], n_items: int
    ) -> TastemakerScorer:
        scorer = cls(**{k: v for k, v in params.items() if k in DEFAULT_PARAMS})
        p = scorer.params
        scorer.hybrid_ = HybridModel.from_arrays(
            {k: p[k] for k in HYBRID_KEYS},
            arrays["item_vectors"],
            arrays["item_bias"],
            arrays["user_vectors"],
            arrays["user_bias"],
        )
        scorer.ease_ = None
        if "ease_weights" in arrays:
            ease = EASE(l2=float(p["ease_l2"]), min_listeners=int(p["ease_min_listeners"]))
            ease.items_ = arrays["ease_items"]
            ease.weights_ = arrays["ease_weights"]
            ease.n_items_ = n_items
            scorer.ease_ = ease
        return scorer

    def check_shapes(self, n_listeners: int, n_items: int) -> str | None:
        """What is inconsistent about loaded arrays, or None when they fit together."""
        h = self.hybrid_
        if h.item_vectors_.shape[0] != n_items or h.item_bias_.shape != (n_items,):
            return "item arrays do not match the artists"
        if h.user_vectors_.shape[0] != n_listeners or h.user_bias_.shape != (n_listeners,):
            return "listener arrays do not match the listeners"
        if h.user_vectors_.shape[1] != h.item_vectors_.shape[1]:
            return "listener and artist vectors differ in length"
        if self.ease_ is not None:
            items = self.ease_.items_
            if self.ease_.weights_.shape != (len(items), len(items)):
                return "the EASE weights do not match their artists"
            if len(items) and (items.min() < 0 or items.max() >= n_items):
                return "the EASE artists are outside the catalogue"
        return None
