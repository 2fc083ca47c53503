"""The local engine's aggregates against brute force: same answers, a block at a time.

Every blockwise computation is run with a tiny memory budget (so it takes many blocks) and
compared with the dense artist x artist product it replaces, on small random worlds.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from recommender.aggregates import (
    CoListeningSpec,
    audience_of,
    co_listening,
    pair_blocks,
    shared_counts,
    strongest_per_row,
    top_tracks,
)
from recommender.errors import BadArgument
from recommender.graph import ArtistGraph, GraphParams
from recommender.graph.build import build_graph
from recommender.ingest import Artist, Listen
from recommender.ingest.writer import import_records
from recommender.interactions import Interactions, load_interactions
from recommender.models import EASE, EASEConfig
from recommender.models.ease import _prune, _spd_inverse_in_place
from recommender.store import Store
from tests.synthetic import matrix_interactions


def _world(
    seed: int, listeners: int = 40, artists: int = 30, density: float = 0.2
) -> sp.csc_matrix:
    rng = np.random.default_rng(seed)
    plays = (rng.random((listeners, artists)) < density) * rng.integers(1, 9, (listeners, artists))
    return audience_of(sp.csr_matrix(plays.astype(float)))


def _brute_force(
    audience: sp.csc_matrix, spec: CoListeningSpec
) -> dict[int, list[tuple[float, int, int]]]:
    dense = (audience.T @ audience).toarray()
    counts = np.diag(dense).copy()
    out: dict[int, list[tuple[float, int, int]]] = {}
    for a in range(dense.shape[0]):
        found = []
        for b in range(dense.shape[0]):
            n = dense[a, b]
            if a != b and n >= spec.min_shared:
                score = n / np.sqrt(counts[a] * counts[b]) * n / (n + spec.shrinkage)
                found.append((score, b, int(n)))
        found.sort(key=lambda t: -t[0])
        out[a] = found[: spec.k]
    return out


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 10_000), st.integers(1, 400), st.integers(1, 6))
def test_co_listening_in_blocks_matches_the_full_product(seed: int, budget: int, k: int) -> None:
    audience = _world(seed)
    spec = CoListeningSpec(min_shared=2, k=k, shrinkage=5.0)
    pairs = co_listening(audience, spec, budget=budget)
    truth = _brute_force(audience, spec)
    assert np.all(np.diff(pairs.rows) >= 0)  # grouped by row, ascending
    for a, expected in truth.items():
        mine = pairs.rows == a
        got = sorted(
            zip(
                pairs.rank[mine].tolist(),
                pairs.cols[mine].tolist(),
                pairs.shared[mine].tolist(),
                strict=True,
            )
        )
        assert [r for r, _, _ in got] == list(range(len(expected)))
        # Same scores in the same order (ties may pick either artist of a tied pair).
        scores = dict(zip(pairs.cols[mine].tolist(), pairs.score[mine].tolist(), strict=True))
        assert [round(scores[b], 12) for _, b, _ in got] == [round(s, 12) for s, _, _ in expected]
        for _, b, n in got:
            assert n == int((audience[:, a].multiply(audience[:, b])).sum())


def test_blocks_stay_within_the_budget() -> None:
    audience = _world(3, listeners=60, artists=50, density=0.3)
    by_listener = audience.tocsr()
    degree = np.diff(by_listener.indptr)
    bound = np.asarray(audience.T @ degree).ravel()
    seen = 0
    for start, block in pair_blocks(audience, by_listener, budget=200):
        width = block.shape[0]
        assert start == seen and width >= 1
        assert width == 1 or bound[start : start + width].sum() <= 200
        assert (
            block.toarray() == (audience[:, start : start + width].T @ audience).toarray()
        ).all()
        seen += width
    assert seen == audience.shape[1]


def test_shared_counts_are_exact_for_any_pairs() -> None:
    audience = _world(5)
    dense = (audience.T @ audience).toarray()
    rng = np.random.default_rng(1)
    a, b = rng.integers(0, 30, 200), rng.integers(0, 30, 200)
    assert shared_counts(audience, a, b, budget=7).tolist() == dense[a, b].astype(int).tolist()
    assert shared_counts(audience, a[:0], b[:0]).tolist() == []


def test_strongest_per_row_matches_a_dense_top_k() -> None:
    rng = np.random.default_rng(2)
    x = sp.csc_matrix(rng.random((20, 15)) * (rng.random((20, 15)) < 0.3))
    got = strongest_per_row(x, 4, budget=5).toarray()
    dense = (x.T @ x).toarray()
    np.fill_diagonal(dense, 0)
    for r in range(dense.shape[0]):
        order = np.lexsort((np.arange(15), -dense[r]))  # ties: the lower column
        keep = [c for c in order if dense[r, c] != 0][:4]
        assert set(np.flatnonzero(got[r])) == set(keep)
        np.testing.assert_allclose(got[r, keep], dense[r, keep])


def _interactions_of(audience: sp.csc_matrix) -> Interactions:
    return matrix_interactions(audience.toarray())


def test_the_graph_is_the_same_whatever_the_block_size() -> None:
    interactions = _interactions_of(_world(11, listeners=80, artists=40, density=0.25))
    params = GraphParams(neighbours=5, scene_neighbours=3)
    from recommender.aggregates import from_interactions
    from recommender.graph.build import co_listening_spec

    whole = from_interactions(interactions, co_listening_spec(params))
    pairs = co_listening(whole.audience, co_listening_spec(params), budget=3)
    tiny = dataclasses.replace(whole, co_listening=pairs)
    a, b = build_graph(whole, params), build_graph(tiny, params)
    for name in ("low", "high", "weight", "shared", "adjacency_edge", "adjacency_other"):
        np.testing.assert_array_equal(getattr(a.edges, name), getattr(b.edges, name), err_msg=name)
    np.testing.assert_array_equal(a.scene_labels, b.scene_labels)


def test_a_graph_refuses_pairs_computed_for_other_settings() -> None:
    interactions = _interactions_of(_world(4))
    from recommender.aggregates import from_interactions

    aggregates = from_interactions(interactions, CoListeningSpec(k=3))
    with pytest.raises(BadArgument, match="co_listening_spec"):
        ArtistGraph.from_aggregates(aggregates, GraphParams())


def test_top_tracks_rank_by_usable_plays(store: Store) -> None:
    listens = [
        Listen("Band", "ann", title="Quiet", listened_at=1_700_000_000 + i) for i in range(2)
    ] + [Listen("Band", "bob", title="Loud", listened_at=1_700_000_100 + i) for i in range(5)]
    import_records(store, "synthetic", Path("t"), [Artist("Other"), *listens])
    interactions = load_interactions(store)
    tracks = top_tracks(store, interactions)
    band = interactions.artists.tolist().index(
        store.conn.execute("SELECT id FROM artists WHERE name = 'Band'").fetchone()[0]
    )
    titles = dict(store.conn.execute("SELECT id, title FROM tracks"))
    assert [titles[t] for t in tracks.of(band)] == ["Loud", "Quiet"]
    assert tracks.plays.tolist() == [5, 2]
    assert [len(tracks.of(j)) for j in range(len(interactions.artists))].count(0) == 1


# -- EASE, bounded -----------------------------------------------------------------------------


def test_the_in_place_inverse_is_the_inverse() -> None:
    rng = np.random.default_rng(0)
    base = rng.random((300, 300)).astype(np.float32)
    matrix = (base @ base.T + 50 * np.eye(300)).astype(np.float32)
    expected = np.linalg.inv(matrix.astype(np.float64))
    got = _spd_inverse_in_place(matrix.copy())
    np.testing.assert_allclose(got, expected, rtol=2e-3, atol=1e-6)
    np.testing.assert_array_equal(got, got.T)


def test_pruning_keeps_each_columns_largest_weights() -> None:
    weights = np.random.default_rng(1).normal(size=(1100, 1100)).astype(np.float32)
    pruned = _prune(weights, 7).toarray()
    for column in (0, 500, 1099):  # across the column blocks
        largest = set(np.argsort(-np.abs(weights[:, column]))[:7].tolist())
        assert set(np.flatnonzero(pruned[:, column]).tolist()) == largest
    assert (np.count_nonzero(pruned, axis=0) == 7).all()


def test_ease_fits_only_the_best_supported_artists_its_budget_allows() -> None:
    rng = np.random.default_rng(4)
    # 700 artists, each with its own share of 60 listeners: more than 1 MiB's 512 fit.
    plays = (rng.random((60, 700)) < np.linspace(0.05, 0.5, 700)).astype(float)
    interactions = matrix_interactions(plays)
    config = EASEConfig(gram_mb=1)
    assert config.max_artists == 512
    model = EASE(config).fit(interactions)
    counts = (plays > 0).sum(axis=0)
    eligible = np.flatnonzero(counts >= 2)
    assert len(eligible) > 512 and len(model.items_) == 512
    assert counts[model.items_].min() >= np.sort(counts[eligible])[-512]
    assert "best-supported" in model.notes_[0] and "gram_mb = 1" in model.notes_[0]
    scores = model.score_rows(interactions.weights, np.array([0, 1]))
    assert scores.shape == (2, 700) and np.all(
        scores[:, np.setdiff1d(np.arange(700), model.items_)] == 0
    )
    pruned = EASE(EASEConfig(gram_mb=1, keep=16)).fit(interactions)
    assert pruned.sparse_ is not None and pruned.sparse_.nnz <= 16 * 512
    round_trip = EASE.from_arrays(pruned.config, pruned.to_arrays(), 60, 700)
    np.testing.assert_array_equal(
        round_trip.score_rows(interactions.weights, np.array([3])),
        pruned.score_rows(interactions.weights, np.array([3])),
    )
