"""The hybrid collaborative + content model: LightFM (WARP) over interactions and item features.

This is the only module that imports `lightfm`. It follows scikit-learn's conventions: the
constructor stores parameters, `fit` returns self, learned attributes end in `_`. Outside this
module everything is plain arrays, so a saved model never needs LightFM objects or pickle.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from lightfm import LightFM

from recommender.errors import TastemakerError


class DivergedFit(TastemakerError):
    """Training produced non-finite values; nothing was saved."""


class HybridModel:
    def __init__(
        self,
        no_components: int = 64,
        epochs: int = 40,
        learning_rate: float = 0.05,
        item_alpha: float = 1e-6,
        user_alpha: float = 1e-6,
        max_sampled: int = 30,
        random_state: int = 42,
        num_threads: int = 2,
    ) -> None:
        self.no_components = no_components
        self.epochs = epochs
        self.learning_rate = learning_rate
        self.item_alpha = item_alpha
        self.user_alpha = user_alpha
        self.max_sampled = max_sampled
        self.random_state = random_state
        self.num_threads = num_threads

    def get_params(self) -> dict[str, float | int]:
        return {
            "no_components": self.no_components,
            "epochs": self.epochs,
            "learning_rate": self.learning_rate,
            "item_alpha": self.item_alpha,
            "user_alpha": self.user_alpha,
            "max_sampled": self.max_sampled,
            "random_state": self.random_state,
        }

    def fit(self, weights: sp.csr_matrix, item_features: sp.csr_matrix) -> HybridModel:
        """Fit on a listener x artist weight matrix: WARP on who played what, weighted."""
        if weights.shape[1] != item_features.shape[0]:
            raise ValueError(
                f"{weights.shape[1]} artists in the interactions but {item_features.shape[0]} "
                "rows of item features"
            )
        if weights.nnz == 0:
            raise TastemakerError("there are no listens to train on: import some history first")
        coo = sp.coo_matrix(weights)
        binary = sp.coo_matrix(
            (np.ones_like(coo.data, dtype=np.float32), (coo.row, coo.col)), shape=coo.shape
        )
        model = LightFM(
            no_components=self.no_components,
            loss="warp",
            learning_rate=self.learning_rate,
            item_alpha=self.item_alpha,
            user_alpha=self.user_alpha,
            max_sampled=self.max_sampled,
            random_state=np.random.RandomState(self.random_state),
        )
        model.fit(
            binary,
            item_features=item_features,
            sample_weight=sp.coo_matrix(
                (coo.data.astype(np.float32), (coo.row, coo.col)), shape=coo.shape
            ),
            epochs=self.epochs,
            num_threads=self.num_threads,
        )
        # Precompute what scoring needs: artists as points in the listener space.
        self.item_vectors_ = np.asarray(item_features @ model.item_embeddings, dtype=np.float32)
        self.item_bias_ = np.asarray(item_features @ model.item_biases, dtype=np.float32)
        self.user_vectors_ = np.asarray(model.user_embeddings, dtype=np.float32)
        self.user_bias_ = np.asarray(model.user_biases, dtype=np.float32)
        for name in ("item_vectors_", "item_bias_", "user_vectors_", "user_bias_"):
            if not np.all(np.isfinite(getattr(self, name))):
                raise DivergedFit(
                    "the model diverged (non-finite values): "
                    "lower the learning rate and train again"
                )
        return self

    @classmethod
    def from_arrays(
        cls,
        params: dict[str, float | int],
        item_vectors: np.ndarray,
        item_bias: np.ndarray,
        user_vectors: np.ndarray,
        user_bias: np.ndarray,
    ) -> HybridModel:
        model = cls(**params)  # type: ignore[arg-type]
        model.item_vectors_ = item_vectors
        model.item_bias_ = item_bias
        model.user_vectors_ = user_vectors
        model.user_bias_ = user_bias
        return model

    def score_rows(self, rows: np.ndarray) -> np.ndarray:
        """Scores of every artist for the listeners at `rows` (listener x artist)."""
        return self.user_vectors_[rows] @ self.item_vectors_.T + self.item_bias_
