"""Building the graph from the aggregates: co-listening edges, scenes, look-alikes, reason tags.

Edges come only from co-listening: the number of listeners two artists share, turned into a
cosine and shrunk toward zero when little evidence stands behind it, then sparsified to each
artist's strongest neighbours (`aggregates.co_listening` does all of that a block at a time).
Tag similarity is stored on the edge as a separate number and never counts as co-listening.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from recommender.aggregates import Aggregates, CoListeningSpec
from recommender.errors import BadArgument
from recommender.graph.lookalikes import (
    artist_lookalikes,
    broad_tags,
    leading,
    row_dots,
    scene_lookalikes,
)
from recommender.graph.records import (
    Audience,
    Edges,
    GraphData,
    GraphParams,
    TagLists,
    TextList,
    pair_array,
)
from recommender.graph.scenes import find_scenes
from recommender.interactions import Interactions

REASON_TAGS = 5  # tags a reason may cite, per artist
TOP_TAGS = 5  # tags shown per artist


def co_listening_spec(params: GraphParams) -> CoListeningSpec:
    """The co-listening pairs this graph needs from the aggregates."""
    return CoListeningSpec(
        min_shared=params.min_shared,
        k=max(params.neighbours, params.scene_neighbours),
        shrinkage=params.shrinkage,
    )


def build_graph(aggregates: Aggregates, params: GraphParams) -> GraphData:
    interactions = aggregates.interactions
    pairs = aggregates.co_listening
    wanted = co_listening_spec(params)
    got = pairs.spec
    if (got.min_shared, got.shrinkage) != (wanted.min_shared, wanted.shrinkage) or got.k < wanted.k:
        raise BadArgument(
            f"the co-listening aggregate was computed for {got}, the graph needs {wanted}: "
            "compute the aggregates with `graph.build.co_listening_spec(params)`"
        )
    n_artists = len(interactions.artists)
    n_tags = len(interactions.tags)
    counts = aggregates.popularity.astype(np.float64)

    # Each artist keeps its strongest neighbours; a pair kept by either side is one edge.
    keep = np.flatnonzero(pairs.strongest(params.neighbours))
    low = np.minimum(pairs.rows[keep], pairs.cols[keep]).astype(np.int64)
    high = np.maximum(pairs.rows[keep], pairs.cols[keep]).astype(np.int64)
    _, first = np.unique(low * n_artists + high, return_index=True)
    keep, low, high = keep[first], low[first], high[first]

    wide_indptr, wide_ids = top_tag_ids(interactions.artist_tags, 10)
    top_indptr, top_ids = first_of_rows(wide_indptr, wide_ids, np.ones(len(wide_ids), bool), 5)
    specific = specific_tag_mask(interactions, params.specific_tag_share)
    community = pairs.strongest(params.scene_neighbours)
    labels, scenes, scene_audience = find_scenes(
        pairs.rows[community],
        pairs.cols[community],
        pairs.score[community],
        counts,
        interactions.artist_tags,
        interactions.tags,
        interactions.artists,
        aggregates.audience,
        params,
    )
    typical = float(np.median(pairs.score[keep])) if len(keep) else 0.0
    naming = specific & ~broad_tags(
        top_indptr, top_ids, labels, n_tags, params.lookalike_max_tag_scenes
    )
    lookalikes = artist_lookalikes(
        aggregates.tag_profile,
        top_indptr,
        top_ids,
        naming,
        counts,
        aggregates.audience,
        typical,
        params,
    )
    alike_scenes = scene_lookalikes([s.tags for s in scenes], scene_audience, params)
    # Reasons cite distinctive tags only: not generic ones, and not the tags that make
    # look-alike scenes look alike ("hardcore" says nothing about street punk vs metalcore).
    tag_index = {t: k for k, t in enumerate(interactions.tags)}
    citable = specific.copy()
    for a, b in alike_scenes:
        for tag in set(scenes[a].tags) & set(scenes[b].tags):
            citable[tag_index[tag]] = False
    reason_indptr, reason_ids = first_of_rows(wide_indptr, wide_ids, citable[wide_ids], REASON_TAGS)

    # A look-alike may never explain or stand in for the other, so no edge (and no bridge
    # step) may join them, even a thin one that survived sparsification.
    banned = np.array([a * n_artists + b for a, b in lookalikes], dtype=np.int64)
    apart = np.isin(low * n_artists + high, banned)
    for sa, sb in alike_scenes:
        la, lb = labels[low], labels[high]
        apart |= ((la == sa) & (lb == sb)) | ((la == sb) & (lb == sa))
    keep, low, high = keep[~apart], low[~apart], high[~apart]
    tag_sims = row_dots(aggregates.tag_profile, low, high)
    names = list(interactions.artist_names)
    name_rank = np.empty(n_artists, dtype=np.int64)
    name_rank[sorted(range(n_artists), key=names.__getitem__)] = np.arange(n_artists)
    vocabulary = TextList.of(interactions.tags)
    return GraphData(
        artist_ids=np.asarray(interactions.artists, dtype=np.int64),
        names=TextList.of(names),
        listener_counts=aggregates.popularity.astype(np.int64),
        top_tags=TagLists.of(top_indptr, top_ids, vocabulary),
        reason_tags=TagLists.of(reason_indptr, reason_ids, vocabulary),
        audience=Audience.of(aggregates.audience),
        edges=Edges.build(
            n_artists,
            low,
            high,
            pairs.score[keep],
            pairs.shared[keep],
            tag_sims,
            name_rank,
        ),
        scene_labels=labels,
        scene_list=scenes,
        lookalike_array=pair_array(lookalikes),
        scene_lookalike_array=pair_array(alike_scenes),
        params=params,
    )


def specific_tag_mask(interactions: Interactions, max_share: float) -> np.ndarray:
    """Mask of tags given to at most `max_share` of the tagged artists: ones that name a
    subgenre."""
    tagged = max(int(np.count_nonzero(np.diff(interactions.artist_tags.indptr))), 1)
    artists_per_tag = np.diff(sp.csc_matrix(interactions.artist_tags).indptr)
    return np.asarray(artists_per_tag <= max_share * tagged)


def specific_tags(interactions: Interactions, max_share: float) -> set[str]:
    """The names of `specific_tag_mask`'s tags."""
    mask = specific_tag_mask(interactions, max_share)
    return {t for t, ok in zip(interactions.tags, mask.tolist(), strict=True) if ok}


