"""The import writer: batched writes that come out exactly as row-by-row writes did."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from unittest import mock

from hypothesis import example, given, settings
from hypothesis import strategies as st

from recommender.ingest import Artist, ArtistTag, Listen, Record, Rejected, Skipped, Track, writer
from recommender.ingest.writer import import_records
from recommender.store import Store
from recommender.terms_storage import update_terms
from tests.legacy_stores import CORE_TABLES, legacy_store

# Columns that hold the time of writing, not what was written.
CLOCK_COLUMNS = {"created_at", "started_at", "finished_at", "updated_at"}
CATALOGUE = [t for t in CORE_TABLES if t != "models"]  # what imports and terms write


def _columns(conn: sqlite3.Connection, table: str) -> list[str]:
    return [
        r[1] for r in conn.execute(f"PRAGMA table_info({table})") if r[1] not in CLOCK_COLUMNS
    ]


def _table(
    conn: sqlite3.Connection, table: str, columns: list[str] | None = None, *, aliases: bool = True
) -> list[tuple[object, ...]]:
    chosen = columns or _columns(conn, table)
    # What a bare name means (source "name") is recorded by writers newer than the legacy one.
    where = " WHERE source != 'name'" if table == "artist_external_ids" and not aliases else ""
    return conn.execute(
        f"SELECT {', '.join(chosen)} FROM {table}{where} ORDER BY rowid"
    ).fetchall()


def _tables(
    conn: sqlite3.Connection, like: sqlite3.Connection | None = None
) -> dict[str, list[tuple[object, ...]]]:
    """Every catalogue table's rows; with `like`, only the columns that store's tables have
    (columns added by later migrations are compared by their own tests)."""
    return {
        t: _table(conn, t, None if like is None else _columns(like, t), aliases=like is None)
        for t in CATALOGUE
    }


@contextmanager
def batches_of(size: int) -> Iterator[None]:
    with mock.patch.object(writer, "BATCH", size):
        yield


# The records tastemaker c1fd66a wrote into tests/data/store_v2.sql (see data/legacy_stores.md).
T = 1_700_000_000
LEGACY_DEMO: list[Record] = [
    Artist("Rancid", mbid="24f8d8a6-7a1b-4e6f-8d5e-0d1c2b3a4f5e"),
    Artist("The Skatalites", external_id="17"),
    Track("Rancid", "Ruby Soho", album="...And Out Come the Wolves", duration_ms=158000),
    ArtistTag("Rancid", "Street Punk", 12),
    ArtistTag("The Skatalites", "ska", 30),
    Listen("Rancid", listener="ana", title="Ruby Soho", listened_at=T, ms_played=158000),
    Listen("Rancid", listener="ana", title="Time Bomb", listened_at=T + 300),
    Listen("The Skatalites", listener="ana", title="Guns of Navarone", listened_at=T + 600),
    Listen("Bad Religion", listener="ben", title="Generator", listened_at=T + 900),
    Listen("The Skatalites", listener="ben", plays=41, artist_external_id="17"),
]
LEGACY_SPOTIFY: list[Record] = [
    Listen("Rancid", listener="ana", title="Fall Back Down", listened_at=T + 1200, ms_played=200000)
]


def test_the_writer_stores_what_the_row_by_row_writer_stored(tmp_path: Path) -> None:
    with sqlite3.connect(legacy_store(tmp_path / "v2.db", version=2)) as old:
        expected = _tables(old)
    for size in (writer.BATCH, 2, 1):
        with batches_of(size), Store.open(":memory:") as store:
            import_records(store, "demo", Path("fixture"), LEGACY_DEMO)
            import_records(store, "spotify", Path("fixture.json"), LEGACY_SPOTIFY)
            update_terms(
                store,
                "ana",
                surprise=0.3,
                exclude_artists=["Bad Religion"],
                ignore_sources=["spotify"],
            )
            assert _tables(store.conn, like=old) == expected, f"batches of {size}"


# -- any stream of records: batches change nothing ----------------------------------------------

artist_names = st.sampled_from(["Rancid", "rancid", "The Rancid", "Skatalites", "Bad Religion"])
mbids = st.sampled_from([None, "mbid-1", "mbid-2"])
external_ids = st.sampled_from([None, "1", "2", "3"])
titles = st.sampled_from(["Ruby Soho", "ruby soho", "Time Bomb", "  "])
records = st.one_of(
    st.builds(
        Listen,
        artist=artist_names,
        listener=st.sampled_from(["ana", "ben"]),
        title=st.none() | titles,
        listened_at=st.sampled_from([None, T, T + 60]),
        plays=st.integers(1, 3),
        artist_mbid=mbids,
        artist_external_id=external_ids,
        source=st.sampled_from([None, "lastfm"]),
    ),
    st.builds(Artist, name=artist_names, mbid=mbids, external_id=external_ids),
    st.builds(
        Track,
        artist=artist_names,
        title=titles,
        duration_ms=st.sampled_from([None, 1000]),
        artist_external_id=external_ids,
    ),
    st.builds(
        ArtistTag,
        artist=artist_names,
        tag=st.sampled_from(["Ska", "ska ", "punk", ""]),
        count=st.sampled_from([0, 1, 5]),
        artist_external_id=external_ids,
    ),
    st.builds(Rejected, location=st.just("x:1"), reason=st.just("bad")),
    st.builds(Skipped, location=st.just("x:2"), reason=st.just("podcast")),
)


@settings(max_examples=150, deadline=None)
@given(st.lists(records, max_size=40), st.lists(records, max_size=20), st.integers(2, 7))
# A name already holding one MBID does not take a second: a later listen with that second MBID
# under another name is another artist.
@example(
    [
        Artist("Rancid", mbid="mbid-1"),
        Listen("rancid", listener="ana", artist_mbid="mbid-2", artist_external_id="1"),
        Listen("Bad Religion", listener="ana", artist_mbid="mbid-2"),
    ],
    [],
    3,
)
# Listeners get their ids in the order they are first named, whatever else a listen waits for.
@example(
    [Artist("Rancid"), Listen("Bad Religion", listener="ana"), Listen("Rancid", listener="ben")],
    [],
    3,
)
# A dataset id claims the artist holding the name, so another id of that name is kept apart.
@example(
    [
        Artist("Rancid", external_id="1"),
        Artist("rancid", external_id="2"),
        Listen("Rancid", listener="ana", artist_external_id="2"),
        Listen("Rancid", listener="ben"),
    ],
    [Artist("Rancid", external_id="2")],
    2,
)
def test_batches_resolve_names_exactly_as_one_record_at_a_time(
    first: list[Record], second: list[Record], size: int
) -> None:
    outcomes = []
    for batch in (1, size):
        with batches_of(batch), Store.open(":memory:") as store:
            reports = [
                import_records(store, "hetrec", Path("a"), first).as_dict(),
                import_records(store, "hetrec", Path("b"), second).as_dict(),
            ]
            again = import_records(store, "hetrec", Path("a"), first)
            outcomes.append((reports, _tables(store.conn)))
        # Importing the same records again adds nothing and changes nothing.
        listens = sum(isinstance(r, Listen) for r in first)
        assert (again.imported, again.duplicates, again.artists) == (0, listens, 0)
    assert outcomes[0] == outcomes[1]
