"""The model playlists use: the LightFM hybrid blended with a little EASE, per listener.

Each model's scores are z-scored per listener (their scales are unrelated), then mixed:
mostly the hybrid, whose tag features reach the long tail and cold artists, plus a small
share of EASE, which ranks well-known artists sharply. A larger EASE share buys little
accuracy and costs catalogue coverage, so the share stays small (tuned in bench/).

The EASE part keeps only each artist's `ease_keep` strongest incoming weights: in the blend
that costs no accuracy (measured on HetRec's validation splits, bench/tune_model.py) and keeps
the bundle at N * ease_keep weights instead of N * N.

On a store too thin for EASE (no artist with `ease_min_listeners` listeners) the blend is the
hybrid alone, and `notes_` says so.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields

import numpy as np
import scipy.sparse as sp

from recommender.errors import TooLittleData
from recommender.interactions import Interactions
from recommender.models.contract import Scorer, register, setting
from recommender.models.ease import EASE, EASEConfig
from recommender.models.hybrid import HybridConfig, HybridModel


@dataclass(frozen=True)
class TastemakerConfig(HybridConfig):
    """The hybrid's settings plus EASE's share of the blend and EASE's own settings.

    Flat, so a bundle's manifest lists the same keys as before the model contract.
    """

    ease_share: float = setting(0.04, minimum=0.0, maximum=1.0)
    ease_l2: float = setting(50.0, above=0.0)
    ease_min_listeners: int = setting(2, minimum=1)
    ease_gram_mb: int = setting(256, minimum=1)
    ease_keep: int = setting(128, minimum=0)

    @property
    def hybrid(self) -> HybridConfig:
        names = {f.name for f in fields(HybridConfig)}
        return HybridConfig(**{k: v for k, v in self.as_dict().items() if k in names})

    @property
    def ease(self) -> EASEConfig:
        return EASEConfig(
            l2=self.ease_l2,
            min_listeners=self.ease_min_listeners,
            gram_mb=self.ease_gram_mb,
            keep=self.ease_keep,
        )


def zscore(scores: np.ndarray) -> np.ndarray:
    """Row-wise (per listener) standard scores; a constant row becomes zeros."""
    scores = np.asarray(scores, dtype=np.float32)
    mean = scores.mean(axis=-1, keepdims=True)
    std = scores.std(axis=-1, keepdims=True)
    std[std == 0] = 1.0
    return np.asarray((scores - mean) / std)


@register
class TastemakerBlend(Scorer[TastemakerConfig]):
    """(1 - share) * z(hybrid) + share * z(EASE), per listener."""

    name = "tastemaker"
    config_class = TastemakerConfig

    def _fit(self, interactions: Interactions) -> None:
        self.hybrid_ = HybridModel(
            self.config.hybrid, num_threads=self.num_threads, progress=self.progress
        )
        self.hybrid_.fit(interactions)
        self.notes_ = self.hybrid_.notes_
        self.ease_: EASE | None = None
        if self.config.ease_share > 0:
            try:
                self.ease_ = EASE(self.config.ease).fit(interactions)
                self.notes_ += self.ease_.notes_
            except TooLittleData as exc:
                self.notes_ += (f"the EASE share was left out: {exc}",)

    @classmethod
    def from_parts(
        cls, config: TastemakerConfig, hybrid: HybridModel, ease: EASE | None
    ) -> TastemakerBlend:
        """A blend of already fitted parts (bench/tune_model.py scores many shares from one
        fit); both must have been fitted on the same interactions."""
        blend = cls(config)
        blend.hybrid_, blend.ease_, blend.notes_ = hybrid, ease, ()
        blend.n_listeners_, blend.n_items_ = hybrid.n_listeners_, hybrid.n_items_
        return blend

    def _row_limit(self) -> int:
        return self.hybrid_.n_listeners_

    def _score_rows(self, train: sp.csr_matrix, rows: np.ndarray) -> np.ndarray:
        hybrid = self.hybrid_.score_rows(train, rows)
        share = self.config.ease_share
        if self.ease_ is None or share == 0:
            return hybrid
        ease = self.ease_.score_rows(train, rows)
        return (1.0 - share) * zscore(hybrid) + share * zscore(ease)

    def artist_vectors(self) -> np.ndarray:
        return self.hybrid_.item_vectors_

    def to_arrays(self) -> dict[str, np.ndarray]:
        ease = {} if self.ease_ is None else self.ease_.to_arrays()
        return {**self.hybrid_.to_arrays(), **ease}

    def _load(self, arrays: Mapping[str, np.ndarray], n_listeners: int, n_items: int) -> None:
        self.hybrid_ = HybridModel.from_arrays(self.config.hybrid, arrays, n_listeners, n_items)
        self.ease_ = None
        if "ease_items" in arrays:
            self.ease_ = EASE.from_arrays(self.config.ease, arrays, n_listeners, n_items)
