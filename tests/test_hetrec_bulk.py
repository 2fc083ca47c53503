"""Bulk records (PlayCounts, TagCounts) and the HetRec reader's numpy line parser.

A bulk record must land exactly as the Listen / ArtistTag records it stands for (`expanded`)
would, and the parser must give every line the record, reject or skip the line-by-line rules
give it, in file order, whatever the size of the pieces the file is read in.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from recommender.errors import IngestError
from recommender.ingest import (
    Artist,
    ArtistTag,
    Listen,
    PlayCounts,
    Record,
    Rejected,
    RowsRead,
    Skipped,
    TagCounts,
    expanded,
)
from recommender.ingest.writer import import_records
from recommender.sources import hetrec
from recommender.store import Store
from tests.hetrec_fixtures import HEADERS, write_folder

ARTISTS = [
    f"{i}\t{name}\tu\tp"
    for i, name in enumerate(["Quiet Kites", "Rust Ravens", "Cold Harbor", "[unknown]"], start=1)
]
TAGS = ["1\tpunk", "2\tcafé folk", "3\tPunk"]
# (line, what the line-by-line rules make of it); line numbers start at 2, after the header.
LISTENING: list[tuple[bytes, object]] = [
    (b"2\t1\t100", ("Quiet Kites", "2", 100, "1")),
    (b"007\t2\t5", ("Rust Ravens", "007", 5, "2")),  # "007" is its own listener
    (b" 7\t2\t5 ", ("Rust Ravens", "7", 5, "2")),
    (b"7\t2\t5", ("Rust Ravens", "7", 5, "2")),  # the same row again: a duplicate
    (b"", None),  # blank: nothing
    (b"2\t9\t3", "artist id 9 is not in artists.dat"),
    (b"2\t02\t3", "artist id 02 is not in artists.dat"),
    (b"0\t1\t3", "user id and weight must be positive integers"),
    (b"2\t1", "expected 3 tab-separated fields, got 2"),
    (b"2\t\xff\t3", "not valid utf-8 text"),
    (b"3\t3\t1234567890123456", "user id and weight must be positive integers"),
    (b"3\t3\t4\r", ("Cold Harbor", "3", 4, "3")),
    (b"4\t1\t\xc2\xb2", "user id and weight must be positive integers"),  # a superscript 2
    (b"5\t4\t6", ("[unknown]", "5", 6, "4")),  # a placeholder: the writer skips it
    (b"3\t1\t8", ("Quiet Kites", "3", 8, "1")),
]
TAGGING: list[tuple[bytes, object]] = [
    (b"2\t1\t1\t1\t4\t2009", ("1", "punk")),
    (b"02\t1\t3\t01\t04\t2009", ("1", "punk")),  # "02" is another tagger than "2"
    (b"2\t1\t3\t\t\t", ("1", "punk")),  # the same tagger under "Punk": one tagger
    (b"2\t3\t2\t1\t4\t2009\r", ("3", "café folk")),
    (b"2\t1\t99\t1\t4\t2009", "tag id 99 is not in tags.dat"),
    (b"2\t1\tabc\t1\t4\t2009", "tag id abc is not in tags.dat"),
    (b"2\t8\t1\t1\t4\t2009", "skip"),
    (b"x\t1\t1\t1\t4\t2009", "user id and artist id must be positive integers"),
    (b"2\t1\t1\t1\t4", "expected 6 tab-separated fields, got 5"),
    (b"3\t4\t2\t1\t4\t2009", ("4", "café folk")),
    (b"3\t2\t4\t1\t4\t2009", "tag id 4 is not in tags.dat"),
]


def _folder(tmp_path: Path) -> Path:
    folder = write_folder(tmp_path / "odd", {"artists.dat": ARTISTS, "tags.dat": TAGS})
    for name, lines in (("user_artists.dat", LISTENING), ("user_taggedartists.dat", TAGGING)):
        body = b"\n".join([HEADERS[name].encode(), *(line for line, _ in lines)])
        (folder / name).write_bytes(body)  # the last line without a line end
    return folder


def _expected() -> list[Record]:
    names = {a.split("\t")[0]: a.split("\t")[1] for a in ARTISTS}
    records: list[Record] = [Artist(name=n, external_id=i) for i, n in names.items()]
    taggers: dict[tuple[str, str], set[bytes]] = {}
    for number, (line, outcome) in enumerate(TAGGING, start=2):
        location = f"user_taggedartists.dat:{number}"
        if outcome == "skip":
            records.append(Skipped(location, "tags an artist that is not in artists.dat"))
        elif isinstance(outcome, str):
            records.append(Rejected(location, outcome))
        elif isinstance(outcome, tuple):
            taggers.setdefault(outcome, set()).add(line.split(b"\t")[0])
    for (artist, tag), users in taggers.items():
        records.append(ArtistTag(names[artist], tag, len(users), artist_external_id=artist))
    for number, (_, outcome) in enumerate(LISTENING, start=2):
        if isinstance(outcome, str):
            records.append(Rejected(f"user_artists.dat:{number}", outcome))
        elif isinstance(outcome, tuple):
            artist, listener, plays, external = outcome
            records.append(Listen(artist, listener, plays=plays, artist_external_id=external))
    return records


def _single_rows(folder: Path) -> list[Record]:
    # The rejects of a piece come before its rows; order within each kind is what counts.
    records = [r for r in expanded(hetrec.read(folder)) if not isinstance(r, RowsRead)]
    kinds = (Artist, (Rejected, Skipped, ArtistTag), Listen)
    return sorted(
        records,
        key=lambda r: next(
            i
            for i, k in enumerate(kinds)
            if isinstance(r, k)  # type: ignore[arg-type]
        ),
    )


def _by_kind(records: list[Record]) -> dict[str, list[Record]]:
    kinds: dict[str, list[Record]] = {}
    for record in records:
        kinds.setdefault(type(record).__name__, []).append(record)
    return kinds


@pytest.mark.parametrize("piece_bytes", [1, 7, 40, 1 << 20])
def test_every_odd_line_gets_what_the_line_rules_give_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, piece_bytes: int
) -> None:
    monkeypatch.setattr(hetrec, "PIECE_BYTES", piece_bytes)
    got = _by_kind(_single_rows(_folder(tmp_path)))
    want = _by_kind(_expected())
    assert got.keys() == want.keys()
    for kind in want:
        assert got[kind] == want[kind], kind


LINE = st.sampled_from(
    [line for line, _ in LISTENING] + [b"12\t3\t40", b"99\t1\t1", b"\t\t", b"  ", b"3\t2\t1\r\r"]
)


@settings(max_examples=40, deadline=None)
@given(lines=st.lists(LINE, max_size=30), piece_bytes=st.integers(1, 64), end=st.booleans())
def test_pieces_of_any_size_read_the_same(
    tmp_path_factory: pytest.TempPathFactory, lines: list[bytes], piece_bytes: int, end: bool
) -> None:
    folder = write_folder(tmp_path_factory.mktemp("h"), {"artists.dat": ARTISTS, "tags.dat": TAGS})
    (folder / "user_taggedartists.dat").write_bytes(HEADERS["user_taggedartists.dat"].encode())
    name = "user_artists.dat"
    (folder / name).write_bytes(b"\n".join([HEADERS[name].encode(), *lines]) + b"\n" * end)
    whole = _by_kind(list(expanded(hetrec.read(folder))))
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(hetrec, "PIECE_BYTES", piece_bytes)
        assert _by_kind(list(expanded(hetrec.read(folder)))) == whole
    read = len(whole.get("Listen", [])) + len(whole.get("Rejected", []))
    assert read == sum(1 for line in lines if line.strip())


def test_a_line_over_the_limit_is_an_error_at_its_number(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(hetrec, "MAX_LINE_BYTES", 50)
    monkeypatch.setattr(hetrec, "PIECE_BYTES", 8)
    rows = {"artists.dat": ARTISTS, "tags.dat": TAGS, "user_taggedartists.dat": []}
    folder = write_folder(tmp_path / "h", {**rows, "user_artists.dat": ["2\t1\t3", "2" * 80]})
    with pytest.raises(IngestError, match=r"user_artists\.dat:3 is longer than 50 bytes"):
        list(hetrec.read(folder))


# -- the writer: a bulk record lands as its single rows would ---------------------------


def _dump(store: Store) -> dict[str, list[tuple[object, ...]]]:
    """Every table, rowid included, without the clock's columns."""
    conn = store.conn
    tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
    dump: dict[str, list[tuple[object, ...]]] = {}
    for table in tables:
        columns = [
            r[1]
            for r in conn.execute(f"PRAGMA table_info([{table}])")
            if r[1] not in {"created_at", "started_at", "finished_at", "applied_at", "updated_at"}
        ]
        listed = ", ".join(f"[{c}]" for c in columns)
        rows = conn.execute(f"SELECT rowid, {listed} FROM [{table}] ORDER BY rowid")
        dump[table] = rows.fetchall()
    schema = conn.execute("SELECT type, name, sql FROM sqlite_master ORDER BY name")
    dump["schema"] = schema.fetchall()
    return dump


