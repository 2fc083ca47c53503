"""The model side of tastemaker: store, readers, features, hybrid model, artist graph.

The names below are the library's public API; everything else is reachable from its module.
The model names (`train`, `load_model`, `TrainedModel`) load on first use, so that importing a
light part (a reader, the store, the record vocabulary) does not load LightFM, SciPy and pandas;
so do the readers and the writer (`import_path`, `import_paths`, `ImportReport`) and
`store_stats`, which a command that makes a playlist never calls.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from recommender.catalog import resolve_artist, resolve_listener, resolve_tag
from recommender.errors import TastemakerError
from recommender.ingest.records import IMPORT_FORMATS
from recommender.store import Store
from recommender.terms import Terms
from recommender.terms_storage import describe_terms, load_terms, update_terms

if TYPE_CHECKING:
    from recommender.ingest.writer import ImportReport
    from recommender.sources import import_path, import_paths
    from recommender.stats import store_stats
    from recommender.training import TrainedModel, load_model, train

_ON_FIRST_USE = {
    "ImportReport": "recommender.ingest.writer",
    "import_path": "recommender.sources",
    "import_paths": "recommender.sources",
    "store_stats": "recommender.stats",
    "TrainedModel": "recommender.training",
    "load_model": "recommender.training",
    "train": "recommender.training",
}

__all__ = [
    "IMPORT_FORMATS",
    "ImportReport",
    "Store",
    "TastemakerError",
    "Terms",
    "TrainedModel",
    "describe_terms",
    "import_path",
    "import_paths",
    "load_model",
    "load_terms",
    "resolve_artist",
    "resolve_listener",
    "resolve_tag",
    "store_stats",
    "train",
    "update_terms",
]


def __getattr__(name: str) -> Any:
    module = _ON_FIRST_USE.get(name)
    if module is None:
        raise AttributeError(f"module 'recommender' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
