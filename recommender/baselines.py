"""Baselines the tastemaker model is measured against, at full strength.

Each follows scikit-learn's conventions (parameters in `__init__`, `fit` returns self, learned
attributes end in `_`) and scores with `score_rows(train, rows)`: one row of scores over every
artist for each listener row, computed from that listener's training row so that a listener's
own history is the only thing the score depends on.
"""

from __future__ import annotations

import numpy as np
import scipy.linalg
import scipy.sparse as sp


def _binary(matrix: sp.csr_matrix) -> sp.csr_matrix:
    binary = sp.csr_matrix(matrix, dtype=np.float32, copy=True)
    binary.data = np.ones_like(binary.data)
    return binary


class MostPopular:
    """Every listener gets the artists with the most training listeners."""

    def fit(self, train: sp.csr_matrix) -> MostPopular:
        self.popularity_ = np.asarray(_binary(train).sum(axis=0), dtype=np.float32).ravel()
        return self

    def score_rows(self, train: sp.csr_matrix, rows: np.ndarray) -> np.ndarray:
        return np.tile(self.popularity_, (len(rows), 1))


class ItemKNN:
    """Item-based nearest neighbours: cosine between artists' listener columns, top-k kept."""

    def __init__(self, k: int = 400) -> None:
        self.k = k

    def fit(self, train: sp.csr_matrix) -> ItemKNN:
        x = sp.csc_matrix(train, dtype=np.float32)
        norms = np.sqrt(np.asarray(x.multiply(x).sum(axis=0)).ravel())
        norms[norms == 0] = 1.0
        x = sp.csc_matrix(x @ sp.diags(1.0 / norms))
        sim = sp.csr_matrix(x.T @ x)
        sim.setdiag(0)
        sim.eliminate_zeros()
        self.similarity_ = _keep_top_per_row(sim, self.k).T.tocsr()
        return self

    def score_rows(self, train: sp.csr_matrix, rows: np.ndarray) -> np.ndarray:
        return np.asarray((train[rows] @ self.similarity_).todense(), dtype=np.float32)


class EASE:
    """EASE (Steck 2019): closed-form item-item weights with a zero diagonal.

    Fitted only on artists with at least `min_listeners` training listeners: the rest carry
    almost no co-listening evidence, and leaving them out costs no accuracy while making the
    matrix inverse many times cheaper.
    """

    def __init__(self, l2: float = 50.0, min_listeners: int = 2) -> None:
        self.l2 = l2
        self.min_listeners = min_listeners
        self._positions: np.ndarray | None = None  # artist column -> EASE position, cached

    def fit(self, train: sp.csr_matrix) -> EASE:
        x = _binary(train)
        counts = np.diff(sp.csc_matrix(x).indptr)
        self.items_ = np.flatnonzero(counts >= self.min_listeners).astype(np.int64)
        self.n_items_ = x.shape[1]
        sub = sp.csc_matrix(x[:, self.items_])
        # float32 halves the cost; the ridge term keeps the system well conditioned.
        gram = np.asarray((sub.T @ sub).todense(), dtype=np.float32)
        gram[np.diag_indices_from(gram)] += self.l2
        precision = _spd_inverse(gram)
        weights = precision / (-np.diag(precision))
        weights[np.diag_indices_from(weights)] = 0.0
        self.weights_ = weights.astype(np.float32)
        return self

    def score_rows(self, train: sp.csr_matrix, rows: np.ndarray) -> np.ndarray:
        # Map the listeners' artists straight to EASE's positions: sparse column indexing on
        # every call costs more than the product itself.
        if self._positions is None or len(self._positions) != self.n_items_:
            self._positions = np.full(self.n_items_, -1, dtype=np.int64)
            self._positions[self.items_] = np.arange(len(self.items_))
        block = sp.coo_matrix(train[rows])
        mapped = self._positions[block.col]
        keep = (mapped >= 0) & (block.data != 0)
        user = sp.csr_matrix(
            (np.ones(int(keep.sum()), dtype=np.float32), (block.row[keep], mapped[keep])),
            shape=(len(rows), len(self.items_)),
        )
        scores = np.zeros((len(rows), self.n_items_), dtype=np.float32)
        scores[:, self.items_] = user @ self.weights_
        return scores


def _spd_inverse(matrix: np.ndarray) -> np.ndarray:
    """Inverse of a symmetric positive definite matrix through its Cholesky factor.

    About twice as fast as a general inverse, which is most of EASE's fitting time.
    """
    potrf, potri = scipy.linalg.lapack.get_lapack_funcs(("potrf", "potri"), (matrix,))
    factor, info = potrf(matrix, lower=False, overwrite_a=True)
    if info == 0:
        inverse, info = potri(factor, lower=False, overwrite_c=True)
    if info != 0:
        raise np.linalg.LinAlgError("the Gram matrix is not positive definite")
    upper = np.triu(inverse)
    return upper + np.triu(inverse, 1).T


def _keep_top_per_row(matrix: sp.csr_matrix, k: int) -> sp.csr_matrix:
    """Each row's k largest entries (a sparse matrix of the same shape)."""
    matrix = sp.csr_matrix(matrix)
    lengths = np.diff(matrix.indptr)
    keep = np.ones(matrix.nnz, dtype=bool)
    for r in np.flatnonzero(lengths > k):
        start, end = matrix.indptr[r], matrix.indptr[r + 1]
        order = np.argpartition(-matrix.data[start:end], k)[k:]
        keep[start + order] = False
    coo = matrix.tocoo()
    return sp.csr_matrix((coo.data[keep], (coo.row[keep], coo.col[keep])), shape=matrix.shape)
