from __future__ import annotations

import io
import json
from pathlib import Path
from unittest import mock

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from playlists.cli import main
from recommender.errors import ExportTooLarge, IngestError, UnsafeArchive
from recommender.sources import _common, import_path, listenbrainz
from recommender.store import Store
from tests.export_files import (
    BJORK_NFC,
    BJORK_NFD,
    MBID_BJORK,
    MBID_JOGA,
    declare_size,
    jsonl,
    lb_listen,
    snapshot,
    write_zip,
)

JANUARY = [
    lb_listen(1612101900, BJORK_NFC, "Jóga", "Homogenic", [MBID_BJORK], MBID_JOGA, 305000),
    lb_listen(1612101960.75, BJORK_NFD, "Hunter"),
    lb_listen(1612101900, BJORK_NFC, "Jóga", "Homogenic", [MBID_BJORK], MBID_JOGA, 305000),
    "not json",
    lb_listen(1612102000, "Sigur Rós", None),
    lb_listen("yesterday", "Sigur Rós", "Hoppípolla"),
    lb_listen(1612102100, "Sigur Rós feat. Björk", "Song", None, [MBID_BJORK, MBID_JOGA]),
]
OCTOBER = [
    lb_listen(1633046400, "The Beatles", "Help!"),
    lb_listen(1633046700, "Beatles, The", "Yesterday"),
]
FEEDBACK = [
    {"recording_mbid": MBID_JOGA, "recording_msid": None, "score": 1, "created": 1612101999},
    {"recording_mbid": MBID_JOGA, "recording_msid": None, "score": -1, "created": 1612102999},
    {"recording_mbid": MBID_JOGA, "recording_msid": None, "score": 0, "created": 1612103999},
    {"oops": True},
]


def _lines(rows: list[object]) -> str:
    return "".join((row if isinstance(row, str) else json.dumps(row)) + "\n" for row in rows)


def export_files() -> dict[str, bytes | str]:
    return {
        "user.json": json.dumps({"user_id": 42, "username": "rob"}, indent=2),
        "listens/2021/1.jsonl": _lines(JANUARY),
        "listens/2021/10.jsonl": _lines(OCTOBER),
        "feedback.jsonl": jsonl(FEEDBACK),
        "pinned_recording.jsonl": "",
    }


@pytest.fixture
def export_zip(tmp_path: Path) -> Path:
    return write_zip(tmp_path / "listenbrainz_rob.zip", export_files())


def test_export_zip_imports_with_exact_counts(store: Store, export_zip: Path) -> None:
    report = import_path(store, "listenbrainz", export_zip)
    assert (report.imported, report.duplicates, report.skipped, report.rejected) == (5, 1, 1, 4)
    assert report.listener == "rob"
    # The love and the hate are feedback (never listens); the withdrawn one is skipped.
    assert (report.feedback, report.feedback_pending) == (2, 0)
    assert report.skip_reasons == {listenbrainz.WITHDRAWN: 1}
    assert [r.location for r in report.rejects] == [
        "listens/2021/1.jsonl:4",
        "listens/2021/1.jsonl:5",
        "listens/2021/1.jsonl:6",
        "feedback.jsonl:4",
    ]
    assert report.notes == ["not read (not listens): pinned_recording.jsonl"]
    artists = store.conn.execute("SELECT name, mbid FROM artists ORDER BY name").fetchall()
    # NFC and NFD Björk are one artist shown as first seen; "Beatles, The" is The Beatles;
    # the two-artist credit keeps its own name and takes no MBID.
    assert artists == [
        (BJORK_NFC, MBID_BJORK),
        ("Sigur Rós feat. Björk", None),
        ("The Beatles", None),
    ]
    times = [r[0] for r in store.conn.execute("SELECT listened_at FROM listens ORDER BY 1")]
    assert times == [1612101900, 1612101960, 1612102100, 1633046400, 1633046700]
    track = store.conn.execute(
        "SELECT title, album, duration_ms, mbid FROM tracks WHERE title = 'Jóga'"
    ).fetchone()
    assert track == ("Jóga", "Homogenic", 305000, MBID_JOGA)
    assert store.conn.execute("SELECT name FROM listeners").fetchall() == [("rob",)]


