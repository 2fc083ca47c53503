"""Look-alikes: artists (and scenes) whose tags look alike while their audiences do not meet.

Judged against how many shared listeners their audience sizes would predict for related
artists. A look-alike is never an edge, so it can never be `similar`, explain another artist,
or lie on a bridge.

Candidate pairs come from the tags, never from all pairs of artists: only artists that share
one of their strongest naming tags can be look-alikes, so the pairs are enumerated tag group by
tag group (`aggregates.pair_blocks`, memory bounded), cheap tests first (audience sizes, tag
similarity) and exact shared-listener counts last, for the few pairs still standing.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from recommender.aggregates import pair_blocks, shared_counts
from recommender.graph.records import GraphParams


def leading(indptr: np.ndarray, ids: np.ndarray, top: int) -> tuple[np.ndarray, np.ndarray]:
    """(row, tag id) of the first `top` entries of each CSR row of tag ids."""
    rows = np.repeat(np.arange(len(indptr) - 1), np.diff(indptr))
    rank = np.arange(len(ids)) - indptr[rows]
    keep = rank < top
    return rows[keep], np.asarray(ids, dtype=np.int64)[keep]


def broad_tags(
    top_indptr: np.ndarray,
    top_ids: np.ndarray,
    labels: np.ndarray,
    n_tags: int,
    max_scenes: int,
) -> np.ndarray:
    """Mask of tags among the three strongest of at least a fifth of the members of more than
    `max_scenes` scenes."""
    rows, tags = leading(top_indptr, top_ids, 3)
    scene = labels[rows]
    member = scene >= 0
    scene, tags = scene[member], tags[member]
    if not len(scene):
        return np.zeros(n_tags, dtype=bool)
    sizes = np.bincount(labels[labels >= 0])
    keys, held = np.unique(scene * n_tags + tags, return_counts=True)
    strong = held >= 0.2 * sizes[keys // n_tags]
    spread = np.bincount(keys[strong] % n_tags, minlength=n_tags)
    return np.asarray(spread > max_scenes)


def artist_lookalikes(
    tag_profile: sp.csr_matrix,
    top_indptr: np.ndarray,
    top_ids: np.ndarray,
    naming: np.ndarray,
    counts: np.ndarray,
    audience: sp.csc_matrix,
    typical: float,
    params: GraphParams,
) -> set[tuple[int, int]]:
    """Tag-alike artist pairs whose shared audience is far below what related artists show.

    A pair must share one of its `lookalike_top_tags` strongest tags that names a subgenre
    (`naming`, a mask over tags) and be tag-similar. `typical` is the median weight of a kept
    co-listening edge: related artists of audience sizes n and m share about
    typical * sqrt(n * m) listeners. One shared listener is an anecdote (`min_shared`), so it
    counts as none.
    """
    candidate = counts >= params.lookalike_min_listeners
    if int(candidate.sum()) < 2 or typical <= 0:
        return set()
    rows, tags = leading(top_indptr, top_ids, params.lookalike_top_tags)
    keep = candidate[rows] & naming[tags]
    n = len(counts)
    groups = sp.csc_matrix(
        (np.ones(int(keep.sum())), (tags[keep], rows[keep])), shape=(len(naming), n)
    )
    groups.data[:] = 1.0
    found: list[tuple[np.ndarray, np.ndarray]] = []
    for start, block in pair_blocks(groups, groups.tocsr()):
        coo = block.tocoo()
        a = coo.row.astype(np.int64) + start
        b = coo.col.astype(np.int64)
        expected = typical * np.sqrt(counts[a] * counts[b])
        # Below the minimum there is too little listening to tell a look-alike from a small
        # neighbour.
        first = (b > a) & (expected >= params.lookalike_min_expected)
        a, b, expected = a[first], b[first], expected[first]
        similarity = row_dots(tag_profile, a, b)
        alike = similarity >= params.lookalike_tag_similarity
        a, b, expected = a[alike], b[alike], expected[alike]
        observed = shared_counts(audience, a, b)
        observed[observed < params.min_shared] = 0
        apart = observed <= params.lookalike_max_ratio * expected
        found.append((a[apart], b[apart]))
    return {(int(x), int(y)) for a, b in found for x, y in zip(a.tolist(), b.tolist(), strict=True)}


ROW_DOT_ENTRIES = 4_000_000


def row_dots(
    matrix: sp.csr_matrix, a: np.ndarray, b: np.ndarray, budget: int = ROW_DOT_ENTRIES
) -> np.ndarray:
    """matrix[a[i]] . matrix[b[i]] for every i, a chunk of pairs at a time.

    A chunk's rows hold about `budget` entries together (a pair whose rows alone hold more is
    a chunk of its own), not a fixed number of pairs: a popular artist's tag row can hold
    thousands of tags, and 100,000 such pairs once copied out 100 M entries (over 3 GB) at a
    time on Last.fm-360K. Each dot only reads its own two rows, so the chunks change no value.
    """
    out = np.zeros(len(a))
    sizes = np.diff(matrix.indptr).astype(np.int64)
    reach = np.cumsum(sizes[a] + sizes[b])  # entries copied for pairs 0..i
    start = 0
    while start < len(a):
        before = int(reach[start - 1]) if start else 0
        stop = max(start + 1, int(np.searchsorted(reach, before + budget, side="right")))
        left, right = matrix[a[start:stop]], matrix[b[start:stop]]
        out[start:stop] = np.asarray(left.multiply(right).sum(axis=1)).ravel()
        start = stop
    return out


def scene_lookalikes(
    scene_tags: list[list[str]],
    scene_audience: sp.csc_matrix,
    params: GraphParams,
) -> set[tuple[int, int]]:
    """Scenes that share a defining tag but whose audiences barely meet.

    `scene_audience` is listener x scene, 1 where the listener plays any of the scene's artists.
    """
    sizes = np.diff(scene_audience.indptr)
    top = params.scene_lookalike_top_tags
    pairs = set()
    for a in range(len(scene_tags)):
        for b in range(a + 1, len(scene_tags)):
            if not set(scene_tags[a][:top]) & set(scene_tags[b][:top]):
                continue
            smaller = min(int(sizes[a]), int(sizes[b]))
            if smaller < params.scene_lookalike_min_listeners:
                continue
            overlap = len(
                np.intersect1d(
                    scene_audience.indices[scene_audience.indptr[a] : scene_audience.indptr[a + 1]],
                    scene_audience.indices[scene_audience.indptr[b] : scene_audience.indptr[b + 1]],
                    assume_unique=True,
                )
            )
            if overlap / smaller <= params.scene_lookalike_max_overlap:
                pairs.add((a, b))
    return pairs
