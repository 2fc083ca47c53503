"""The artist graph: co-listening neighbours, scenes, look-alikes and bridges (networkx).

Edges come only from co-listening: the number of listeners two artists share, turned into a
cosine and shrunk toward zero when little evidence stands behind it, then sparsified to each
artist's strongest neighbours. Tag similarity is stored on the edge as a separate number and
never counts as co-listening.

Look-alikes are artists (and scenes) whose tags look alike while their audiences do not meet,
judged against how many shared listeners their audience sizes would predict for related
artists. A look-alike is never an edge, so it can never be `similar`, explain another artist, or
lie on a bridge.
"""

from __future__ import annotations

import io
import json
import math
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import networkx as nx
import numpy as np
import scipy.sparse as sp

from recommender.errors import TastemakerError
from recommender.features import tag_profile
from recommender.interactions import Interactions

GRAPH_FORMAT = 2


class GraphFileError(TastemakerError):
    """A saved graph is missing, torn or not a tastemaker graph."""


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
class ArtistGraph:
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
    _index: dict[int, int] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        self._index = {int(a): i for i, a in enumerate(self.artist_ids)}

    # -- building ------------------------------------------------------------------------

    @classmethod
    def build(cls, interactions: Interactions, seed: int = 42, **overrides: float) -> ArtistGraph:
        params = GraphParams(seed=seed, **overrides)  # type: ignore[arg-type]
        binary = interactions.plays.copy().tocsc()
        binary.eliminate_zeros()
        binary.data = np.ones_like(binary.data)
        counts = np.asarray(binary.sum(axis=0)).ravel()
        shared = sp.csr_matrix(binary.T @ binary)
        shared.setdiag(0)
        shared.eliminate_zeros()
        shared.data[shared.data < params.min_shared] = 0
        shared.eliminate_zeros()
        coo = shared.tocoo()
        cosine = coo.data / np.sqrt(counts[coo.row] * counts[coo.col])
        score = cosine * coo.data / (coo.data + params.shrinkage)

        tags = tag_profile(interactions.artist_tags, min_artists=1)
        # Each artist keeps its strongest neighbours; a pair kept by either side is one edge.
        keep = np.flatnonzero(_top_per_row(coo.row, score, params.neighbours))
        n_artists = len(interactions.artists)
        low = np.minimum(coo.row[keep], coo.col[keep]).astype(np.int64)
        high = np.maximum(coo.row[keep], coo.col[keep]).astype(np.int64)
        _, first = np.unique(low * n_artists + high, return_index=True)
        keep, low, high = keep[first], low[first], high[first]

        wide = _top_tags(interactions.artist_tags, interactions.tags, 10)
        top_tags = [row[:5] for row in wide]
        specific = _specific_tags(interactions, params.specific_tag_share)
        community_graph = _community_graph(coo.row, coo.col, score, params.scene_neighbours)
        labels, scenes = _scenes(community_graph, counts, interactions, params)
        typical = float(np.median(score[keep])) if len(keep) else 0.0
        naming = specific - _broad_tags(top_tags, labels, scenes, params.lookalike_max_tag_scenes)
        lookalikes = _lookalikes(tags, top_tags, naming, counts, shared, typical, params)
        scene_lookalikes = _scene_lookalikes(scenes, labels, binary, params)
        # Reasons cite distinctive tags only: not generic ones, and not the tags that make
        # look-alike scenes look alike ("hardcore" says nothing about street punk vs metalcore).
        confusing = {
            t for a, b in scene_lookalikes for t in set(scenes[a].tags) & set(scenes[b].tags)
        }
        reason_tags = [[t for t in row if t in specific - confusing][:5] for row in wide]

        # A look-alike may never explain or stand in for the other, so no edge (and no bridge
        # step) may join them, even a thin one that survived sparsification.
        banned = np.array([a * n_artists + b for a, b in lookalikes], dtype=np.int64)
        apart = np.isin(low * n_artists + high, banned)
        for sa, sb in scene_lookalikes:
            la, lb = labels[low], labels[high]
            apart |= ((la == sa) & (lb == sb)) | ((la == sb) & (lb == sa))
        keep, low, high = keep[~apart], low[~apart], high[~apart]
        tag_sims = np.asarray(tags[low].multiply(tags[high]).sum(axis=1)).ravel()
        graph = nx.Graph()
        graph.add_nodes_from(range(n_artists))
        graph.add_edges_from(
            (
                a,
                b,
                {"weight": w, "shared": int(n), "tags": t, "cost": -math.log(w)},
            )
            for a, b, w, n, t in zip(
                low.tolist(),
                high.tolist(),
                score[keep].tolist(),
                coo.data[keep].tolist(),
                tag_sims.tolist(),
                strict=True,
            )
        )
        return cls(
            artist_ids=np.asarray(interactions.artists, dtype=np.int64),
            names=list(interactions.artist_names),
            listener_counts=counts.astype(np.int64),
            top_tags=top_tags,
            reason_tags=reason_tags,
            audience=sp.csc_matrix(binary, dtype=np.int8),
            graph=graph,
            scene_labels=labels,
            scene_list=scenes,
            lookalike_pairs=lookalikes,
            scene_lookalikes=scene_lookalikes,
            params=params,
        )

    # -- queries -------------------------------------------------------------------------

    def position(self, artist_id: int) -> int:
        try:
            return self._index[int(artist_id)]
        except KeyError:
            raise TastemakerError(
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
        sources = {self._index[a] for a in from_artists if a in self._index}
        target = self.position(to_artist)
        if not sources or target in sources:
            return None
        try:
            _, path = nx.multi_source_dijkstra(self.graph, sources, target, weight="cost")
        except nx.NetworkXNoPath:
            return None
        if len(path) - 1 > max_steps:
            return None
        shared = [int(self.graph[a][b]["shared"]) for a, b in zip(path, path[1:], strict=False)]
        start_scene, end_scene = int(self.scene_labels[path[0]]), int(self.scene_labels[target])
        return Bridge(
            path=[int(self.artist_ids[p]) for p in path],
            shared=shared,
            from_scene=None if start_scene < 0 else start_scene,
            to_scene=None if end_scene < 0 else end_scene,
        )

    # -- persistence (no pickle) ---------------------------------------------------------

    def save(self, folder: Path) -> list[Path]:
        folder.mkdir(parents=True, exist_ok=True)
        edges = np.array(
            [
                (a, b, d["weight"], d["shared"], d["tags"])
                for a, b, d in self.graph.edges(data=True)
            ],
            dtype=np.float64,
        ).reshape(-1, 5)
        pairs = np.array(sorted(self.lookalike_pairs), dtype=np.int64).reshape(-1, 2)
        scene_pairs = np.array(sorted(self.scene_lookalikes), dtype=np.int64).reshape(-1, 2)
        arrays = folder / "graph.npz"
        np.savez(
            arrays,
            artist_ids=self.artist_ids,
            listener_counts=self.listener_counts,
            scene_labels=self.scene_labels.astype(np.int64),
            edges=edges,
            lookalike_pairs=pairs,
            scene_lookalikes=scene_pairs,
            audience_indptr=self.audience.indptr.astype(np.int64),
            audience_indices=self.audience.indices.astype(np.int64),
            audience_shape=np.array(self.audience.shape, dtype=np.int64),
        )
        meta = folder / "graph.json"
        meta.write_text(
            json.dumps(
                {
                    "format": GRAPH_FORMAT,
                    "names": self.names,
                    "top_tags": self.top_tags,
                    "reason_tags": self.reason_tags,
                    "scenes": [s.__dict__ for s in self.scene_list],
                    "params": self.params.as_dict(),
                },
                ensure_ascii=False,
            ),
            encoding="utf-8",
        )
        return [arrays, meta]

    @classmethod
    def load(cls, folder: Path) -> ArtistGraph:
        """Read a graph written by `save`; anything torn, tampered or foreign is refused."""
        try:
            meta = json.loads((folder / "graph.json").read_text(encoding="utf-8"))
            raw = io.BytesIO((folder / "graph.npz").read_bytes())
            with np.load(raw, allow_pickle=False) as data:
                arrays = {key: data[key] for key in data.files}
        except (OSError, ValueError, KeyError, zipfile.BadZipFile) as exc:
            raise GraphFileError(
                f"the artist graph in {folder} cannot be read ({exc}): run `tastemaker train`"
            ) from exc
        if not isinstance(meta, dict) or meta.get("format") != GRAPH_FORMAT:
            raise GraphFileError(f"{folder} holds an unknown graph format: run `tastemaker train`")
        try:
            return cls._from_parts(meta, arrays)
        except (KeyError, TypeError, ValueError, IndexError) as exc:
            raise GraphFileError(
                f"the artist graph in {folder} is inconsistent ({exc}): run `tastemaker train`"
            ) from exc

    @classmethod
    def _from_parts(cls, meta: dict[str, Any], arrays: dict[str, np.ndarray]) -> ArtistGraph:
        n = len(arrays["artist_ids"])
        edges = arrays["edges"]
        n_listeners, n_artists = (int(v) for v in arrays["audience_shape"])
        checks = {
            "names": len(meta["names"]) == n,
            "tags": len(meta["top_tags"]) == n and len(meta["reason_tags"]) == n,
            "scene labels": arrays["scene_labels"].shape == (n,),
            "listener counts": arrays["listener_counts"].shape == (n,),
            "edges shape": edges.ndim == 2 and edges.shape[1] == 5,
            "finite edges": bool(np.all(np.isfinite(edges))),
            "edge ends": bool(np.all((edges[:, :2] >= 0) & (edges[:, :2] < n))),
            "edge weights": bool(np.all((edges[:, 2] > 0) & (edges[:, 2] <= 1))),
            "audience": n_artists == n and len(arrays["audience_indptr"]) == n + 1,
            "look-alikes": bool(np.all(arrays["lookalike_pairs"] < n)),
            "scenes": bool(np.all(arrays["scene_labels"] < len(meta["scenes"]))),
        }
        broken = [name for name, ok in checks.items() if not ok]
        if broken:
            raise ValueError(f"bad {', '.join(broken)}")
        audience = sp.csc_matrix(
            (
                np.ones(len(arrays["audience_indices"]), dtype=np.int8),
                arrays["audience_indices"],
                arrays["audience_indptr"],
            ),
            shape=(n_listeners, n_artists),
        )
        audience.check_format(full_check=True)
        graph = nx.Graph()
        graph.add_nodes_from(range(n))
        graph.add_edges_from(
            (int(a), int(b), {"weight": w, "shared": int(n), "tags": t, "cost": -math.log(w)})
            for a, b, w, n, t in edges.tolist()
        )
        return cls(
            artist_ids=arrays["artist_ids"].astype(np.int64),
            names=[str(name) for name in meta["names"]],
            listener_counts=arrays["listener_counts"].astype(np.int64),
            top_tags=meta["top_tags"],
            reason_tags=meta["reason_tags"],
            audience=audience,
            graph=graph,
            scene_labels=arrays["scene_labels"].astype(np.int64),
            scene_list=[Scene(**s) for s in meta["scenes"]],
            lookalike_pairs={(int(a), int(b)) for a, b in arrays["lookalike_pairs"]},
            scene_lookalikes={(int(a), int(b)) for a, b in arrays["scene_lookalikes"]},
            params=GraphParams(**meta["params"]),
        )


def _similar_reason(shared: int, tags: list[str]) -> str:
    text = f"{shared} listeners play both"
    if tags:
        text += f"; both tagged {', '.join(tags)}"
    return text


def _top_per_row(rows: np.ndarray, score: np.ndarray, k: int) -> np.ndarray:
    """Mask of the k highest-scoring entries of each row."""
    order = np.lexsort((-score, rows))
    sorted_rows = rows[order]
    starts = np.searchsorted(sorted_rows, sorted_rows, side="left")
    rank = np.arange(len(order)) - starts
    keep = np.zeros(len(order), dtype=bool)
    keep[order[rank < k]] = True
    return keep


def _specific_tags(interactions: Interactions, max_share: float) -> set[str]:
    """Tags given to at most `max_share` of the tagged artists: ones that name a subgenre."""
    tagged = max(int(np.count_nonzero(np.diff(interactions.artist_tags.indptr))), 1)
    artists_per_tag = np.diff(interactions.artist_tags.tocsc().indptr)
    return {
        t
        for t, n in zip(interactions.tags, artists_per_tag, strict=True)
        if n <= max_share * tagged
    }


def _top_tags(artist_tags: sp.csr_matrix, tag_names: list[str], top: int) -> list[list[str]]:
    """Each artist's `top` most-given tags, strongest first (ties: the lower tag index)."""
    coo = sp.csr_matrix(artist_tags).tocoo()
    order = np.lexsort((coo.col, -coo.data, coo.row))
    rows, cols = coo.row[order], coo.col[order]
    rank = np.arange(len(rows)) - np.searchsorted(rows, rows, side="left")
    out: list[list[str]] = [[] for _ in range(artist_tags.shape[0])]
    for r, c in zip(rows[rank < top].tolist(), cols[rank < top].tolist(), strict=True):
        out[r].append(tag_names[c])
    return out


def _community_graph(rows: np.ndarray, cols: np.ndarray, score: np.ndarray, k: int) -> nx.Graph:
    """Each artist's k strongest co-listening edges; artists without any are left out."""
    keep = _top_per_row(rows, score, k)
    graph = nx.Graph()
    graph.add_weighted_edges_from(
        zip(rows[keep].tolist(), cols[keep].tolist(), score[keep].tolist(), strict=True)
    )
    return graph


def _scenes(
    graph: nx.Graph, counts: np.ndarray, interactions: Interactions, params: GraphParams
) -> tuple[np.ndarray, list[Scene]]:
    """Louvain communities of the co-listening graph (seeded), largest audience first."""
    labels = np.full(len(counts), -1, dtype=np.int64)
    if graph.number_of_edges() == 0:
        return labels, []
    communities = nx.community.louvain_communities(
        graph, weight="weight", resolution=params.resolution, seed=params.seed, threshold=1e-4
    )
    communities = [sorted(c) for c in communities if len(c) >= 3]
    communities.sort(key=lambda c: (-int(counts[c].sum()), c[0]))
    tags = interactions.artist_tags
    catalogue = np.asarray(tags.sum(axis=0)).ravel()
    catalogue_share = catalogue / max(catalogue.sum(), 1.0)
    scenes = []
    for scene_id, members in enumerate(communities):
        labels[members] = scene_id
        mix = np.asarray(tags[members].sum(axis=0)).ravel()
        share = mix / max(mix.sum(), 1.0)
        # Defining tags: common in the scene and over-represented against the catalogue.
        lift = share * np.log((share + 1e-9) / (catalogue_share + 1e-9))
        best = [int(t) for t in np.argsort(-lift, kind="stable")[:4] if share[t] > 0]
        tag_list = [interactions.tags[t] for t in best]
        top = sorted(members, key=lambda m: (-int(counts[m]), m))[:5]
        scenes.append(
            Scene(
                id=scene_id,
                name=" / ".join(tag_list[:2]) if tag_list else f"scene {scene_id}",
                tags=tag_list,
                size=len(members),
                top_artists=[int(interactions.artists[m]) for m in top],
                listeners=int(np.count_nonzero(interactions.plays[:, members].sum(axis=1))),
            )
        )
    return labels, scenes


def _broad_tags(
    top_tags: list[list[str]], labels: np.ndarray, scenes: list[Scene], max_scenes: int
) -> set[str]:
    """Tags among the three strongest of at least a fifth of the members of many scenes."""
    spread: dict[str, int] = {}
    for scene in scenes:
        members = np.flatnonzero(labels == scene.id)
        held: dict[str, int] = {}
        for m in members:
            for tag in top_tags[m][:3]:
                held[tag] = held.get(tag, 0) + 1
        for tag, n in held.items():
            if n >= 0.2 * len(members):
                spread[tag] = spread.get(tag, 0) + 1
    return {tag for tag, n in spread.items() if n > max_scenes}


def _lookalikes(
    tags: sp.csr_matrix,
    top_tags: list[list[str]],
    specific: set[str],
    counts: np.ndarray,
    shared: sp.csr_matrix,
    typical: float,
    params: GraphParams,
) -> set[tuple[int, int]]:
    """Tag-alike artist pairs whose shared audience is far below what related artists show.

    `typical` is the median weight of a kept co-listening edge: related artists of audience
    sizes n and m share about typical * sqrt(n * m) listeners.
    """
    candidates = np.flatnonzero(counts >= params.lookalike_min_listeners)
    if len(candidates) < 2 or typical <= 0:
        return set()
    sub = tags[candidates]
    similarity = sp.csr_matrix(sub @ sub.T)
    similarity.data[similarity.data < params.lookalike_tag_similarity] = 0
    similarity.eliminate_zeros()
    coo = sp.triu(similarity, k=1).tocoo()
    a_pos, b_pos = candidates[coo.row], candidates[coo.col]
    expected = typical * np.sqrt(counts[a_pos] * counts[b_pos])
    # Below the minimum there is too little listening to tell a look-alike from a small neighbour.
    enough = expected >= params.lookalike_min_expected
    a_pos, b_pos, expected = a_pos[enough], b_pos[enough], expected[enough]
    observed = np.asarray(shared[a_pos, b_pos]).ravel()
    apart = observed <= params.lookalike_max_ratio * expected
    top = params.lookalike_top_tags
    pairs = set()
    for a, b in zip(a_pos[apart], b_pos[apart], strict=True):
        if set(top_tags[a][:top]) & set(top_tags[b][:top]) & specific:
            pairs.add((int(min(a, b)), int(max(a, b))))
    return pairs


def _scene_lookalikes(
    scenes: list[Scene], labels: np.ndarray, binary: sp.csc_matrix, params: GraphParams
) -> set[tuple[int, int]]:
    """Scenes that share a defining tag but whose audiences barely meet."""
    audiences = []
    for scene in scenes:
        members = np.flatnonzero(labels == scene.id)
        audiences.append(set(np.flatnonzero(np.asarray(binary[:, members].sum(axis=1)).ravel())))
    top = params.scene_lookalike_top_tags
    pairs = set()
    for a in range(len(scenes)):
        for b in range(a + 1, len(scenes)):
            if not set(scenes[a].tags[:top]) & set(scenes[b].tags[:top]):
                continue
            smaller = min(len(audiences[a]), len(audiences[b]))
            if smaller < params.scene_lookalike_min_listeners:
                continue
            overlap = len(audiences[a] & audiences[b]) / smaller
            if overlap <= params.scene_lookalike_max_overlap:
                pairs.add((a, b))
    return pairs
