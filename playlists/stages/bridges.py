"""Bridges: the real co-listening paths that carry an unexpected pick out of the home scenes.

Shared by the personalised and the non-personalised unexpected stages. A path through a link a
curator rejected is not used (another is looked for), a path through a look-alike scene is
never used, and every step must be shared by real listeners.
"""

from __future__ import annotations

from collections import defaultdict, deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import islice

from playlists.profile import Catalogue, GraphView
from playlists.reasons import Route, Step
from playlists.stages.base import Tally
from playlists.stages.tracks import Pick

BRIDGE_MAX_STEPS = 3  # as ArtistGraph.bridge: longer chains explain nothing
ASKED_TOGETHER = 32  # candidates whose bridges are searched at once (one backward search)


@dataclass(frozen=True)
class Bridged:
    """An artist outside the home scenes and the real path that reaches it."""

    artist_id: int
    path: tuple[int, ...]
    shared: tuple[int, ...]  # shared listeners on each step

    def route(self, catalogue: Catalogue) -> Route:
        """The bridge as a reason quotes it."""
        return Route(
            home_scene=catalogue.scene_ref(catalogue.scene_of(self.path[0])),
            target_scene=catalogue.scene_ref(catalogue.scene_of(self.artist_id)),
            bridge=tuple(Step(catalogue.names[a], a) for a in self.path),
            bridge_shared_listeners=self.shared,
        )


class BridgeFinder:
    """Bridges from one set of start artists, from one search whose work is shared."""

    def __init__(self, graph: GraphView, starts: Sequence[int]) -> None:
        self.graph = graph
        self.starts = list(starts)
        self._index = graph.bridges_from(self.starts, BRIDGE_MAX_STEPS)

    def ask(self, artist_ids: Sequence[int]) -> None:
        """Search these artists' bridges together (each answer is the same as alone)."""
        self._index.bridges(artist_ids)

    def path(self, artist_id: int) -> list[int] | None:
        found = self._index.bridge(artist_id)
        return None if found is None else [int(a) for a in found.path]


def find_bridge(
    catalogue: Catalogue,
    tally: Tally,
    finder: BridgeFinder,
    artist_id: int,
    avoid_scenes: frozenset[int],
) -> Bridged | None:
    """A co-listening path from the start artists to this one, every step shared by listeners.

    A path through a link a curator rejected is not used: the search starts again without that
    path's first artist, until a clean path is found or no start is left.
    """
    found = finder.path(artist_id)
    if found is None:
        return None
    path = tuple(found)
    remaining = list(finder.starts)
    while any(tally.link_rejected(a, b) for a, b in zip(path, path[1:], strict=False)):
        if not path or path[0] not in remaining:
            return None
        remaining.remove(path[0])
        again = catalogue.graph.bridge(remaining, artist_id) if remaining else None
        if again is None:
            return None
        path = tuple(int(a) for a in again.path)
    if len(path) < 2 or path[0] not in finder.starts or path[-1] != artist_id:
        return None
    if any(catalogue.scene_of(a) in avoid_scenes for a in path):
        return None  # a look-alike never explains anything
    shared = tuple(catalogue.shared(a, b) for a, b in zip(path, path[1:], strict=False))
    if min(shared) <= 0:
        return None
    return Bridged(artist_id, path, shared)


def reach(
    catalogue: Catalogue,
    tally: Tally,
    order: Iterable[int],
    starts: Sequence[int],
    avoid_scenes: frozenset[int],
    limit: int,
) -> list[Bridged]:
    """Up to `limit` artists from `order` (allowed by the listener's terms) that a bridge from
    `starts` reaches, in order."""
    found: list[Bridged] = []
    finder = BridgeFinder(catalogue.graph, starts)
    candidates = iter(order)
    ahead: deque[int] = deque()
    while len(found) < limit:
        if not ahead:
            # The next candidates' bridges are searched together; `new_allowed` still sees
            # each candidate in order, as far as the playlist reads (it counts what it skips).
            ahead.extend(islice(candidates, ASKED_TOGETHER))
            if not ahead:
                break
            finder.ask(list(ahead))
        artist_id = ahead.popleft()
        if not tally.new_allowed(artist_id):
            continue
        bridged = find_bridge(catalogue, tally, finder, artist_id, avoid_scenes)
        if bridged is not None:
            found.append(bridged)
    return found


def spread_scenes(catalogue: Catalogue, picks: Sequence[Pick]) -> list[Pick]:
    """Round-robin over target scenes so the surprises do not all come from one place."""
    by_scene: dict[int | None, list[Pick]] = defaultdict(list)
    for pick in picks:
        by_scene[catalogue.scene_of(pick.artist_id)].append(pick)
    queues = list(by_scene.values())
    out: list[Pick] = []
    for i in range(max((len(q) for q in queues), default=0)):
        out.extend(q[i] for q in queues if len(q) > i)
    return out
