"""The Spark engine against the local one: the same aggregates, graph edges and reasons.

Runs real Spark in local mode (one session for the run, `local[2]`; see conftest's `spark`).
Select these with `pytest -m spark`; they run in `make test` too.
"""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import scipy.sparse as sp
from click.testing import CliRunner

from playlists import build_playlist
from playlists.batch import batch_playlists
from playlists.cli import main
from recommender import aggregates as local_engine
from recommender import training
from recommender.aggregates import Aggregates
from recommender.errors import SparkUnavailable, TooBigForMemory
from recommender.feedback import model_opinions
from recommender.graph import GraphParams
from recommender.graph.build import co_listening_spec
from recommender.lake import export_listens
from recommender.spark.engine import compute
from recommender.spark.listening import read_export, read_listenbrainz
from recommender.spark.session import check_spark
from recommender.spark.train import train_on_spark
from recommender.store import Store
from recommender.terms_storage import update_terms
from recommender.training import train

pytestmark = pytest.mark.spark
SPEC = co_listening_spec(GraphParams())


def _assert_same(local: Aggregates, spark: Aggregates) -> None:
    """Weights to float tolerance, everything counted exactly, entries in the same order."""
    a, b = local.interactions, spark.interactions
    assert a.listeners == b.listeners and a.tags == b.tags and a.artist_names == b.artist_names
    assert np.array_equal(a.listener_ids, b.listener_ids)
    assert np.array_equal(a.artists, b.artists)
    assert a.now == b.now
    for name in ("plays", "weights", "artist_tags"):
        left, right = getattr(a, name), getattr(b, name)
        assert np.array_equal(left.indptr, right.indptr), name
        assert np.array_equal(left.indices, right.indices), name
        np.testing.assert_allclose(left.data, right.data, rtol=1e-12, err_msg=name)
    assert a.fingerprint == b.fingerprint
    assert (local.audience != spark.audience).nnz == 0
    assert np.array_equal(local.popularity, spark.popularity)
    for name in ("rows", "cols", "shared", "rank"):
        assert np.array_equal(
            getattr(local.co_listening, name), getattr(spark.co_listening, name)
        ), name
    np.testing.assert_allclose(local.co_listening.score, spark.co_listening.score, rtol=1e-12)
    assert abs(local.tag_profile - spark.tag_profile).max() < 1e-12
    assert (local.tag_profile != 0).nnz == (spark.tag_profile != 0).nnz
    for name in ("indptr", "track_ids", "plays"):
        assert np.array_equal(getattr(local.top_tracks, name), getattr(spark.top_tracks, name))


