"""Item-based nearest neighbours: cosine between artists' listener columns, top k kept."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from recommender.errors import BundleError
from recommender.interactions import Interactions
from recommender.models.contract import ModelConfig, Scorer, array, positions, register, setting


@dataclass(frozen=True)
class KNNConfig(ModelConfig):
    """How many neighbours each artist keeps (BENCHMARKS.md's baseline: 400)."""

    k: int = setting(400, minimum=1)


@register
class ItemKNN(Scorer[KNNConfig]):
    """A listener's score for an artist: their weights times its neighbours' similarities."""

    name = "item-knn"
    config_class = KNNConfig

    def _fit(self, interactions: Interactions) -> None:
        x = sp.csc_matrix(interactions.weights, dtype=np.float32)
        norms = np.sqrt(np.asarray(x.multiply(x).sum(axis=0)).ravel())
        norms[norms == 0] = 1.0
        x = sp.csc_matrix(x @ sp.diags(1.0 / norms))
        sim = sp.csr_matrix(x.T @ x)
        sim.setdiag(0)
        sim.eliminate_zeros()
        self.similarity_ = sp.csr_matrix(keep_top_per_row(sim, self.config.k).T)

    def _score_rows(self, train: sp.csr_matrix, rows: np.ndarray) -> np.ndarray:
        return np.asarray((train[rows] @ self.similarity_).todense(), dtype=np.float32)

    def to_arrays(self) -> dict[str, np.ndarray]:
        sim = self.similarity_
        return {
            "knn_indptr": sim.indptr.astype(np.int64),
            "knn_indices": sim.indices.astype(np.int64),
            "knn_data": sim.data.astype(np.float32),
        }

    def _load(self, arrays: Mapping[str, np.ndarray], n_listeners: int, n_items: int) -> None:
        indptr = array(arrays, "knn_indptr", (n_items + 1,)).astype(np.int64)
        indices = positions(arrays, "knn_indices", n_items)
        data = array(arrays, "knn_data", (len(indices),))
        if indptr[0] != 0 or indptr[-1] != len(indices) or np.any(np.diff(indptr) < 0):
            raise BundleError("the item-knn neighbour lists are inconsistent")
        self.similarity_ = sp.csr_matrix((data, indices, indptr), shape=(n_items, n_items))


def keep_top_per_row(matrix: sp.csr_matrix, k: int) -> sp.csr_matrix:
    """Each row's k largest entries (a sparse matrix of the same shape).

    Ties at the k-th value fall where argpartition puts them; the graph and the tag features
    keep their own stable variants because their figures were measured with those orders.
    """
    matrix = sp.csr_matrix(matrix)
    lengths = np.diff(matrix.indptr)
    keep = np.ones(matrix.nnz, dtype=bool)
    for r in np.flatnonzero(lengths > k):
        start, end = matrix.indptr[r], matrix.indptr[r + 1]
        order = np.argpartition(-matrix.data[start:end], k)[k:]
        keep[start + order] = False
    coo = matrix.tocoo()
    return sp.csr_matrix((coo.data[keep], (coo.row[keep], coo.col[keep])), shape=matrix.shape)
