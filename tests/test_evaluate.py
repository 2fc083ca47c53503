"""The evaluation protocol: splits, metrics on hand-computed examples, the side-by-side run."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from playlists.cli import main
from recommender.errors import NothingToEvaluate, UnknownModel, UnknownSplit
from recommender.evaluate import (
    DEFAULT_MODELS,
    evaluate,
    evaluate_interactions,
    hits_matrix,
    holdout_size,
    intra_list_diversity,
    ndcg,
    novelty,
    split,
    top_k,
)
from recommender.models import EASE, EASEConfig, ItemKNN, KNNConfig, MostPopular, TastemakerConfig
from recommender.store import Store
from tests.synthetic import fill_planted, matrix_interactions

FAST = TastemakerConfig(no_components=8, epochs=10)


def _plays(rows: list[list[float]]) -> sp.csr_matrix:
    return sp.csr_matrix(np.array(rows, dtype=float))


def test_holdout_sizes() -> None:
    assert [holdout_size(n) for n in (2, 3, 5, 7, 8, 10, 13)] == [1, 1, 1, 1, 2, 2, 3]


def test_split_counts_on_a_tiny_example() -> None:
    plays = _plays(
        [
            [5, 1, 2, 0, 0, 0, 0, 0, 0, 0],  # 3 artists -> 1 held out
            [1, 2, 3, 4, 5, 6, 7, 8, 9, 10],  # 10 -> 2
            [0, 0, 0, 0, 0, 0, 0, 0, 0, 4],  # 1 -> none
        ]
    )
    for kind in ("random", "discovery"):
        result = split(plays, kind)
        assert list(np.diff(result.test.indptr)) == [1, 2, 0]
        assert result.train.nnz + result.test.nnz == plays.nnz
        assert result.train.multiply(result.test).nnz == 0
    discovery = split(plays, "discovery")
    assert set(discovery.test[1].indices) == {0, 1}  # the two least played
    assert set(discovery.test[0].indices) == {1}


def test_split_is_seeded() -> None:
    plays = sp.random(30, 40, density=0.3, random_state=1, format="csr") * 10
    first, again = split(plays, "random"), split(plays, "random")
    assert (first.test != again.test).nnz == 0
    assert (first.test != split(plays, "random", seed=7).test).nnz > 0


@settings(max_examples=30, deadline=None)
@given(st.lists(st.integers(min_value=0, max_value=12), min_size=1, max_size=8))
def test_split_holds_out_the_protocol_share(sizes: list[int]) -> None:
    n_items = 12
    dense = np.zeros((len(sizes), n_items))
    for row, size in enumerate(sizes):
        dense[row, :size] = np.arange(1, size + 1)
    result = split(sp.csr_matrix(dense), "discovery")
    expected = [holdout_size(n) if n >= 2 else 0 for n in sizes]
    assert list(np.diff(result.test.indptr)) == expected


def test_ndcg_by_hand() -> None:
    hits = np.array([[True, False, True], [False, False, False], [False, True, False]])
    values = ndcg(hits, np.array([2, 1, 5]))
    first = (1 + 1 / math.log2(4)) / (1 + 1 / math.log2(3))
    third = (1 / math.log2(3)) / (1 + 1 / math.log2(3) + 1 / math.log2(4))
    np.testing.assert_allclose(values, [first, 0.0, third])


def test_top_k_skips_training_artists_and_orders_best_first() -> None:
    scores = np.array([[0.9, 0.1, 0.5, 0.7], [0.2, 0.8, 0.3, 0.1]])
    exclude = _plays([[1, 0, 0, 0], [0, 0, 0, 0]])
    assert top_k(scores, exclude, 2).tolist() == [[3, 2], [1, 2]]
    test = _plays([[0, 0, 1, 0], [0, 1, 0, 0]])
    assert hits_matrix(top_k(scores, exclude, 2), test).tolist() == [[False, True], [True, False]]


def test_novelty_and_diversity_by_hand() -> None:
    popularity = np.array([3.0, 1.0, 0.0])
    # p = (pop + 1) / (3 + 1): 1, 1/2, 1/4 -> self-information 0, 1, 2
    assert novelty(np.array([[0, 1], [1, 2]]), popularity, 3) == pytest.approx(1.0)
    tags = sp.csr_matrix(np.array([[1.0, 0.0], [0.0, 1.0], [math.sqrt(0.5), math.sqrt(0.5)]]))
    # pair (0, 1): cosine 0 -> 1; pair (0, 2): cosine 0.707 -> 0.293
    diversity = intra_list_diversity(np.array([[0, 1], [0, 2]]), tags)
    assert diversity == pytest.approx((1.0 + (1 - math.sqrt(0.5))) / 2)
    three = intra_list_diversity(np.array([[0, 1, 2]]), tags)
    assert three == pytest.approx((1 + 2 * (1 - math.sqrt(0.5))) / 3)


def test_baselines_on_a_block_matrix() -> None:
    # Two blocks of listeners and artists; every model should stay inside the block.
    block = np.kron(np.eye(2), np.ones((6, 5)))
    block[0, 4] = 0  # listener 0 has not heard artist 4 of their own block
    interactions = matrix_interactions(block)
    train = interactions.weights
    knn = ItemKNN(KNNConfig(k=10)).fit(interactions)
    for model in (knn, EASE(EASEConfig(l2=1.0, min_listeners=2)).fit(interactions)):
        scores = model.score_rows(train, np.array([0]))[0]
        assert scores[4] > scores[5:].max()
    popular = MostPopular().fit(interactions).score_rows(train, np.array([0, 7]))
    assert popular.shape == (2, 10) and np.all(popular[0] == popular[1])


def test_coverage_and_cold_recall_in_a_full_run(store: Store) -> None:
    fill_planted(store)
    from recommender.interactions import load_interactions

    interactions = load_interactions(store)
    models = {**dict.fromkeys(DEFAULT_MODELS), "tastemaker": FAST}
    report = evaluate_interactions(interactions, models)
    assert set(report) == {"random", "discovery"}
    for split_name in report:
        assert set(report[split_name]) == {"most-popular", "item-knn", "ease", "tastemaker"}
        popular = report[split_name]["most-popular"]
        assert 10 / len(interactions.artists) <= popular["coverage@10"] <= 1.0
        tastemaker = report[split_name]["tastemaker"]
        for key in ("precision", "recall", "ndcg", "coverage", "novelty", "diversity"):
            for k in (10, 50):
                value = tastemaker[f"{key}@{k}"]
                assert value is not None and math.isfinite(value)
        assert tastemaker["ndcg@10"] > popular["ndcg@10"]
        # No artist is held out without a training listener in this world.
        assert tastemaker["cold_recall@10"] is None
        assert "fit_seconds" in tastemaker


def test_evaluate_writes_nothing(file_store: Store) -> None:
    fill_planted(file_store)
    before = file_store.conn.total_changes
    from recommender.interactions import load_interactions

    evaluate_interactions(load_interactions(file_store), ["ease"], splits=["random"])
    assert file_store.conn.total_changes == before


def test_evaluate_command_prints_json(tmp_path: Path) -> None:
    db = tmp_path / "t.db"
    with Store.open(db) as opened:
        fill_planted(opened)
    result = CliRunner().invoke(main, ["--db", str(db), "evaluate", "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["discovery"]["ease"]["coverage@10"] > 0
    assert "ndcg@50" in report["random"]["tastemaker"]


def test_evaluate_on_an_empty_store_says_what_to_do(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["--db", str(tmp_path / "e.db"), "evaluate"])
    assert result.exit_code == 1
    assert "import more listening" in result.output
    with Store.open(tmp_path / "e.db") as opened, pytest.raises(NothingToEvaluate, match="import"):
        evaluate(opened)


def test_evaluate_runs_only_the_models_named(tmp_path: Path) -> None:
    db = tmp_path / "t.db"
    with Store.open(db) as opened:
        fill_planted(opened)
    args = ["--db", str(db), "evaluate", "--model", "ease", "--model", "most-popular", "--json"]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert {name: set(models) for name, models in report.items()} == {
        "random": {"ease", "most-popular"},
        "discovery": {"ease", "most-popular"},
    }
    wrong = CliRunner().invoke(main, ["--db", str(db), "evaluate", "--model", "nope"])
    assert wrong.exit_code == 2 and "nope" in wrong.output


def test_unknown_models_and_splits_are_refused_before_any_fit(store: Store) -> None:
    from recommender.interactions import load_interactions

    interactions = load_interactions(fill_planted(store))
    with pytest.raises(UnknownModel, match="choose one of .*tastemaker"):
        evaluate_interactions(interactions, ["ease", "nope"])
    with pytest.raises(UnknownSplit, match="random, discovery"):
        evaluate_interactions(interactions, ["ease"], splits=["sideways"])
    with pytest.raises(UnknownSplit):
        split(interactions.plays, "sideways")


def test_model_commands_have_help() -> None:
    for command in ("train", "evaluate"):
        result = CliRunner().invoke(main, [command, "--help"])
        assert result.exit_code == 0 and len(result.output) > 80


@pytest.mark.realdata
def test_hetrec_split_sizes(hetrec_dir: Path) -> None:
    frame = pd.read_csv(hetrec_dir / "user_artists.dat", sep="\t")
    users = frame["userID"].astype("category").cat.codes.to_numpy()
    artists = frame["artistID"].astype("category").cat.codes.to_numpy()
    plays = sp.csr_matrix((frame["weight"].to_numpy(dtype=float), (users, artists)))
    for kind in ("random", "discovery"):
        result = split(plays, kind)
        assert (result.train.nnz, result.test.nnz) == (74_265, 18_569)
