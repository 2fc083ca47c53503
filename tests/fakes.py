"""Test-only stand-ins for the model and the artist graph, derived from the store by SQL.

They implement the interfaces agreed with the model and graph areas so that the playlist
stages can be tested on hand-built worlds and the demo world without training.
"""

from __future__ import annotations

from collections import defaultdict, deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from recommender.store import Store


@dataclass(frozen=True)
class FakeScene:
    id: int
    tags: list[str]
    size: int
    top_artists: list[int]


@dataclass(frozen=True)
class FakeBridge:
    path: list[int]
    shared_listeners: list[int]


class FakeGraph:
    """Scenes given by the test; co-listening edges = pairs with >= `min_shared` listeners."""

    def __init__(
        self,
        store: Store,
        scene_of: dict[int, int],
        scene_names: dict[int, str],
        lookalike_pairs: Iterable[tuple[int, int]] = (),
        min_shared: int = 2,
    ) -> None:
        self._scene_of = scene_of
        self._lookalikes = {frozenset(p) for p in lookalike_pairs}
        self.listeners: dict[int, set[int]] = defaultdict(set)
        for artist_id, listener_id in store.conn.execute(
            "SELECT DISTINCT artist_id, listener_id FROM listens"
        ):
            self.listeners[artist_id].add(listener_id)
        members: dict[int, list[int]] = defaultdict(list)
        for a, s in scene_of.items():
            members[s].append(a)
        self._scenes = [
            FakeScene(
                s,
                [scene_names[s]],
                len(m),
                sorted(m, key=lambda a: (-len(self.listeners[a]), a))[:5],
            )
            for s, m in sorted(members.items())
        ]
        artists = sorted(self.listeners)
        self.edges: dict[int, list[int]] = defaultdict(list)
        for i, a in enumerate(artists):
            for b in artists[i + 1 :]:
                if len(self.listeners[a] & self.listeners[b]) >= min_shared:
                    self.edges[a].append(b)
                    self.edges[b].append(a)

    @property
    def scenes(self) -> list[FakeScene]:
        return self._scenes

    def scene_of(self, artist_id: int) -> int | None:
        return self._scene_of.get(artist_id)

    def is_lookalike(self, a: int, b: int) -> bool:
        sa, sb = self._scene_of.get(a), self._scene_of.get(b)
        return sa is not None and sb is not None and frozenset((sa, sb)) in self._lookalikes

    def shared_listeners(self, a: int, b: int) -> int:
        return len(self.listeners[a] & self.listeners[b])

    def bridge(self, from_artists: Iterable[int], to_artist: int) -> FakeBridge | None:
        starts = list(from_artists)
        parent: dict[int, int | None] = {a: None for a in starts}
        queue = deque(starts)
        while queue:
            a = queue.popleft()
            if a == to_artist:
                path = [a]
                while parent[path[-1]] is not None:
                    path.append(parent[path[-1]])  # type: ignore[arg-type]
                path.reverse()
                shared = [self.shared_listeners(x, y) for x, y in zip(path, path[1:], strict=False)]
                return FakeBridge(path, shared)
            for b in self.edges[a]:
                if b not in parent:
                    parent[b] = a
                    queue.append(b)
        return None


@dataclass
class FakeModel:
    """Item-item co-listening scores: sum of shared listeners with the listener's artists."""

    store: Store
    graph: Any
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
