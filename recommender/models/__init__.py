"""Every model behind one contract (`contract.Scorer`), found by name in one registry.

    most-popular   popular.MostPopular     the floor
    item-knn       knn.ItemKNN             cosine item neighbours, k = 400
    ease           ease.EASE               Steck's closed form, lambda = 50, artists with >= 2
    hybrid         hybrid.HybridModel      LightFM WARP + tag features (the only lightfm import)
    tastemaker     blend.TastemakerBlend   z-scored blend of hybrid and a little EASE

Importing this package registers them all.
"""

from recommender.models.blend import TastemakerBlend, TastemakerConfig, zscore
from recommender.models.contract import (
    DEFAULT_SEED,
    DEFAULT_THREADS,
    ModelConfig,
    RowScorer,
    Scorer,
    make_scorer,
    model_names,
    register,
    scorer_class,
)
from recommender.models.ease import EASE, EASEConfig
from recommender.models.hybrid import HybridConfig, HybridModel
from recommender.models.knn import ItemKNN, KNNConfig
from recommender.models.popular import MostPopular, PopularConfig

__all__ = [
    "DEFAULT_SEED",
    "DEFAULT_THREADS",
    "EASE",
    "EASEConfig",
    "HybridConfig",
    "HybridModel",
    "ItemKNN",
    "KNNConfig",
    "ModelConfig",
    "MostPopular",
    "PopularConfig",
    "RowScorer",
    "Scorer",
    "TastemakerBlend",
    "TastemakerConfig",
    "make_scorer",
    "model_names",
    "register",
    "scorer_class",
    "zscore",
]
