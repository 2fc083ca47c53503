"""The HetRec reader and the import rules every reader shares (one transaction, idempotent)."""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from recommender.errors import IngestError
from recommender.ingest import Artist, Listen, Record
from recommender.ingest.writer import import_records
from recommender.resources import demo_dir
from recommender.sources import hetrec, import_path
from recommender.store import Store
from tests.hetrec_fixtures import GOOD, write_folder


def snapshot(store: Store) -> dict[str, list[tuple[object, ...]]]:
    """Every row of the data tables, for before/after comparisons."""
    tables = ["listeners", "artists", "artist_external_ids", "tracks", "listens", "tags"]
    tables += ["artist_tags", "imports"]
    return {t: store.conn.execute(f"SELECT * FROM {t} ORDER BY 1, 2").fetchall() for t in tables}


def test_good_folder_imports_exactly(store: Store, tmp_path: Path) -> None:
    report = import_path(store, "hetrec", write_folder(tmp_path / "h"))
    assert (report.imported, report.duplicates, report.skipped, report.rejected) == (3, 0, 0, 0)
    counts = store.counts()
    assert (counts["artists"], counts["listeners"], counts["listens"]) == (3, 2, 3)
    plays = dict(
        store.conn.execute(
            "SELECT l.name, sum(s.plays) FROM listens s JOIN listeners l ON l.id = s.listener_id"
            " GROUP BY l.name"
        ).fetchall()
    )
    assert plays == {"2": 150, "3": 7}
    tags = dict(
        store.conn.execute(
            "SELECT t.name, at.count FROM artist_tags at JOIN tags t ON t.id = at.tag_id"
        ).fetchall()
    )
    # "punk" and "Punk" are one tag given by two listeners; latin-1 text decodes correctly.
    assert tags == {"punk": 2, "café folk": 1}
    assert not store.conn.execute("SELECT 1 FROM listens WHERE listened_at IS NOT NULL").fetchone()


def test_crlf_and_blank_lines_read_the_same(store: Store, tmp_path: Path) -> None:
    rows = {name: [*lines[:1], "", *lines[1:], "  "] for name, lines in GOOD.items()}
    report = import_path(store, "hetrec", write_folder(tmp_path / "h", rows, newline="\r\n"))
    assert (report.imported, report.skipped, report.rejected) == (3, 0, 0)
    assert store.counts()["artists"] == 3 and store.counts()["artist_tags"] == 2
    names = {r[0] for r in store.conn.execute("SELECT name FROM artists")}
    assert names == {"Quiet Kites", "Rust Ravens", "Cold Harbor"}


def test_malformed_rows_are_counted_with_their_location(store: Store, tmp_path: Path) -> None:
    rows = {
        "artists.dat": [*GOOD["artists.dat"], "1\tTwice Listed\tu\tp", "x\tNo Id\tu\tp"],
        "tags.dat": [*GOOD["tags.dat"], "0\tzero"],
        "user_artists.dat": [
            *GOOD["user_artists.dat"],
            "2\t3\t0",  # line 5: non-positive weight
            "two\t3\t4",  # line 6: bad int
            "4\t99\t5",  # line 7: unknown artist
            "4\t3",  # line 8: too few fields
        ],
        "user_taggedartists.dat": [
            *GOOD["user_taggedartists.dat"],
            "2\t1\t77\t1\t4\t2009",  # line 5: unknown tag id
            "2\t55\t1\t1\t4\t2009",  # line 6: artist not in artists.dat -> skipped
        ],
    }
    report = import_path(store, "hetrec", write_folder(tmp_path / "h", rows))
    assert (report.imported, report.duplicates, report.skipped, report.rejected) == (3, 0, 1, 8)
    assert [(r.location, r.reason) for r in report.rejects] == [
        ("artists.dat:5", "artist id 1 is listed twice"),
        ("artists.dat:6", "artist id must be a positive integer and the name non-empty"),
        ("tags.dat:5", "tag id must be a positive integer and the tag non-empty"),
        # The tagging rows are read before the listens (see the reader's memory note).
        ("user_taggedartists.dat:5", "tag id 77 is not in tags.dat"),
        ("user_artists.dat:5", "user id and weight must be positive integers"),
        ("user_artists.dat:6", "user id and weight must be positive integers"),
        ("user_artists.dat:7", "artist id 99 is not in artists.dat"),
        ("user_artists.dat:8", "expected 3 tab-separated fields, got 2"),
    ]
    assert report.skip_reasons == {"tags an artist that is not in artists.dat": 1}
    assert store.counts()["artists"] == 3


def test_wrong_header_or_missing_file_is_one_clear_error(store: Store, tmp_path: Path) -> None:
    wrong = write_folder(tmp_path / "wrong", headers={"user_artists.dat": "user\tartist\tweight"})
    with pytest.raises(IngestError, match="does not start with the HetRec header"):
        import_path(store, "hetrec", wrong)
    missing = write_folder(tmp_path / "missing")
    (missing / "tags.dat").unlink()
    with pytest.raises(IngestError, match="has no tags.dat"):
        import_path(store, "hetrec", missing)
    assert store.counts()["imports"] == 0 and store.counts()["artists"] == 0


