"""The graph's plain data: its settings, what a query returns, and everything a bundle stores.

Everything the graph keeps is a flat array (or a few small JSON-ready records), so a bundle
holds it as `.npy` files that load by memory map: names and tag lists are UTF-8 blobs with
offsets (`TextList`, `TagLists`), co-listening edges and neighbour lists are CSR rows (`Edges`),
audiences are CSC columns (`Audience`). Reading one artist touches only that artist's slices.
Every accessor checks the indices it is about to use, so a file changed behind the bundle's
back gives `GraphFileError`, never a wrong answer or a crash.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import overload

import numpy as np
import scipy.sparse as sp

from recommender.errors import GraphFileError

_HINT = "run `tastemaker train`"


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


def _bad(what: str) -> GraphFileError:
    return GraphFileError(f"the artist graph's {what} is inconsistent: {_HINT}")


def check_offsets(offsets: np.ndarray, size: int, what: str) -> None:
    """CSR-style offsets: one-dimensional whole numbers from 0, never decreasing, to `size`."""
    if (
        offsets.ndim != 1
        or not len(offsets)
        or not np.issubdtype(offsets.dtype, np.integer)
        or int(offsets[0]) != 0
        or int(offsets[-1]) != size
        or (len(offsets) > 1 and bool(np.any(np.diff(offsets) < 0)))
    ):
        raise _bad(what)


def check_positions(values: np.ndarray, limit: int, what: str) -> None:
    """Every value a position in 0..limit-1."""
    if values.size and (int(values.min()) < 0 or int(values.max()) >= limit):
        raise _bad(what)


def check_weights(values: np.ndarray) -> None:
    """Every co-listening weight finite and in (0, 1], as `build` makes them."""
    if values.size and not (
        bool(np.all(np.isfinite(values))) and float(values.min()) > 0 and float(values.max()) <= 1
    ):
        raise _bad("edge weights")


class TextList(Sequence[str]):
    """Strings kept as one UTF-8 blob and offsets: item i is blob[offsets[i]:offsets[i+1]]."""

    def __init__(self, blob: np.ndarray, offsets: np.ndarray) -> None:
        check_offsets(offsets, len(blob), "text offsets")
        self.blob, self.offsets = blob, offsets

    @classmethod
    def of(cls, texts: Iterable[str]) -> TextList:
        encoded = [t.encode("utf-8") for t in texts]
        offsets = np.zeros(len(encoded) + 1, dtype=np.int64)
        np.cumsum([len(e) for e in encoded], out=offsets[1:])
        blob = np.frombuffer(b"".join(encoded), dtype=np.uint8)
        return cls(blob, offsets)

    def __len__(self) -> int:
        return len(self.offsets) - 1

    @overload
    def __getitem__(self, index: int) -> str: ...

    @overload
    def __getitem__(self, index: slice) -> list[str]: ...

    def __getitem__(self, index: int | slice) -> str | list[str]:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        i = int(index)
        if i < 0:
            i += len(self)
        if not 0 <= i < len(self):
            raise IndexError(index)
        try:
            return bytes(self.blob[self.offsets[i] : self.offsets[i + 1]]).decode("utf-8")
        except UnicodeDecodeError:
            raise _bad("text") from None

    def __iter__(self) -> Iterator[str]:
        raw = bytes(self.blob)
        cuts = self.offsets.tolist()
        if raw.isascii():  # one decode, then slices: byte offsets are character offsets
            text = raw.decode("ascii")
            yield from (text[a:b] for a, b in zip(cuts, cuts[1:], strict=False))
            return
        for a, b in zip(cuts, cuts[1:], strict=False):
            try:
                yield raw[a:b].decode("utf-8")
            except UnicodeDecodeError:
                raise _bad("text") from None


class TagLists(Sequence[list[str]]):
    """Per artist, a short list of tags (names from `vocabulary`), as CSR rows of tag ids."""

    def __init__(self, indptr: np.ndarray, ids: np.ndarray, vocabulary: TextList) -> None:
        check_offsets(indptr, len(ids), "tag lists")
        self.indptr, self.ids, self.vocabulary = indptr, ids, vocabulary

    @classmethod
    def of(cls, indptr: np.ndarray, ids: np.ndarray, vocabulary: TextList) -> TagLists:
        return cls(np.asarray(indptr, np.int64), np.asarray(ids, np.int32), vocabulary)

    def ids_of(self, position: int) -> np.ndarray:
        found = self.ids[self.indptr[position] : self.indptr[position + 1]]
        check_positions(found, len(self.vocabulary), "tag lists")
        return found

    def __len__(self) -> int:
        return len(self.indptr) - 1

    @overload
    def __getitem__(self, index: int) -> list[str]: ...

    @overload
    def __getitem__(self, index: slice) -> list[list[str]]: ...

    def __getitem__(self, index: int | slice) -> list[str] | list[list[str]]:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        i = int(index)
        if not 0 <= i < len(self):
            raise IndexError(index)
        return [self.vocabulary[int(t)] for t in self.ids_of(i)]


@dataclass(frozen=True, eq=False)
class Audience:
    """Listener x artist as CSC columns without values: the listeners of each artist."""

    indptr: np.ndarray  # n_artists + 1
    listeners: np.ndarray  # listener rows, ascending inside each column
    n_listeners: int

    def __post_init__(self) -> None:
        check_offsets(self.indptr, len(self.listeners), "audience")

    @classmethod
    def of(cls, audience: sp.csc_matrix) -> Audience:
        audience = sp.csc_matrix(audience)
        audience.sort_indices()
        return cls(
            audience.indptr.astype(np.int64), audience.indices.astype(np.int32), audience.shape[0]
        )

    def of_artist(self, position: int) -> np.ndarray:
        return self.listeners[self.indptr[position] : self.indptr[position + 1]]


@dataclass(frozen=True, eq=False)
class Edges:
    """Co-listening edges, each once as (low, high) in upper-triangle CSR rows, and every
    artist's neighbour list already in `similar` order (strongest first, then by name).

    Edge e joins `low[e]` and `high[e]`; `adjacency_edge[adjacency_indptr[i]:...]` are the
    edges of artist i in `similar` order and `adjacency_other` their other ends.
    """

    indptr: np.ndarray  # n_artists + 1, over edges sorted by (low, high)
    low: np.ndarray
    high: np.ndarray
    weight: np.ndarray  # float64 in (0, 1]
    shared: np.ndarray  # shared listeners
    tags: np.ndarray  # tag similarity
    adjacency_indptr: np.ndarray  # n_artists + 1, over 2 * edges
    adjacency_edge: np.ndarray
    adjacency_other: np.ndarray

    def __post_init__(self) -> None:
        check_offsets(self.indptr, len(self.low), "edges")
        check_offsets(self.adjacency_indptr, len(self.adjacency_edge), "neighbour lists")
        sizes = {len(self.high), len(self.weight), len(self.shared), len(self.tags)}
        if sizes != {len(self.low)} or len(self.adjacency_other) != len(self.adjacency_edge):
            raise _bad("edges")

    @property
    def count(self) -> int:
        return len(self.low)

    def neighbours(self, position: int) -> tuple[np.ndarray, np.ndarray]:
        """(other ends, edge ids) of an artist's edges, strongest first."""
        start, end = self.adjacency_indptr[position], self.adjacency_indptr[position + 1]
        edge, other = self.adjacency_edge[start:end], self.adjacency_other[start:end]
        check_positions(edge, self.count, "neighbour lists")
        check_positions(other, len(self.indptr) - 1, "neighbour lists")
        return other, edge

    def find(self, a: int, b: int) -> int:
        """The id of the edge joining two positions, -1 when there is none."""
        low, high = min(a, b), max(a, b)
        start, end = int(self.indptr[low]), int(self.indptr[low + 1])
        found = start + int(np.searchsorted(self.high[start:end], high))
        return found if found < end and int(self.high[found]) == high else -1

    def shared_between(self, a: int, b: int) -> int:
        """Shared listeners on the edge joining two positions (GraphFileError when none: only
        a tampered file can ask for an edge that is not there)."""
        found = self.find(a, b)
        if found < 0:
            raise _bad("bridge path")
        return int(self.shared[found])

    def costs(self) -> sp.csr_matrix:
        """Edge costs -log(weight), each edge both ways: the matrix the bridge search's
        shortest-path runs walk (made once per loaded graph, so no search needs a transpose).

        The shortest-path code indexes without checks, so every index is checked first.
        """
        n = len(self.indptr) - 1
        check_positions(self.high, n, "edges")
        check_weights(np.asarray(self.weight))
        # Shrunk weights are below 1, so every cost is positive and stays an edge.
        upper = sp.csr_matrix(
            (-np.log(np.asarray(self.weight, dtype=np.float64)), self.high, self.indptr),
            shape=(n, n),
        )
        both: sp.csr_matrix = (upper + upper.T).tocsr()
        return both

    @classmethod
    def build(
        cls,
        n_artists: int,
        low: np.ndarray,
        high: np.ndarray,
        weight: np.ndarray,
        shared: np.ndarray,
        tags: np.ndarray,
        name_rank: np.ndarray,
    ) -> Edges:
        """Edges from (low, high) pairs sorted by (low, high); `name_rank` orders equal weights."""
        count = len(low)
        indptr = np.zeros(n_artists + 1, dtype=np.int64)
        np.add.at(indptr, np.asarray(low, np.int64) + 1, 1)
        ends = np.concatenate([low, high]).astype(np.int64)
        others = np.concatenate([high, low]).astype(np.int64)
        ids = np.concatenate([np.arange(count), np.arange(count)]).astype(np.int64)
        both = np.concatenate([weight, weight])
        order = np.lexsort((others, name_rank[others], -both, ends))
        adjacency_indptr = np.zeros(n_artists + 1, dtype=np.int64)
        np.add.at(adjacency_indptr, ends + 1, 1)
        return cls(
            indptr=np.cumsum(indptr),
            low=np.asarray(low, np.int32),
            high=np.asarray(high, np.int32),
            weight=np.asarray(weight, np.float64),
            shared=np.asarray(shared, np.int32),
            tags=np.asarray(tags, np.float64),
            adjacency_indptr=np.cumsum(adjacency_indptr),
            adjacency_edge=ids[order].astype(np.int32),
            adjacency_other=others[order].astype(np.int32),
        )


