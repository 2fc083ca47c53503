"""`ArtistGraph`: the queries playlists and `similar` ask of the graph.

Positions (0..n-1, the column order of the interactions) stay inside; every query takes and
returns store artist ids. An artist the graph does not know is UnknownArtist. The store ids are
ascending, so a position is a binary search away: loading builds no index.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, fields
from functools import cached_property
from pathlib import Path
from typing import Self

import numpy as np
import scipy.sparse as sp

from recommender.aggregates import Aggregates, from_interactions
from recommender.errors import UnknownArtist
from recommender.graph.bridges import BridgeIndex, search
from recommender.graph.build import build_graph, co_listening_spec
from recommender.graph.records import (
    Bridge,
    GraphData,
    GraphParams,
    Neighbour,
    Scene,
    check_positions,
)
from recommender.interactions import Interactions


@dataclass(eq=False)
class ArtistGraph(GraphData):
    _cost_matrix: sp.csr_matrix | None = field(default=None, repr=False)
    # Positions found so far: a playlist asks for its anchors' positions thousands of times,
    # and a binary search through numpy costs more than the question. At most one entry per
    # artist of the graph.
    _positions: dict[int, int] = field(default_factory=dict, repr=False)

    @classmethod
    def from_data(cls, data: GraphData) -> Self:
        return cls(**{f.name: getattr(data, f.name) for f in fields(GraphData)})

    @classmethod
    def build(cls, interactions: Interactions, seed: int = 42, **overrides: float) -> Self:
        """The graph of `interactions` (its aggregates computed here, on this machine)."""
        params = GraphParams(seed=seed, **overrides)  # type: ignore[arg-type]
        return cls.from_aggregates(
            from_interactions(interactions, co_listening_spec(params)), params
        )

    @classmethod
    def from_aggregates(cls, aggregates: Aggregates, params: GraphParams) -> Self:
        """The graph of aggregates computed by any engine (`recommender.aggregates`)."""
        return cls.from_data(build_graph(aggregates, params))

    # -- persistence (no pickle) ---------------------------------------------------------

    def save(self, folder: Path) -> Path:
        """Write the graph alone as a bundle folder (`folder` must not exist yet)."""
        from recommender.graph.io import save_graph

        return save_graph(self, folder)

    @classmethod
    def load(cls, folder: Path) -> Self:
        """Read a graph written by `save`; anything torn, tampered or foreign is refused."""
        from recommender.graph.io import load_graph

        return cls.from_data(load_graph(folder))

    # -- queries -------------------------------------------------------------------------

    def locate(self, artist_id: int) -> int | None:
        """The position of a store artist id, None when the graph does not know it."""
        try:
            key = int(artist_id)
        except (TypeError, ValueError):
            return None
        known = self._positions.get(key)
        if known is not None:
            return known
        found = int(np.searchsorted(self.artist_ids, key))
        if found < len(self.artist_ids) and int(self.artist_ids[found]) == key:
            self._positions[key] = found
            return found
        return None

    def position(self, artist_id: int) -> int:
        found = self.locate(artist_id)
        if found is None:
            raise UnknownArtist(
                f"artist {artist_id} is not in the trained graph: run `tastemaker train`"
            )
        return found

    def name(self, artist_id: int) -> str:
        return self.names[self.position(artist_id)]

    @property
    def scenes(self) -> list[Scene]:
        return self.scene_list

    @property
    def edge_count(self) -> int:
        return self.edges.count

    def scene(self, scene_id: int) -> Scene:
        return self.scene_list[scene_id]

    def scene_of(self, artist_id: int) -> int | None:
        label = int(self.scene_labels[self.position(artist_id)])
        return None if label < 0 else label

    def listeners_of(self, artist_id: int) -> int:
        return int(self.listener_counts[self.position(artist_id)])

    def shared_listeners(self, a: int, b: int) -> int:
        """Distinct listeners who played both (exact, whether or not the pair is an edge)."""
        i, j = self.position(a), self.position(b)
        both = np.intersect1d(
            self.audience.of_artist(i), self.audience.of_artist(j), assume_unique=True
        )
        return int(len(both))

    def shared_counts(self, anchors: Sequence[int]) -> Callable[[int], np.ndarray]:
        """A counter of the listeners each of `anchors` shares with an artist: the numbers of
        `shared_listeners`, each call one gather instead of one intersection per anchor. It
        holds len(anchors) x listeners bytes while it lives."""
        n = self.audience.n_listeners
        mask = np.zeros((len(anchors), n), dtype=bool)
        for k, a in enumerate(anchors):
            rows = self.audience.of_artist(self.position(a))
            check_positions(rows, n, "audience")
            mask[k, rows] = True

        def count(artist_id: int) -> np.ndarray:
            rows = self.audience.of_artist(self.position(artist_id))
            check_positions(rows, n, "audience")
            counts: np.ndarray = mask[:, rows].sum(axis=1)
            return counts

        return count

    def neighbours_weight(self, a: int, b: int) -> float:
        found = self.edges.find(self.position(a), self.position(b))
        return 0.0 if found < 0 else float(self.edges.weight[found])

    @cached_property
    def _lookalike_keys(self) -> np.ndarray:
        pairs = np.asarray(self.lookalike_array, dtype=np.int64)
        keys: np.ndarray = pairs[:, 0] * len(self.artist_ids) + pairs[:, 1]
        return keys

    def is_lookalike(self, a: int, b: int) -> bool:
        i, j = sorted((self.position(a), self.position(b)))
        key = i * len(self.artist_ids) + j
        keys = self._lookalike_keys
        found = int(np.searchsorted(keys, key))
        if found < len(keys) and int(keys[found]) == key:
            return True
        si, sj = int(self.scene_labels[i]), int(self.scene_labels[j])
        return si >= 0 and sj >= 0 and (min(si, sj), max(si, sj)) in self.scene_lookalikes

    def lookalikes(self, artist_id: int) -> list[int]:
        """Artists that must never stand in for this one: look-alike artists and the members
        of look-alike scenes (so `b in lookalikes(a)` exactly when `is_lookalike(a, b)`)."""
        i = self.position(artist_id)
        pairs = self.lookalike_array
        found = set(pairs[pairs[:, 0] == i, 1].tolist()) | set(pairs[pairs[:, 1] == i, 0].tolist())
        scene = int(self.scene_labels[i])
        if scene >= 0:
            for other in self.lookalike_scenes(scene):
                found.update(int(p) for p in np.flatnonzero(self.scene_labels == other))
        return [int(self.artist_ids[p]) for p in sorted(found)]

    def lookalike_scenes(self, scene_id: int) -> list[int]:
        return sorted(
            b if a == scene_id else a for a, b in self.scene_lookalikes if scene_id in (a, b)
        )

    def similar(self, artist_id: int, k: int = 10) -> list[Neighbour]:
        i = self.position(artist_id)
        others, edge_ids = self.edges.neighbours(i)
        mine = self.reason_tags[i]
        out = []
        for j, e in zip(others[:k].tolist(), edge_ids[:k].tolist(), strict=True):
            theirs = set(self.reason_tags[j])
            shared_tags = [t for t in mine if t in theirs][:3]
            shared = int(self.edges.shared[e])
            out.append(
                Neighbour(
                    artist_id=int(self.artist_ids[j]),
                    name=self.names[j],
                    score=round(float(self.edges.weight[e]), 6),
                    shared_listeners=shared,
                    tag_similarity=round(float(self.edges.tags[e]), 6),
                    shared_tags=shared_tags,
                    reason=_similar_reason(shared, shared_tags),
                )
            )
        return out

    def bridge(
        self, from_artists: Iterable[int], to_artist: int, max_steps: int = 3
    ) -> Bridge | None:
        """The strongest co-listening path from any of `from_artists` to `to_artist`, when it
        has at most `max_steps` steps (recommender.graph.bridges)."""
        return self.bridges_from(from_artists, max_steps).bridge(to_artist)

    def bridges_from(self, from_artists: Iterable[int], max_steps: int = 3) -> BridgeIndex:
        """Every bridge from these artists, each worked out when first asked about; ask about
        several at once with `.bridges(...)` (recommender.graph.bridges)."""
        if self._cost_matrix is None:
            self._cost_matrix = self.edges.costs()
        return search(self, self.locate, self._cost_matrix, from_artists, max_steps)


def _similar_reason(shared: int, tags: list[str]) -> str:
    text = f"{shared} listeners play both"
    if tags:
        text += f"; both tagged {', '.join(tags)}"
    return text