def test_importing_the_same_export_twice_changes_nothing(store: Store, export_zip: Path) -> None:
    import_path(store, "listenbrainz", export_zip)
    before = snapshot(store)
    again = import_path(store, "listenbrainz", export_zip)
    assert (again.imported, again.duplicates) == (0, 6)
    after = snapshot(store)
    assert after == {**before, "imports": before["imports"] + 1}


def test_listener_option_wins_over_user_json(store: Store, export_zip: Path) -> None:
    report = import_path(store, "listenbrainz", export_zip, listener="robin")
    assert report.listener == "robin"
    assert store.conn.execute("SELECT name FROM listeners").fetchall() == [("robin",)]


def test_unpacked_folder_reads_like_the_zip(store: Store, tmp_path: Path) -> None:
    for name, content in export_files().items():
        target = tmp_path / "export" / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(content if isinstance(content, str) else content.decode())
    report = import_path(store, "listenbrainz", tmp_path / "export")
    assert (report.imported, report.duplicates, report.skipped, report.rejected) == (5, 1, 1, 4)
    assert report.feedback == 2


def test_bare_json_array_names_its_listener(store: Store, tmp_path: Path) -> None:
    rows = [dict(row, user_name="rob") for row in OCTOBER + JANUARY[:3]]
    path = tmp_path / "rob_lb-2021-11-01.json"
    path.write_text(json.dumps(rows, indent=2))
    report = import_path(store, "listenbrainz", path)
    assert (report.imported, report.duplicates, report.rejected, report.listener) == (
        4,
        1,
        0,
        "rob",
    )


