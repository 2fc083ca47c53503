"""Stores that are not ours, stores we may only read, full disks and writers that wait."""

from __future__ import annotations

import hashlib
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path
from unittest import mock

import pytest
from click.testing import CliRunner

from playlists.cli import main
from recommender import store as store_module
from recommender.errors import StoreError
from recommender.sources import import_path
from recommender.store import Store
from tests.export_files import lastfm_to_csv, snapshot
from tests.small_disk import small_disk_works

REPO = Path(__file__).resolve().parents[1]
CLI = [sys.executable, "-m", "playlists"]


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_another_programs_sqlite_file_is_refused_unchanged(tmp_path: Path) -> None:
    other = tmp_path / "photos.db"
    with sqlite3.connect(other) as conn:
        conn.execute("CREATE TABLE photos (id INTEGER PRIMARY KEY, path TEXT)")
        conn.execute("INSERT INTO photos (path) VALUES ('a.jpg')")
    before = digest(other)
    result = CliRunner().invoke(main, ["--db", str(other), "stats"])
    assert result.exit_code == 1
    assert result.output.startswith("Error: ") and "not a tastemaker store" in result.output
    assert digest(other) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["photos.db"]


def test_a_file_that_is_not_sqlite_is_refused_unchanged(tmp_path: Path) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_text("my shopping list\n" * 200)
    before = digest(notes)
    with pytest.raises(StoreError, match="not a tastemaker store"):
        Store.open(notes)
    assert digest(notes) == before


def test_an_empty_file_becomes_a_store(tmp_path: Path) -> None:
    empty = tmp_path / "new.db"
    empty.touch()
    with Store.open(empty) as store:
        assert store.version == store_module.SCHEMA_VERSION


NOBODY = ["--reuid=65534", "--regid=65534", "--clear-groups"]
# Root ignores file modes, so as root a read-only store is made one of two real ways: run as
# another user (nobody), who may not write the 0444 file in its 0555 folder; or, where nobody
# cannot read this checkout (a clone inside `mktemp -d`), stay root with the store's folder a
# read-only bind mount in a private mount namespace, where writes fail even for root.
READ_ONLY_MOUNT = 'mount --bind "$1" "$1" && mount -o remount,bind,ro "$1" && shift && exec "$@"'


def _read_only_runner(folder: Path) -> list[str]:
    """The argv prefix that runs a command with `folder` read-only to it (see above)."""
    setpriv = shutil.which("setpriv")
    if setpriv is not None:
        probe = subprocess.run(
            [setpriv, *NOBODY, sys.executable, "-c", "import playlists"],
            cwd="/",
            capture_output=True,
            timeout=60,
        )
        if probe.returncode == 0:
            return [setpriv, *NOBODY]
    unshare = shutil.which("unshare")
    if unshare is not None and os.geteuid() == 0 and small_disk_works():
        return [unshare, "--mount", "sh", "-c", READ_ONLY_MOUNT, "sh", str(folder)]
    pytest.skip("neither another user nor a private mount namespace is available here")


