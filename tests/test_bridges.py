"""The bridge search, checked against the searches it stands in for on the demo graph: a
shortest-path search over the whole graph (the bridge is its path, when that path has at most
three steps) and a brute-force relaxation over every edge (the cheapest path of at most k
steps).

The demo graph is small enough that every step is worked out for all artists at once; each
check also runs with that budget at 0, so the steps past the first are worked out only for the
artists asked about, as on a large graph.
"""

from __future__ import annotations

from unittest.mock import patch

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.sparse import csgraph

from recommender.graph import ArtistGraph, bridges

BUDGETS = pytest.mark.parametrize("whole_step_edges", [0, bridges.WHOLE_STEP_EDGES])
STARTS = st.lists(st.integers(min_value=0, max_value=311), min_size=1, max_size=15, unique=True)


def _costs(graph: ArtistGraph) -> sp.csr_matrix:
    """Every edge both ways with its cost -log(weight), from the edge list itself."""
    e, n = graph.edges, len(graph.artist_ids)
    cost = -np.log(np.asarray(e.weight, dtype=np.float64))
    rows, cols = np.concatenate((e.low, e.high)), np.concatenate((e.high, e.low))
    both: sp.csr_matrix = sp.csr_matrix((np.concatenate((cost, cost)), (rows, cols)), shape=(n, n))
    return both


def _whole_graph_paths(costs: sp.csr_matrix, starts: list[int]) -> list[list[int] | None]:
    """Each artist's strongest path from the starts over the whole graph (one Dijkstra)."""
    distances, before, _ = csgraph.dijkstra(
        costs, directed=True, indices=starts, min_only=True, return_predecessors=True
    )
    paths: list[list[int] | None] = []
    for target in range(costs.shape[0]):
        if target in starts or not np.isfinite(distances[target]):
            paths.append(None)
            continue
        path = [target]
        while path[-1] not in starts:
            path.append(int(before[path[-1]]))
        paths.append(path[::-1])
    return paths


def _within(costs: sp.csr_matrix, starts: list[int], steps: int) -> np.ndarray:
    """The cheapest cost of reaching each position in at most `steps` steps, by brute force."""
    edges = costs.tocoo()
    best = np.full(costs.shape[0], np.inf)
    best[starts] = 0.0
    for _ in range(steps):
        nxt = best.copy()
        np.minimum.at(nxt, edges.col, best[edges.row] + edges.data)
        best = nxt
    return best


def _ids(graph: ArtistGraph, positions: list[int]) -> list[int]:
    return [int(graph.artist_ids[p]) for p in positions]


@BUDGETS
@settings(max_examples=30, deadline=None)
@given(STARTS, st.integers(min_value=1, max_value=3))
def test_a_bridge_is_the_whole_graphs_strongest_path_when_short(
    demo_graph: ArtistGraph, whole_step_edges: int, starts: list[int], steps: int
) -> None:
    costs = _costs(demo_graph)
    strongest = _whole_graph_paths(costs, starts)
    targets = _ids(demo_graph, list(range(len(demo_graph.artist_ids))))
    with patch.object(bridges, "WHOLE_STEP_EDGES", whole_step_edges):
        index = demo_graph.bridges_from(_ids(demo_graph, starts), steps)
        together = index.bridges(targets)
        alone = demo_graph.bridges_from(_ids(demo_graph, starts), steps)
        one_by_one = [alone.bridge(t) for t in targets[::-1]][::-1]
    if whole_step_edges == 0:  # only the first step for every artist; the rest per target
        assert len(index.short.whole) == 2
    assert together == one_by_one  # asking together shares work, never changes an answer
    for path, found in zip(strongest, together, strict=True):
        if found is None:
            assert path is None or len(path) - 1 > steps
            continue
        # The whole graph's strongest cost, by a path of at most `steps` steps (where two paths
        # cost the same, Dijkstra may have kept either: then the short one is the bridge).
        assert path is not None
        positions = [demo_graph.position(a) for a in found.path]
        assert positions[0] in starts and positions[-1] == path[-1]
        assert len(positions) - 1 <= steps
        assert _cost(costs, positions) == pytest.approx(_cost(costs, path), rel=1e-9)
        assert found.shared == [
            demo_graph.shared_listeners(a, b)
            for a, b in zip(found.path, found.path[1:], strict=False)
        ]


def _cost(costs: sp.csr_matrix, path: list[int]) -> float:
    return float(sum(costs[a, b] for a, b in zip(path, path[1:], strict=False)))


@BUDGETS
@settings(max_examples=30, deadline=None)
@given(STARTS, st.integers(min_value=1, max_value=3))
def test_the_step_search_finds_the_cheapest_path_within_its_steps(
    demo_graph: ArtistGraph, whole_step_edges: int, starts: list[int], steps: int
) -> None:
    costs = _costs(demo_graph)
    best = _within(costs, starts, steps)
    fewer = _within(costs, starts, steps - 1)
    with patch.object(bridges, "WHOLE_STEP_EDGES", whole_step_edges):
        short = demo_graph.bridges_from(_ids(demo_graph, starts), steps).short
    everyone = np.arange(len(demo_graph.artist_ids))
    found, _ = short.cheapest(steps, everyone)
    assert np.allclose(found, best, rtol=1e-12, atol=1e-12, equal_nan=False)
    for target in everyone[np.isfinite(best)].tolist()[::7]:
        path = short.path(steps, target)
        assert path is not None and path[0] in starts and path[-1] == target
        assert len(path) - 1 <= steps
        cost = _cost(costs, path)
        assert cost == pytest.approx(best[target], rel=1e-12, abs=1e-12)
        if len(path) - 1 == steps and steps > 1:
            assert fewer[target] > cost  # a longer path only when strictly cheaper


def test_an_artist_whose_strongest_connection_is_a_long_chain_is_not_reached(
    demo_graph: ArtistGraph,
) -> None:
    """A three-step path exists, but a stronger chain of more steps does too: the artist is not
    close to the starts, so there is no bridge."""
    costs = _costs(demo_graph)
    cases = 0
    for first in range(0, 300, 7):
        strongest = _whole_graph_paths(costs, [first])
        within = _within(costs, [first], 3)
        index = demo_graph.bridges_from(_ids(demo_graph, [first]))
        for target, path in enumerate(strongest):
            if path is not None and len(path) - 1 > 3 and np.isfinite(within[target]):
                cases += 1
                assert index.bridge(int(demo_graph.artist_ids[target])) is None
    assert cases > 0  # the demo graph has such chains: the case is really exercised


def test_a_bridge_needs_a_step(demo_graph: ArtistGraph) -> None:
    with pytest.raises(ValueError, match="at least one step"):
        demo_graph.bridges_from([int(demo_graph.artist_ids[0])], 0)
