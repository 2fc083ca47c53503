"""Bridges: the strongest short co-listening paths from a listener's artists to a new artist.

One multi-source shortest-path search (scipy, C speed) over edge costs -log(weight) answers
every "how do I get from what they play to this artist" question for one listener.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import networkx as nx
import numpy as np
import scipy.sparse as sp
from scipy.sparse import csgraph

from recommender.graph.records import Bridge, GraphData


def edge_costs(graph: nx.Graph, n_artists: int) -> sp.csr_matrix:
    """Edge costs -log(weight) as a sparse matrix (built once per graph by its owner)."""
    edges = [(a, b, d["cost"]) for a, b, d in graph.edges(data=True)]
    rows = np.array([e[0] for e in edges], dtype=np.int64)
    cols = np.array([e[1] for e in edges], dtype=np.int64)
    # Shrunk weights are below 1, so every cost is positive and stays an edge.
    costs = np.array([e[2] for e in edges], dtype=np.float64)
    return sp.csr_matrix((costs, (rows, cols)), shape=(n_artists, n_artists))


def search(
    data: GraphData,
    index: Mapping[int, int],
    costs: sp.csr_matrix,
    from_artists: Iterable[int],
    max_steps: int,
) -> BridgeIndex:
    """Every bridge from these artists (store ids), found by one shortest-path search."""
    sources = sorted({index[a] for a in from_artists if a in index})
    n = len(data.artist_ids)
    if not sources:
        return BridgeIndex(data, index, set(), np.full(n, np.inf), np.full(n, -9999), max_steps)
    distances, predecessors, _ = csgraph.dijkstra(
        costs,
        directed=False,
        indices=sources,
        min_only=True,
        return_predecessors=True,
    )
    return BridgeIndex(data, index, set(sources), distances, predecessors, max_steps)


@dataclass(frozen=True)
class BridgeIndex:
    """The result of one multi-source shortest-path search: a bridge to any artist on demand."""

    graph: GraphData
    index: Mapping[int, int]  # store artist id -> position
    sources: set[int]
    distances: np.ndarray
    predecessors: np.ndarray
    max_steps: int

    def bridge(self, to_artist: int) -> Bridge | None:
        target = self.index.get(int(to_artist))
        if target is None or target in self.sources or not np.isfinite(self.distances[target]):
            return None
        path = [target]
        while path[-1] not in self.sources:
            path.append(int(self.predecessors[path[-1]]))
            if len(path) - 1 > self.max_steps:
                return None  # longer chains explain nothing
        path.reverse()
        g = self.graph
        shared = [int(g.graph[a][b]["shared"]) for a, b in zip(path, path[1:], strict=False)]
        start_scene, end_scene = int(g.scene_labels[path[0]]), int(g.scene_labels[target])
        return Bridge(
            path=[int(g.artist_ids[p]) for p in path],
            shared=shared,
            from_scene=None if start_scene < 0 else start_scene,
            to_scene=None if end_scene < 0 else end_scene,
        )
