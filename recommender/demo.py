"""The demo job: the embedded demo world in a store, a current model, ready for playlists."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from recommender.errors import ModelMissing, ModelStale
from recommender.feedback import add_feedback
from recommender.ingest.records import Feedback
from recommender.ingest.writer import ImportReport, checksum
from recommender.interactions import load_interactions
from recommender.resources import demo_dir
from recommender.sources import demo as demo_reader
from recommender.sources import import_path
from recommender.store import Store
from recommender.training import TrainedModel, load_model, train

DEMO_LISTENER = "listener-001"  # a street-punk listener (see datasets/demo/README.md)


@dataclass(frozen=True)
class DemoReady:
    imported: ImportReport | None  # None when the demo world was already in the store
    model: TrainedModel
    trained: bool


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
    report = import_path(store, "demo", folder, progress=progress)
    ensure_demo_feedback(store)
    return report


def ensure_demo_feedback(store: Store) -> int:
    """Store the demo world's planted loves, hates and skips (`feedback.csv`) unless the store
    holds demo feedback already; returns the rows added.

    The import writer does not store `Feedback` records yet (the ingest side of issue 17): until
    it does they go in here, one by one through `recommender.feedback.add_feedback`, with the
    file's times, source "demo" and the same dedupe keys the writer is to use
    (`recommender.feedback.dedupe_key`). Once the writer stores them this adds nothing.
    """
    if store.conn.execute("SELECT 1 FROM feedback WHERE source = 'demo' LIMIT 1").fetchone():
        return 0
    added = 0
    for record in demo_reader.read(demo_dir()):
        if isinstance(record, Feedback) and record.listener and record.artist:
            track = f"{record.artist} - {record.title}" if record.title else None
            added += add_feedback(
                store,
                record.listener,
                record.kind,
                artist=None if track else record.artist,
                track=track,
                at=record.at,
                source="demo",
            ).rows
    return added


def prepare_demo(store: Store, progress: Callable[[int], None] | None = None) -> DemoReady:
    """Import the demo world if needed and train unless the newest model is still current."""
    report = ensure_demo(store, progress=progress)
    try:
        model = load_model(store)
        if model.fingerprint == load_interactions(store).fingerprint:
            return DemoReady(report, model, trained=False)
    except (ModelMissing, ModelStale):
        pass
    return DemoReady(report, train(store), trained=True)
