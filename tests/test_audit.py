"""The bias audit: every group rule and metric against values worked out by hand.

The small matrix (five artists a0..a4, three listeners, plays in training):
    u0: a0 8, a1 4   held out a2
    u1: a0 4, a3 6   held out a1
    u2: a2 10        held out a4 (a4 has no training listener: a cold artist)
Column plays 12, 4, 10, 6, 0 (32 in all): the head (20% = 6.4 plays) is a0 alone.
Training listeners per artist 2, 1, 1, 1, 0 of 3: popularity 2/3, 1/3, 1/3, 1/3, 0.
Tags: a0 rock; a1 rock + pop; a2 pop x2; a3 none; a4 jazz x3.
Hand-given scores, lists of two, recall at three:
    u0 ranks a2, a3, a4 (top two a2, a3)     u1 ranks a2, a4, a1     u2 ranks a0, a1, a3
"""

from __future__ import annotations

import math
import re
import sqlite3
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp
from click.testing import CliRunner

from playlists.cli import main
from recommender import audit as audit_module
from recommender.audit import (
    FEATURES,
    artist_figures,
    audit,
    gini,
    group_figures,
    head_artists,
    kl_calibration,
    listener_figures,
    listener_groups,
    mainstreaminess,
    popularity_lift,
    tag_mix,
    thirds,
)
from recommender.evaluate import Split
from recommender.interactions import Interactions, load_interactions
from recommender.store import Store
from tests.synthetic import fill_planted

X = -1.0  # a training artist's score: never ranked above the others anyway

TRAIN = sp.csr_matrix(np.array([[8, 4, 0, 0, 0], [4, 0, 0, 6, 0], [0, 0, 10, 0, 0]], dtype=float))
TEST = sp.csr_matrix(np.array([[0, 0, 1, 0, 0], [0, 1, 0, 0, 0], [0, 0, 0, 0, 1]], dtype=float))
SPLIT = Split("random", TRAIN, TEST)
TAGS = sp.csr_matrix(
    np.array([[1, 0, 0], [1, 1, 0], [0, 2, 0], [0, 0, 0], [0, 0, 3]], dtype=float)
)  # columns rock, pop, jazz
SCORES = np.array(
    [[X, X, 0.9, 0.5, 0.1], [X, 0.2, 0.8, X, 0.5], [0.9, 0.4, X, 0.3, 0.2]], dtype=float
)


class HandScores:
    """Scores given by hand (the metrics are under test here, not a model)."""

    def score_rows(self, train: sp.csr_matrix, rows: np.ndarray) -> np.ndarray:
        return SCORES[rows]


def figures():  # type: ignore[no-untyped-def]
    return listener_figures(HandScores(), SPLIT, TRAIN, tag_mix(TAGS), top_n=2, depth=3)


def test_head_is_the_fewest_most_played_artists_reaching_the_share() -> None:
    assert head_artists(TRAIN).tolist() == [True, False, False, False, False]
    # 60% of 32 = 19.2 plays: a0 (12) + a2 (10) reach it.
    assert head_artists(TRAIN, share=0.6).tolist() == [True, False, True, False, False]


def test_mainstreaminess_is_the_share_of_plays_on_the_head() -> None:
    head = head_artists(TRAIN)
    assert mainstreaminess(TRAIN, head).tolist() == pytest.approx([8 / 12, 4 / 10, 0.0])


def test_thirds_are_equal_size_ties_in_position_order() -> None:
    values = np.array([0.5, 0.1, 0.1, 0.9, 0.3, 0.0])
    assert [part.tolist() for part in thirds(values)] == [[5, 1], [2, 4], [0, 3]]
    # Ties on the main key (the last) broken by the key before it.
    artists, plays = np.array([50, 50, 50]), np.array([9, 3, 5])
    assert [part.tolist() for part in thirds(plays, artists)] == [[1], [2], [0]]


def test_listener_groups_follow_the_rules_and_report_thresholds() -> None:
    groups = listener_groups(SPLIT)
    members = {name: np.flatnonzero(mask).tolist() for name, mask in groups.masks.items()}
    assert members["mainstream:low"] == [2]
    assert members["mainstream:medium"] == [1]
    assert members["mainstream:high"] == [0]
    # Activity: u2 has one artist; u0 and u1 two each, u0 with more plays (12 against 10).
    assert (members["activity:light"], members["activity:medium"]) == ([2], [1])
    assert members["activity:heavy"] == [0]
    assert members["new"] == [0, 1, 2]
    assert np.flatnonzero(listener_groups(SPLIT, new_artists=1).masks["new"]).tolist() == [2]
    d = groups.definitions
    assert d["mainstream:high"]["from"] == pytest.approx(8 / 12)
    assert d["head"] == {"artists": 1, "plays_share": pytest.approx(12 / 32)}
    assert d["long_tail_plays"] == pytest.approx(20 / 32)


