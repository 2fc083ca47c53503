"""Baselines the evaluation scores side by side with tastemaker's own model.

Each scorer follows the same small protocol: `fit(train, context)` returns self and
`score(rows)` returns dense scores (listeners x artists). They exist to keep the project honest:
EASE is kept at full strength (BENCHMARKS.md) so that ratios against it mean something.
"""

from __future__ import annotations

from typing import Protocol

import numpy as np
import scipy.sparse as sp
from scipy.linalg import lapack

from recommender.interactions import Interactions


class Scorer(Protocol):
    def fit(self, train: Interactions) -> Scorer: ...

    def score(self, rows: np.ndarray) -> np.ndarray: ...


def binary(matrix: sp.csr_matrix) -> sp.csr_matrix:
    out = matrix.copy().tocsr()
    out.data = np.ones_like(out.data)
    return out


class MostPopular:
    """Every listener gets the artists with the most training listeners."""

    def fit(self, train: Interactions) -> MostPopular:
        self.popularity_ = np.asarray(binary(train.plays).sum(axis=0)).ravel().astype(np.float32)
        return self

    def score(self, rows: np.ndarray) -> np.ndarray:
        return np.tile(self.popularity_, (len(rows), 1))


class ItemKNN:
    """Item-based k-nearest neighbours on cosine similarity of log-weighted listening."""

    def __init__(self, k: int = 400) -> None:
        self.k = k

    def fit(self, train: Interactions) -> ItemKNN:
        x = train.weights.tocsc().astype(np.float32)
        norms = np.sqrt(np.asarray(x.multiply(x).sum(axis=0)).ravel())
        norms[norms == 0] = 1.0
        normed = x @ sp.diags(1.0 / norms)
        sim = sp.csr_matrix(normed.T @ normed)
        sim.setdiag(0)
        sim.eliminate_zeros()
        self.similarity_ = _top_k_rows(sim, self.k)
        self.x_ = train.weights.tocsr().astype(np.float32)
        return self

    def score(self, rows: np.ndarray) -> np.ndarray:
        return np.asarray((self.x_[rows] @ self.similarity_).todense())


class EASE:
    """EASE (Steck 2019): closed-form item-item weights, restricted to artists with at least
    `min_listeners` training listeners (which costs no accuracy and cuts the fit fifteenfold)."""

    def __init__(self, l2: float = 50.0, min_listeners: int = 2) -> None:
        self.l2 = l2
        self.min_listeners = min_listeners

    def fit(self, train: Interactions) -> EASE:
        x = binary(train.plays)
        counts = np.asarray(x.sum(axis=0)).ravel()
        self.items_ = np.flatnonzero(counts >= self.min_listeners)
        sub = x[:, self.items_]
        gram = np.asarray((sub.T @ sub).todense(), dtype=np.float64)
        gram[np.diag_indices_from(gram)] += self.l2
        inverse = _spd_inverse(gram)
        weights = inverse / (-np.diag(inverse))
        weights[np.diag_indices_from(weights)] = 0.0
        self.weights_ = weights.astype(np.float32)
        self.x_ = sub.tocsr().astype(np.float32)
        self.n_items_ = x.shape[1]
        return self

    def score(self, rows: np.ndarray) -> np.ndarray:
        # Artists outside the restricted set are never recommended by EASE.
        out = np.full((len(rows), self.n_items_), -np.inf, dtype=np.float32)
        out[:, self.items_] = self.x_[rows] @ self.weights_
        return out


def _spd_inverse(matrix: np.ndarray) -> np.ndarray:
    """Inverse of a symmetric positive definite matrix through its Cholesky factor."""
    factor, info = lapack.dpotrf(matrix, lower=True, clean=True)
    if info != 0:
        raise np.linalg.LinAlgError("the Gram matrix is not positive definite")
    inverse, info = lapack.dpotri(factor, lower=True)
    if info != 0:
        raise np.linalg.LinAlgError("the Gram matrix could not be inverted")
    lower = np.tril(inverse)
    return lower + np.tril(lower, -1).T


def _top_k_rows(matrix: sp.csr_matrix, k: int) -> sp.csr_matrix:
    """Keep the k largest entries of each row."""
    matrix = matrix.tocsr()
    rows, cols, vals = [], [], []
    for r in range(matrix.shape[0]):
        start, end = matrix.indptr[r], matrix.indptr[r + 1]
        data = matrix.data[start:end]
        if len(data) > k:
            keep = np.argpartition(-data, k)[:k]
        else:
            keep = np.arange(len(data))
        rows.append(np.full(len(keep), r))
        cols.append(matrix.indices[start:end][keep])
        vals.append(data[keep])
    return sp.csr_matrix(
        (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=matrix.shape
    )
