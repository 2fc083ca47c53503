"""The music folder: real FLAC and Ogg files (sox, tags by mutagen) scanned, matched to tracks
by MBID then name keys, rescanned incrementally (moves and deletions noticed), and located."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from recommender.errors import LibraryError
from recommender.ingest.records import Listen, Track
from recommender.ingest.writer import import_records
from recommender.library import (
    FileTags,
    library_status,
    locate_tracks,
    playable_tracks,
    read_tags,
    remove_folder,
    rescan,
    scan_folder,
)
from recommender.store import Store
from tests.audio_files import ARTIST_MBID, MBID_A, MBID_B, MBID_C, RELEASE, tagged, tone

pytestmark = pytest.mark.usefixtures("templates")


@pytest.fixture(scope="module")
def templates(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("tones")
    return {".flac": tone(folder, ".flac"), ".ogg": tone(folder, ".ogg")}


def _catalogue(store: Store) -> dict[str, int]:
    """Tracks as readers leave them: one with a recording MBID, some known by name only."""
    import_records(
        store,
        "listenbrainz",
        Path("catalogue.json"),
        [
            Track("Rancid", "Roots Radicals", album="...And Out Come the Wolves", mbid=MBID_A),
            Track("Operation Ivy", "Knowledge"),
            Track("The Slackers", "Wasted Days"),
            Track("Sonic Youth", "Teen Age Riot", mbid=MBID_C),
            Listen("Rancid", listener="ana", title="Roots Radicals", listened_at=1_700_000_000),
        ],
    )
    return {str(title): int(i) for i, title in store.conn.execute("SELECT id, title FROM tracks")}


def _music(root: Path, templates: dict[str, Path]) -> dict[str, Path]:
    return {
        # Tagged by Picard: the recording MBID wins over the (misspelt) names.
        "mbid": tagged(
            templates[".flac"],
            root / "Rancid" / "Wolves" / "03 Roots & Radicals #1 100%.flac",
            {
                "artist": "Rancld",
                "title": "Roots Radicals (single)",
                "album": "Wolves",
                "tracknumber": "3/19",
                "musicbrainz_trackid": MBID_A.upper(),
                "musicbrainz_albumid": RELEASE,
                "musicbrainz_artistid": ARTIST_MBID,
            },
        ),
        "artist": tagged(
            templates[".ogg"],
            root / "Operation Ivy" / "Énergie" / "01 Knowledge.ogg",
            {"artist": "operation ivy", "title": "KNOWLEDGE", "album": "Énergie"},
        ),
        "album_artist": tagged(
            templates[".flac"],
            root / "Compilations" / "Ska" / "07 Wasted Days.flac",
            {"artist": "Various", "albumartist": "Slackers, The", "title": "Wasted Days"},
        ),
        # Same title, another recording: a name match would be wrong.
        "other_recording": tagged(
            templates[".ogg"],
            root / "Sonic Youth" / "Teen Age Riot (live).ogg",
            {"artist": "Sonic Youth", "title": "Teen Age Riot", "musicbrainz_trackid": MBID_B},
        ),
        "unknown": tagged(
            templates[".ogg"],
            root / "Nobody" / "Song.ogg",
            {"artist": "Nobody", "title": "Song"},
        ),
    }


def _broken(root: Path) -> Path:
    path = root / "broken" / "not really.mp3"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"this is not audio" * 20)
    return path


def test_tags_are_read_from_real_flac_and_ogg(tmp_path: Path, templates: dict[str, Path]) -> None:
    files = _music(tmp_path, templates)
    tags = read_tags(str(files["mbid"]))
    assert tags == FileTags(
        artist="Rancld",
        album_artist=None,
        album="Wolves",
        title="Roots Radicals (single)",
        track_number=3,
        duration_ms=300,
        recording_mbid=MBID_A,
        release_mbid=RELEASE,
        artist_mbid=ARTIST_MBID,
    )
    assert read_tags(str(files["artist"])).album == "Énergie"


def test_scan_matches_by_mbid_then_names(store: Store, tmp_path: Path, templates: dict) -> None:
    ids = _catalogue(store)
    files = _music(tmp_path / "Music", templates)
    report = scan_folder(store, tmp_path / "Music")
    assert (report.files, report.read, report.unreadable) == (5, 5, 0)
    assert report.newly_matched == report.matched == 3
    rows = {
        Path(p).name: (t, by)
        for p, t, by in store.conn.execute("SELECT path, track_id, matched_by FROM library_files")
    }
    assert rows[files["mbid"].name] == (ids["Roots Radicals"], "mbid")
    assert rows[files["artist"].name] == (ids["Knowledge"], "artist")
    assert rows[files["album_artist"].name] == (ids["Wasted Days"], "album_artist")
    assert rows[files["other_recording"].name] == (None, None)
    assert rows[files["unknown"].name] == (None, None)


def test_unreadable_files_are_listed_not_raised(store: Store, tmp_path: Path) -> None:
    broken = _broken(tmp_path)
    (tmp_path / "notes.txt").write_text("not an audio suffix: ignored")
    report = scan_folder(store, tmp_path)
    assert (report.files, report.unreadable) == (1, 1)
    status = library_status(store)
    assert status.files == 1 and status.matched_files == 0 and status.unmatched == 0
    assert [u.path for u in status.unreadable] == [str(broken.resolve())]
    assert "not a readable audio file" in status.unreadable[0].error


def test_status_counts(store: Store, tmp_path: Path, templates: dict) -> None:
    _catalogue(store)
    _music(tmp_path, templates)
    _broken(tmp_path)
    scan_folder(store, tmp_path)
    status = library_status(store)
    assert status.folders == (str(tmp_path.resolve()),)
    assert (status.files, status.matched_files, status.matched_tracks) == (6, 3, 3)
    assert dict(status.matched_by) == {"album_artist": 1, "artist": 1, "mbid": 1}
    assert status.unmatched == 2 and len(status.unreadable) == 1
    assert status.as_dict()["unreadable"][0]["path"].endswith("not really.mp3")


def _counting_reader(calls: list[str]):  # type: ignore[no-untyped-def]
    def reader(path: str) -> FileTags:
        calls.append(path)
        return read_tags(path)

    return reader


def test_rescan_reads_only_what_changed(store: Store, tmp_path: Path, templates: dict) -> None:
    ids = _catalogue(store)
    files = _music(tmp_path, templates)
    _broken(tmp_path)
    scan_folder(store, tmp_path)
    calls: list[str] = []
    again = scan_folder(store, tmp_path, reader=_counting_reader(calls))
    assert calls == [] and again.unchanged == 6 and again.read == 0

    # Retagged: read again and matched again (now by its MBID).
    tagged(files["unknown"], files["unknown"], {"musicbrainz_trackid": MBID_C, "title": "x"})
    os.utime(files["unknown"], ns=(1, 1))
    third = scan_folder(store, tmp_path, reader=_counting_reader(calls))
    assert calls == [str(files["unknown"].resolve())] and third.read == 1
    assert third.newly_matched == 1
    assert locate_tracks(store, [ids["Teen Age Riot"]])[ids["Teen Age Riot"]].file == str(
        files["unknown"].resolve()
    )


def test_moved_and_deleted_files(store: Store, tmp_path: Path, templates: dict) -> None:
    ids = _catalogue(store)
    files = _music(tmp_path, templates)
    scan_folder(store, tmp_path)
    moved = tmp_path / "Renamed" / "Knowledge (remaster).ogg"
    moved.parent.mkdir()
    files["artist"].rename(moved)
    files["unknown"].unlink()
    calls: list[str] = []
    report = scan_folder(store, tmp_path, reader=_counting_reader(calls))
    assert (report.moved, report.deleted, report.read) == (1, 1, 0) and calls == []
    assert report.files == 4 and library_status(store).files == 4
    assert locate_tracks(store, [ids["Knowledge"]])[ids["Knowledge"]].file == str(moved.resolve())


def test_tracks_imported_later_are_matched_at_the_next_scan(
    store: Store, tmp_path: Path, templates: dict
) -> None:
    _music(tmp_path, templates)
    assert scan_folder(store, tmp_path).matched == 0
    _catalogue(store)
    (report,) = rescan(store)
    assert report.newly_matched == 3 and report.read == 0


def test_locations_of_a_track(store: Store, tmp_path: Path, templates: dict) -> None:
    ids = _catalogue(store)
    files = _music(tmp_path, templates)
    # A second, name-matched copy: the MBID match is preferred, whatever the paths.
    tagged(templates[".ogg"], tmp_path / "A copy.ogg", {"artist": "Rancid", "title": "x"})
    scan_folder(store, tmp_path)
    store.conn.execute(
        "UPDATE tracks SET spotify_uri = 'spotify:track:4uLU6hMCjMI75M1A2tKUQC', isrc = 'X1'"
        " WHERE id = ?",
        (ids["Roots Radicals"],),
    )
    located = locate_tracks(store, [*ids.values(), 99_999])
    assert 99_999 not in located
    roots = located[ids["Roots Radicals"]]
    assert roots.file == str(files["mbid"].resolve())
    assert (roots.album, roots.track_number, roots.release_mbid) == ("Wolves", 3, RELEASE)
    assert (roots.recording_mbid, roots.artist_mbid, roots.isrc) == (MBID_A, ARTIST_MBID, "X1")
    assert roots.kinds == ("local", "spotify", "musicbrainz")
    assert roots.spotify_url == "https://open.spotify.com/track/4uLU6hMCjMI75M1A2tKUQC"
    # The file's album has no track number; the store's album stays with no number.
    knowledge = located[ids["Knowledge"]]
    assert knowledge.kinds == ("local",) and knowledge.album == "Énergie"
    assert knowledge.track_number is None
    riot = located[ids["Teen Age Riot"]]
    assert riot.file is None and riot.kinds == ("musicbrainz",)
    assert riot.resolves_to("musicbrainz") and riot.resolves_to("any")
    assert not riot.resolves_to("local") and riot.resolves_to("off")
    # A file deleted since the scan is no location.
    files["artist"].unlink()
    assert locate_tracks(store, [ids["Knowledge"]])[ids["Knowledge"]].kinds == ()


def test_folder_errors_say_what_to_do(store: Store, tmp_path: Path, templates: dict) -> None:
    with pytest.raises(LibraryError, match="not a folder"):
        scan_folder(store, tmp_path / "missing")
    with pytest.raises(LibraryError, match="library add PATH"):
        rescan(store)
    music = tmp_path / "Music"
    _music(music, templates)
    scan_folder(store, music)
    music.rename(tmp_path / "Elsewhere")
    with pytest.raises(LibraryError, match="library remove"):
        rescan(store)
    assert library_status(store).files == 5  # nothing deleted for an unmounted drive
    assert remove_folder(store, music.resolve()) == 5
    assert library_status(store).files == 0
    with pytest.raises(LibraryError, match="no file"):
        remove_folder(store, music)


def test_progress_on_long_scans(
    store: Store, tmp_path: Path, templates: dict, monkeypatch: pytest.MonkeyPatch
) -> None:
    import recommender.library as library

    monkeypatch.setattr(library, "PROGRESS_EVERY", 2)
    _music(tmp_path, templates)
    seen: list[tuple[str, int, int]] = []
    scan_folder(store, tmp_path, progress=lambda *a: seen.append(a))
    assert ("listed", 2, 0) in seen and ("read", 4, 5) in seen


def test_the_bulk_playable_set_follows_the_locations_rule(
    store: Store, tmp_path: Path, templates: dict
) -> None:
    ids = _catalogue(store)
    files = _music(tmp_path, templates)
    # A track with no MBID whose (name-matched) file carries one; a file deleted after the scan.
    tagged(
        templates[".ogg"],
        tmp_path / "Ivy.ogg",
        {"artist": "Operation Ivy", "title": "Knowledge", "musicbrainz_trackid": MBID_B},
    )
    scan_folder(store, tmp_path)
    files["album_artist"].unlink()
    store.conn.execute(
        "UPDATE tracks SET spotify_uri = 'spotify:track:x' WHERE id = ?", (ids["Wasted Days"],)
    )
    located = locate_tracks(store, ids.values())
    assert located[ids["Knowledge"]].recording_mbid == MBID_B
    assert playable_tracks(store, "off") is None
    for kind in ("local", "spotify", "musicbrainz", "any"):
        chosen = playable_tracks(store, kind)
        assert chosen is not None and chosen.playable == kind
        expected = {t for t, where in located.items() if where.resolves_to(kind)}
        assert chosen.tracks == expected, kind
        artists = store.rows_in("tracks", "id", sorted(expected), select="artist_id")
        assert chosen.artists == {int(r["artist_id"]) for r in artists}
    assert playable_tracks(store, "local").tracks == {  # type: ignore[union-attr]
        ids["Roots Radicals"],
        ids["Knowledge"],
    }


def test_only_the_library_module_reads_and_writes_its_table() -> None:
    root = Path(__file__).resolve().parent.parent
    owners = {"recommender/library.py", "recommender/store.py"}  # store.py: the schema step
    naming = [
        str(p.relative_to(root))
        for package in ("recommender", "playlists", "bench")
        for p in (root / package).rglob("*.py")
        if "library_files" in p.read_text(encoding="utf-8")
    ]
    assert set(naming) <= owners, naming
