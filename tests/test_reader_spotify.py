from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from recommender.errors import IngestError
from recommender.sources import import_path, spotify
from recommender.sources._common import SHORT_PLAY
from recommender.store import Store
from tests.export_files import BJORK_NFC, BJORK_NFD, instants, snapshot, write_zip

FOLDER = "Spotify Extended Streaming History"
# What Spotify writes about the listener's device and connection: none of it may be stored.
PRIVATE = {
    "username": "rob-spotify-7",
    "platform": "Android OS 12 API 31 (Google, Pixel 6)",
    "conn_country": "NZ",
    "ip_addr_decrypted": "203.0.113.77",
    "user_agent_decrypted": "Mozilla/5.0 (test agent)",
}


def utc(text: str) -> int:
    return int(datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp())


def row(
    ts: object,
    ms: object,
    track: str | None,
    artist: str | None,
    album: str | None = None,
    *,
    incognito: bool = False,
    episode: str | None = None,
    skipped: bool | None = None,
) -> dict[str, object]:
    """One Extended Streaming History row with every field Spotify writes."""
    return {
        "ts": ts,
        **PRIVATE,
        "ms_played": ms,
        "master_metadata_track_name": track,
        "master_metadata_album_artist_name": artist,
        "master_metadata_album_album_name": album,
        "spotify_track_uri": None if track is None else "spotify:track:3n3Ppam7vgaVa1iaRUc9Lp",
        "episode_name": episode,
        "episode_show_name": None if episode is None else "A Show",
        "spotify_episode_uri": None
        if episode is None
        else "spotify:episode:5Xt5DXGzch68nYYamXrNxZ",
        "reason_start": "trackdone",
        "reason_end": "endplay" if skipped else "trackdone",
        "shuffle": False,
        "skipped": skipped,
        "offline": False,
        "offline_timestamp": 0,
        "incognito_mode": incognito,
    }


FIRST = [
    row("2021-03-04T12:34:56Z", 200_000, "Jóga", BJORK_NFC, "Homogenic"),
    row("2021-03-04T12:35:10Z", 12_000, "Jóga", BJORK_NFC, "Homogenic"),
    row("2021-03-04T13:00:00Z", 240_000, "Hunter", BJORK_NFC, incognito=True),
    row("2021-03-04T14:00:00Z", 1_800_000, None, None, episode="Episode 1"),
    row("2021-03-04T15:00:00Z", "abc", "Hunter", BJORK_NFC),
    row("yesterday", 200_000, "Hunter", BJORK_NFC),
    row("2021-03-04T12:34:56Z", 200_000, "Jóga", BJORK_NFC, "Homogenic"),
    row("2021-03-04T16:00:30Z", 30_000, "Hunter", BJORK_NFD),
    row("2021-03-04T16:10:00Z", 29_999, "Hunter", BJORK_NFD),
    row("2021-03-04T17:00:00Z", 100_000, None, None),
    [],  # type: ignore[list-item]
]
SECOND = [
    row("2022-01-02T10:00:00Z", 180_500, "Help!", "The Beatles", "Help!"),
    row("2022-01-02T10:05:00Z", 150_000, "Yesterday", "Beatles, The", skipped=True),
]


def export_files() -> dict[str, bytes | str]:
    return {
        f"{FOLDER}/Streaming_History_Audio_2021_0.json": json.dumps(FIRST, indent=2),
        f"{FOLDER}/Streaming_History_Audio_2022_1.json": json.dumps(SECOND),
        f"{FOLDER}/ReadMeFirst_ExtendedStreamingHistory.pdf": b"%PDF-1.4",
    }


@pytest.fixture
def extended_zip(tmp_path: Path) -> Path:
    return write_zip(tmp_path / "my_spotify_data.zip", export_files())


