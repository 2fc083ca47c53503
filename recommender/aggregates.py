"""The aggregation steps of training, computed on this machine (the local engine).

Every model and the artist graph start from a handful of aggregates of the usable listening:

- `interactions`: listener x artist weights with every listener's terms applied, and the
  artist x tag counts (`recommender.interactions.Interactions`);
- `audience`: listener x artist, 1 where the listener played the artist (what "shared
  listeners" counts);
- `popularity`: distinct listeners per artist;
- `co_listening`: artist pairs with at least `min_shared` shared listeners, each artist's `k`
  strongest by shrunk cosine, with their exact shared counts (`CoListening`);
- `tag_profile`: one L2-normalised, IDF-weighted row of tags per artist (`features.tag_profile`);
- `top_tracks`: every artist's tracks, most played first (`TopTracks`).

`usable_stamp(store)` says which usable listening that is: numbers kept from it (the bundle's top
tracks) stand for the store only while the store's stamp is the same.

`compute(store, spec)` makes them from a store. The Spark engine (issue 16) is meant to compute
the same `Aggregates` from Parquet and hand them to the same model and graph code: nothing
downstream reads the store.

Nothing here grows with the square of the catalogue. Pair counts are computed a block of artists
at a time (`pair_blocks`), each block sized so that its share of the pair product stays under
`PAIR_BLOCK` entries, and only what the graph keeps leaves the block; exact counts for any other
pairs come from `shared_counts`, which intersects the two audiences (memory bounded the same
way).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from recommender.features import tag_profile
from recommender.generation import data_generation
from recommender.interactions import Interactions, load_interactions
from recommender.listens import USABLE, usable_state
from recommender.store import Store

# Entries of the pair product held in memory at once (about 24 bytes each while a block is
# filtered): a few hundred MB whatever the catalogue's size.
PAIR_BLOCK = 6_000_000


@dataclass(frozen=True)
class CoListeningSpec:
    """Which co-listening pairs to keep: at least `min_shared` shared listeners, each artist's
    `k` strongest by cosine * shared / (shared + shrinkage)."""

    min_shared: int = 2
    k: int = 30
    shrinkage: float = 5.0


@dataclass(frozen=True)
class CoListening:
    """Each artist's strongest co-listening pairs (see `CoListeningSpec`).

    Entry e: artist `rows[e]` lists `cols[e]`, with `shared[e]` listeners in common and score
    `score[e]`, ranked `rank[e]` in its list (0 = strongest; ties: the earlier entry). Entries
    come grouped by row, ascending, and inside a row in the order the pair product meets them
    (the order the graph was tuned with). A pair kept by both of its artists appears twice.
    """

    n_artists: int
    rows: np.ndarray  # int64
    cols: np.ndarray  # int64
    shared: np.ndarray  # int64
    score: np.ndarray  # float64
    rank: np.ndarray  # int64
    spec: CoListeningSpec

    def strongest(self, k: int) -> np.ndarray:
        """Mask of each artist's `k` strongest entries (`k` at most `spec.k`)."""
        return self.rank < k


@dataclass(frozen=True)
class TopTracks:
    """Every artist's tracks, most played first (ties: the lower track id), as CSR rows.

    Row j (an artist position) is `track_ids[indptr[j]:indptr[j + 1]]`, with their plays.
    Artist-level data (HetRec) has no tracks: every row is empty.
    """

    indptr: np.ndarray  # int64, n_artists + 1
    track_ids: np.ndarray  # int64
    plays: np.ndarray  # int64

    def of(self, position: int, n: int | None = None) -> np.ndarray:
        start, end = int(self.indptr[position]), int(self.indptr[position + 1])
        if n is not None:
            end = min(end, start + n)
        return self.track_ids[start:end]

    def plays_of(self, position: int) -> dict[int, int]:
        """{track id: plays} of the artist at this position."""
        start, end = int(self.indptr[position]), int(self.indptr[position + 1])
        ids, plays = self.track_ids[start:end].tolist(), self.plays[start:end].tolist()
        return dict(zip(ids, plays, strict=True))


@dataclass(frozen=True)
class Aggregates:
    """What training needs from the listening, whichever engine computed it."""

    interactions: Interactions
    audience: sp.csc_matrix  # listener x artist, float64 ones, no explicit zeros
    popularity: np.ndarray  # int64, distinct listeners per artist
    co_listening: CoListening
    tag_profile: sp.csr_matrix  # artist x tag, every tag (min_artists=1)
    top_tracks: TopTracks


