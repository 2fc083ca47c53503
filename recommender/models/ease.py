"""EASE (Steck 2019): closed-form artist-artist weights with a zero diagonal, bounded.

Fitted only on artists with at least `min_listeners` training listeners (the rest carry almost
no co-listening evidence; leaving them out costs no accuracy and makes the inverse many times
cheaper), and of those only on the best-supported (most listeners, ties: the lower column)
that fit the memory budget `gram_mb`: the Gram matrix and its inverse are N x N float32, so
N = sqrt(gram_mb MiB / 4 bytes). The inverse is taken in place. With the default 256 MiB
N is 8,192: all of HetRec's 5.9k such artists, and the best-supported 8,192 of larger
catalogues, whose fit then costs a bounded 15 s or so on two cores whatever their size.

`keep` > 0 keeps, for every artist, only the `keep` largest weights (by size) pointing at it:
what the tastemaker blend stores, so a bundle holds N * keep weights instead of N * N. The
`ease` model itself keeps every weight (`keep` = 0), at full strength.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from recommender.errors import BundleError, DivergedFit, TooLittleData
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

_BLOCK = 1024  # columns per step when symmetrising or pruning in place


@dataclass(frozen=True)
class EASEConfig(ModelConfig):
    """The ridge strength, which artists take part (BENCHMARKS.md: lambda 50, >= 2), the
    memory for the Gram matrix (MiB) and how many weights per artist are kept (0: all)."""

    l2: float = setting(50.0, above=0.0)
    min_listeners: int = setting(2, minimum=1)
    gram_mb: int = setting(256, minimum=1)
    keep: int = setting(0, minimum=0)

    @property
    def max_artists(self) -> int:
        """The most artists whose N x N float32 Gram matrix fits in `gram_mb` MiB."""
        return max(1, math.isqrt(self.gram_mb * 2**20 // 4))


def gram_bytes(config: EASEConfig, eligible: int) -> int:
    """The memory the fit needs for `eligible` artists with enough listeners (the N x N
    matrix, plus one block of scratch)."""
    n = min(eligible, config.max_artists)
    return 4 * n * n + 8 * n * _BLOCK


@register
class EASE(Scorer[EASEConfig]):
    """A listener's score for an artist: their heard artists times the EASE weights."""

    name = "ease"
    config_class = EASEConfig

    def _fit(self, interactions: Interactions) -> None:
        x = binary(interactions.weights)
        counts = listener_counts(x)
        eligible = np.flatnonzero(counts >= self.config.min_listeners)
        if len(eligible) == 0:
            raise TooLittleData(
                f"EASE needs artists with at least {self.config.min_listeners} listeners and "
                "there are none yet: import more listening (or lower min_listeners)"
            )
        cap = self.config.max_artists
        if len(eligible) > cap:
            best = eligible[np.lexsort((eligible, -counts[eligible]))[:cap]]
            self.notes_ = (
                f"EASE used the {cap:,} best-supported of {len(eligible):,} artists with "
                f"{self.config.min_listeners}+ listeners (its memory budget, "
                f"gram_mb = {self.config.gram_mb})",
            )
            eligible = np.sort(best)
        self.items_ = eligible.astype(np.int64)
        sub = sp.csc_matrix(x[:, self.items_])
        # float32 halves the cost; the ridge term keeps the system well conditioned.
        gram = np.asarray((sub.T @ sub).toarray(), dtype=np.float32)
        del sub
        gram[np.diag_indices_from(gram)] += self.config.l2
        weights = _spd_inverse_in_place(gram)
        diagonal = -np.diag(weights).copy()
        weights /= diagonal[None, :]
        weights[np.diag_indices_from(weights)] = 0.0
        if self.config.keep:
            self.sparse_ = _prune(weights, self.config.keep)
            self.weights_: np.ndarray | None = None
        else:
            self.weights_ = weights
            self.sparse_ = None
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
        if self.sparse_ is not None:
            scores[:, self.items_] = (user @ self.sparse_).toarray()
        else:
            assert self.weights_ is not None
            scores[:, self.items_] = user @ self.weights_
        return scores

    def to_arrays(self) -> dict[str, np.ndarray]:
        if self.sparse_ is not None:
            return {
                "ease_items": self.items_,
                "ease_indptr": self.sparse_.indptr.astype(np.int64),
                "ease_indices": self.sparse_.indices.astype(np.int32),
                "ease_data": self.sparse_.data.astype(np.float32),
            }
        assert self.weights_ is not None
        return {"ease_items": self.items_, "ease_weights": self.weights_}

    def _load(self, arrays: Mapping[str, np.ndarray], n_listeners: int, n_items: int) -> None:
        self.items_ = positions(arrays, "ease_items", n_items)
        size = len(self.items_)
        self.weights_, self.sparse_ = None, None
        if "ease_weights" in arrays:
            self.weights_ = array(arrays, "ease_weights", (size, size))
        else:
            indptr = array(arrays, "ease_indptr", (size + 1,))
            indices = positions(arrays, "ease_indices", size)
            data = array(arrays, "ease_data", (len(indices),))
            if indptr[0] != 0 or indptr[-1] != len(indices) or np.any(np.diff(indptr) < 0):
                raise BundleError("the EASE weight lists are inconsistent")
            self.sparse_ = sp.csr_matrix((data, indices, indptr), shape=(size, size))
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


