from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from recommender.errors import IngestError, UnknownLayout
from recommender.sources import import_path, lastfm
from recommender.store import Store
from tests.export_files import BJORK_NFC, BJORK_NFD, MBID_BJORK, MBID_JOGA, instants, snapshot


def utc(text: str) -> int:
    return int(datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp())


# lastfm-to-csv: no header, artist,album,track,date with UTC dates like "31 Jan 2021 14:05".
HEADERLESS = f'''"{BJORK_NFC}","Homogenic","Jóga","31 Jan 2021 14:05"
{BJORK_NFD},Homogenic,Hunter,"31 Jan 2021 14:10"
"{BJORK_NFC}","Homogenic","Jóga","31 Jan 2021 14:05"
"The Beatles","Help!","Help!","01 Feb 2021 09:00"
"Beatles, The","Help!","Yesterday","01 Feb 2021 09:03"
"Broken","row"
"Sigur Rós","Takk","Hoppípolla",""
"Sigur Rós","Takk","Glósóli","32 Jan 2021 10:00"
"Sigur Rós","","Sæglópur","01 Feb 2021 10:00"
'''

# mainstream.ghan.nl: a header, Unix seconds in uts, the text time, MusicBrainz ids.
HEADERED = f"""uts,utc_time,artist,artist_mbid,album,album_mbid,track,track_mbid
1612101900,"31 Jan 2021, 14:05",{BJORK_NFC},{MBID_BJORK},Homogenic,,Jóga,{MBID_JOGA}
1612102200,"31 Jan 2021, 14:10",{BJORK_NFD},,Homogenic,,Hunter,
,"31 Jan 2021, 14:20",{BJORK_NFC},,Homogenic,,Bachelorette,
abc,"31 Jan 2021, 14:30",{BJORK_NFC},,Homogenic,,Alarm Call,
1612101900,"31 Jan 2021, 14:05",{BJORK_NFC},{MBID_BJORK},Homogenic,,Jóga,{MBID_JOGA}
"""

SCROBBLER_LOG = (
    "#AUDIOSCROBBLER/1.1\n#TZ/UTC\n#CLIENT/Rockbox sansa $Revision$\n"
    f"{BJORK_NFC}\tHomogenic\tJóga\t3\t305\tL\t1612101900\t{MBID_JOGA}\n"
    f"{BJORK_NFD}\tHomogenic\tHunter\t1\t255\tS\t1612102300\t\n"
    "The Beatles\tHelp!\tHelp!\t1\t138\tL\t1612200000\n"
    "a line that is not tab separated\n"
    "Sigur Rós\tTakk\tGlósóli\t2\t375\tX\t1612200500\t\n"
)


