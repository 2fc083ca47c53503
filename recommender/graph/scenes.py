"""Scenes: Louvain communities of the co-listening graph, named by their defining tags.

networkx runs the community search while the graph is built; nothing loads networkx later.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from recommender.graph.records import GraphParams, Scene


def find_scenes(
    rows: np.ndarray,
    cols: np.ndarray,
    score: np.ndarray,
    counts: np.ndarray,
    artist_tags: sp.csr_matrix,
    tag_names: list[str],
    artist_ids: np.ndarray,
    audience: sp.csc_matrix,
    params: GraphParams,
) -> tuple[np.ndarray, list[Scene], sp.csc_matrix]:
    """(scene label per artist, scenes largest audience first, listener x scene audiences).

    Louvain (seeded) runs on the edges (rows[e], cols[e], score[e]), in the order given (the
    search visits nodes in the order they were added, so the order is part of the result).
    """
    import networkx as nx  # only training builds a networkx graph

    labels = np.full(len(counts), -1, dtype=np.int64)
    graph = nx.Graph()
    graph.add_weighted_edges_from(zip(rows.tolist(), cols.tolist(), score.tolist(), strict=True))
    if graph.number_of_edges() == 0:
        return labels, [], sp.csc_matrix((audience.shape[0], 0))
    communities = nx.community.louvain_communities(
        graph, weight="weight", resolution=params.resolution, seed=params.seed, threshold=1e-4
    )
    del graph
    found = [sorted(c) for c in communities if len(c) >= 3]
    found.sort(key=lambda c: (-int(counts[c].sum()), c[0]))
    for scene_id, members in enumerate(found):
        labels[members] = scene_id
    scene_audience = audiences(audience, labels, len(found))
    listeners = np.diff(scene_audience.indptr)
    per_scene = scene_tag_counts(artist_tags, labels, len(found))
    catalogue = np.asarray(artist_tags.sum(axis=0)).ravel()
    catalogue_share = catalogue / max(catalogue.sum(), 1.0)
    scenes = []
    for scene_id, members in enumerate(found):
        mix = per_scene[scene_id].toarray().ravel()
        share = mix / max(mix.sum(), 1.0)
        # Defining tags: common in the scene and over-represented against the catalogue.
        lift = share * np.log((share + 1e-9) / (catalogue_share + 1e-9))
        best = [int(t) for t in np.argsort(-lift, kind="stable")[:4] if share[t] > 0]
        tag_list = [tag_names[t] for t in best]
        top = sorted(members, key=lambda m: (-int(counts[m]), m))[:5]
        scenes.append(
            Scene(
                id=scene_id,
                name=" / ".join(tag_list[:2]) if tag_list else f"scene {scene_id}",
                tags=tag_list,
                size=len(members),
                top_artists=[int(artist_ids[m]) for m in top],
                listeners=int(listeners[scene_id]),
            )
        )
    return labels, scenes, scene_audience


def membership(labels: np.ndarray, n_scenes: int) -> sp.csr_matrix:
    """Artist x scene, 1 where the artist belongs to the scene."""
    inside = np.flatnonzero(labels >= 0)
    return sp.csr_matrix(
        (np.ones(len(inside)), (inside, labels[inside])), shape=(len(labels), n_scenes)
    )


def audiences(audience: sp.csc_matrix, labels: np.ndarray, n_scenes: int) -> sp.csc_matrix:
    """Listener x scene, 1 where the listener plays any artist of the scene (sorted rows)."""
    reach = sp.csc_matrix(audience @ membership(labels, n_scenes))
    reach.eliminate_zeros()
    reach.sort_indices()
    reach.data[:] = 1.0
    return reach


def scene_tag_counts(
    artist_tags: sp.csr_matrix, labels: np.ndarray, n_scenes: int
) -> sp.csr_matrix:
    """Scene x tag: the tag counts of the scene's artists, summed."""
    return sp.csr_matrix(membership(labels, n_scenes).T @ sp.csr_matrix(artist_tags))
