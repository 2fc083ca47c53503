"""Bridges: the strongest short co-listening paths from a listener's artists to a new artist.

A bridge is the strongest path of at most `max_steps` co-listening steps from any start
artist to the target (edge costs -log(weight), so the strongest path is the cheapest). Longer
chains explain nothing, so only short paths are searched, one step at a time (k rounds of
Bellman-Ford): a step is worked out for every artist at once while the artists it steps from
have few edges (the first step reads only the starts' own edges; a small or sparse graph gets
every step this way), and past that budget only when a target is asked about, from the edges of
the target and of the artists next to it. A playlist asks about a few dozen artists, so on a
large graph it reads thousands of edges, not millions, and the cost does not grow with the
catalogue.

Ties are broken the same way everywhere, so a search always gives the same path: a longer path
is taken only when strictly cheaper than a shorter one, and among equally cheap ones the step
from the lowest position wins.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from recommender.graph.records import Bridge, GraphData

Locate = Callable[[int], "int | None"]  # store artist id -> position, None when unknown
NO_STEP = -1  # no step into this artist: fewer steps reach it as cheaply (or it is a start)
# A step is worked out for every artist at once while the artists it steps from have at most
# this many edges between them (a few milliseconds); past it, only for the targets asked about.
WHOLE_STEP_EDGES = 200_000


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
    """Every bridge of at most `max_steps` steps from these artists (store ids), on demand.

    `costs` holds every edge both ways, so a row lists the edges into an artist as well.
    """
    if max_steps < 1:
        raise ValueError("a bridge has at least one step")
    sources = np.array(sorted({p for a in from_artists if (p := locate(a)) is not None}))
    sources = sources.astype(np.int64)
    n = costs.shape[0]
    start = np.full(n, np.inf)
    start[sources] = 0.0
    whole = [Reach(start, np.full(n, NO_STEP, dtype=np.int64), sources)]
    while len(whole) <= max_steps and len(whole[-1].moved):
        edges = int((costs.indptr[whole[-1].moved + 1] - costs.indptr[whole[-1].moved]).sum())
        if len(whole) > 1 and edges > WHOLE_STEP_EDGES:
            break  # the first step is always whole: it reads only the starts' own edges
        whole.append(_step(costs, whole[-1]))
    return BridgeIndex(data, locate, costs, frozenset(sources.tolist()), tuple(whole), max_steps)


def _step(costs: sp.csr_matrix, last: Reach) -> Reach:
    """One more step for every artist, from the artists whose cost fell at the last step (an
    artist whose cost did not fall has already stepped as cheaply)."""
    rows = _Rows.of(costs, last.moved)
    through = last.cost[rows.owner] + costs.data[rows.entries]
    to = costs.indices[rows.entries].astype(np.int64)
    lowest = np.full(len(last.cost), np.inf)
    np.minimum.at(lowest, to, through)
    moved = np.flatnonzero(lowest < last.cost)
    cost = last.cost.copy()
    cost[moved] = lowest[moved]
    via = np.full(len(cost), NO_STEP, dtype=np.int64)
    # Among the steps at the new minimum, the one from the lowest position.
    at_low = (through == lowest[to]) & (lowest[to] < last.cost[to])
    first = np.full(len(cost), len(cost), dtype=np.int64)
    np.minimum.at(first, to[at_low], rows.owner[at_low])
    via[moved] = first[moved]
    return Reach(cost, via, moved)


@dataclass(frozen=True)
class _Rows:
    """Some rows' CSR entries, concatenated, with the row each entry came from."""

    entries: np.ndarray
    owner: np.ndarray  # the position whose row each entry is in
    starts: np.ndarray  # where each row begins in `entries`
    lengths: np.ndarray

    @classmethod
    def of(cls, costs: sp.csr_matrix, positions: np.ndarray) -> _Rows:
        begin = costs.indptr[positions].astype(np.int64)
        lengths = costs.indptr[positions + 1].astype(np.int64) - begin
        starts = np.zeros(len(positions), dtype=np.int64)
        np.cumsum(lengths[:-1], out=starts[1:])
        entries = np.arange(int(lengths.sum()), dtype=np.int64) + np.repeat(begin - starts, lengths)
        return cls(entries, np.repeat(positions, lengths), starts, lengths)


@dataclass(frozen=True)
class BridgeIndex:
    """Bridges from one set of start artists, each worked out when first asked about."""

    graph: GraphData
    locate: Locate
    costs: sp.csr_matrix
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
        costs = self.costs
        rows = _Rows.of(costs, positions)
        ahead = costs.indices[rows.entries].astype(np.int64)
        fewer = self._cost(steps - 1, positions)
        through = self._cost(steps - 1, ahead) + costs.data[rows.entries]
        cost, via = fewer.copy(), np.full(len(positions), NO_STEP, dtype=np.int64)
        filled = np.flatnonzero(rows.lengths > 0)
        if len(filled):
            starts = rows.starts[filled]
            low = np.minimum.reduceat(through, starts)
            # The first entry at its row's minimum: the lowest position (CSR rows are sorted).
            hits = np.flatnonzero(through == np.repeat(low, rows.lengths[filled]))
            first = hits[np.searchsorted(hits, starts)]
            better = low < fewer[filled]
            cost[filled[better]] = low[better]
            via[filled[better]] = ahead[first[better]]
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
