"""EASE (Steck 2019): closed-form artist-artist weights with a zero diagonal.

Fitted only on artists with at least `min_listeners` training listeners: the rest carry almost
no co-listening evidence, and leaving them out costs no accuracy while making the matrix
inverse many times cheaper. The weights are dense over those artists (the scale issue bounds
them later).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import scipy.linalg
import scipy.sparse as sp

from recommender.errors import DivergedFit, TooLittleData
from recommender.interactions import Interactions
from recommender.models.contract import (
    ModelConfig,
    Scorer,
    array,
    positions,
    register,
    setting,
)
from recommender.models.popular import listener_counts


@dataclass(frozen=True)
class EASEConfig(ModelConfig):
    """The ridge strength and which artists take part (BENCHMARKS.md: lambda 50, >= 2)."""

    l2: float = setting(50.0, above=0.0)
    min_listeners: int = setting(2, minimum=1)


@register
class EASE(Scorer[EASEConfig]):
    """A listener's score for an artist: their heard artists times the EASE weights."""

    name = "ease"
    config_class = EASEConfig

    def _fit(self, interactions: Interactions) -> None:
        x = binary(interactions.weights)
        counts = listener_counts(x)
        self.items_ = np.flatnonzero(counts >= self.config.min_listeners).astype(np.int64)
        if len(self.items_) == 0:
            raise TooLittleData(
                f"EASE needs artists with at least {self.config.min_listeners} listeners and "
                "there are none yet: import more listening (or lower min_listeners)"
            )
        sub = sp.csc_matrix(x[:, self.items_])
        # float32 halves the cost; the ridge term keeps the system well conditioned.
        gram = np.asarray((sub.T @ sub).todense(), dtype=np.float32)
        gram[np.diag_indices_from(gram)] += self.config.l2
        precision = _spd_inverse(gram)
        weights = precision / (-np.diag(precision))
        weights[np.diag_indices_from(weights)] = 0.0
        self.weights_ = weights.astype(np.float32)
        self._positions = _position_map(self.items_, interactions.weights.shape[1])

    def _score_rows(self, train: sp.csr_matrix, rows: np.ndarray) -> np.ndarray:
        # Map the listeners' artists straight to EASE's positions: sparse column indexing on
        # every call costs more than the product itself.
        block = sp.coo_matrix(train[rows])
        mapped = self._positions[block.col]
        keep = (mapped >= 0) & (block.data != 0)
        user = sp.csr_matrix(
            (np.ones(int(keep.sum()), dtype=np.float32), (block.row[keep], mapped[keep])),
            shape=(len(rows), len(self.items_)),
        )
        scores = np.zeros((len(rows), train.shape[1]), dtype=np.float32)
        scores[:, self.items_] = user @ self.weights_
        return scores

    def to_arrays(self) -> dict[str, np.ndarray]:
        return {"ease_items": self.items_, "ease_weights": self.weights_}

    def _load(self, arrays: Mapping[str, np.ndarray], n_listeners: int, n_items: int) -> None:
        self.items_ = positions(arrays, "ease_items", n_items)
        size = len(self.items_)
        self.weights_ = array(arrays, "ease_weights", (size, size)).astype(np.float32)
        self._positions = _position_map(self.items_, n_items)


def binary(matrix: sp.csr_matrix) -> sp.csr_matrix:
    """1 wherever `matrix` stores a value (float32)."""
    out = sp.csr_matrix(matrix, dtype=np.float32, copy=True)
    out.data = np.ones_like(out.data)
    return out


def _position_map(items: np.ndarray, n_items: int) -> np.ndarray:
    """Artist column -> position among EASE's artists, -1 for artists EASE leaves out."""
    mapping = np.full(n_items, -1, dtype=np.int64)
    mapping[items] = np.arange(len(items))
    return mapping


def _spd_inverse(matrix: np.ndarray) -> np.ndarray:
    """Inverse of a symmetric positive definite matrix through its Cholesky factor.

    About twice as fast as a general inverse, which is most of EASE's fitting time.
    """
    potrf, potri = scipy.linalg.lapack.get_lapack_funcs(("potrf", "potri"), (matrix,))
    factor, info = potrf(matrix, lower=False, overwrite_a=True)
    if info == 0:
        inverse, info = potri(factor, lower=False, overwrite_c=True)
    if info != 0:
        # With l2 > 0 the Gram matrix is positive definite in exact arithmetic; only numbers
        # beyond float32 (absurd play weights, a tiny l2) can get here.
        raise DivergedFit(
            "EASE could not invert its co-listening matrix (not positive definite): "
            "raise l2 and train again"
        )
    upper = np.triu(inverse)
    return np.asarray(upper + np.triu(inverse, 1).T)
