"""Most popular: every listener gets the artists with the most training listeners.

The floor every other model must clear; it is not personal, so the contract's "a listener's
held-out artist comes first" does not apply to it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from recommender.interactions import Interactions
from recommender.models.contract import ModelConfig, Scorer, array, register


@dataclass(frozen=True)
class PopularConfig(ModelConfig):
    """Most-popular has no settings."""


def listener_counts(weights: sp.csr_matrix) -> np.ndarray:
    """How many listeners played each artist (a column count of nonzero weights)."""
    return np.diff(sp.csc_matrix(weights).indptr)


@register
class MostPopular(Scorer[PopularConfig]):
    """Scores = each artist's number of training listeners, the same for everyone."""

    name = "most-popular"
    config_class = PopularConfig
    personal = False

    def _fit(self, interactions: Interactions) -> None:
        self.popularity_ = listener_counts(interactions.weights).astype(np.float32)

    def _score_rows(self, train: sp.csr_matrix, rows: np.ndarray) -> np.ndarray:
        return np.tile(self.popularity_, (len(rows), 1))

    def to_arrays(self) -> dict[str, np.ndarray]:
        return {"popularity": self.popularity_}

    def _load(self, arrays: Mapping[str, np.ndarray], n_listeners: int, n_items: int) -> None:
        self.popularity_ = array(arrays, "popularity", (n_items,)).astype(np.float32)