# -- the local engine ------------------------------------------------------------------------


def compute(
    store: Store,
    spec: CoListeningSpec = CoListeningSpec(),  # noqa: B008 - frozen, so sharing it is safe
    interactions: Interactions | None = None,
) -> Aggregates:
    """Every aggregate of the store's usable listening (`interactions` when already loaded)."""
    if interactions is None:
        interactions = load_interactions(store)
    return from_interactions(interactions, spec, top_tracks(store, interactions))


def from_interactions(
    interactions: Interactions,
    spec: CoListeningSpec = CoListeningSpec(),  # noqa: B008
    tracks: TopTracks | None = None,
) -> Aggregates:
    """The aggregates that follow from interactions alone (no tracks unless given)."""
    audience = audience_of(interactions.plays)
    popularity = np.diff(audience.indptr).astype(np.int64)
    if tracks is None:
        empty = np.zeros(0, dtype=np.int64)
        tracks = TopTracks(np.zeros(len(interactions.artists) + 1, dtype=np.int64), empty, empty)
    return Aggregates(
        interactions=interactions,
        audience=audience,
        popularity=popularity,
        co_listening=co_listening(audience, spec),
        tag_profile=tag_profile(interactions.artist_tags, min_artists=1),
        top_tracks=tracks,
    )


def audience_of(plays: sp.spmatrix) -> sp.csc_matrix:
    """Listener x artist ones wherever a listener has plays (CSC: one column per artist)."""
    binary = sp.csc_matrix(plays, dtype=np.float64, copy=True)
    binary.eliminate_zeros()
    binary.data = np.ones_like(binary.data)
    return binary


def pair_blocks(
    columns: sp.csc_matrix, by_row: sp.csr_matrix, budget: int = PAIR_BLOCK
) -> Iterator[tuple[int, sp.csr_matrix]]:
    """(first artist, columns[:, block].T @ columns) for consecutive blocks of artists.

    A block's product has at most the sum, over its artists' listeners, of how many artists
    each of them played: blocks are cut on that bound, so none holds more than about `budget`
    entries (an artist whose own bound is larger gets a block to itself, which is still at most
    one row of the catalogue). `by_row` is `columns` as CSR.
    """
    degree = np.diff(by_row.indptr).astype(np.float64)
    bound = np.asarray(columns.T @ degree).ravel()
    n = columns.shape[1]
    start = 0
    while start < n:
        total, stop = 0.0, start
        while stop < n and (stop == start or total + bound[stop] <= budget):
            total += bound[stop]
            stop += 1
        yield start, sp.csr_matrix(columns[:, start:stop].T @ by_row)
        start = stop


def co_listening(
    audience: sp.csc_matrix,
    spec: CoListeningSpec = CoListeningSpec(),  # noqa: B008
    budget: int = PAIR_BLOCK,
) -> CoListening:
    """Each artist's `spec.k` strongest co-listening pairs, computed a block at a time."""
    counts = np.diff(audience.indptr).astype(np.float64)
    by_listener = audience.tocsr()
    parts: list[tuple[np.ndarray, ...]] = []
    for start, block in pair_blocks(audience, by_listener, budget):
        coo = block.tocoo()
        rows = coo.row.astype(np.int64) + start
        cols = coo.col.astype(np.int64)
        keep = (rows != cols) & (coo.data >= spec.min_shared)
        rows, cols, shared = rows[keep], cols[keep], coo.data[keep]
        cosine = shared / np.sqrt(counts[rows] * counts[cols])
        score = cosine * shared / (shared + spec.shrinkage)
        rank = rank_in_row(rows, score)
        top = rank < spec.k
        parts.append((rows[top], cols[top], shared[top].astype(np.int64), score[top], rank[top]))
    if not parts:  # no listener at all
        parts = [(np.zeros(0, np.int64),) * 3 + (np.zeros(0), np.zeros(0, np.int64))]
    rows, cols, shared, score, rank = (np.concatenate(c) for c in zip(*parts, strict=True))
    return CoListening(audience.shape[1], rows, cols, shared, score, rank, spec)


