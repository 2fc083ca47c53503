"""The hybrid collaborative + content model: LightFM (WARP) over interactions and item features.

This is the only module that imports `lightfm`, and only while fitting: LightFM's internal
objects and row indices never leave it. After `fit` the model is four plain arrays (artist
vectors and biases with the tag features folded in, listener vectors and biases), so a saved
model never needs LightFM or pickle to score, and loading one does not import it.

An epoch costs time in proportion to the listener-artist pairs, so on a large community the
epoch count follows the data: at most `epoch_pairs` pair updates in all (100 M: every one of
`epochs` on HetRec, the 1 M-row world and Last.fm-1K, five on Last.fm-360K's 17.5 M pairs, where
an epoch costs about 350 s on 2 cores and a train must fit in 45 minutes), never fewer than five
epochs. `notes_` says when the cap applied; bench/epoch_bench.py measures what fewer epochs cost.

Epochs run one at a time (`fit_partial` after the first), which gives exactly the numbers of
one `fit(epochs=n)` call (the same random stream) and lets training report each epoch.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from recommender.errors import BundleError, DivergedFit
from recommender.features import item_features
from recommender.interactions import Interactions
from recommender.models.contract import ModelConfig, Scorer, array, register, setting


@dataclass(frozen=True)
class HybridConfig(ModelConfig):
    """LightFM's settings and the tag features it sees.

    Tuned on a validation split carved from HetRec's training part (bench/tune_model.py).
    """

    no_components: int = setting(64, minimum=1)
    epochs: int = setting(30, minimum=1)
    epoch_pairs: int = setting(100_000_000, minimum=1)
    learning_rate: float = setting(0.08, above=0.0)
    item_alpha: float = setting(1e-6, minimum=0.0)
    user_alpha: float = setting(1e-6, minimum=0.0)
    max_sampled: int = setting(30, minimum=1)
    random_state: int = setting(42, minimum=0)
    tag_weight: float = setting(1.0, minimum=0.0)
    top_tags: int = setting(8, minimum=1)
    min_tag_artists: int = setting(5, minimum=1)

    @property
    def seed(self) -> int:
        return self.random_state


MIN_EPOCHS = 5


def epochs_for(config: HybridConfig, pairs: int) -> int:
    """How many epochs a fit on `pairs` listener-artist pairs runs (see the module docstring)."""
    return max(
        min(config.epochs, MIN_EPOCHS), min(config.epochs, config.epoch_pairs // max(pairs, 1))
    )


@register
class HybridModel(Scorer[HybridConfig]):
    """WARP on who played what, each listen weighted by its (log, faded) weight."""

    name = "hybrid"
    config_class = HybridConfig

    def _fit(self, interactions: Interactions) -> None:
        from lightfm import LightFM  # only a fit needs LightFM

        c = self.config
        features = item_features(
            interactions,
            tag_weight=c.tag_weight,
            top_tags=c.top_tags,
            min_artists=c.min_tag_artists,
        )
        coo = sp.coo_matrix(interactions.weights)
        binary = sp.coo_matrix(
            (np.ones_like(coo.data, dtype=np.float32), (coo.row, coo.col)), shape=coo.shape
        )
        model = LightFM(
            no_components=c.no_components,
            loss="warp",
            learning_rate=c.learning_rate,
            item_alpha=c.item_alpha,
            user_alpha=c.user_alpha,
            max_sampled=c.max_sampled,
            random_state=np.random.RandomState(c.random_state),
        )
        weights = sp.coo_matrix((coo.data.astype(np.float32), (coo.row, coo.col)), shape=coo.shape)
        epochs = epochs_for(c, coo.nnz)
        if epochs < c.epochs:
            self.notes_ = (
                f"LightFM ran {epochs} of {c.epochs} epochs: {coo.nnz:,} listener-artist pairs "
                f"x {epochs} stays within epoch_pairs = {c.epoch_pairs:,}",
            )
        for epoch in range(epochs):
            started = time.perf_counter()
            step = model.fit if epoch == 0 else model.fit_partial
            step(
                binary,
                item_features=features,
                sample_weight=weights,
                epochs=1,
                num_threads=self.num_threads,
            )
            if self.progress is not None:
                self.progress(
                    f"LightFM epoch {epoch + 1}/{epochs}: {time.perf_counter() - started:.1f} s"
                )
        # Precompute what scoring needs: artists as points in the listener space.
        self.item_vectors_ = np.asarray(features @ model.item_embeddings, dtype=np.float32)
        self.item_bias_ = np.asarray(features @ model.item_biases, dtype=np.float32)
        self.user_vectors_ = np.asarray(model.user_embeddings, dtype=np.float32)
        self.user_bias_ = np.asarray(model.user_biases, dtype=np.float32)
        for learned in (self.item_vectors_, self.item_bias_, self.user_vectors_, self.user_bias_):
            if not np.all(np.isfinite(learned)):
                raise DivergedFit(
                    "the model diverged (non-finite values): "
                    "lower the learning rate and train again"
                )

    def _row_limit(self) -> int:
        return len(self.user_vectors_)

    def _score_rows(self, train: sp.csr_matrix, rows: np.ndarray) -> np.ndarray:
        return np.asarray(self.user_vectors_[rows] @ self.item_vectors_.T + self.item_bias_)

    def artist_vectors(self) -> np.ndarray:
        return self.item_vectors_

    def to_arrays(self) -> dict[str, np.ndarray]:
        return {
            "item_vectors": self.item_vectors_,
            "item_bias": self.item_bias_,
            "user_vectors": self.user_vectors_,
            "user_bias": self.user_bias_,
        }

    def _load(self, arrays: Mapping[str, np.ndarray], n_listeners: int, n_items: int) -> None:
        self.item_vectors_ = array(arrays, "item_vectors", (n_items, None))
        width = self.item_vectors_.shape[1]
        self.item_bias_ = array(arrays, "item_bias", (n_items,))
        self.user_vectors_ = array(arrays, "user_vectors", (n_listeners, None))
        self.user_bias_ = array(arrays, "user_bias", (n_listeners,))
        if self.user_vectors_.shape[1] != width:
            raise BundleError("listener and artist vectors differ in length")
