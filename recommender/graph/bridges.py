"""Bridges: the strongest short co-listening paths from a listener's artists to a new artist.

A bridge is the strongest path of at most `max_steps` co-listening steps from any start
artist to the target (step costs -log(weight), so the strongest path is the cheapest). Longer
chains explain nothing, so only short paths are searched, one step at a time (k rounds of
Bellman-Ford over the graph's neighbour lists): a step is worked out for every artist at once
while the artists it steps from have few edges (the first step reads only the starts' own
edges; a small or sparse graph gets every step this way), and past that budget only when a
target is asked about, from the edges of the target and of the artists next to it. A playlist
asks about a few dozen artists, so on a large graph it reads thousands of edges, not millions,
nothing is prepared per loaded graph, and the cost does not grow with the catalogue.

Ties are broken the same way everywhere, so a search always gives the same path: a longer path
is taken only when strictly cheaper than a shorter one, and among equally cheap ones the step
from the lowest position wins.

Every neighbour, edge id and weight is checked as it is read, so a tampered file is a
GraphFileError where it is read, never a wrong path or an IndexError deep in a search.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

import numpy as np

from recommender.graph.records import Bridge, Edges, GraphData, check_positions, check_weights

Locate = Callable[[int], "int | None"]  # store artist id -> position, None when unknown
NO_STEP = -1  # no step into this artist: fewer steps reach it as cheaply (or it is a start)
# A step is worked out for every artist at once while the artists it steps from have at most
# this many edges between them (a few milliseconds); past it, only for the targets asked about.
WHOLE_STEP_EDGES = 200_000


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
    data: GraphData, locate: Locate, from_artists: Iterable[int], max_steps: int
) -> BridgeIndex:
    """Every bridge of at most `max_steps` steps from these artists (store ids), on demand."""
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
    return BridgeIndex(data, locate, frozenset(sources.tolist()), tuple(whole), max_steps)


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
class BridgeIndex:
    """Bridges from one set of start artists, each worked out when first asked about."""

    graph: GraphData
    locate: Locate
    sources: frozenset[int]
    whole: tuple[Reach, ...]  # whole[k]: every artist's reach within k steps, for the first few k
    max_steps: int

    def bridge(self, to_artist: int) -> Bridge | None:
        target = self.locate(int(to_artist))
        if target is None or target in self.sources:
            return None
        cost, via = self._cheapest(self.max_steps, np.array([target], dtype=np.int64))
        if not np.isfinite(cost[0]):
            return None
        path = self._trace(self.max_steps, target, int(via[0]))
        g = self.graph
        shared = [g.edges.shared_between(a, b) for a, b in zip(path, path[1:], strict=False)]
        start_scene, end_scene = int(g.scene_labels[path[0]]), int(g.scene_labels[target])
        return Bridge(
            path=[int(g.artist_ids[p]) for p in path],
            shared=shared,
            from_scene=None if start_scene < 0 else start_scene,
            to_scene=None if end_scene < 0 else end_scene,
        )

    def _known(self, steps: int) -> Reach | None:
        """The whole reach within `steps` steps when it is known: worked out, or no further
        than the last step worked out (nothing moved at it, so more steps change nothing)."""
        if steps < len(self.whole):
            return self.whole[steps]
        last = self.whole[-1]
        if len(last.moved):
            return None
        return Reach(last.cost, np.full(len(last.cost), NO_STEP, dtype=np.int64), last.moved)

    def _cheapest(self, steps: int, positions: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """For each (distinct) position: the cheapest cost from a start in at most `steps`
        steps, and the artist its last step comes from (NO_STEP when fewer steps do as well)."""
        known = self._known(steps)
        if known is not None:
            return known.cost[positions], known.via[positions]
        into = Steps.of(self.graph.edges, positions)  # each edge both ways: steps in as well
        fewer = self._cost(steps - 1, positions)
        through = self._cost(steps - 1, into.to) + into.cost
        cost, via = fewer.copy(), np.full(len(positions), NO_STEP, dtype=np.int64)
        filled = np.flatnonzero(into.lengths > 0)
        if len(filled):
            starts = into.starts[filled]
            low = np.minimum.reduceat(through, starts)
            at_low = through == np.repeat(low, into.lengths[filled])
            unused = len(self.graph.artist_ids)
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
        return self._cheapest(steps, distinct)[0][back]

    def _trace(self, steps: int, position: int, via: int) -> list[int]:
        """The path (positions from a start) behind a finite cheapest cost within `steps`
        steps; `via` is where its last step comes from."""
        while via == NO_STEP:
            if position in self.sources:
                return [position]
            steps -= 1
            via = int(self._cheapest(steps, np.array([position], dtype=np.int64))[1][0])
        earlier = int(self._cheapest(steps - 1, np.array([via], dtype=np.int64))[1][0])
        return [*self._trace(steps - 1, via, earlier), position]