def rank_in_row(rows: np.ndarray, score: np.ndarray) -> np.ndarray:
    """Each entry's rank in its row by descending score (0 = best; ties: the earlier entry).

    `rows` must be grouped (equal values adjacent, ascending), as a CSR's rows are.
    """
    order = np.lexsort((-score, rows))
    sorted_rows = rows[order]
    starts = np.searchsorted(sorted_rows, sorted_rows, side="left")
    rank = np.empty(len(order), dtype=np.int64)
    rank[order] = np.arange(len(order)) - starts
    return rank


def strongest_per_row(
    columns: sp.csc_matrix,
    k: int,
    transform: Callable[[np.ndarray, np.ndarray, np.ndarray], np.ndarray] | None = None,
    budget: int = PAIR_BLOCK,
) -> sp.csr_matrix:
    """Artist x artist: each row's `k` largest entries of `columns.T @ columns` (diagonal left
    out, ties: the lower column), computed a block of rows at a time.

    `transform(rows, cols, values)` turns the raw products into the values ranked and kept.
    """
    by_row = columns.tocsr()
    n = columns.shape[1]
    parts: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
    for start, block in pair_blocks(columns, by_row, budget):
        block.sort_indices()
        coo = block.tocoo()
        rows = coo.row.astype(np.int64) + start
        cols = coo.col.astype(np.int64)
        values = coo.data
        if transform is not None:
            values = transform(rows, cols, values)
        keep = (rows != cols) & (values != 0)
        rows, cols, values = rows[keep], cols[keep], values[keep]
        top = rank_in_row(rows, values) < k
        parts.append((rows[top], cols[top], values[top]))
    if not parts:
        return sp.csr_matrix((n, n))
    rows, cols, values = (np.concatenate(c) for c in zip(*parts, strict=True))
    return sp.csr_matrix((values, (rows, cols)), shape=(n, n))


def shared_counts(
    audience: sp.csc_matrix, a: np.ndarray, b: np.ndarray, budget: int = PAIR_BLOCK
) -> np.ndarray:
    """Exact listeners shared by each pair (a[i], b[i]), in chunks of pairs whose audiences
    together stay under `budget` entries."""
    a, b = np.asarray(a, dtype=np.int64), np.asarray(b, dtype=np.int64)
    out = np.zeros(len(a), dtype=np.int64)
    if not len(a):
        return out
    by_artist = sp.csr_matrix(audience.T)
    sizes = np.diff(by_artist.indptr)
    cost = np.cumsum(sizes[a] + sizes[b])
    start = 0
    while start < len(a):
        base = cost[start - 1] if start else 0
        stop = max(start + 1, int(np.searchsorted(cost, base + budget, side="right")))
        left, right = by_artist[a[start:stop]], by_artist[b[start:stop]]
        out[start:stop] = np.asarray(left.multiply(right).sum(axis=1)).ravel().astype(np.int64)
        start = stop
    return out


def usable_stamp(store: Store) -> str:
    """A digest of which listens are usable now: the newest listen, every listener's terms that
    leave listens out, and the forget generation (`recommender.listens.usable_state`). Equal
    stamps mean the same usable listens; a few indexed reads, cheap enough for every playlist."""
    state = [usable_state(store), data_generation(store)]
    return hashlib.sha256(json.dumps(state).encode()).hexdigest()


def top_tracks(store: Store, interactions: Interactions) -> TopTracks:
    """Every artist's tracks by usable plays (everyone's), most played first."""
    rows = store.conn.execute(
        "SELECT artist_id, track_id, sum(plays) FROM listens WHERE track_id IS NOT NULL"
        f" AND {USABLE} GROUP BY artist_id, track_id"
    ).fetchall()
    return top_tracks_of(np.array(rows, dtype=np.int64).reshape(-1, 3), interactions.artists)


def top_tracks_of(table: np.ndarray, artists: np.ndarray) -> TopTracks:
    """`TopTracks` from (artist id, track id, plays) rows, one per track, in any order."""
    n = len(artists)
    if not len(table):
        empty = np.zeros(0, dtype=np.int64)
        return TopTracks(np.zeros(n + 1, dtype=np.int64), empty, empty)
    position = np.searchsorted(artists, table[:, 0])
    order = np.lexsort((table[:, 1], -table[:, 2], position))
    position, table = position[order], table[order]
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.add.at(indptr, position + 1, 1)
    return TopTracks(np.cumsum(indptr), table[:, 1].copy(), table[:, 2].copy())
