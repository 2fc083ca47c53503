"""The model side of tastemaker: store, readers, features, hybrid model, artist graph.

The names below are the library's public API; everything else is reachable from its module.
"""

from recommender.catalog import resolve_artist, resolve_listener, resolve_tag
from recommender.errors import TastemakerError
from recommender.ingest.records import IMPORT_FORMATS
from recommender.ingest.writer import ImportReport
from recommender.sources import import_path
from recommender.stats import store_stats
from recommender.store import Store
from recommender.terms import Terms
from recommender.terms_storage import describe_terms, load_terms, update_terms
from recommender.training import TrainedModel, load_model, train

__all__ = [
    "IMPORT_FORMATS",
    "ImportReport",
    "Store",
    "TastemakerError",
    "Terms",
    "TrainedModel",
    "describe_terms",
    "import_path",
    "load_model",
    "load_terms",
    "resolve_artist",
    "resolve_listener",
    "resolve_tag",
    "store_stats",
    "train",
    "update_terms",
]
