"""Starting from your own history: exports as people have them, one play = one listen across
services, identities that hold, placeholders that never become artists."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner

from playlists.cli import main
from recommender.errors import IngestError, NothingRead
from recommender.ingest.overlaps import TOLERANCE
from recommender.sources import import_path, lastfm
from recommender.store import Store
from tests.export_files import (
    jsonl,
    lastfm_to_csv,
    lb_export_listen,
    lb_export_zip,
    snapshot,
    spotify_row,
    write_zip,
)

NIRVANA_US = "5b11f4ce-a62d-471e-81fc-a69a8278c7da"
NIRVANA_UK = "9282c8b4-ca0b-4c6b-b7e3-4f7762dfc4d6"
TEEN_SPIRIT = "1f9df192-a621-4f54-8850-2c5373b7eac9"
LITHIUM = "b23f3fd7-5a25-4c9c-8b4f-4a9c86c5d5b1"
RAINBOW = "8a3f9b2c-3d4e-4f50-9a61-7b8c9d0e1f23"
RELEASE = "f1418001-7f1e-46af-bfdb-95faeded8841"


def utc(text: str) -> int:
    return int(datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp())


def listens(store: Store, listener: str = "me") -> list[tuple[str, str, int, str]]:
    return [
        tuple(r)  # type: ignore[misc]
        for r in store.conn.execute(
            "SELECT a.name, t.title, l.listened_at, l.source FROM listens l"
            " JOIN artists a ON a.id = l.artist_id JOIN tracks t ON t.id = l.track_id"
            " JOIN listeners p ON p.id = l.listener_id WHERE p.name = ?"
            " ORDER BY l.listened_at, l.id",
            (listener,),
        )
    ]


# -- one play is one listen across services ----------------------------------------------------

# Spotify's history: `ts` is the END of each play. Six plays on one evening.
SPOTIFY = [
    # 18:00:12 start (ts 18:03:42 - 210 s): Last.fm scrobbled it at 18:00.
    spotify_row(
        "2025-03-02T18:03:42Z",
        210_000,
        "Ruby Soho",
        "Rancid",
        uri="spotify:track:1ueMmM9yGdDiJyYeRTNzCx",
    ),
    # Played again straight after: a repeat within one source stays a second play.
    spotify_row("2025-03-02T18:07:12Z", 210_000, "Ruby Soho", "Rancid"),
    # Last.fm never saw this one (scrobbling was off).
    spotify_row("2025-03-02T18:30:00Z", 180_000, "Time Bomb", "Rancid"),
    # Started 18:40:55, scrobbled by Last.fm at 18:41 (a 5 s clock difference).
    spotify_row("2025-03-02T18:44:25Z", 210_000, "Olympia WA", "Rancid"),
    # Paused for 100 s: ts - ms_played puts the start 100 s late (18:51:40 vs 18:50).
    spotify_row("2025-03-02T18:54:00Z", 140_000, "Fall Back Down", "Rancid"),
    # A skip: not a listen, but skip feedback.
    spotify_row("2025-03-02T19:00:10Z", 9_000, "Roots Radicals", "Rancid", reason_end="fwdbtn"),
]
# The same evening as lastfm-to-csv writes it: newest first, the track playing at export time
# first of all (no date), minute resolution.
LASTFM = [
    ("Rancid", "...And Out Come the Wolves", "Roots Radicals", ""),
    ("Rancid", "...And Out Come the Wolves", "Fall Back Down", "02 Mar 2025 18:50"),
    ("Rancid", "...And Out Come the Wolves", "Olympia WA", "02 Mar 2025 18:41"),
    ("Rancid", "...And Out Come the Wolves", "Ruby Soho", "02 Mar 2025 18:03"),
    ("Rancid", "...And Out Come the Wolves", "Ruby Soho", "02 Mar 2025 18:00"),
    # Only on Last.fm: a record player scrobbled by hand.
    ("Operation Ivy", "Energy", "Knowledge", "02 Mar 2025 17:40"),
]


@pytest.fixture
def two_services(tmp_path: Path) -> tuple[Path, Path]:
    spotify = tmp_path / "Streaming_History_Audio_2025_0.json"
    spotify.write_text(json.dumps(SPOTIFY, indent=2))
    lfm = tmp_path / "me.csv"
    lfm.write_text(lastfm_to_csv(LASTFM))
    return spotify, lfm


def test_two_services_with_overlapping_plays_store_each_play_once(
    store: Store, two_services: tuple[Path, Path]
) -> None:
    spotify, lfm = two_services
    first = import_path(store, "lastfm", lfm, listener="me")
    assert (first.imported, first.skipped) == (5, 1)  # the now-playing row is skipped
    second = import_path(store, "spotify", spotify, listener="me")
    # Of Spotify's five plays four were already scrobbled; Time Bomb is new.
    assert (second.imported, second.duplicates) == (1, 4)
    assert second.already_from == {"lastfm": 4}
    assert store.counts()["listens"] == 6
    assert listens(store) == [
        ("Operation Ivy", "Knowledge", utc("2025-03-02T17:40"), "lastfm"),
        ("Rancid", "Ruby Soho", utc("2025-03-02T18:00"), "lastfm"),
        ("Rancid", "Ruby Soho", utc("2025-03-02T18:03"), "lastfm"),
        ("Rancid", "Time Bomb", utc("2025-03-02T18:27"), "spotify"),
        ("Rancid", "Olympia WA", utc("2025-03-02T18:41"), "lastfm"),
        ("Rancid", "Fall Back Down", utc("2025-03-02T18:50"), "lastfm"),
    ]
    # The copy kept is the first imported; what the later one knows still fills the track.
    uri = store.conn.execute("SELECT spotify_uri FROM tracks WHERE title = 'Ruby Soho'")
    assert uri.fetchone() == ("spotify:track:1ueMmM9yGdDiJyYeRTNzCx",)


def test_either_order_stores_the_same_number_of_listens(
    store: Store, two_services: tuple[Path, Path]
) -> None:
    spotify, lfm = two_services
    assert import_path(store, "spotify", spotify, listener="me").imported == 5
    report = import_path(store, "lastfm", lfm, listener="me")
    assert (report.imported, report.already_from) == (1, {"spotify": 4})
    assert store.counts()["listens"] == 6


def test_importing_everything_twice_changes_nothing(
    store: Store, two_services: tuple[Path, Path]
) -> None:
    spotify, lfm = two_services
    for fmt, path in (("lastfm", lfm), ("spotify", spotify)):
        import_path(store, fmt, path, listener="me")
    before = snapshot(store)
    feedback = store.conn.execute("SELECT count(*) FROM feedback").fetchone()
    again = [
        import_path(store, fmt, path, listener="me")
        for fmt, path in (("lastfm", lfm), ("spotify", spotify))
    ]
    assert [r.imported for r in again] == [0, 0]
    assert again[1].already_from == {"lastfm": 4}
    assert snapshot(store) == {**before, "imports": before["imports"] + 2}
    assert store.conn.execute("SELECT count(*) FROM feedback").fetchone() == feedback


def test_plays_further_apart_than_the_tolerance_are_two_listens(
    store: Store, tmp_path: Path
) -> None:
    start = utc("2025-03-02T18:00")
    lfm = tmp_path / "me.csv"
    lfm.write_text(lastfm_to_csv([("Rancid", "Wolves", "Ruby Soho", "02 Mar 2025 18:00")]))
    end = datetime.fromtimestamp(start + TOLERANCE + 1 + 200, UTC).isoformat()
    spotify = tmp_path / "endsong_0.json"
    spotify.write_text(
        json.dumps([spotify_row(end.replace("+00:00", "Z"), 200_000, "Ruby Soho", "Rancid")])
    )
    import_path(store, "lastfm", lfm, listener="me")
    assert import_path(store, "spotify", spotify, listener="me").imported == 1


# -- identities ----------------------------------------------------------------------------


def test_namesakes_with_different_mbids_stay_apart_and_names_join_the_majority(
    store: Store, tmp_path: Path
) -> None:
    t = utc("2024-05-01T12:00")
    lb = [
        lb_export_listen(t + 600 * n, "Nirvana", "Smells Like Teen Spirit", "Nevermind",
                         recording_mbid=TEEN_SPIRIT, artist_mbids=[NIRVANA_US])
        for n in range(5)
    ] + [
        lb_export_listen(t + 10_000, "Nirvana", "Rainbow Chaser", "All of Us",
                         recording_mbid=RAINBOW, artist_mbids=[NIRVANA_UK]),
    ]  # fmt: skip
    import_path(store, "listenbrainz", lb_export_zip(tmp_path / "lb.zip", "me", lb))
    artists = store.conn.execute("SELECT name, key, mbid FROM artists ORDER BY id").fetchall()
    assert artists == [
        ("Nirvana", "nirvana", NIRVANA_US),
        (f"Nirvana ({NIRVANA_UK[:8]})", f"nirvana [mbid {NIRVANA_UK}]", NIRVANA_UK),
    ]
    # A Last.fm history names only "Nirvana": it joins the one most listens belong to.
    lfm = tmp_path / "friend.csv"
    lfm.write_text(lastfm_to_csv([("Nirvana", "Nevermind", "Lithium", "02 May 2024 10:00")]))
    import_path(store, "lastfm", lfm, listener="friend")
    joined = store.conn.execute(
        "SELECT a.mbid FROM listens l JOIN artists a ON a.id = l.artist_id"
        " JOIN listeners p ON p.id = l.listener_id WHERE p.name = 'friend'"
    ).fetchall()
    assert joined == [(NIRVANA_US,)]
    # ...and keeps meaning it, however the counts move later: a re-import adds nothing.
    more = [
        lb_export_listen(t + 20_000 + 600 * n, "Nirvana", "Rainbow Chaser", "All of Us",
                         recording_mbid=RAINBOW, artist_mbids=[NIRVANA_UK])
        for n in range(10)
    ]  # fmt: skip
    import_path(store, "listenbrainz", lb_export_zip(tmp_path / "lb2.zip", "me", more))
    assert import_path(store, "lastfm", lfm, listener="friend").imported == 0


def test_a_later_import_fills_in_what_identifies_a_track_without_new_ids(
    store: Store, tmp_path: Path
) -> None:
    lfm = tmp_path / "me.csv"
    lfm.write_text(lastfm_to_csv([("Nirvana", "", "Lithium", "02 May 2024 10:00")]))
    import_path(store, "lastfm", lfm, listener="me")
    ids = store.conn.execute("SELECT a.id, t.id FROM tracks t JOIN artists a ON a.id = t.artist_id")
    before = ids.fetchall()
    lb = [
        lb_export_listen(utc("2024-06-01T10:00"), "Nirvana", "Lithium", "Nevermind",
                         recording_mbid=LITHIUM, release_mbid=RELEASE, artist_mbids=[NIRVANA_US],
                         duration_ms=257_000, isrc="USGF19942501",
                         spotify_id="https://open.spotify.com/track/2YodwKJnbPyNKe8XXSE9V7"),
    ]  # fmt: skip
    import_path(store, "listenbrainz", lb_export_zip(tmp_path / "lb.zip", "me", lb))
    row = store.conn.execute(
        "SELECT a.id, t.id, a.mbid, t.mbid, t.release_mbid, t.album, t.duration_ms, t.isrc,"
        " t.spotify_uri FROM tracks t JOIN artists a ON a.id = t.artist_id"
    ).fetchall()
    assert row == [
        (*before[0], NIRVANA_US, LITHIUM, RELEASE, "Nevermind", 257_000, "USGF19942501",
         "spotify:track:2YodwKJnbPyNKe8XXSE9V7"),
    ]  # fmt: skip


@pytest.mark.parametrize("name", ["<Untagged>", "Unknown Artist", "[unknown]", "unknown"])
def test_placeholders_are_skipped_never_artists(store: Store, tmp_path: Path, name: str) -> None:
    log = (
        "#AUDIOSCROBBLER/1.1\n#TZ/UTC\n#CLIENT/Rockbox\n"
        f"{name}\t<Untagged>\tTrack 01\t1\t200\tL\t1714550000\t\n"
        "Rancid\tWolves\tRuby Soho\t1\t200\tL\t1714551000\t\n"
    )
    path = tmp_path / ".scrobbler.log"
    path.write_text(log)
    report = import_path(store, "lastfm", path, listener="me")
    assert (report.imported, report.skipped) == (1, 1)
    (reason,) = report.skip_reasons
    assert reason.startswith("placeholder artist name")
    assert [r[0] for r in store.conn.execute("SELECT name FROM artists")] == ["Rancid"]


# -- readers as people have the files --------------------------------------------------------


def test_lastfm_to_csv_with_now_playing_rows_bom_and_crlf(store: Store, tmp_path: Path) -> None:
    text = lastfm_to_csv(
        [
            ("Rancid", "Wolves", "Ruby Soho", ""),
            ("Rancid", "Wolves, Deluxe", 'Time "Bomb"', "02 Mar 2025 18:00"),
            ("Operation Ivy", "Energy", "Knowledge", ""),
            ("Operation Ivy", "Energy", "Sound System", "02 Mar 2025 17:00"),
        ]
    )
    path = tmp_path / "me.csv"
    path.write_bytes(b"\xef\xbb\xbf" + text.replace("\n", "\r\n").encode())
    report = import_path(store, "lastfm", path, listener="me")
    assert (report.imported, report.skipped, report.rejected) == (2, 2, 0)
    assert report.skip_reasons == {lastfm.NOW_PLAYING: 2}
    assert [r[1] for r in listens(store)] == ["Sound System", "Time Bomb"]


def test_a_listenbrainz_export_rezipped_with_its_folder_reads_the_same(
    store: Store, tmp_path: Path
) -> None:
    rows = [lb_export_listen(utc("2024-05-01T12:00"), "Rancid", "Ruby Soho")]
    path = lb_export_zip(tmp_path / "lb.zip", "rob", rows, top="listenbrainz_rob_1714000000/")
    report = import_path(store, "listenbrainz", path)
    assert (report.imported, report.listener) == (1, "rob")


def test_a_file_of_another_format_is_an_error_naming_that_format(
    store: Store, tmp_path: Path
) -> None:
    path = tmp_path / "scrobbles.csv"
    path.write_text(lastfm_to_csv([("Rancid", "W", f"Song {n}", "02 Mar 2025 18:00")
                                   for n in range(10)]))  # fmt: skip
    with pytest.raises(NothingRead, match=r"not a spotify export.*looks like a lastfm export"):
        import_path(store, "spotify", path, listener="me")
    assert snapshot(store) == {k: 0 for k in snapshot(store)}
    result = CliRunner().invoke(
        main, ["--db", str(tmp_path / "s.db"), "import", "spotify", str(path), "--listener", "me"]
    )
    assert result.exit_code == 1
    assert result.output.count("\n") == 1 and result.output.startswith("Error: ")
    assert "tastemaker import lastfm" in result.output


def test_encoding_advice_only_for_bytes_that_look_like_text(store: Store, tmp_path: Path) -> None:
    png = tmp_path / "cover.png"
    png.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8)
    with pytest.raises(IngestError, match="PNG image") as caught:
        import_path(store, "listenbrainz", png, listener="me")
    assert "--encoding" not in str(caught.value)
    latin = tmp_path / "me.csv"
    latin.write_bytes("Motörhead,Ace,Ace of Spades,02 Mar 2025 18:00\n".encode("latin-1"))
    with pytest.raises(IngestError, match="--encoding latin-1"):
        import_path(store, "lastfm", latin, listener="me")


# -- the community --------------------------------------------------------------------------


def test_import_says_how_much_of_a_history_the_store_knows(tmp_path: Path) -> None:
    db = tmp_path / "s.db"
    others = tmp_path / "others.csv"
    others.write_text(
        lastfm_to_csv(
            [
                ("Rancid", "W", "Ruby Soho", "01 Mar 2025 10:00"),
                ("Rancid", "W", "Ruby Soho", "01 Mar 2025 11:00"),
            ]
        )
    )
    runner = CliRunner()
    first = runner.invoke(main, ["--db", str(db), "import", "lastfm", str(others),
                                 "--listener", "ana"])  # fmt: skip
    assert "you are the only listener in this store" not in first.output  # nobody else yet
    mine = tmp_path / "me.csv"
    mine.write_text(
        lastfm_to_csv(
            [
                ("Rancid", "W", "Ruby Soho", "02 Mar 2025 10:00"),
                ("Rancid", "W", "Time Bomb", "02 Mar 2025 11:00"),
                ("Operation Ivy", "E", "Knowledge", "02 Mar 2025 12:00"),
            ]
        )
    )
    result = runner.invoke(main, ["--db", str(db), "import", "lastfm", str(mine),
                                  "--listener", "me"])  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "1 of 2 artists, 67% of your plays, are known to the other 1 listener" in result.output
    stats = json.loads(runner.invoke(main, ["--db", str(db), "stats", "--json"]).output)
    assert stats["listeners_known"]["me"] == {
        "artists": 2, "known_artists": 1, "plays": 3, "known_plays": 2,
        "other_listeners": 1, "known_share_of_plays": 0.6667,
    }  # fmt: skip


def test_zip_exports_still_import_with_extra_files(store: Store, tmp_path: Path) -> None:
    rows = [lb_export_listen(utc("2024-05-01T12:00"), "Rancid", "Ruby Soho")]
    path = write_zip(
        tmp_path / "lb.zip",
        {"user.json": json.dumps({"user_id": 1, "username": "rob"}),
         "listens/2024/5.jsonl": jsonl(rows), "pinned_recording.jsonl": ""},
    )  # fmt: skip
    assert import_path(store, "listenbrainz", path).imported == 1


# -- a community's exports in one command ----------------------------------------------------


def _community_exports(tmp_path: Path) -> list[Path]:
    """Three listeners' ListenBrainz export zips, as an operator gathers them."""
    exports = []
    for n, user in enumerate(("ana", "bo", "cy")):
        rows = [
            lb_export_listen(utc("2024-05-01T12:00") + 600 * k, artist, f"Song {k}")
            for k, artist in enumerate(("Rancid", "Operation Ivy", f"Band of {user}"))
        ]
        exports.append(lb_export_zip(tmp_path / f"{n}-{user}.zip", user, rows))
    return exports


