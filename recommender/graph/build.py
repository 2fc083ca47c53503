"""Building the graph from interactions: co-listening edges, scenes, look-alikes, reason tags.

Edges come only from co-listening: the number of listeners two artists share, turned into a
cosine and shrunk toward zero when little evidence stands behind it, then sparsified to each
artist's strongest neighbours. Tag similarity is stored on the edge as a separate number and
never counts as co-listening.
"""

from __future__ import annotations

import math

import networkx as nx
import numpy as np
import scipy.sparse as sp

from recommender.features import tag_profile
from recommender.graph.lookalikes import artist_lookalikes, broad_tags, scene_lookalikes
from recommender.graph.records import GraphData, GraphParams
from recommender.graph.scenes import find_scenes
from recommender.interactions import Interactions


def build_graph(interactions: Interactions, params: GraphParams) -> GraphData:
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
    keep = np.flatnonzero(top_per_row(coo.row, score, params.neighbours))
    n_artists = len(interactions.artists)
    low = np.minimum(coo.row[keep], coo.col[keep]).astype(np.int64)
    high = np.maximum(coo.row[keep], coo.col[keep]).astype(np.int64)
    _, first = np.unique(low * n_artists + high, return_index=True)
    keep, low, high = keep[first], low[first], high[first]

    wide = top_tags(interactions.artist_tags, interactions.tags, 10)
    top = [row[:5] for row in wide]
    specific = specific_tags(interactions, params.specific_tag_share)
    communities = community_graph(coo.row, coo.col, score, params.scene_neighbours)
    labels, scenes = find_scenes(communities, counts, interactions, params)
    typical = float(np.median(score[keep])) if len(keep) else 0.0
    naming = specific - broad_tags(top, labels, scenes, params.lookalike_max_tag_scenes)
    lookalikes = artist_lookalikes(tags, top, naming, counts, shared, typical, params)
    alike_scenes = scene_lookalikes(scenes, labels, binary, params)
    # Reasons cite distinctive tags only: not generic ones, and not the tags that make
    # look-alike scenes look alike ("hardcore" says nothing about street punk vs metalcore).
    confusing = {t for a, b in alike_scenes for t in set(scenes[a].tags) & set(scenes[b].tags)}
    reason_tags = [[t for t in row if t in specific - confusing][:5] for row in wide]

    # A look-alike may never explain or stand in for the other, so no edge (and no bridge
    # step) may join them, even a thin one that survived sparsification.
    banned = np.array([a * n_artists + b for a, b in lookalikes], dtype=np.int64)
    apart = np.isin(low * n_artists + high, banned)
    for sa, sb in alike_scenes:
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
    return GraphData(
        artist_ids=np.asarray(interactions.artists, dtype=np.int64),
        names=list(interactions.artist_names),
        listener_counts=counts.astype(np.int64),
        top_tags=top,
        reason_tags=reason_tags,
        audience=sp.csc_matrix(binary, dtype=np.int8),
        graph=graph,
        scene_labels=labels,
        scene_list=scenes,
        lookalike_pairs=lookalikes,
        scene_lookalikes=alike_scenes,
        params=params,
    )


def top_per_row(rows: np.ndarray, score: np.ndarray, k: int) -> np.ndarray:
    """Mask of the k highest-scoring entries of each row (ties: the earlier entry)."""
    order = np.lexsort((-score, rows))
    sorted_rows = rows[order]
    starts = np.searchsorted(sorted_rows, sorted_rows, side="left")
    rank = np.arange(len(order)) - starts
    keep = np.zeros(len(order), dtype=bool)
    keep[order[rank < k]] = True
    return keep


def community_graph(rows: np.ndarray, cols: np.ndarray, score: np.ndarray, k: int) -> nx.Graph:
    """Each artist's k strongest co-listening edges; artists without any are left out."""
    keep = top_per_row(rows, score, k)
    graph = nx.Graph()
    graph.add_weighted_edges_from(
        zip(rows[keep].tolist(), cols[keep].tolist(), score[keep].tolist(), strict=True)
    )
    return graph


def specific_tags(interactions: Interactions, max_share: float) -> set[str]:
    """Tags given to at most `max_share` of the tagged artists: ones that name a subgenre."""
    tagged = max(int(np.count_nonzero(np.diff(interactions.artist_tags.indptr))), 1)
    artists_per_tag = np.diff(interactions.artist_tags.tocsc().indptr)
    return {
        t
        for t, n in zip(interactions.tags, artists_per_tag, strict=True)
        if n <= max_share * tagged
    }


def top_tags(artist_tags: sp.csr_matrix, tag_names: list[str], top: int) -> list[list[str]]:
    """Each artist's `top` most-given tags, strongest first (ties: the lower tag index)."""
    coo = sp.csr_matrix(artist_tags).tocoo()
    order = np.lexsort((coo.col, -coo.data, coo.row))
    rows, cols = coo.row[order], coo.col[order]
    rank = np.arange(len(rows)) - np.searchsorted(rows, rows, side="left")
    out: list[list[str]] = [[] for _ in range(artist_tags.shape[0])]
    for r, c in zip(rows[rank < top].tolist(), cols[rank < top].tolist(), strict=True):
        out[r].append(tag_names[c])
    return out
