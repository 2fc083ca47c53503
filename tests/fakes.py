"""A test-only stand-in for the trained model, derived from the store by SQL.

It implements `playlists.profile.ModelView` over the real artist graph, so that the playlist
stages can be tested on the demo world (and HetRec) without training.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from recommender.graph import ArtistGraph
from recommender.listens import track_plays
from recommender.store import Store


@dataclass
class FakeModel:
    """Item-item co-listening scores: sum of shared listeners with the listener's artists."""

    store: Store
    graph: ArtistGraph
    model_id: str = "fake-model"
    item_vectors: Any = None
    now: int | None = None
    artist_ids: np.ndarray = field(init=False)
    listeners: list[str] = field(init=False)

    def __post_init__(self) -> None:
        self.artist_ids = np.array(
            [r[0] for r in self.store.conn.execute("SELECT id FROM artists ORDER BY id")]
        )
        self.listeners = [
            r[0] for r in self.store.conn.execute("SELECT name FROM listeners ORDER BY id")
        ]
        newest = self.store.conn.execute("SELECT max(listened_at) FROM listens").fetchone()[0]
        self.now = None if newest is None else int(newest)

    def has_listener(self, listener: str) -> bool:
        return listener in self.listeners

    def track_plays(self, store: Store, artist_ids: Sequence[int]) -> dict[int, int]:
        return track_plays(store, artist_ids)  # always the store's: the fake has no counts

    def scores(self, listener: str) -> np.ndarray:
        mine = [
            r[0]
            for r in self.store.conn.execute(
                "SELECT DISTINCT l.artist_id FROM listens l JOIN listeners p"
                " ON p.id = l.listener_id WHERE p.name = ?",
                (listener,),
            )
        ]
        return np.array(
            [
                sum(self.graph.shared_listeners(int(a), m) for m in mine) / (1 + len(mine))
                for a in self.artist_ids
            ],
            dtype=float,
        )
