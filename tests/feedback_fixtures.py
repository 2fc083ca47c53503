"""A store holding the demo world with its planted feedback, shared by the feedback tests."""

from __future__ import annotations

from pathlib import Path

from recommender.resources import demo_dir
from recommender.sources import import_path
from recommender.store import Store


def demo_store_with_feedback(path: Path) -> Path:
    """Import the demo world into a new store at `path`: the import stores its loves, hates
    and skips (`feedback.csv`) with the listens."""
    with Store.open(path) as store:
        import_path(store, "demo", demo_dir())
    return path
