"""`ArtistGraph`: the queries playlists and `similar` ask of the graph.

Positions (0..n-1, the column order of the interactions) stay inside; every query takes and
returns store artist ids. An artist the graph does not know is UnknownArtist.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Self

import numpy as np
import scipy.sparse as sp

from recommender.errors import UnknownArtist
from recommender.graph.bridges import BridgeIndex, edge_costs, search
from recommender.graph.build import build_graph
from recommender.graph.io import load_graph, save_graph
from recommender.graph.records import Bridge, GraphData, GraphParams, Neighbour, Scene
from recommender.interactions import Interactions


@dataclass
class ArtistGraph(GraphData):
    _index: dict[int, int] = field(default_factory=dict, repr=False)
    _cost_matrix: sp.csr_matrix | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        self._index = {int(a): i for i, a in enumerate(self.artist_ids)}

    @classmethod
    def from_data(cls, data: GraphData) -> Self:
        return cls(**{f.name: getattr(data, f.name) for f in fields(GraphData)})

    @classmethod
    def build(cls, interactions: Interactions, seed: int = 42, **overrides: float) -> Self:
        params = GraphParams(seed=seed, **overrides)  # type: ignore[arg-type]
        return cls.from_data(build_graph(interactions, params))

    # -- persistence (no pickle) ---------------------------------------------------------

    def save(self, folder: Path) -> list[Path]:
        return save_graph(self, folder)

    @classmethod
    def load(cls, folder: Path) -> Self:
        """Read a graph written by `save`; anything torn, tampered or foreign is refused."""
        return cls.from_data(load_graph(folder))

    # -- queries -------------------------------------------------------------------------

    def position(self, artist_id: int) -> int:
        try:
            return self._index[int(artist_id)]
        except (KeyError, TypeError, ValueError):
            raise UnknownArtist(
                f"artist {artist_id} is not in the trained graph: run `tastemaker train`"
            ) from None

    def name(self, artist_id: int) -> str:
        return self.names[self.position(artist_id)]

    @property
    def scenes(self) -> list[Scene]:
        return self.scene_list

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
        ptr, idx = self.audience.indptr, self.audience.indices
        both = np.intersect1d(idx[ptr[i] : ptr[i + 1]], idx[ptr[j] : ptr[j + 1]])
        return int(len(both))

    def neighbours_weight(self, a: int, b: int) -> float:
        data = self.graph.get_edge_data(self.position(a), self.position(b))
        return 0.0 if data is None else float(data["weight"])

    def is_lookalike(self, a: int, b: int) -> bool:
        i, j = sorted((self.position(a), self.position(b)))
        if (i, j) in self.lookalike_pairs:
            return True
        si, sj = int(self.scene_labels[i]), int(self.scene_labels[j])
        return si >= 0 and sj >= 0 and tuple(sorted((si, sj))) in self.scene_lookalikes

    def lookalikes(self, artist_id: int) -> list[int]:
        """Artists that must never stand in for this one: look-alike artists and the members
        of look-alike scenes (so `b in lookalikes(a)` exactly when `is_lookalike(a, b)`)."""
        i = self.position(artist_id)
        found = {j if k == i else k for k, j in self.lookalike_pairs if i in (k, j)}
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
        edges = sorted(
            self.graph[i].items(), key=lambda item: (-item[1]["weight"], self.names[item[0]])
        )
        out = []
        for j, data in edges[:k]:
            shared_tags = [t for t in self.reason_tags[i] if t in self.reason_tags[j]][:3]
            out.append(
                Neighbour(
                    artist_id=int(self.artist_ids[j]),
                    name=self.names[j],
                    score=round(float(data["weight"]), 6),
                    shared_listeners=int(data["shared"]),
                    tag_similarity=round(float(data["tags"]), 6),
                    shared_tags=shared_tags,
                    reason=_similar_reason(int(data["shared"]), shared_tags),
                )
            )
        return out

    def bridge(
        self, from_artists: Iterable[int], to_artist: int, max_steps: int = 3
    ) -> Bridge | None:
        """The strongest short co-listening path from any of `from_artists` to `to_artist`."""
        return self.bridges_from(from_artists, max_steps).bridge(to_artist)

    def bridges_from(self, from_artists: Iterable[int], max_steps: int = 3) -> BridgeIndex:
        """Every bridge from these artists, found by one shortest-path search (C speed)."""
        if self._cost_matrix is None:
            self._cost_matrix = edge_costs(self.graph, len(self.artist_ids))
        return search(self, self._index, self._cost_matrix, from_artists, max_steps)


def _similar_reason(shared: int, tags: list[str]) -> str:
    text = f"{shared} listeners play both"
    if tags:
        text += f"; both tagged {', '.join(tags)}"
    return text