def test_second_import_changes_nothing(store: Store, tmp_path: Path) -> None:
    folder = write_folder(tmp_path / "h")
    import_path(store, "hetrec", folder)
    before = snapshot(store)
    again = import_path(store, "hetrec", folder)
    assert (again.imported, again.duplicates, again.artists, again.tags) == (0, 3, 0, 0)
    after = snapshot(store)
    assert after.pop("imports")[:1] == before.pop("imports")
    assert after == before


def test_a_reader_that_fails_midway_leaves_the_store_as_it_was(
    file_store: Store, tmp_path: Path
) -> None:
    import_path(file_store, "hetrec", write_folder(tmp_path / "h"))
    before = snapshot(file_store)

    def failing() -> Iterator[Record]:
        yield Artist(name="Half Written")
        for i in range(12_000):  # more than one insert batch reaches the database
            yield Listen(artist="Half Written", listener="9", listened_at=i, title=f"t{i}")
        raise OSError("disk went away")

    with pytest.raises(OSError):
        import_records(file_store, "hetrec", tmp_path / "h", failing())
    assert snapshot(file_store) == before


@pytest.mark.slow
def test_sigkill_mid_import_leaves_the_store_before_or_after(tmp_path: Path) -> None:
    db = tmp_path / "tastemaker.db"
    with Store.open(db) as store:
        import_path(store, "hetrec", write_folder(tmp_path / "h"))
        before = snapshot(store)
    env = {**os.environ, "TASTEMAKER_DB": str(db)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "playlists", "import", "demo", str(demo_dir())],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stderr is not None
        line = proc.stderr.readline()
        assert "rows read" in line, line
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.wait(timeout=60)
        if proc.stderr is not None:
            proc.stderr.close()
    assert proc.returncode == -signal.SIGKILL
    raw = sqlite3.connect(db)
    assert raw.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    raw.close()
    with Store.open(db) as store:
        after = snapshot(store)
        listens = store.counts()["listens"]
    # One transaction: killed before COMMIT means exactly as before; after means all of it.
    assert after == before or listens == len(before["listens"]) + 102_847


@pytest.mark.realdata
def test_real_hetrec_folder(hetrec_dir: Path, tmp_path: Path) -> None:
    with Store.open(tmp_path / "real.db") as store:
        report = import_path(store, "hetrec", hetrec_dir)
        counts = store.counts()
    # HetRec's "[unknown]" (artist 3462: 22 listens, 19 tag links, itself) is a placeholder,
    # never an artist; 1,538 tag rows name artists missing from artists.dat.
    assert (report.imported, report.rejected) == (92_812, 0)
    assert report.skip_reasons == {
        "placeholder artist name ([unknown]): not an artist": 42,
        "tags an artist that is not in artists.dat": 1_538,
    }
    assert (counts["artists"], counts["listens"], counts["listeners"]) == (17_631, 92_812, 1_892)


@pytest.mark.parametrize(("bucket_rows", "block"), [(1, 5), (7, 50_000), (1_000_000, 3)])
def test_distinct_taggers_are_counted_the_same_in_any_number_of_buckets(
    monkeypatch: pytest.MonkeyPatch, bucket_rows: int, block: int
) -> None:
    monkeypatch.setattr(hetrec, "BUCKET_ROWS", bucket_rows)
    monkeypatch.setattr(hetrec, "PROGRESS_ROWS", block)  # pairs per yielded block
    rng = random.Random(7)
    taggers = hetrec._Taggers(12)
    expected: dict[tuple[int, int], set[int]] = {}  # insertion order = first tagged
    rows = [(rng.randrange(29), rng.randrange(12), rng.randrange(-3, 40)) for _ in range(2_000)]
    for start in range(0, len(rows), 300):  # added a piece at a time, as the reader does
        piece = rows[start : start + 300]
        taggers.add(*(np.array(column, dtype=np.int64) for column in zip(*piece, strict=True)))
    for artist, tag, user in rows:
        expected.setdefault((artist, tag), set()).add(user)
    blocks = list(taggers.counts())
    got = [
        (a, t, c)
        for artists, tags, counts in blocks
        for a, t, c in zip(artists.tolist(), tags.tolist(), counts.tolist(), strict=True)
    ]
    assert got == [(a, t, len(users)) for (a, t), users in expected.items()]
    assert all(len(counts) <= block for _, _, counts in blocks)
    assert any(len(users) > 1 for users in expected.values())  # distinctness was exercised


def test_progress_goes_on_through_the_tagging_rows(store: Store, tmp_path: Path) -> None:
    """The tagging rows become tag records only at the end; progress must not go quiet."""
    tagging = [f"{u}\t{1 + u % 3}\t{1 + u % 2}\t1\t4\t2009" for u in range(2, 120_002)]
    folder = write_folder(tmp_path / "h", {**GOOD, "user_taggedartists.dat": tagging})
    reported: list[int] = []
    report = import_path(store, "hetrec", folder, progress=reported.append)
    assert report.rejected == 0
    # 3 artists and 3 listens, then 120,000 tagging rows: two reports, both in the tagging
    # rows (without them the import's dozen records would report nothing).
    assert len(reported) == 2 and 50_000 <= reported[0] < 100_000 <= reported[1] < 120_006
    assert store.counts()["artist_tags"] == 6  # (artist, tag) pairs, as before
