"""The model side of tastemaker: store, readers, features, hybrid model, artist graph."""

from recommender.errors import TastemakerError
from recommender.sources import import_path
from recommender.store import Store

__all__ = ["Store", "TastemakerError", "import_path"]
