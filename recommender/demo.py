"""The demo job: the embedded demo world imported, a model trained, ready for a playlist."""

from __future__ import annotations

from dataclasses import dataclass

from recommender.errors import ModelMissing, ModelStale
from recommender.ingest import ImportReport
from recommender.interactions import load_interactions
from recommender.resources import demo_dir
from recommender.sources import import_path
from recommender.store import Store
from recommender.training import TrainedModel, load_model, train

DEMO_LISTENER = "listener-001"  # a street-punk listener (see datasets/demo/README.md)


@dataclass(frozen=True)
class DemoReady:
    imported: ImportReport | None  # None when the demo world was already in the store
    model: TrainedModel
    trained: bool


def ensure_demo(store: Store) -> ImportReport | None:
    """Import the demo world unless an earlier run already did."""
    done = store.conn.execute("SELECT 1 FROM imports WHERE format = 'demo' LIMIT 1").fetchone()
    return None if done else import_path(store, "demo", demo_dir())


def prepare_demo(store: Store) -> DemoReady:
    """Import the demo world if needed and train unless the newest model is still current."""
    report = ensure_demo(store)
    try:
        model = load_model(store)
        if model.fingerprint == load_interactions(store).fingerprint:
            return DemoReady(report, model, trained=False)
    except (ModelMissing, ModelStale):
        pass
    return DemoReady(report, train(store), trained=True)
