"""Bridges: the strongest co-listening paths from a listener's artists to a new artist.

A bridge is the strongest path of all from any start artist to the target (step costs
-log(weight), so the strongest path is the cheapest), and the target counts as reached only
when that path has at most `max_steps` steps: an artist whose strongest connection to the
listener's music is a longer chain is not close to it, and longer chains explain nothing.

That is the answer of one shortest-path search over the whole graph, but a playlist asks about
a few dozen artists, so the search is cut to what those answers need:

1. The cheapest path of at most `max_steps` steps to each asked artist (`StepSearch`: k rounds
   of Bellman-Ford over the neighbour lists, a step worked out for every artist at once while
   the artists it starts from have few edges, otherwise only for the artists asked about).
2. Whether any longer path is cheaper, which would make the answer "not reached": a
   shortest-path run from the starts out to a radius r (0.7 of the median answer's cost),
   and one back from the asked artists out to their cost minus r. A cheaper path must
   leave the first ball over one edge into the second (its last point within r of the
   starts, and the next one less than cost - r from the target), so the two runs and that
   edge decide it.

Both balls hold a few thousand artists where the whole graph has hundreds of thousands. The
answers are the whole-graph search's (`tests/test_bridges.py` compares them): where two paths
cost the same to 1e-9, the one of at most `max_steps` steps is kept, and among equally cheap
short paths the step from the lowest position wins.

Every neighbour, edge id and weight is checked as it is read, so a tampered file is a
GraphFileError where it is read, never a wrong path or an IndexError deep in a search.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import scipy.sparse as sp

from recommender.graph.records import Bridge, Edges, GraphData, check_positions, check_weights

Locate = Callable[[int], "int | None"]  # store artist id -> position, None when unknown
NO_STEP = -1  # no step into this artist: fewer steps reach it as cheaply (or it is a start)
# A step is worked out for every artist at once while the artists it steps from have at most
# this many edges between them (a few milliseconds); past it, only for the targets asked about.
WHOLE_STEP_EDGES = 200_000
SAME_COST = 1e-9  # relative: two path costs closer than this are the same strength
# The starts' ball is run once per listener and the asked artists' balls once per batch, so
# more of the radius goes to the first; but every edge out of the first ball is read too. At
# 0.7 of the median answer's cost a playlist's bridges took 24.5 ms on Last.fm-1K and 41.6 ms
# on Last.fm-360K, against 37.9 and 42.6 ms at 0.5 and 32.3 and 77.7 ms at 0.9.
FORWARD_SHARE = 0.7


@dataclass(frozen=True)
class Steps:
    """Some artists' edges, both ways, read from the neighbour lists: where each step goes,
    what it costs, and whose list it came from."""

    to: np.ndarray
    cost: np.ndarray
    owner: np.ndarray  # the position whose neighbour list each step is in
    starts: np.ndarray  # where each of the asked positions' steps begin
    lengths: np.ndarray

    @classmethod
    def of(cls, edges: Edges, positions: np.ndarray) -> Steps:
        begin = edges.adjacency_indptr[positions].astype(np.int64)
        lengths = edges.adjacency_indptr[positions + 1].astype(np.int64) - begin
        starts = np.zeros(len(positions), dtype=np.int64)
        np.cumsum(lengths[:-1], out=starts[1:])
        at = np.arange(int(lengths.sum()), dtype=np.int64) + np.repeat(begin - starts, lengths)
        to = edges.adjacency_other[at].astype(np.int64)
        edge = edges.adjacency_edge[at]
        check_positions(to, len(edges.indptr) - 1, "neighbour lists")
        check_positions(edge, edges.count, "neighbour lists")
        weight = np.asarray(edges.weight[edge], dtype=np.float64)
        check_weights(weight)
        return cls(to, -np.log(weight), np.repeat(positions, lengths), starts, lengths)


@dataclass(frozen=True)
class Reach:
    """The cheapest cost of every artist within some number of steps from the starts."""

    cost: np.ndarray  # inf: not reached
    via: np.ndarray  # the artist the last step comes from, NO_STEP when fewer steps do as well
    moved: np.ndarray  # the positions whose cost fell at this step (where the next one starts)


def search(
    data: GraphData,
    locate: Locate,
    costs: sp.csr_matrix,
    from_artists: Iterable[int],
    max_steps: int,
) -> BridgeIndex:
    """Every bridge from these artists (store ids), worked out when asked about.

    `costs` holds every edge both ways (`Edges.costs`): the shortest-path runs walk it.
    """
    if max_steps < 1:
        raise ValueError("a bridge has at least one step")
    sources = np.array(sorted({p for a in from_artists if (p := locate(a)) is not None}))
    sources = sources.astype(np.int64)
    n = len(data.artist_ids)
    start = np.full(n, np.inf)
    start[sources] = 0.0
    whole = [Reach(start, np.full(n, NO_STEP, dtype=np.int64), sources)]
    indptr = data.edges.adjacency_indptr
    while len(whole) <= max_steps and len(whole[-1].moved):
        moved = whole[-1].moved
        if len(whole) > 1 and int((indptr[moved + 1] - indptr[moved]).sum()) > WHOLE_STEP_EDGES:
            break  # the first step is always whole: it reads only the starts' own edges
        whole.append(_step(data.edges, whole[-1]))
    short = StepSearch(data.edges, frozenset(sources.tolist()), tuple(whole))
    return BridgeIndex(data, locate, costs, sources, short, max_steps)


def _step(edges: Edges, last: Reach) -> Reach:
    """One more step for every artist, from the artists whose cost fell at the last step (an
    artist whose cost did not fall has already stepped as cheaply)."""
    steps = Steps.of(edges, last.moved)
    through = last.cost[steps.owner] + steps.cost
    n = len(last.cost)
    lowest = np.full(n, np.inf)
    np.minimum.at(lowest, steps.to, through)
    moved = np.flatnonzero(lowest < last.cost)
    cost = last.cost.copy()
    cost[moved] = lowest[moved]
    at_low = through == lowest[steps.to]
    first = np.full(n, n, dtype=np.int64)  # among the steps at the new minimum, the lowest start
    np.minimum.at(first, steps.to[at_low], steps.owner[at_low])
    via = np.full(n, NO_STEP, dtype=np.int64)
    via[moved] = first[moved]
    return Reach(cost, via, moved)


@dataclass(frozen=True)
class StepSearch:
    """The cheapest paths of at most k steps from one set of start artists."""

    edges: Edges
    sources: frozenset[int]
    whole: tuple[Reach, ...]  # whole[k]: every artist's reach within k steps, for the first few k

    def _known(self, steps: int) -> Reach | None:
        """The whole reach within `steps` steps when it is known: worked out, or no further
        than the last step worked out (nothing moved at it, so more steps change nothing)."""
        if steps < len(self.whole):
            return self.whole[steps]
        return None if len(self.whole[-1].moved) else self._settled

    @cached_property
    def _settled(self) -> Reach:
        """The reach after the last step that moved nothing: its costs, and no further step."""
        last = self.whole[-1]
        return Reach(last.cost, np.full(len(last.cost), NO_STEP, dtype=np.int64), last.moved)

    def cheapest(self, steps: int, positions: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """For each (distinct) position: the cheapest cost from a start in at most `steps`
        steps, and the artist its last step comes from (NO_STEP when fewer steps do as well)."""
        known = self._known(steps)
        if known is not None:
            return known.cost[positions], known.via[positions]
        into = Steps.of(self.edges, positions)  # each edge both ways: steps in as well
        fewer = self._cost(steps - 1, positions)
        through = self._cost(steps - 1, into.to) + into.cost
        cost, via = fewer.copy(), np.full(len(positions), NO_STEP, dtype=np.int64)
        filled = np.flatnonzero(into.lengths > 0)
        if len(filled):
            starts = into.starts[filled]
            low = np.minimum.reduceat(through, starts)
            at_low = through == np.repeat(low, into.lengths[filled])
            unused = len(self.whole[0].cost)
            first = np.minimum.reduceat(np.where(at_low, into.to, unused), starts)
            better = low < fewer[filled]
            cost[filled[better]] = low[better]
            via[filled[better]] = first[better]
        return cost, via

    def _cost(self, steps: int, positions: np.ndarray) -> np.ndarray:
        """The cheapest cost in at most `steps` steps of each position (repeats allowed)."""
        known = self._known(steps)
        if known is not None:
            cost: np.ndarray = known.cost[positions]
            return cost
        distinct, back = np.unique(positions, return_inverse=True)
        return self.cheapest(steps, distinct)[0][back]

    def path(self, steps: int, position: int) -> list[int] | None:
        """The cheapest path of at most `steps` steps to a position, positions from a start."""
        cost, via = self.cheapest(steps, np.array([position], dtype=np.int64))
        return self.trace(steps, position, int(via[0])) if np.isfinite(cost[0]) else None

    def trace(self, steps: int, position: int, via: int) -> list[int]:
        """The path behind a finite cheapest cost within `steps` steps; `via` is where its
        last step comes from."""
        while via == NO_STEP:
            if position in self.sources:
                return [position]
            steps -= 1
            via = int(self.cheapest(steps, np.array([position], dtype=np.int64))[1][0])
        earlier = int(self.cheapest(steps - 1, np.array([via], dtype=np.int64))[1][0])
        return [*self.trace(steps - 1, via, earlier), position]


@dataclass
class BridgeIndex:
    """Bridges from one set of start artists, each worked out when first asked about; asking
    about several at once (`bridges`) shares the shortest-path runs between them."""

    graph: GraphData
    locate: Locate
    costs: sp.csr_matrix
    starts: np.ndarray  # positions, sorted
    short: StepSearch
    max_steps: int
    _found: dict[int, Bridge | None] = field(default_factory=dict, repr=False)
    _ball: tuple[float, np.ndarray, np.ndarray] | None = field(default=None, repr=False)

    @property
    def sources(self) -> frozenset[int]:
        return self.short.sources

    def bridge(self, to_artist: int) -> Bridge | None:
        return self.bridges([to_artist])[0]

    def bridges(self, to_artists: Sequence[int]) -> list[Bridge | None]:
        """The bridge to each of these artists (store ids), None where there is none."""
        positions = [self.locate(int(a)) for a in to_artists]
        asked = {p for p in positions if p is not None and p not in self.sources}
        new = np.array(sorted(asked - self._found.keys()), dtype=np.int64)
        if len(new):
            self._decide(new)
        return [None if p is None or p in self.sources else self._found[p] for p in positions]

    def _decide(self, asked: np.ndarray) -> None:
        short, last_step = self.short.cheapest(self.max_steps, asked)
        for p in asked[~np.isfinite(short)].tolist():
            self._found[p] = None  # no path of at most max_steps steps at all
        reachable = np.isfinite(short)
        reached, cost, via = asked[reachable], short[reachable], last_step[reachable]
        if not len(reached):
            return
        radius, forward, beyond = self._forward(cost)
        cheaper = np.zeros(len(reached), dtype=bool)
        inside = np.isfinite(forward[reached])  # within the radius: its true cost is known
        cheaper[inside] = forward[reached[inside]] < cost[inside] * (1 - SAME_COST)
        outside = np.flatnonzero(~inside)
        if len(outside):
            from scipy.sparse import csgraph  # imports scipy.linalg: paid only when asked

            back = csgraph.dijkstra(
                self.costs,
                directed=True,  # `costs` holds each edge both ways: out of t is into t
                indices=reached[outside],
                limit=float((cost[outside] - radius).max()),
            ).reshape(len(outside), -1)
            for row, i in enumerate(outside):
                cheaper[i] = float(np.min(beyond + back[row])) < cost[i] * (1 - SAME_COST)
        for p, v, longer in zip(reached.tolist(), via.tolist(), cheaper.tolist(), strict=True):
            self._found[p] = (
                None if longer else self._bridge(self.short.trace(self.max_steps, p, v))
            )

    def _forward(self, costs_asked: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
        """The starts' ball: true costs out to the radius (FORWARD_SHARE of the median short
        cost of the first artists asked about), and `beyond`, the cheapest cost of each artist
        through at most one step out of the ball (the ball's own artists included)."""
        if self._ball is None:
            from scipy.sparse import csgraph

            radius = float(np.median(costs_asked)) * FORWARD_SHARE
            forward = csgraph.dijkstra(
                self.costs, directed=True, indices=self.starts, min_only=True, limit=radius
            )
            beyond = forward.copy()
            steps = Steps.of(self.graph.edges, np.flatnonzero(np.isfinite(forward)))
            np.minimum.at(beyond, steps.to, forward[steps.owner] + steps.cost)
            self._ball = (radius, forward, beyond)
        return self._ball

    def _bridge(self, path: list[int]) -> Bridge:
        g = self.graph
        shared = [g.edges.shared_between(a, b) for a, b in zip(path, path[1:], strict=False)]
        start_scene, end_scene = int(g.scene_labels[path[0]]), int(g.scene_labels[path[-1]])
        return Bridge(
            path=[int(g.artist_ids[p]) for p in path],
            shared=shared,
            from_scene=None if start_scene < 0 else start_scene,
            to_scene=None if end_scene < 0 else end_scene,
        )