def test_per_listener_figures_by_hand() -> None:
    f = figures()
    assert f.top.tolist() == [[2, 3], [2, 4], [0, 1]]
    assert f.ndcg.tolist() == [1.0, 0.0, 0.0]
    assert f.recall.tolist() == [1.0, 1.0, 0.0]  # u1's a1 is third, u2's a4 fourth
    assert f.list_popularity.tolist() == pytest.approx([1 / 3, 1 / 6, 1 / 2])
    assert f.history_popularity.tolist() == pytest.approx([1 / 2, 1 / 2, 1 / 3])
    # Self-information -log2((listeners + 1) / 4).
    assert f.novelty.tolist() == pytest.approx([1.0, 1.5, (-math.log2(3 / 4) + 1.0) / 2])
    # History mixes: u0 (3/4, 1/4, 0), u1 (1, 0, 0) (a3 has no tags), u2 (0, 1, 0); list
    # mixes: u0 (0, 1, 0), u1 (0, 1/2, 1/2), u2 (3/4, 1/4, 0); smoothed 0.99 q + 0.01 p.
    u0 = 0.75 * math.log(0.75 / 0.0075) + 0.25 * math.log(0.25 / (0.99 + 0.0025))
    u1 = math.log(1 / 0.01)
    u2 = math.log(1 / (0.99 * 0.25 + 0.01))
    assert f.miscalibration.tolist() == pytest.approx([u0, u1, u2])


def test_calibration_of_an_untagged_history_is_left_out() -> None:
    history = sp.csr_matrix(np.array([[0.0, 0.0], [0.5, 0.5]]))
    lists = sp.csr_matrix(np.array([[1.0, 0.0], [0.5, 0.5]]))
    result = kl_calibration(history, lists)
    assert math.isnan(result[0]) and result[1] == pytest.approx(0.0)


def test_group_figures_by_hand() -> None:
    f = figures()
    everyone = np.ones(3, dtype=bool)
    values = group_figures(f, everyone, n_items=5)
    assert values["ndcg@10"] == pytest.approx(1 / 3)
    assert values["recall@50"] == pytest.approx(2 / 3)
    # Delta GAP: mean list popularity 1/3 over mean history popularity 4/9, minus 1.
    assert values["popularity_lift"] == pytest.approx(-0.25)
    assert values["coverage@10"] == pytest.approx(1.0)
    first_two = np.array([True, True, False])
    assert group_figures(f, first_two, n_items=5)["coverage@10"] == pytest.approx(3 / 5)
    assert group_figures(f, np.zeros(3, dtype=bool), n_items=5)["ndcg@10"] is None


def test_artist_figures_by_hand() -> None:
    values = artist_figures(figures(), SPLIT, head_artists(TRAIN))
    # Slots: a0 1, a1 1, a2 2, a3 1, a4 1: the long tail (all but a0) has 5 of 6.
    assert values["long_tail_share"] == pytest.approx(5 / 6)
    # Sorted 1, 1, 1, 1, 2: sum (2i - 6) x = -4 - 2 + 0 + 2 + 8 = 4, over 5 x 6.
    assert values["gini"] == pytest.approx(4 / 30)
    assert values["cold_recommended"] == 1.0  # a4, to u1


def test_gini_and_lift_edges() -> None:
    assert gini(np.array([0, 0, 0, 10])) == pytest.approx(0.75)
    assert gini(np.array([3, 3, 3])) == pytest.approx(0.0)
    assert gini(np.zeros(4)) == 0.0
    assert popularity_lift(np.array([0.5, 0.3]), np.array([0.2, 0.2])) == pytest.approx(1.0)
    assert popularity_lift(np.array([0.5]), np.array([0.0])) is None