def test_several_exports_import_in_one_command_each_as_its_own_import(tmp_path: Path) -> None:
    db = tmp_path / "s.db"
    exports = _community_exports(tmp_path)
    result = CliRunner().invoke(
        main, ["--db", str(db), "import", "listenbrainz", *map(str, exports), "--json"]
    )
    assert result.exit_code == 0, result.output
    reports = json.loads(result.output)
    assert [r["listener"] for r in reports] == ["ana", "bo", "cy"]
    assert [r["imported"] for r in reports] == [3, 3, 3]
    assert [r["path"] for r in reports] == [str(p) for p in exports]
    # The second and third are told how much of their history the store already knows.
    assert reports[0]["community"] is None
    assert reports[2]["community"]["known_artists"] == 2
    assert reports[2]["community"]["other_listeners"] == 2
    with Store.open(db) as store:
        paths = [row[0] for row in store.conn.execute("SELECT path FROM imports ORDER BY id")]
        assert paths == [str(p) for p in exports]  # forget and export-data follow each one


def test_one_path_still_prints_its_report_as_an_object(tmp_path: Path) -> None:
    (export, *_) = _community_exports(tmp_path)
    result = CliRunner().invoke(
        main, ["--db", str(tmp_path / "s.db"), "import", "listenbrainz", str(export), "--json"]
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["listener"] == "ana"


def test_a_bad_export_stops_the_run_and_those_before_it_stay(tmp_path: Path) -> None:
    db = tmp_path / "s.db"
    first, second, third = _community_exports(tmp_path)
    second.write_bytes(b"PK\x03\x04 this zip was cut short")
    result = CliRunner().invoke(
        main, ["--db", str(db), "import", "listenbrainz", str(first), str(second), str(third)]
    )
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    assert f"{second}:" in result.output
    assert "the 1 of 3 paths before it landed and stay" in result.output
    with Store.open(db) as store:
        assert snapshot(store)["listens"] == 3  # ana's, whole; nothing of bo's or cy's
        names = [row[0] for row in store.conn.execute("SELECT name FROM listeners")]
        assert names == ["ana"]


def test_the_same_export_named_twice_is_refused_before_anything_lands(tmp_path: Path) -> None:
    db = tmp_path / "s.db"
    (export, *_) = _community_exports(tmp_path)
    result = CliRunner().invoke(
        main, ["--db", str(db), "import", "listenbrainz", str(export), str(export)]
    )
    assert result.exit_code == 1
    assert "is named more than once: name each export once" in result.output
    with Store.open(db) as store:
        assert snapshot(store)["listens"] == 0