def _run(prefix: list[str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*prefix, *CLI, *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )


def test_a_read_only_store_serves_the_read_commands(tmp_path: Path) -> None:
    # Outside pytest's own folder, which only its owner may enter.
    base = Path(tempfile.mkdtemp(prefix="tastemaker-ro-", dir="/tmp"))
    base.chmod(0o755)
    folder = base / "ro"
    folder.mkdir()
    db = folder / "store.db"
    scrobbles = base / "me.csv"
    scrobbles.write_text(lastfm_to_csv([("Rancid", "W", "Ruby Soho", "02 Mar 2025 18:00")]))
    with Store.open(db) as store:
        import_path(store, "lastfm", scrobbles, listener="me")
    db.chmod(0o444)
    folder.chmod(0o555)
    try:
        before = digest(db)
        as_reader = _read_only_runner(folder)
        stats = _run(as_reader, "--db", str(db), "stats", "--json")
        assert stats.returncode == 0, stats.stderr
        assert '"listens": 1' in stats.stdout
        terms = _run(as_reader, "--db", str(db), "terms", "--listener", "me", "--show")
        assert terms.returncode == 0, terms.stderr
        write = _run(
            as_reader, "--db", str(db), "import", "lastfm", str(scrobbles), "--listener", "x"
        )
        assert write.returncode == 1
        assert write.stderr.startswith("Error: ") and "read-only" in write.stderr
        assert "Traceback" not in write.stderr
        assert digest(db) == before
    finally:
        folder.chmod(0o755)
        shutil.rmtree(base)


def test_an_import_on_a_full_disk_is_one_error_and_changes_nothing(tmp_path: Path) -> None:
    db = tmp_path / "store.db"
    rows = [("Rancid", "Wolves", f"Song {n}", "02 Mar 2025 18:00") for n in range(3000)]
    big = tmp_path / "big.csv"
    big.write_text(lastfm_to_csv(rows))
    with Store.open(db) as store:
        before = snapshot(store)
    real_open = Store.open

    def full_disk(*args: object, **kwargs: object) -> Store:
        opened = real_open(*args, **kwargs)  # type: ignore[arg-type]
        # SQLite answers "database or disk is full" once the file would pass this many pages.
        size = opened.conn.execute("PRAGMA page_count").fetchone()[0]
        opened.conn.execute(f"PRAGMA max_page_count = {size + 5}")
        return opened

    with mock.patch.object(Store, "open", side_effect=full_disk):
        result = CliRunner().invoke(
            main, ["--db", str(db), "import", "lastfm", str(big), "--listener", "me"]
        )
    assert result.exit_code == 1
    assert result.output.startswith("Error: ") and result.output.count("\n") == 1
    assert "disk" in result.output and "full" in result.output
    with Store.open(db) as store:
        assert snapshot(store) == before


HOLD_LOCK = textwrap.dedent(
    """
    import select, sys
    from recommender.store import Store
    with Store.open(sys.argv[1]) as store, store.transaction() as conn:
        conn.execute("INSERT INTO listeners (name, created_at) VALUES ('holder', 'x')")
        print("holding", flush=True)
        # Until told (a line on stdin), so a slow start elsewhere cannot outlast the hold.
        select.select([sys.stdin], [], [], 90)
    """
)


def test_a_writer_waits_for_another_with_a_progress_message(tmp_path: Path) -> None:
    db = tmp_path / "store.db"
    scrobbles = tmp_path / "me.csv"
    scrobbles.write_text(lastfm_to_csv([("Rancid", "W", "Ruby Soho", "02 Mar 2025 18:00")]))
    Store.open(db).close()
    # The holder keeps its write open until the waiting import has said it is waiting: on a
    # loaded machine the CLI can take longer to start than any fixed hold.
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_LOCK, str(db)],
        cwd=REPO,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdin is not None and holder.stdout is not None
    try:
        assert holder.stdout.readline() == "holding\n"
        waiting = subprocess.Popen(
            [*CLI, "--db", str(db), "import", "lastfm", str(scrobbles), "--listener", "me"],
            cwd=REPO,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert waiting.stderr is not None
        said: list[str] = []
        for line in waiting.stderr:  # ends when the import ends: the holder lets go at 90 s
            said.append(line)
            if "waiting for another tastemaker process" in line:
                break
        holder.stdin.write("release\n")
        holder.stdin.close()
        out, rest = waiting.communicate(timeout=120)
    finally:
        holder.wait(timeout=120)
        holder.stdout.close()
    stderr = "".join(said) + rest
    assert waiting.returncode == 0, stderr
    assert "waiting for another tastemaker process" in stderr
    assert "database is locked" not in stderr + out
    with Store.open(db) as store:
        names = [r[0] for r in store.conn.execute("SELECT name FROM listeners ORDER BY id")]
        assert names == ["holder", "me"] and store.counts()["listens"] == 1
