"""The graph's plain data: its settings, what a query returns, and everything a bundle stores."""

from __future__ import annotations

from dataclasses import dataclass

import networkx as nx
import numpy as np
import scipy.sparse as sp


@dataclass(frozen=True)
class Neighbour:
    artist_id: int
    name: str
    score: float
    shared_listeners: int
    tag_similarity: float
    shared_tags: list[str]
    reason: str


@dataclass(frozen=True)
class Scene:
    id: int
    name: str
    tags: list[str]
    size: int
    top_artists: list[int]
    listeners: int


@dataclass(frozen=True)
class Bridge:
    """A path of co-listening edges from one of the listener's artists to a new artist."""

    path: list[int]
    shared: list[int]  # shared listeners on each step of the path
    from_scene: int | None
    to_scene: int | None


@dataclass
class GraphParams:
    neighbours: int = 30  # strongest neighbours kept per artist
    min_shared: int = 2  # one shared listener is an anecdote, not an edge
    shrinkage: float = 5.0  # cosine * shared / (shared + shrinkage)
    lookalike_tag_similarity: float = 0.2
    lookalike_top_tags: int = 3  # a look-alike shares one of its strongest tags
    lookalike_min_expected: float = 3.0  # evidence needed before "no overlap" means anything
    lookalike_max_ratio: float = 0.1  # observed / expected shared listeners below this
    lookalike_min_listeners: int = 3
    # A tag that is a leading tag in more scenes than this (alternative, rock, female vocalists)
    # describes a sound; it cannot make two artists look like one subgenre.
    lookalike_max_tag_scenes: int = 2
    scene_lookalike_top_tags: int = 3
    scene_lookalike_max_overlap: float = 0.02
    scene_lookalike_min_listeners: int = 5
    scene_neighbours: int = 10  # scenes are found on each artist's 10 strongest edges: faster,
    # and a thin 30th edge into another scene says little about where an artist belongs
    resolution: float = 2.0  # finer than modularity's default: subgenres, not whole genres
    specific_tag_share: float = 0.2  # a tag on more of the catalogue than this is too generic
    seed: int = 42

    def as_dict(self) -> dict[str, float | int]:
        return dict(self.__dict__)


@dataclass
class GraphData:
    """Everything the graph knows; `build` makes it, `io` saves and loads it."""

    artist_ids: np.ndarray
    names: list[str]
    listener_counts: np.ndarray
    top_tags: list[list[str]]
    reason_tags: list[list[str]]  # the artist's strongest distinctive (non-generic) tags
    audience: sp.csc_matrix  # listener x artist, 1 where the listener played the artist
    graph: nx.Graph
    scene_labels: np.ndarray  # scene id per artist position, -1 when none
    scene_list: list[Scene]
    lookalike_pairs: set[tuple[int, int]]  # positions, (low, high)
    scene_lookalikes: set[tuple[int, int]]
    params: GraphParams
