"""The demo: the embedded demo world in a store, ready for training and playlists."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from recommender.ingest import ImportReport, checksum
from recommender.resources import demo_dir
from recommender.sources import import_path
from recommender.store import Store


def demo_imported(store: Store, folder: Path | None = None) -> bool:
    """True when these exact demo files (same checksum) were imported into the store before."""
    digest = checksum(folder or demo_dir())
    row = store.conn.execute(
        "SELECT 1 FROM imports WHERE format = 'demo' AND checksum = ? LIMIT 1", (digest,)
    ).fetchone()
    return row is not None


def ensure_demo(store: Store, progress: Callable[[int], None] | None = None) -> ImportReport | None:
    """Import the embedded demo world unless it is already there; None when nothing was done."""
    folder = demo_dir()
    if demo_imported(store, folder):
        return None
    return import_path(store, "demo", folder, progress=progress)