def top_tag_ids(artist_tags: sp.csr_matrix, top: int) -> tuple[np.ndarray, np.ndarray]:
    """Each artist's `top` most-given tag ids, strongest first (ties: the lower tag id), as
    CSR rows (indptr, ids)."""
    coo = sp.csr_matrix(artist_tags).tocoo()
    order = np.lexsort((coo.col, -coo.data, coo.row))
    rows, cols = coo.row[order].astype(np.int64), coo.col[order].astype(np.int64)
    rank = np.arange(len(rows)) - np.searchsorted(rows, rows, side="left")
    return _csr(rows[rank < top], cols[rank < top], artist_tags.shape[0])


def top_tags(artist_tags: sp.csr_matrix, tag_names: list[str], top: int) -> list[list[str]]:
    """Each artist's `top` most-given tags by name, strongest first."""
    indptr, ids = top_tag_ids(artist_tags, top)
    names = [tag_names[t] for t in ids.tolist()]
    return [names[a:b] for a, b in zip(indptr[:-1].tolist(), indptr[1:].tolist(), strict=True)]


def first_of_rows(
    indptr: np.ndarray, ids: np.ndarray, allowed: np.ndarray, top: int
) -> tuple[np.ndarray, np.ndarray]:
    """The first `top` allowed entries of each CSR row, as CSR rows (indptr, ids)."""
    n_rows = len(indptr) - 1
    rows = np.repeat(np.arange(n_rows), np.diff(indptr))[allowed]
    allowed_indptr, allowed_ids = _csr(rows, ids[allowed], n_rows)
    return _csr(*leading(allowed_indptr, allowed_ids, top), n_rows)


def _csr(rows: np.ndarray, ids: np.ndarray, n_rows: int) -> tuple[np.ndarray, np.ndarray]:
    """(indptr, ids) of entries already grouped by ascending row."""
    indptr = np.zeros(n_rows + 1, dtype=np.int64)
    np.add.at(indptr, np.asarray(rows, np.int64) + 1, 1)
    return np.cumsum(indptr), np.asarray(ids, dtype=np.int64)