@dataclass(eq=False)
class GraphData:
    """Everything the graph knows; `build` makes it, `io` saves and loads it."""

    artist_ids: np.ndarray  # store ids, ascending (the column order of the interactions)
    names: TextList
    listener_counts: np.ndarray
    top_tags: TagLists  # each artist's five most-given tags
    reason_tags: TagLists  # the artist's strongest distinctive (non-generic) tags
    audience: Audience
    edges: Edges
    scene_labels: np.ndarray  # scene id per artist position, -1 when none
    scene_list: list[Scene]
    lookalike_array: np.ndarray  # (m, 2) positions (low, high), sorted
    scene_lookalike_array: np.ndarray  # (s, 2) scene ids (low, high), sorted
    params: GraphParams

    @cached_property
    def lookalike_pairs(self) -> frozenset[tuple[int, int]]:
        return frozenset((int(a), int(b)) for a, b in self.lookalike_array.tolist())

    @cached_property
    def scene_lookalikes(self) -> frozenset[tuple[int, int]]:
        return frozenset((int(a), int(b)) for a, b in self.scene_lookalike_array.tolist())


def pair_array(pairs: Iterable[tuple[int, int]]) -> np.ndarray:
    """Pairs as a sorted (m, 2) int64 array, each pair (low, high)."""
    rows = sorted({(min(a, b), max(a, b)) for a, b in pairs})
    return np.array(rows, dtype=np.int64).reshape(-1, 2)
