"""Batch playlists on a cluster whose executors do not see the driver's files.

The store is snapshotted once and shipped with the model bundle through Spark's `addFile`
(`playlists.batch.ship_inputs`, `recommender.spark.shipping`). The main test runs real separate
executor JVMs (`local-cluster[2,1,1024]`) whose Python workers, where every task runs, live in a
mount namespace with an empty tmpfs over the driver's store folder: those tasks could not have
read the driver's store or bundle, and with `--ship shared` they fail saying so. Their
playlists equal the ones built in process, reasons included.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import textwrap
from dataclasses import replace
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

from playlists import build_playlist
from playlists.batch import (
    LEFT_OUT,
    SHIP_MODES,
    SNAPSHOT,
    SPARK_SCHEMA,
    _Job,
    _partition_builder,
    batch_playlists,
    ship_inputs,
    ships_snapshot,
    task_error,
)
from recommender.errors import BundleError, LakeError, SparkUnavailable, StoreError
from recommender.spark.session import check_spark
from recommender.store import Store
from recommender.training import load_model, train

LISTENERS = ["listener-001", "listener-002", "listener-003", "listener-004", "nobody"]
MADE_AT = 1_762_000_000


@pytest.fixture(scope="module")
def trained(demo_store_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo world, trained, with its store and models in one folder of their own."""
    path = tmp_path_factory.mktemp("driver") / "tastemaker.db"
    shutil.copy(demo_store_path, path)
    with Store.open(path) as store:
        train(store, deterministic=True)
    return path


def _summary(out: Path) -> list[dict[str, Any]]:
    rows = pq.read_table(out / "summary").to_pylist()
    return sorted(
        ({k: v for k, v in r.items() if k != "playlist_id"} for r in rows),
        key=lambda r: r["listener"],
    )


def _tracks(out: Path) -> list[Any]:
    """Every playlist's tracks with their reasons (JSPF annotations and extension)."""
    docs = [
        json.loads(line)
        for part in sorted((out / "playlists").glob("*.jsonl"))
        for line in part.read_text(encoding="utf-8").splitlines()
    ]
    return sorted((doc["playlist"]["track"] for doc in docs), key=json.dumps)


def _tables(path: Path) -> dict[str, int]:
    with sqlite3.connect(path) as conn:
        names = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        return {n: conn.execute(f'SELECT count(*) FROM "{n}"').fetchone()[0] for n in names}


# -- the snapshot ------------------------------------------------------------------------------


def test_a_build_never_reads_a_table_the_snapshot_leaves_out(trained: Path) -> None:
    read: set[str] = set()
    with Store.open(trained) as store:
        tables = set(_tables(trained))
        model = load_model(store)
        store.conn.set_trace_callback(
            lambda sql: read.update(t for t in tables if re.search(rf"\b{t}\b", sql))
        )
        for name in LISTENERS[:3]:
            build_playlist(store, name, 10, model=model, made_at=MADE_AT)
    assert {"listens", "artists", "tracks", "terms", "feedback", "playlists"} <= read
    assert set(LEFT_OUT) <= tables
    assert read.isdisjoint(LEFT_OUT)


def test_the_snapshot_is_one_consistent_read_only_copy(trained: Path, tmp_path: Path) -> None:
    original = tmp_path / "store.db"
    shutil.copy(trained, original)
    with Store.open(original) as store:
        checksum = store.conn.execute("SELECT checksum FROM imports LIMIT 1").fetchone()[0]
        before = _tables(original)
        writer = sqlite3.connect(original, isolation_level=None)
        writer.execute("BEGIN IMMEDIATE")  # a writer in the middle of its transaction
        writer.execute(
            "INSERT INTO listeners (name, created_at) VALUES ('arrives-later', '2026-12-01')"
        )
        copy = store.snapshot(tmp_path / "copy.db", empty=LEFT_OUT)
        writer.execute("COMMIT")
        writer.close()
        with pytest.raises(StoreError, match="exists"):
            store.snapshot(copy)
        with pytest.raises(StoreError, match="no table nonesuch"):
            store.snapshot(tmp_path / "other.db", empty=["nonesuch"])
        expected = build_playlist(store, "listener-001", 10, made_at=MADE_AT)
    after = _tables(copy)
    assert before["imports"] > 0 and after["imports"] == 0
    assert all(after[name] == 0 for name in LEFT_OUT)
    assert {k: v for k, v in after.items() if k not in LEFT_OUT} == {
        k: v for k, v in before.items() if k not in LEFT_OUT
    }  # the listener committed after the snapshot began is not in it
    assert checksum.encode() in original.read_bytes()
    assert checksum.encode() not in copy.read_bytes()  # the emptied rows' bytes are overwritten
    assert not Path(f"{copy}-wal").exists()
    linked = "SELECT count(*) FROM listens WHERE import_id IS NOT NULL"
    with sqlite3.connect(original) as before_conn, sqlite3.connect(copy) as copy_conn:
        kept = copy_conn.execute(linked).fetchone()[0]
        assert kept == before_conn.execute(linked).fetchone()[0] > 0  # rows kept as they were
    with Store.open(copy, read_only=True) as shipped:
        assert shipped.read_only
        assert shipped.conn.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
        got = build_playlist(shipped, "listener-001", 10, made_at=MADE_AT)
    assert [t.to_dict() for t in got.tracks] == [t.to_dict() for t in expected.tracks]
    assert not Path(f"{copy}-wal").exists()  # opened read-only: not converted to WAL
    with pytest.raises(StoreError, match="there is no store"):
        Store.open(tmp_path / "absent.db", read_only=True)
    assert not (tmp_path / "absent.db").exists()