def test_audit_on_a_store_has_the_contract_shape_and_is_deterministic(store: Store) -> None:
    fill_planted(store)
    models = ["most-popular", "item-knn", "ease"]
    first = audit(store, models=models, seeds=2)
    assert first == audit(store, models=models, seeds=2)
    groups = first["listener_groups"]
    assert {"mainstream:low", "mainstream:medium", "mainstream:high"} <= set(groups)
    assert {"activity:light", "activity:medium", "activity:heavy", "new"} <= set(groups)
    for name in ("mainstream:low", "activity:heavy"):
        for model in models:
            row = groups[name][model]
            for metric in ("ndcg@10", "popularity_lift", "miscalibration", "recall@50"):
                assert isinstance(row[metric], float) and row[f"{metric}_sd"] == 0.0
    for model in models:
        assert set(first["artists"][model]) >= {"long_tail_share", "gini", "cold_recommended"}
        assert first["artists"][model]["gini_sd"] == 0.0
    assert first["artists"]["most-popular"]["gini"] > first["artists"]["item-knn"]["gini"]
    assert [f["name"] for f in first["features"]] == [f.name for f in FEATURES]


def test_tastemaker_seeds_give_a_spread(store: Store) -> None:
    fill_planted(store)
    report = audit_module.audit_interactions(
        load_interactions(store), {"tastemaker": None}, seeds=2, num_threads=1
    )["random"]
    row = report["listener_groups"]["mainstream:high"]["tastemaker"]
    assert row["seeds"] == 2.0 and row["ndcg@10_sd"] >= 0.0


def test_audit_cli_json_html_and_evaluate_groups(tmp_path: Path) -> None:
    db = tmp_path / "t.db"
    with Store.open(db) as store:
        fill_planted(store)
    runner = CliRunner()
    page = tmp_path / "audit.html"
    args = ["--db", str(db), "audit", "--model", "ease", "--model", "most-popular"]
    result = runner.invoke(main, [*args, "--json", "--html", str(page)])
    assert result.exit_code == 0, result.output
    assert '"listener_groups"' in result.output and '"ndcg@10_sd"' in result.output
    text = page.read_text(encoding="utf-8")
    assert "<script" not in text and "mainstream:low" in text and "http" not in text
    plain = runner.invoke(main, args)
    assert plain.exit_code == 0 and "mainstream:low: " in plain.output
    assert re.search(r"head: \d+ artists", plain.output)
    both = runner.invoke(
        main, ["--db", str(db), "evaluate", "--groups", "--model", "ease", "--json"]
    )
    assert both.exit_code == 0, both.output
    assert '"groups"' in both.output and '"discovery"' in both.output


def test_the_audit_page_escapes_every_name(store: Store) -> None:
    fill_planted(store)
    report = audit(store, models=["most-popular"], seeds=1)
    hostile = "<script>alert(1)</script>"
    report["artists"] = {hostile: report["artists"]["most-popular"]}
    page = audit_module.audit_html(report)
    assert hostile not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page


# -- only what they played ---------------------------------------------------------------------

LISTENER_FIELDS = {"listeners", "listener_ids", "plays", "weights", "now", "fingerprint"}
LISTENER_FIELDS |= {"listener_index"}
ARTIST_FIELDS = {"artists", "artist_names", "tags", "artist_tags", "artist_index"}


def test_the_model_input_has_no_listener_field_but_what_they_played() -> None:
    fields = set(Interactions.__dataclass_fields__)
    assert fields == LISTENER_FIELDS | ARTIST_FIELDS, (
        "a new field in the model input: if it describes a listener it must come from what "
        "they played, their terms or their feedback; add it to recommender.audit.FEATURES"
    )


def test_the_model_input_reads_no_listener_table_but_listens_terms_feedback(
    store: Store,
) -> None:
    fill_planted(store)
    read: list[str] = []
    store.conn.set_trace_callback(read.append)
    try:
        load_interactions(store)
    finally:
        store.conn.set_trace_callback(None)
    tables = {
        row[0] for row in store.conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
    }
    used = {t for t in tables for sql in read if re.search(rf"\b{re.escape(t)}\b", sql)}
    listener_level = {
        t for t in tables if t == "listeners" or _has_column(store.conn, t, "listener_id")
    }
    allowed = {t for f in FEATURES if f.level == "listener" for t in f.tables}
    assert used & listener_level <= allowed & listener_level
    assert used & listener_level  # the trace did see the reads
    documented = {t for f in FEATURES for t in f.tables}
    assert used <= documented, f"read but not in FEATURES: {sorted(used - documented)}"
    # `listeners` is read for ids and names only (names never change the input).
    for sql in read:
        if re.search(r"\bFROM listeners\b", sql):
            assert re.search(r"SELECT id, name FROM listeners", sql), sql


def _has_column(conn: sqlite3.Connection, table: str, column: str) -> bool:
    return any(row[1] == column for row in conn.execute(f"PRAGMA table_info('{table}')"))
