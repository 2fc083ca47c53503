"""Scenes: Louvain communities of the co-listening graph, named by their defining tags."""

from __future__ import annotations

import networkx as nx
import numpy as np

from recommender.graph.records import GraphParams, Scene
from recommender.interactions import Interactions


def find_scenes(
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