def test_extended_history_zip_imports_with_exact_counts(store: Store, extended_zip: Path) -> None:
    report = import_path(store, "spotify", extended_zip, listener="rob")
    assert (report.imported, report.duplicates, report.skipped, report.rejected) == (4, 1, 5, 3)
    assert report.skip_reasons == {
        SHORT_PLAY: 2,
        spotify.INCOGNITO: 1,
        spotify.PODCAST: 1,
        spotify.NO_TRACK: 1,
    }
    name = f"{FOLDER}/Streaming_History_Audio_2021_0.json"
    assert [r.location for r in report.rejects] == [
        f"{name} item 5",
        f"{name} item 6",
        f"{name} item 11",
    ]
    assert report.notes == ["read 2 of 3 files (the streaming history)"]
    # Stored at the start of the play: ts (the end) minus ms_played, rounded down.
    assert instants(store) == [
        utc("2021-03-04T12:31:36"),
        utc("2021-03-04T16:00:00"),
        utc("2022-01-02T09:56:59"),
        utc("2022-01-02T10:02:30"),
    ]
    artists = [r[0] for r in store.conn.execute("SELECT name FROM artists ORDER BY name")]
    assert artists == [BJORK_NFC, "The Beatles"]
    assert store.conn.execute("SELECT sum(ms_played) FROM listens").fetchone()[0] == 560_500


def test_device_and_connection_details_are_never_stored(
    file_store: Store, extended_zip: Path
) -> None:
    import_path(file_store, "spotify", extended_zip, listener="rob")
    dump = "\n".join(file_store.conn.iterdump())
    for value in PRIVATE.values():
        assert value not in dump


def test_importing_twice_changes_nothing(store: Store, extended_zip: Path) -> None:
    import_path(store, "spotify", extended_zip, listener="rob")
    before = snapshot(store)
    again = import_path(store, "spotify", extended_zip, listener="rob")
    assert (again.imported, again.duplicates) == (0, 5)
    assert snapshot(store) == {**before, "imports": before["imports"] + 1}


def test_one_bare_history_file_imports(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "endsong_0.json"
    path.write_text(json.dumps(SECOND))
    report = import_path(store, "spotify", path, listener="rob")
    assert (report.imported, report.rejected) == (2, 0)


def test_account_data_history_with_its_podcast_file(store: Store, tmp_path: Path) -> None:
    music = [
        {
            "endTime": "2021-03-04 12:38",
            "artistName": BJORK_NFC,
            "trackName": "Jóga",
            "msPlayed": 200_000,
        },
        {
            "endTime": "2021-03-04 12:39",
            "artistName": BJORK_NFD,
            "trackName": "Hunter",
            "msPlayed": 5_000,
        },
        {"endTime": "04/03/2021 12:40", "artistName": "X", "trackName": "Y", "msPlayed": 40_000},
        {"endTime": "2021-03-04 12:41", "artistName": "", "trackName": "Y", "msPlayed": 40_000},
    ]
    podcasts = [
        {
            "endTime": "2021-03-05 08:00",
            "podcastName": "A Show",
            "episodeName": "Episode 1",
            "msPlayed": 1_800_000,
        },
    ]
    path = write_zip(
        tmp_path / "my_spotify_data.zip",
        {
            "MyData/StreamingHistory_music_0.json": json.dumps(music),
            "MyData/StreamingHistory_podcast_0.json": json.dumps(podcasts),
            "MyData/Userdata.json": json.dumps({"username": "x", "email": "x@example.org"}),
        },
    )
    report = import_path(store, "spotify", path, listener="rob")
    assert (report.imported, report.duplicates, report.skipped, report.rejected) == (1, 0, 3, 1)
    assert report.skip_reasons == {SHORT_PLAY: 1, spotify.PODCAST: 1, spotify.NO_TRACK: 1}
    assert instants(store) == [utc("2021-03-04T12:34:40")]
    assert "x@example.org" not in "\n".join(store.conn.iterdump())


def test_zip_without_streaming_history_is_refused(store: Store, tmp_path: Path) -> None:
    path = write_zip(tmp_path / "my_spotify_data.zip", {"MyData/Userdata.json": "{}"})
    with pytest.raises(IngestError, match="no Streaming_History_Audio"):
        import_path(store, "spotify", path, listener="rob")


def test_spotify_history_needs_a_listener(store: Store, extended_zip: Path) -> None:
    with pytest.raises(IngestError, match="--listener NAME"):
        import_path(store, "spotify", extended_zip)
    assert snapshot(store)["listens"] == 0
