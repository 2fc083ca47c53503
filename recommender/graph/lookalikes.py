"""Look-alikes: artists (and scenes) whose tags look alike while their audiences do not meet.

Judged against how many shared listeners their audience sizes would predict for related
artists. A look-alike is never an edge, so it can never be `similar`, explain another artist,
or lie on a bridge.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from recommender.graph.records import GraphParams, Scene


def broad_tags(
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


def artist_lookalikes(
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


def scene_lookalikes(
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
