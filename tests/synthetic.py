"""A small planted world for model tests: two scenes whose right answers are known.

Listeners 0..19 play only "punk" artists, listeners 20..39 only "folk" artists. Two more
artists are tagged but nobody has played them (cold start), one per scene.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from recommender.ingest import Artist, ArtistTag, Listen
from recommender.ingest.writer import import_records
from recommender.store import Store

SCENES = {
    "punk": [f"punk band {i}" for i in range(10)],
    "folk": [f"folk duo {i}" for i in range(10)],
}
COLD = {"punk": "cold punk act", "folk": "cold folk act"}
LISTENERS = {"punk": [f"p{i:02d}" for i in range(20)], "folk": [f"f{i:02d}" for i in range(20)]}
NOW = 1_750_000_000
DAY = 86_400


def planted_records(seed: int = 7, per_listener: int = 6) -> list[Artist | ArtistTag | Listen]:
    rng = np.random.default_rng(seed)
    records: list[Artist | ArtistTag | Listen] = []
    for scene, artists in SCENES.items():
        for name in [*artists, COLD[scene]]:
            records.append(Artist(name=name))
            records.append(ArtistTag(artist=name, tag=scene, count=5))
            records.append(ArtistTag(artist=name, tag=f"{scene} rock", count=2))
        for listener in LISTENERS[scene]:
            for artist in rng.choice(artists, size=per_listener, replace=False):
                plays = int(rng.integers(1, 50))
                records.append(Listen(artist=str(artist), listener=listener, plays=plays))
    return records


def fill_planted(store: Store, extra: list[Listen] | None = None) -> Store:
    """Import the planted world (plus `extra` listens) into `store`."""
    import_records(store, "synthetic", Path("planted"), [*planted_records(), *(extra or [])])
    return store


def set_terms(store: Store, listener: str, **values: object) -> None:
    listener_id = store.listener_id(listener)
    columns = ", ".join(values)
    marks = ", ".join("?" for _ in values)
    with store.transaction() as conn:
        conn.execute(
            f"INSERT INTO terms (listener_id, {columns}, updated_at) VALUES (?, {marks}, ?)",
            (listener_id, *values.values(), "2026-01-01T00:00:00Z"),
        )