def _spd_inverse_in_place(matrix: np.ndarray) -> np.ndarray:
    """Inverse of a symmetric positive definite matrix through its Cholesky factor, reusing
    the matrix's own memory (LAPACK potrf/potri, about twice as fast as a general inverse)."""
    from scipy.linalg import lapack  # only a fit needs LAPACK

    potrf, potri = lapack.get_lapack_funcs(("potrf", "potri"), (matrix,))
    # Fortran order is the transposed view of a C-ordered symmetric matrix: no copy, and
    # LAPACK's upper triangle is our lower one.
    view = matrix.T
    factor, info = potrf(view, lower=False, overwrite_a=True)
    if info == 0:
        factor, info = potri(factor, lower=False, overwrite_c=True)
    if info != 0:
        # With l2 > 0 the Gram matrix is positive definite in exact arithmetic; only numbers
        # beyond float32 (absurd play weights, a tiny l2) can get here.
        raise DivergedFit(
            "EASE could not invert its co-listening matrix (not positive definite): "
            "raise l2 and train again"
        )
    inverse: np.ndarray = np.asarray(factor).T  # `matrix` itself unless LAPACK had to copy
    _mirror_lower_to_upper(inverse)
    return inverse


def _mirror_lower_to_upper(matrix: np.ndarray) -> None:
    """Copy the lower triangle onto the upper one, a block of columns at a time."""
    n = matrix.shape[0]
    for start in range(0, n, _BLOCK):
        stop = min(n, start + _BLOCK)
        # Rows start:stop of the upper part come from columns start:stop of the lower part.
        matrix[start:stop, stop:] = matrix[stop:, start:stop].T
        block = matrix[start:stop, start:stop]
        upper = np.triu_indices(stop - start, 1)
        block[upper] = block.T[upper]


def _prune(weights: np.ndarray, keep: int) -> sp.csr_matrix:
    """Each column's `keep` largest weights by size, as a sparse matrix (rows: from-artist)."""
    n = weights.shape[0]
    keep = min(keep, n)
    rows, cols, values = [], [], []
    for start in range(0, n, _BLOCK):
        part = weights[:, start : start + _BLOCK]
        if keep < n:
            top = np.argpartition(-np.abs(part), keep - 1, axis=0)[:keep]
        else:
            top = np.broadcast_to(np.arange(n)[:, None], part.shape)
        columns = np.broadcast_to(np.arange(part.shape[1]), top.shape)
        rows.append(top.ravel())
        cols.append((columns + start).ravel())
        values.append(part[top, columns].ravel())
    matrix = sp.csr_matrix(
        (np.concatenate(values), (np.concatenate(rows), np.concatenate(cols))), shape=(n, n)
    )
    matrix.eliminate_zeros()
    return matrix
