"""The bridge search: the cheapest co-listening path of at most `max_steps` steps, checked
against a brute-force search over every edge (k rounds of relaxation) on the demo graph.

The demo graph is small enough that every step is worked out for all artists at once; each
check also runs with that budget at 0, so the steps past the first are worked out only for the
targets asked about, as on a large graph.
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


def _costs(graph: ArtistGraph) -> sp.csr_matrix:
    """Every edge both ways with its cost -log(weight), from the edge list itself."""
    e, n = graph.edges, len(graph.artist_ids)
    cost = -np.log(np.asarray(e.weight, dtype=np.float64))
    rows, cols = np.concatenate((e.low, e.high)), np.concatenate((e.high, e.low))
    both: sp.csr_matrix = sp.csr_matrix((np.concatenate((cost, cost)), (rows, cols)), shape=(n, n))
    return both


def _within(costs: sp.csr_matrix, sources: list[int], steps: int) -> np.ndarray:
    """The cheapest cost of reaching each position in at most `steps` steps, by brute force."""
    edges = costs.tocoo()
    best = np.full(costs.shape[0], np.inf)
    best[sources] = 0.0
    for _ in range(steps):
        nxt = best.copy()
        np.minimum.at(nxt, edges.col, best[edges.row] + edges.data)
        best = nxt
    return best


def _path_cost(graph: ArtistGraph, costs: sp.csr_matrix, path: list[int]) -> float:
    positions = [graph.position(a) for a in path]
    return float(sum(costs[a, b] for a, b in zip(positions, positions[1:], strict=False)))


@BUDGETS
@settings(max_examples=30, deadline=None)
@given(
    st.lists(st.integers(min_value=0, max_value=311), min_size=1, max_size=15, unique=True),
    st.integers(min_value=1, max_value=3),
)
def test_a_bridge_is_the_cheapest_path_within_its_steps(
    demo_graph: ArtistGraph, whole_step_edges: int, starts: list[int], steps: int
) -> None:
    costs = _costs(demo_graph)
    best = [_within(costs, starts, k) for k in range(steps + 1)]
    with patch.object(bridges, "WHOLE_STEP_EDGES", whole_step_edges):
        index = demo_graph.bridges_from([int(demo_graph.artist_ids[p]) for p in starts], steps)
    if whole_step_edges == 0:  # only the first step for every artist; the rest per target
        assert len(index.whole) == 2
    else:  # every step for every artist, unless a step moved nothing (then no more are needed)
        assert len(index.whole) == steps + 1 or not len(index.whole[-1].moved)
    for target in range(len(demo_graph.artist_ids)):
        found = index.bridge(int(demo_graph.artist_ids[target]))
        if target in starts or not np.isfinite(best[steps][target]):
            assert found is None
            continue
        assert found is not None
        positions = [demo_graph.position(a) for a in found.path]
        assert positions[0] in starts and positions[-1] == target
        length = len(positions) - 1
        assert 1 <= length <= steps
        cost = _path_cost(demo_graph, costs, found.path)
        assert cost == pytest.approx(best[steps][target], rel=1e-12, abs=1e-12)
        # A longer path only when strictly cheaper than every shorter one.
        assert best[length - 1][target] > cost
        assert found.shared == [
            demo_graph.shared_listeners(a, b)
            for a, b in zip(found.path, found.path[1:], strict=False)
        ]


@BUDGETS
def test_a_strong_long_chain_does_not_hide_a_short_bridge(
    demo_graph: ArtistGraph, whole_step_edges: int
) -> None:
    """Where the strongest path of all takes more than three steps, the strongest path of at
    most three is still a bridge (a shortest-path search over the whole graph would have given
    the long chain and no bridge)."""
    costs = _costs(demo_graph)
    cases = 0
    for first in range(0, 300, 7):
        starts = [first]
        distances, predecessors = csgraph.dijkstra(
            costs, directed=True, indices=starts, min_only=False, return_predecessors=True
        )
        within = _within(costs, starts, 3)
        for target in np.flatnonzero(np.isfinite(within)):
            hops, at = 0, int(target)
            while at != first:
                at, hops = int(predecessors[0, at]), hops + 1
            if hops <= 3:
                continue
            cases += 1
            with patch.object(bridges, "WHOLE_STEP_EDGES", whole_step_edges):
                found = demo_graph.bridge(
                    [int(demo_graph.artist_ids[first])], int(demo_graph.artist_ids[target])
                )
            assert found is not None and len(found.path) - 1 <= 3
            assert _path_cost(demo_graph, costs, found.path) == pytest.approx(within[target])
            assert distances[0, target] < within[target]
    assert cases > 0  # the demo graph has such chains: the case is really exercised


def test_the_same_starts_give_the_same_bridges_in_any_order(demo_graph: ArtistGraph) -> None:
    ids = [int(a) for a in demo_graph.artist_ids[:40:3]]
    one = demo_graph.bridges_from(ids)
    other = demo_graph.bridges_from(list(reversed(ids)))
    for target in demo_graph.artist_ids[100:200].tolist():
        assert one.bridge(int(target)) == other.bridge(int(target))


def test_a_bridge_needs_a_step(demo_graph: ArtistGraph) -> None:
    with pytest.raises(ValueError, match="at least one step"):
        demo_graph.bridges_from([int(demo_graph.artist_ids[0])], 0)