NOWHERE = Path("/nonexistent/input")  # no file to checksum: the digest is ""


def _bulk_stream() -> Iterator[Record]:
    """Bulk records with what single records can say: placeholders, a default listener,
    duplicates, an artist only a bulk record names (with an MBID), namesakes the dataset
    keeps apart, blank tags, counts below 1 and a pair set twice."""
    artists = (
        Artist("Quiet Kites", external_id="1"),
        Artist("[unknown]", external_id="2"),
        Artist("quiet kites", external_id="3"),  # a namesake HetRec keeps apart
        Artist("Fresh Face", mbid="5b11f4ce-a62d-471e-81fc-a69a8278c7da"),
        Artist("Bare Name"),
    )
    yield Artist("Quiet Kites", external_id="1")
    tags = ("rock", "  ", "Rock", "jazz")
    column = np.array
    # Tables used out of their order, so that "first used" is not "first listed".
    yield TagCounts(
        artists,
        tags,
        column([4, 1, 2, 0, 0, 3, 4, 0, 3]),
        column([3, 0, 3, 1, 2, 3, 0, 0, 0]),
        column([3, 2, 1, 5, 4, 0, 2, 6, 1]),
    )
    yield Rejected("x:1", "a reject between bulk records")
    yield TagCounts(artists, tags, column([2, 0]), column([3, 3]), column([1, 7]))
    listeners = ("b", "", "a")
    yield PlayCounts(
        artists,
        listeners,
        column([2, 1, 3, 0, 0, 4, 3]),
        column([2, 0, 1, 2, 0, 0, 1]),
        column([5, 1, 2, 7, 3, 9, 2]),
    )
    yield Listen("Quiet Kites", "c", plays=4, artist_external_id="1")  # a single row between
    yield PlayCounts(artists, ("a", "d"), column([0, 3]), column([1, 0]), column([1, 8]))


