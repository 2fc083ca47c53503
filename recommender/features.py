"""Item features for the hybrid model: artist identity plus normalised tag weights.

Tags only describe what the artist sounds like; nothing about who listens is a feature.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from recommender.interactions import Interactions


def tag_profile(
    artist_tags: sp.csr_matrix, min_artists: int = 2, top: int | None = None
) -> sp.csr_matrix:
    """Rows of log-scaled, IDF-weighted, L2-normalised tag weights (one row per artist).

    Tags given to fewer than `min_artists` artists carry no shared information and are dropped;
    `top` keeps only each artist's strongest tags (the long tail of one-off tags is noise, and
    every feature an artist carries slows every training step that touches it).
    """
    counts = artist_tags.tocsc(copy=True)
    df = np.diff(counts.indptr)
    keep = df >= min_artists
    counts = counts[:, keep].tocsr()
    counts.data = np.log1p(counts.data)
    idf = np.log((1 + artist_tags.shape[0]) / (1 + df[keep])) + 1.0
    weighted = counts @ sp.diags(idf)
    if top is not None:
        weighted = _keep_top(sp.csr_matrix(weighted), top)
    norms = np.sqrt(np.asarray(weighted.multiply(weighted).sum(axis=1)).ravel())
    norms[norms == 0] = 1.0
    return sp.csr_matrix(sp.diags(1.0 / norms) @ weighted)


def _keep_top(matrix: sp.csr_matrix, top: int) -> sp.csr_matrix:
    rows, cols, vals = [], [], []
    for r in range(matrix.shape[0]):
        start, end = matrix.indptr[r], matrix.indptr[r + 1]
        data = matrix.data[start:end]
        order = np.argsort(-data, kind="stable")[:top]
        rows.append(np.full(len(order), r))
        cols.append(matrix.indices[start:end][order])
        vals.append(data[order])
    return sp.csr_matrix(
        (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=matrix.shape
    )


def item_features(
    interactions: Interactions, tag_weight: float = 1.0, top_tags: int = 8, min_artists: int = 5
) -> sp.csr_matrix:
    """[identity | tag_weight * tag profile], each row scaled to sum to 1 as LightFM expects."""
    n = len(interactions.artists)
    identity = sp.identity(n, format="csr", dtype=np.float32)
    tags = tag_profile(interactions.artist_tags, min_artists=min_artists, top=top_tags) * tag_weight
    features = sp.hstack([identity, tags], format="csr", dtype=np.float32)
    sums = np.asarray(features.sum(axis=1)).ravel()
    sums[sums == 0] = 1.0
    return sp.csr_matrix(sp.diags(1.0 / sums) @ features, dtype=np.float32)
