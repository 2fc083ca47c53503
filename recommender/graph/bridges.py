"""Bridges: the strongest short co-listening paths from a listener's artists to a new artist.

One multi-source shortest-path search (scipy, C speed) over edge costs -log(weight) answers
every "how do I get from what they play to this artist" question for one listener.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from recommender.graph.records import Bridge, GraphData

Locate = Callable[[int], "int | None"]  # store artist id -> position, None when unknown


def search(
    data: GraphData,
    locate: Locate,
    costs: sp.csr_matrix,
    from_artists: Iterable[int],
    max_steps: int,
) -> BridgeIndex:
    """Every bridge from these artists (store ids), found by one shortest-path search."""
    sources = sorted({p for a in from_artists if (p := locate(a)) is not None})
    n = len(data.artist_ids)
    if not sources:
        return BridgeIndex(data, locate, set(), np.full(n, np.inf), np.full(n, -9999), max_steps)
    from scipy.sparse import csgraph  # imports scipy.linalg: only paid when a bridge is asked

    distances, predecessors, _ = csgraph.dijkstra(
        costs,
        directed=True,  # `costs` holds each edge both ways
        indices=sources,
        min_only=True,
        return_predecessors=True,
    )
    return BridgeIndex(data, locate, set(sources), distances, predecessors, max_steps)


@dataclass(frozen=True)
class BridgeIndex:
    """The result of one multi-source shortest-path search: a bridge to any artist on demand."""

    graph: GraphData
    locate: Locate
    sources: set[int]
    distances: np.ndarray
    predecessors: np.ndarray
    max_steps: int

    def bridge(self, to_artist: int) -> Bridge | None:
        target = self.locate(int(to_artist))
        if target is None or target in self.sources or not np.isfinite(self.distances[target]):
            return None
        path = [target]
        while path[-1] not in self.sources:
            path.append(int(self.predecessors[path[-1]]))
            if len(path) - 1 > self.max_steps:
                return None  # longer chains explain nothing
        path.reverse()
        g = self.graph
        shared = [g.edges.shared_between(a, b) for a, b in zip(path, path[1:], strict=False)]
        start_scene, end_scene = int(g.scene_labels[path[0]]), int(g.scene_labels[target])
        return Bridge(
            path=[int(g.artist_ids[p]) for p in path],
            shared=shared,
            from_scene=None if start_scene < 0 else start_scene,
            to_scene=None if end_scene < 0 else end_scene,
        )