@pytest.mark.parametrize("first", [None, "hetrec", "lastfm"])
def test_bulk_records_land_as_their_single_rows(tmp_path: Path, first: str | None) -> None:
    """Into an empty store (the indexes paused and built again) and into one that already
    holds listens and tag links from this source or another (counts changed, duplicates)."""
    dumps, reports = [], []
    for spelled in (False, True):
        with Store.open(tmp_path / f"{spelled}-{first}.db") as store:
            if first is not None:
                earlier = [r for r in expanded(_bulk_stream()) if not isinstance(r, Rejected)]
                earlier = [r for r in earlier if not (isinstance(r, ArtistTag) and r.count == 7)]
                import_records(store, first, NOWHERE, earlier[:9], listener="me")
            stream = _bulk_stream()
            records = expanded(stream) if spelled else stream
            report = import_records(store, "hetrec", NOWHERE, records, listener="me")
            reports.append(report.as_dict())
            dumps.append(_dump(store))
    assert reports[0] == reports[1]
    assert dumps[0] == dumps[1]
    assert reports[0]["imported"] and reports[0]["tag_links"] and reports[0]["skipped"]
    assert dumps[0]["listens"] and dumps[0]["artist_tags"]


def _schema(store: Store) -> list[tuple[str, str]]:
    return sorted(store.conn.execute("SELECT name, sql FROM sqlite_master").fetchall())


def test_plain_indexes_are_paused_only_for_an_empty_table_and_always_come_back(
    tmp_path: Path,
) -> None:
    def statements(store: Store, records: list[Record]) -> list[str]:
        said: list[str] = []
        store.conn.set_trace_callback(said.append)
        try:
            import_records(store, "hetrec", NOWHERE, records, listener="me")
        finally:
            store.conn.set_trace_callback(None)
        return [s for s in said if s.startswith(("DROP INDEX", "CREATE INDEX"))]

    with Store.open(tmp_path / "s.db") as store:
        schema = _schema(store)
        first = statements(store, list(_bulk_stream()))
        assert any(s.startswith("DROP INDEX [listens_artist]") for s in first)
        assert any(s.startswith("DROP INDEX [artist_tags_tag]") for s in first)
        assert _schema(store) == schema
        assert not statements(store, list(_bulk_stream()))  # not empty now: nothing paused
        used = store.conn.execute(
            "EXPLAIN QUERY PLAN SELECT count(*) FROM listens WHERE artist_id = 1"
        ).fetchall()
        assert "listens_artist" in str(used)

        def failing() -> Iterator[Record]:
            yield from _bulk_stream()
            raise IngestError("the file broke off")

    with Store.open(tmp_path / "t.db") as store:
        with pytest.raises(IngestError, match="broke off"):
            import_records(store, "hetrec", NOWHERE, failing(), listener="me")
        assert _schema(store) == schema
        assert store.counts()["listens"] == 0
    checked = sqlite3.connect(tmp_path / "t.db").execute("PRAGMA integrity_check")
    assert checked.fetchone() == ("ok",)


def test_a_play_count_below_one_is_an_error(store: Store, tmp_path: Path) -> None:
    block = PlayCounts((Artist("A"),), ("me",), np.array([0]), np.array([0]), np.array([0]))
    with pytest.raises(IngestError, match="below 1"):
        import_records(store, "hetrec", NOWHERE, [block])
    assert store.counts()["listens"] == 0
