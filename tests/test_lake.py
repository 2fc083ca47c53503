"""Listens as Parquet (`export-listens --parquet`): every listen written, terms as columns."""

from __future__ import annotations

from pathlib import Path

import pyarrow.dataset as ds
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

from playlists.cli import main
from recommender.errors import LakeError
from recommender.lake import export_listens, read_manifest
from recommender.store import Store
from recommender.terms_storage import update_terms
from tests.terms_fixtures import small_world


def test_every_listen_is_written_with_its_terms_as_columns(tmp_path: Path, store: Store) -> None:
    small_world(store)
    listeners = ["alice", "bob"]
    update_terms(store, listeners[0], ignore_sources=["spotify"], half_life_days=3.0)
    update_terms(store, listeners[1], personalise=False)
    stored = store.conn.execute("SELECT count(*) FROM listens").fetchone()[0]
    done = export_listens(store, tmp_path / "lake", buckets=3)
    table = ds.dataset(tmp_path / "lake" / "listens", format="parquet", partitioning="hive")
    rows = table.to_table().to_pylist()
    assert len(rows) == done.listens == stored  # nothing dropped
    assert {p.name for p in (tmp_path / "lake" / "listens").iterdir()} <= {
        f"bucket={b}" for b in range(3)
    }
    ids = dict(store.conn.execute("SELECT name, id FROM listeners").fetchall())
    for row in rows:
        assert row["bucket"] == row["listener_id"] % 3
        if row["listener_id"] == ids[listeners[0]]:
            assert row["half_life_days"] == 3.0
            assert row["source_ignored"] == (row["source"] == "spotify")
        if row["listener_id"] == ids[listeners[1]]:
            assert row["personalise"] is False
        assert row["usable"] == (row["personalise"] and not row["source_ignored"])
    usable = store.conn.execute(
        "SELECT count(*) FROM listens WHERE listener_id != ? AND NOT (listener_id = ? AND"
        " source = 'spotify')",
        (ids[listeners[1]], ids[listeners[0]]),
    ).fetchone()[0]
    assert done.usable == usable == sum(r["usable"] for r in rows)
    assert read_manifest(tmp_path / "lake")["usable"] == usable
    people = pq.read_table(tmp_path / "lake" / "listeners.parquet").to_pylist()
    assert [p["ignore_sources"] for p in people if p["name"] == listeners[0]] == [["spotify"]]


def test_an_export_never_lands_on_existing_files(tmp_path: Path, store: Store) -> None:
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "keep.txt").write_text("mine")
    with pytest.raises(LakeError, match="not an empty folder"):
        export_listens(store, tmp_path / "full")
    assert [p.name for p in (tmp_path / "full").iterdir()] == ["keep.txt"]
    with pytest.raises(LakeError, match="is not a tastemaker listens export"):
        read_manifest(tmp_path / "full")


def test_the_command_writes_an_empty_store_and_refuses_a_full_folder(tmp_path: Path) -> None:
    db = str(tmp_path / "t.db")
    result = CliRunner().invoke(
        main, ["--db", db, "export-listens", "--parquet", str(tmp_path / "x")]
    )
    assert result.exit_code == 0, result.output
    assert "wrote 0 listens" in result.output
    assert ds.dataset(tmp_path / "x" / "listens").to_table().num_rows == 0
    again = CliRunner().invoke(
        main, ["--db", db, "export-listens", "--parquet", str(tmp_path / "x")]
    )
    assert again.exit_code == 1
    assert again.output.startswith("Error: ") and "Traceback" not in again.output


def test_the_default_path_never_imports_spark() -> None:
    # `make demo` and a plain `train` must work without Java or pyspark: importing the CLI
    # (every command registered) and training must not pull pyspark in.
    import subprocess
    import sys

    code = (
        "import sys, playlists.cli, recommender.training, playlists.batch;"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('pyspark', 'py4j')))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"