def test_a_file_that_names_no_listener_needs_the_option(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "listens.jsonl"
    path.write_text(jsonl(OCTOBER))
    with pytest.raises(IngestError, match="--listener NAME"):
        import_path(store, "listenbrainz", path)
    assert snapshot(store)["listens"] == 0
    assert import_path(store, "listenbrainz", path, listener="rob").imported == 2


def test_zip_without_listens_is_refused(store: Store, tmp_path: Path) -> None:
    path = write_zip(tmp_path / "x.zip", {"user.json": "{}", "notes.txt": "hi"})
    with pytest.raises(IngestError, match="no listens/YYYY/M.jsonl"):
        import_path(store, "listenbrainz", path)


def test_zip_with_more_than_1000_files_is_refused(store: Store, tmp_path: Path) -> None:
    files: dict[str, bytes | str] = {f"listens/2021/{n}.jsonl": "" for n in range(1001)}
    path = write_zip(tmp_path / "many.zip", files)
    with pytest.raises(UnsafeArchive, match="1,001 files"):
        import_path(store, "listenbrainz", path, listener="rob")
    assert snapshot(store)["imports"] == 0


def test_zip_member_declaring_more_than_1_gib_is_refused(store: Store, tmp_path: Path) -> None:
    path = write_zip(tmp_path / "big.zip", export_files())
    declare_size(path, "listens/2021/10.jsonl", (1 << 30) + 1)
    with pytest.raises(ExportTooLarge, match="listens/2021/10.jsonl"):
        import_path(store, "listenbrainz", path)
    assert snapshot(store)["listens"] == 0


def test_zip_path_leading_outside_is_refused(store: Store, tmp_path: Path) -> None:
    path = write_zip(tmp_path / "evil.zip", {"../listens/2021/1.jsonl": jsonl(OCTOBER)})
    with pytest.raises(UnsafeArchive, match="outside the archive"):
        import_path(store, "listenbrainz", path, listener="rob")


def test_actual_unpacked_bytes_are_capped_whatever_the_header_says() -> None:
    stream = io.BufferedReader(_common.CappedStream(io.BytesIO(b"x" * 5000), "m.jsonl", 4096))
    with pytest.raises(ExportTooLarge, match="more than 4,096 bytes"):
        stream.read()


def test_latin1_file_gets_an_error_naming_the_fix(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "listens.jsonl"
    path.write_bytes(jsonl([lb_listen(1633046400, "Motörhead", "Ace of Spades")]).encode("latin-1"))
    with pytest.raises(IngestError, match="pass --encoding latin-1"):
        import_path(store, "listenbrainz", path, listener="rob")
    report = import_path(store, "listenbrainz", path, listener="rob", encoding="latin-1")
    assert report.imported == 1
    assert store.conn.execute("SELECT name FROM artists").fetchall() == [("Motörhead",)]


def test_unknown_encoding_says_how_to_name_one(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "listens.jsonl"
    path.write_text(jsonl(OCTOBER))
    with pytest.raises(IngestError, match="e.g. --encoding latin-1"):
        import_path(store, "listenbrainz", path, listener="rob", encoding="klingon")


def test_cut_short_json_array_leaves_the_store_untouched(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "listens.json"
    path.write_text(json.dumps(OCTOBER)[:-40])
    with pytest.raises(IngestError, match="cut short"):
        import_path(store, "listenbrainz", path, listener="rob")
    assert snapshot(store) == {k: 0 for k in snapshot(store)}


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=12,
)


@settings(max_examples=60, deadline=None)
@given(items=st.lists(json_values, max_size=8), indent=st.sampled_from([None, 1]))
def test_array_items_match_json_loads_across_chunk_boundaries(
    tmp_path_factory: pytest.TempPathFactory, items: list[object], indent: int | None
) -> None:
    path = tmp_path_factory.mktemp("array") / "a.json"
    path.write_text(json.dumps(items, indent=indent, ensure_ascii=False), encoding="utf-8")
    with mock.patch.object(_common, "CHUNK", 7), _common.open_export(path) as files:
        parsed = [value for _, value in _common.json_items(files[0], "utf-8")]
    assert parsed == items


def test_cli_prints_counts_rejects_and_the_listener(tmp_path: Path, export_zip: Path) -> None:
    db = tmp_path / "cli.db"
    result = CliRunner().invoke(main, ["--db", str(db), "import", "listenbrainz", str(export_zip)])
    assert result.exit_code == 0, result.output
    assert "5 imported, 1 duplicate, 1 skipped, 4 rejected; 2 feedback" in result.output
    assert "rejected listens/2021/1.jsonl:4: not valid JSON" in result.output
    assert "listener: rob (named by the export)" in result.output


def test_cli_turns_a_refused_zip_into_one_error_line(tmp_path: Path) -> None:
    path = write_zip(tmp_path / "evil.zip", {"/etc/listens.jsonl": "{}"})
    result = CliRunner().invoke(
        main, ["--db", str(tmp_path / "cli.db"), "import", "listenbrainz", str(path)]
    )
    assert result.exit_code == 1
    assert result.output.startswith("Error: ") and "Traceback" not in result.output


def test_a_file_of_garbage_lists_the_first_thousand_rejects_and_counts_all(
    store: Store, tmp_path: Path
) -> None:
    path = tmp_path / "listens.jsonl"
    path.write_text("{}\n" * 1500 + jsonl(OCTOBER[:1]))
    report = import_path(store, "listenbrainz", path, listener="rob")
    assert (report.imported, report.rejected, len(report.rejects)) == (1, 1500, 1000)
    assert report.rejects[-1].location == "listens.jsonl:1000"


def test_import_help_names_the_personal_formats_and_encoding() -> None:
    result = CliRunner().invoke(main, ["import", "--help"])
    assert result.exit_code == 0
    for word in ("listenbrainz", "spotify", "lastfm", "--encoding", "--listener"):
        assert word in result.output