def write(tmp_path: Path, name: str, text: str, encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def test_headerless_csv_with_exact_counts(store: Store, tmp_path: Path) -> None:
    report = import_path(store, "lastfm", write(tmp_path, "scrobbles.csv", HEADERLESS), "rob")
    assert (report.imported, report.duplicates, report.skipped, report.rejected) == (5, 1, 1, 2)
    assert report.skip_reasons == {lastfm.NOW_PLAYING: 1}  # line 7: no date
    assert [(r.location, r.reason) for r in report.rejects] == [
        ("scrobbles.csv:6", "expected 4 fields, got 2"),
        ("scrobbles.csv:8", "the time is not a UTC date between 1990 and 2100"),
    ]
    assert instants(store) == [
        utc("2021-01-31T14:05"),
        utc("2021-01-31T14:10"),
        utc("2021-02-01T09:00"),
        utc("2021-02-01T09:03"),
        utc("2021-02-01T10:00"),
    ]
    artists = [r[0] for r in store.conn.execute("SELECT name FROM artists ORDER BY name")]
    assert artists == [BJORK_NFC, "Sigur Rós", "The Beatles"]
    assert store.conn.execute("SELECT album FROM tracks WHERE title = 'Sæglópur'").fetchone() == (
        None,
    )


def test_headered_csv_prefers_uts_and_keeps_mbids(store: Store, tmp_path: Path) -> None:
    report = import_path(store, "lastfm", write(tmp_path, "scrobbles-rob.csv", HEADERED), "rob")
    assert (report.imported, report.duplicates, report.skipped, report.rejected) == (3, 1, 0, 1)
    assert report.rejects[0].location == "scrobbles-rob.csv:5"  # line 4 has utc_time
    assert instants(store) == [1612101900, 1612102200, utc("2021-01-31T14:20")]
    assert store.conn.execute("SELECT name, mbid FROM artists").fetchall() == [
        (BJORK_NFC, MBID_BJORK)
    ]
    assert store.conn.execute("SELECT mbid FROM tracks WHERE title = 'Jóga'").fetchone() == (
        MBID_JOGA,
    )


def test_semicolon_csv_with_other_header_names_and_crlf(store: Store, tmp_path: Path) -> None:
    text = "Artist;Album;Track name;Date\r\nThe Beatles;Help!;Help!;01 Feb 2021 09:00\r\n"
    report = import_path(store, "lastfm", write(tmp_path, "export.csv", text), "rob")
    assert (report.imported, report.rejected) == (1, 0)
    assert instants(store) == [utc("2021-02-01T09:00")]


def test_millisecond_uts_and_excel_byte_order_mark(store: Store, tmp_path: Path) -> None:
    text = "\ufeffuts,artist,album,track\n1612101900000,The Beatles,Help!,Help!\n"
    report = import_path(store, "lastfm", write(tmp_path, "export.csv", text), "rob")
    assert (report.imported, report.rejected) == (1, 0)
    assert instants(store) == [1612101900]


def test_same_scrobbles_from_two_exporters_are_one_set_of_listens(
    store: Store, tmp_path: Path
) -> None:
    import_path(store, "lastfm", write(tmp_path, "a.csv", HEADERLESS), "rob")
    text = f"uts,artist,album,track\n{utc('2021-02-01T09:00')},The Beatles,Help!,Help!\n"
    again = import_path(store, "lastfm", write(tmp_path, "b.csv", text), "rob")
    assert (again.imported, again.duplicates) == (0, 1)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("foo,bar\n1,2\n", "unrecognised Last.fm CSV layout"),
        ("artist,album,track\nA,B,C\n", "no time column"),
        ("The Beatles,Help!,Help!,yesterday\n", "unrecognised Last.fm CSV layout"),
    ],
)
def test_unrecognised_layout_says_what_was_expected(
    store: Store, tmp_path: Path, text: str, message: str
) -> None:
    with pytest.raises(UnknownLayout, match=message):
        import_path(store, "lastfm", write(tmp_path, "x.csv", text), "rob")
    assert snapshot(store)["imports"] == 0


def test_scrobbler_log_with_exact_counts(store: Store, tmp_path: Path) -> None:
    report = import_path(store, "lastfm", write(tmp_path, ".scrobbler.log", SCROBBLER_LOG), "rob")
    assert (report.imported, report.duplicates, report.skipped, report.rejected) == (2, 0, 1, 2)
    assert report.skip_reasons == {lastfm.PLAYER_SKIP: 1}
    assert [r.location for r in report.rejects] == [".scrobbler.log:7", ".scrobbler.log:8"]
    assert report.notes == []
    assert instants(store) == [1612101900, 1612200000]
    assert store.conn.execute(
        "SELECT duration_ms, mbid FROM tracks WHERE title = 'Jóga'"
    ).fetchone() == (305_000, MBID_JOGA)


def test_scrobbler_log_of_unknown_time_zone_is_noted(store: Store, tmp_path: Path) -> None:
    text = SCROBBLER_LOG.replace("#TZ/UTC", "#TZ/UNKNOWN")
    report = import_path(store, "lastfm", write(tmp_path, ".scrobbler.log", text), "rob")
    assert report.imported == 2
    assert len(report.notes) == 1 and "#TZ/UNKNOWN" in report.notes[0]


def test_latin1_csv_gets_an_error_naming_the_fix(store: Store, tmp_path: Path) -> None:
    path = write(tmp_path, "scrobbles.csv", HEADERLESS.replace(BJORK_NFD, BJORK_NFC), "latin-1")
    with pytest.raises(IngestError, match=r"scrobbles.csv:1 is not UTF-8 .* --encoding latin-1"):
        import_path(store, "lastfm", path, "rob")
    assert snapshot(store)["listens"] == 0
    report = import_path(store, "lastfm", path, "rob", encoding="latin-1")
    assert report.imported == 5
    assert BJORK_NFC in [r[0] for r in store.conn.execute("SELECT name FROM artists")]


def test_utf16_file_is_recognised_as_such(store: Store, tmp_path: Path) -> None:
    path = write(tmp_path, "scrobbles.csv", HEADERLESS, "utf-16")
    with pytest.raises(IngestError, match="--encoding utf-16"):
        import_path(store, "lastfm", path, "rob")
    assert import_path(store, "lastfm", path, "rob", encoding="utf-16").imported == 5


def test_a_folder_is_not_a_lastfm_export(store: Store, tmp_path: Path) -> None:
    with pytest.raises(IngestError, match="reads one scrobble CSV"):
        import_path(store, "lastfm", tmp_path, "rob")