def test_auto_ships_a_snapshot_except_to_local_masters() -> None:
    assert SHIP_MODES == ("auto", "snapshot", "shared")
    assert not ships_snapshot("auto", "local")
    assert not ships_snapshot("auto", "local[2]")
    assert not ships_snapshot("auto", "local[*]")
    assert ships_snapshot("auto", "local-cluster[2,1,1024]")
    assert ships_snapshot("auto", "spark://head:7077")
    assert ships_snapshot("auto", "yarn")
    assert ships_snapshot("snapshot", "local[2]")
    assert not ships_snapshot("shared", "spark://head:7077")


# -- on Spark ----------------------------------------------------------------------------------


@pytest.mark.spark
def test_a_snapshot_shipped_in_local_mode_builds_the_same_playlists(
    spark: Any, trained: Path, tmp_path: Path
) -> None:
    with Store.open(trained) as store:
        here = batch_playlists(
            store, tmp_path / "here", length=10, made_at=MADE_AT, listeners=LISTENERS
        )
        there = batch_playlists(
            store,
            tmp_path / "there",
            engine="spark",
            ship="snapshot",
            length=10,
            made_at=MADE_AT,
            listeners=LISTENERS,
        )
    assert (here.built, here.failed) == (there.built, there.failed) == (4, 1)
    assert here.shipped_bytes == 0
    assert there.shipped_bytes > trained.stat().st_size // 2
    assert "shipped" in there.describe()
    assert _summary(tmp_path / "here") == _summary(tmp_path / "there")
    assert _tracks(tmp_path / "here") == _tracks(tmp_path / "there")


def _run_tasks(spark: Any, job: _Job) -> None:
    """The batch's own task code on one listener, in a real Spark task."""
    settings = spark.sparkContext.broadcast(job.as_dict())
    frame = spark.createDataFrame([("listener-001",)], "listener string")
    try:
        frame.mapInPandas(_partition_builder(settings), SPARK_SCHEMA).collect()
    except Exception as exc:
        raise task_error(exc) from exc
    finally:
        settings.unpersist()


@pytest.mark.spark
def test_torn_and_tampered_files_are_refused_on_the_executor(
    spark: Any, trained: Path, tmp_path: Path
) -> None:
    with Store.open(trained) as store:
        model = load_model(store)
        assert model.path is not None
        tampered = tmp_path / "bundle"
        shutil.copytree(model.path, tampered)
        (tampered / ".verified").unlink()
        vectors = tampered / "item_vectors.npy"
        body = bytearray(vectors.read_bytes())
        body[-1] ^= 0xFF  # same size, other bytes
        vectors.write_bytes(bytes(body))
        shipped = ship_inputs(spark.sparkContext, store, replace(model, path=tampered))
        clean = ship_inputs(spark.sparkContext, store, model)
    job = _Job(model_id=model.model_id, made_at=MADE_AT, length=10)
    with pytest.raises(BundleError, match="on a Spark executor: .*item_vectors.npy does not match"):
        _run_tasks(spark, replace(job, shipment=shipped.as_dict()))
    store_file = next(f for f in clean.files if f.path == SNAPSHOT)
    assert store_file.sha256 is not None
    torn = replace(clean, files=(replace(store_file, size=store_file.size - 1), *clean.files[1:]))
    with pytest.raises(LakeError, match="store.db arrived with .* bytes where the driver sent"):
        _run_tasks(spark, replace(job, shipment=torn.as_dict()))
    _run_tasks(spark, replace(job, shipment=clean.as_dict()))  # the untouched files are used