@pytest.fixture(scope="module")
def terms_store(demo_store_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo world with every kind of term set: one listener opted out, one who ignores
    the demo source (so nothing of theirs is usable), one with a 3-day half-life."""
    path = tmp_path_factory.mktemp("terms") / "t.db"
    shutil.copy(demo_store_path, path)
    with Store.open(path) as store:
        names = [r[0] for r in store.conn.execute("SELECT name FROM listeners ORDER BY id")]
        update_terms(store, names[0], personalise=False)
        update_terms(store, names[1], ignore_sources=["demo"])
        update_terms(store, names[2], half_life_days=3.0)
    return path


def test_both_engines_give_the_same_aggregates_on_the_demo_world(
    spark: Any, demo_store_path: Path, tmp_path: Path
) -> None:
    with Store.open(demo_store_path) as store:
        local = local_engine.compute(store, SPEC)
        export_listens(store, tmp_path / "lake", buckets=4)
        remote = compute(read_export(spark, tmp_path / "lake"), SPEC, model_opinions(store))
    assert len(local.co_listening.rows) > 1000  # the demo world has real co-listening
    assert remote.top_tracks.track_ids.size > 0
    _assert_same(local, remote)


@pytest.mark.parametrize(
    ("limit", "join"),
    [
        (
            None,
            r"BroadcastHashJoin \[listener_id#\d+L?\], \[listener_id#\d+L?\], Inner, BuildRight",
        ),
        (0, r"SortMergeJoin \[listener_id#\d+L?\], \[listener_id#\d+L?\], Inner"),
    ],
    ids=["broadcast", "joined"],
)
def test_co_listening_is_the_same_whether_the_baskets_are_broadcast_or_joined(
    spark: Any,
    demo_store_path: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    limit: int | None,
    join: str,
) -> None:
    """Past `BROADCAST_BASKETS` Spark joins the baskets on listener (both sides shuffled)
    instead of broadcasting them. With Spark's own broadcasting off, the final plan of the
    query `compute` collected the pairs with must hold that join (and shuffle the pairs only
    when joined), and the pairs must be the local engine's."""
    from recommender.spark import engine

    with Store.open(demo_store_path) as store:
        local = local_engine.compute(store, SPEC)
        export_listens(store, tmp_path / "lake", buckets=4)
    if limit is not None:
        monkeypatch.setattr(engine, "BROADCAST_BASKETS", limit)
    collected: list[Any] = []
    pairs = engine.co_listening_pairs

    def kept(*args: Any, **kwargs: Any) -> Any:  # the real query, kept to read its plan
        frame = pairs(*args, **kwargs)
        collected.append(frame)
        return frame

    monkeypatch.setattr(engine, "co_listening_pairs", kept)
    # The demo world's baskets are small enough that Spark would broadcast them of itself.
    key = "spark.sql.autoBroadcastJoinThreshold"
    spark.conf.set(key, "-1")
    try:
        remote = compute(read_export(spark, tmp_path / "lake"), SPEC)
        (frame,) = collected
        # Run once more, as `compute` runs it, through the frame's own query execution
        # (`compute` collects through Arrow, which plans afresh): the plan read below is then
        # the final one adaptive execution ran.
        with engine.whole_aggregation(spark):
            assert len(frame.collect()) == len(remote.co_listening.rows)
    finally:
        spark.conf.unset(key)
    plan = frame._jdf.queryExecution().executedPlan().toString()
    assert "isFinalPlan=true" in plan, plan
    plan = plan.split("== Initial Plan ==")[0]  # what ran, not what was planned at first
    assert len(re.findall(join, plan)) == 1, plan
    other = "SortMergeJoin" if limit is None else "BroadcastHashJoin"
    assert not re.search(other + r" \[listener_id", plan), plan
    # Broadcast, the pairs are counted where the join makes them; joined, they are shuffled.
    shuffled = re.search(r"Exchange hashpartitioning\(a#\d+L?, b#\d+L?", plan)
    assert (shuffled is None) == (limit is None), plan
    assert len(local.co_listening.rows) > 1000
    for name in ("rows", "cols", "shared", "rank"):
        assert np.array_equal(
            getattr(local.co_listening, name), getattr(remote.co_listening, name)
        ), name
    np.testing.assert_allclose(local.co_listening.score, remote.co_listening.score, rtol=1e-12)


def test_terms_apply_the_same_on_spark(spark: Any, terms_store: Path, tmp_path: Path) -> None:
    with Store.open(terms_store) as store:
        local = local_engine.compute(store, SPEC)
        export_listens(store, tmp_path / "lake")
        remote = compute(read_export(spark, tmp_path / "lake"), SPEC, model_opinions(store))
        names = [r[0] for r in store.conn.execute("SELECT name FROM listeners ORDER BY id")]
    assert names[0] not in remote.interactions.listeners  # opted out: not a row
    ignoring = remote.interactions.listener_index[names[1]]
    assert remote.interactions.plays[ignoring].nnz == 0  # ignores its only source
    _assert_same(local, remote)


@pytest.fixture(scope="module")
def two_bundles(
    spark: Any, demo_store_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, Path]:
    """The demo world trained twice, deterministically: local engine, then Spark."""
    folder = tmp_path_factory.mktemp("engines")
    paths = (folder / "local.db", folder / "spark.db")
    for path in paths:
        shutil.copy(demo_store_path, path)
    with Store.open(paths[0]) as store:
        train(store, deterministic=True)
    with Store.open(paths[1]) as store, _counting(training, "estimate_memory") as counted:
        train_on_spark(store, master="local[2]", deterministic=True)
    assert counted == [1], "train --engine spark counts the store's rows for its estimate once"
    return paths


@contextmanager
def _counting(module: Any, name: str) -> Iterator[list[int]]:
    """module.name wrapped for the block to count its calls (in a one-item list); a
    module-scoped fixture cannot use monkeypatch."""
    real = getattr(module, name)
    counted = [0]

    def counting(*args: Any, **kwargs: Any) -> Any:
        counted[0] += 1
        return real(*args, **kwargs)

    setattr(module, name, counting)
    try:
        yield counted
    finally:
        setattr(module, name, real)


def test_graphs_have_the_same_edges_and_playlists_the_same_reasons(
    two_bundles: tuple[Path, Path],
) -> None:
    from recommender.training import load_model

    built = []
    for path in two_bundles:
        with Store.open(path) as store:
            model = load_model(store)
            edges = model.graph.edges
            listeners = sorted(model.listeners)[:4]
            playlists = [build_playlist(store, name, model=model) for name in listeners]
            built.append((model, edges, playlists))
    (m1, e1, p1), (m2, e2, p2) = built
    assert m1.graph.edge_count == m2.graph.edge_count > 0
    for field in ("indptr", "low", "high", "shared", "adjacency_other"):
        assert np.array_equal(getattr(e1, field), getattr(e2, field)), field
    np.testing.assert_allclose(e1.weight, e2.weight, rtol=1e-12)
    assert [s.tags for s in m1.graph.scenes] == [s.tags for s in m2.graph.scenes]
    for a, b in zip(p1, p2, strict=True):
        assert [t.to_dict()["reason"] for t in a.tracks] == [
            t.to_dict()["reason"] for t in b.tracks
        ]
        assert [t.to_dict() for t in a.tracks] == [t.to_dict() for t in b.tracks]
        assert a.notes == b.notes


def test_a_listenbrainz_dump_is_read_by_its_published_columns(spark: Any, tmp_path: Path) -> None:
    # listenbrainz-server's listens_new_schema; the columns tastemaker does not use are there
    # too, to show they are ignored.
    schema = pa.schema(
        [
            ("listened_at", pa.timestamp("us", tz="UTC")),
            ("user_id", pa.int32()),
            ("artist_name", pa.string()),
            ("artist_credit_id", pa.int64()),
            ("release_name", pa.string()),
            ("release_mbid", pa.string()),
            ("recording_name", pa.string()),
            ("recording_mbid", pa.string()),
            ("artist_credit_mbids", pa.list_(pa.string())),
        ]
    )
    day = 86_400
    t0 = 1_700_000_000
    listens = [
        (1, "Fleet Pines", "Ridge", t0),
        (1, "Fleet Pines", "Ridge", t0 + day),
        (1, "Rancid", "Roots", t0 + 2 * day),
        (2, "Fleet Pines", "Ridge", t0 + 3 * day),
        (2, "Rancid", "Roots", t0 + 3 * day),
        (3, "Rancid", "Olympia", t0 + 4 * day),
    ]
    (tmp_path / "dump" / "2023").mkdir(parents=True)
    rows = {
        "listened_at": [datetime.fromtimestamp(t, UTC) for *_, t in listens],
        "user_id": [u for u, *_ in listens],
        "artist_name": [a for _, a, *_ in listens],
        "artist_credit_id": [None] * len(listens),
        "release_name": [None] * len(listens),
        "release_mbid": [None] * len(listens),
        "recording_name": [r for _, _, r, _ in listens],
        "recording_mbid": [None] * len(listens),
        "artist_credit_mbids": [None] * len(listens),
    }
    pq.write_table(pa.table(rows, schema=schema), tmp_path / "dump" / "2023" / "0.parquet")
    got = compute(read_listenbrainz(spark, tmp_path / "dump"), SPEC)
    names = got.interactions.artist_names
    assert sorted(names) == ["Fleet Pines", "Rancid"]
    assert got.interactions.listeners == ["1", "2", "3"]
    assert got.interactions.now == t0 + 4 * day
    popularity = dict(zip(names, got.popularity.tolist(), strict=True))
    assert popularity == {"Fleet Pines": 2, "Rancid": 3}
    # listeners 1 and 2 share both artists: one pair each way, 2 shared listeners
    assert sorted(got.co_listening.shared.tolist()) == [2, 2]
    rancid = names.index("Rancid")
    assert got.top_tracks.plays[
        got.top_tracks.indptr[rancid] : got.top_tracks.indptr[rancid + 1]
    ].tolist() == [2, 1]
    # decay: listener 1's Fleet Pines plays are 4 and 3 days old at a 14-day half-life
    fleet = names.index("Fleet Pines")
    expected = 0.5 ** (4 / 14) + 0.5 ** (3 / 14)
    assert got.interactions.plays[0, fleet] == pytest.approx(expected, rel=1e-12)
    assert isinstance(got.interactions.plays, sp.csr_matrix)


def test_missing_java_is_one_clear_error(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("JAVA_HOME", str(tmp_path / "no-java"))
    with pytest.raises(SparkUnavailable, match="openjdk-17-jre-headless"):
        check_spark()
    db = str(tmp_path / "t.db")
    result = CliRunner().invoke(main, ["--db", db, "train", "--engine", "spark"])
    assert result.exit_code == 1
    assert result.output.startswith("Error: the Spark engine needs Java")
    assert "Traceback" not in result.output


def test_a_store_too_big_for_the_budget_fails_before_any_spark_work(
    demo_store_path: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # Spies, not stand-ins: they only record that the export or Spark was reached, which
    # must not happen when the budget check comes first.
    reached: list[str] = []
    monkeypatch.setattr(
        "recommender.spark.train.export_listens", lambda *_a, **_k: reached.append("export")
    )
    monkeypatch.setattr(
        "recommender.spark.train.spark_session", lambda *_a, **_k: reached.append("spark")
    )
    db = tmp_path / "t.db"
    shutil.copy(demo_store_path, db)
    with Store.open(db) as store:
        models = store.conn.execute("SELECT count(*) FROM models").fetchone()[0]
        with pytest.raises(TooBigForMemory) as raised:
            train_on_spark(store, memory_budget=10**8)
    message = str(raised.value)
    assert "memory budget of 0.1 GB" in message and "on the driver" in message
    assert "--memory-budget GB" in message
    printed = CliRunner().invoke(
        main, ["--db", str(db), "train", "--engine", "spark", "--memory-budget", "0.1"]
    )
    assert printed.exit_code == 1
    assert printed.output.startswith("Error: training this store needs")
    assert "Traceback" not in printed.output
    assert reached == []
    with Store.open(db) as store:
        assert store.conn.execute("SELECT count(*) FROM models").fetchone()[0] == models


BATCH_LISTENERS = ["listener-001", "listener-002", "listener-003", "listener-004", "nobody"]


def _summary(out: Path) -> list[dict[str, Any]]:
    rows = pq.read_table(out / "summary").to_pylist()
    return sorted(
        ({k: v for k, v in r.items() if k != "playlist_id"} for r in rows),
        key=lambda r: r["listener"],
    )


def _jspf_lines(out: Path) -> list[dict[str, Any]]:
    lines = [
        json.loads(line)
        for part in sorted((out / "playlists").glob("*.jsonl"))
        for line in part.read_text(encoding="utf-8").splitlines()
    ]
    return sorted((doc["playlist"]["track"] for doc in lines), key=json.dumps)


def test_batch_playlists_are_the_same_in_process_and_on_spark(
    two_bundles: tuple[Path, Path], tmp_path: Path
) -> None:
    with Store.open(two_bundles[0]) as store:
        here = batch_playlists(
            store, tmp_path / "here", length=10, made_at=1_762_000_000, listeners=BATCH_LISTENERS
        )
        there = batch_playlists(
            store,
            tmp_path / "there",
            engine="spark",
            master="local[2]",
            length=10,
            made_at=1_762_000_000,
            listeners=BATCH_LISTENERS,
        )
        direct = build_playlist(store, "listener-001", 10, made_at=1_762_000_000)
    assert (here.built, here.failed) == (there.built, there.failed) == (4, 1)
    rows = _summary(tmp_path / "here")
    assert rows == _summary(tmp_path / "there")
    failed = [r for r in rows if r["error"]]
    assert [r["listener"] for r in failed] == ["nobody"]
    assert failed[0]["error"].startswith("UnknownListener")
    first = next(r for r in rows if r["listener"] == "listener-001")
    counts = {kind: direct.count(kind) for kind in ("familiar", "discovery", "unexpected")}
    assert {k: first[k] for k in counts} == counts
    assert first["unexpected"] == 2  # exactly 20% of 10
    assert first["notes"] == list(direct.notes)
    assert _jspf_lines(tmp_path / "here") == _jspf_lines(tmp_path / "there")
    assert len(_jspf_lines(tmp_path / "here")) == 4