# The driver of the cluster run, in its own process (a second SparkContext cannot start in
# the test's). argv: master, store, out folder for the shipped run, out folder for the shared.
DRIVER = textwrap.dedent(
    """
    import json, sys
    from pathlib import Path
    from pyspark.sql import SparkSession
    from playlists.batch import batch_playlists
    from recommender.errors import TastemakerError
    from recommender.spark.session import spark_session
    from recommender.store import Store

    master, db, shipped, shared = sys.argv[1:]
    # One attempt per task (a cluster's default is four): the shared run is meant to fail.
    SparkSession.builder.master(master).config("spark.task.maxFailures", "1").getOrCreate()
    spark = spark_session(master)
    result = {"app": spark.sparkContext.applicationId}
    listeners = json.loads(%r)
    try:
        with Store.open(db) as store:
            report = batch_playlists(
                store, Path(shipped), engine="spark", length=10, made_at=%d,
                listeners=listeners, partitions=2,
            )
            result["shipped"] = [report.built, report.failed, report.shipped_bytes]
            try:
                batch_playlists(
                    store, Path(shared), engine="spark", ship="shared", length=10,
                    made_at=%d, listeners=listeners, partitions=2,
                )
            except TastemakerError as exc:
                result["shared_error"] = [type(exc).__name__, str(exc)]
    finally:
        spark.stop()
    print("RESULT " + json.dumps(result))
    """
) % (json.dumps(LISTENERS), MADE_AT, MADE_AT)


def _hiding_python(hidden: Path, folder: Path) -> Path:
    """A PYSPARK_PYTHON that runs this interpreter in a new mount namespace in which `hidden`
    is an empty tmpfs (unprivileged: a user namespace maps this user to root inside)."""
    script = folder / "python-without-driver-files"
    script.write_text(
        "#!/bin/sh\n"
        "exec unshare --user --map-root-user --mount sh -c"
        " 'mount -t tmpfs -o size=1m tastemaker-hidden \"$1\" && shift && exec \"$@\"'"
        f' sh "{hidden}" "{sys.executable}" "$@"\n'
    )
    script.chmod(0o755)
    looks = "import os, sys; sys.exit(1 if os.listdir(sys.argv[1]) else 0)"
    probe = subprocess.run(
        [str(script), "-c", looks, str(hidden)],
        capture_output=True,
        text=True,
        check=False,
    )
    if probe.returncode != 0 or not any(hidden.iterdir()):
        pytest.skip(
            "this machine cannot hide a folder from Spark's Python workers (unshare of a user"
            f" and mount namespace failed: {probe.stderr.strip()[:200]})"
        )
    return script


@pytest.mark.spark
def test_separate_executors_that_cannot_see_the_driver_files_build_the_same_playlists(
    trained: Path, tmp_path: Path
) -> None:
    import pyspark

    try:
        check_spark()
    except SparkUnavailable as exc:
        pytest.skip(str(exc))
    with Store.open(trained) as store:
        here = batch_playlists(
            store, tmp_path / "here", length=10, made_at=MADE_AT, listeners=LISTENERS
        )
        model_id = load_model(store).model_id
    driver_files = trained.parent
    python = _hiding_python(driver_files, tmp_path)
    env = {**os.environ, "PYSPARK_PYTHON": str(python)}
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            DRIVER,
            "local-cluster[2,1,1024]",
            str(trained),
            str(tmp_path / "shipped"),
            str(tmp_path / "shared"),
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    lines = [line for line in done.stdout.splitlines() if line.startswith("RESULT ")]
    assert done.returncode == 0 and lines, done.stderr[-3000:]
    result = json.loads(lines[-1].removeprefix("RESULT "))
    # local-cluster executors work in SPARK_HOME/work/<app>/<executor> (not configurable)
    work = Path(pyspark.__file__).parent / "work" / result["app"]
    try:
        assert result["shipped"][:2] == [here.built, here.failed] == [4, 1]
        assert result["shipped"][2] > 0
        assert _summary(tmp_path / "shipped") == _summary(tmp_path / "here")
        assert _tracks(tmp_path / "shipped") == _tracks(tmp_path / "here")
        # The control: reading the driver's paths, the same tasks find nothing there.
        kind, message = result["shared_error"]
        assert kind == "StoreError"
        assert message.startswith(f"on a Spark executor: cannot see the store at {trained}")
        assert "--ship snapshot" in message
        assert not (tmp_path / "shared").exists()
        # Each executor that ran a task received the files and verified the bundle itself:
        # its stamp is written only after every checksum passed, and names its own copies.
        received = sorted(work.glob(f"*/tastemaker-*/{SNAPSHOT}"))
        assert received, f"no executor under {work} received a snapshot"
        for snapshot in received:
            bundle = snapshot.parent / "models" / model_id
            stamp = json.loads((bundle / ".verified").read_text())
            inode = os.stat(bundle / "item_vectors.npy").st_ino
            assert stamp["files"]["item_vectors.npy"][3] == inode
    finally:
        shutil.rmtree(work, ignore_errors=True)
