"""Stored playlists come back exactly as built; reasons render from their evidence."""

from __future__ import annotations

import pytest

from playlists import Playlist, PlaylistTrack, explain_playlist, save_playlist
from playlists.reasons import (
    DiscoveryEvidence,
    FamiliarEvidence,
    HeardWith,
    Route,
    SceneRef,
    Step,
    UnexpectedEvidence,
    iso,
    render,
)
from playlists.storage import UnknownPlaylist
from recommender.store import Store

DAY = 86_400
NOW = 1_700_000_000


def _seed(store: Store) -> None:
    conn = store.conn
    conn.execute("INSERT INTO listeners (id, name, created_at) VALUES (1, 'ana', 'x')")
    for aid, name in [(1, "Rancid"), (2, "Cock Sparrer"), (3, "The Specials")]:
        conn.execute("INSERT INTO artists (id, name, key) VALUES (?, ?, ?)", (aid, name, name))
    conn.execute(
        "INSERT INTO tracks (id, artist_id, title, key, duration_ms) VALUES (1, 1, 'Roots', 'r', 1)"
    )


def _playlist() -> Playlist:
    fam = FamiliarEvidence(
        artist="Rancid",
        artist_id=1,
        plays=42,
        first_played_at=iso(NOW - 90 * DAY),
        last_played_at=iso(NOW - 3 * DAY),
        track_plays=7,
        track_last_played_at=iso(NOW - 9 * DAY),
        recency_weight=20.5,
        half_life_days=60.0,
        as_of=iso(NOW),
    ).reason()
    disc = DiscoveryEvidence(
        artist="Cock Sparrer",
        artist_id=2,
        because_of=(HeardWith("Rancid", 1, 31),),
        scene=SceneRef(0, "street punk"),
        model_score=1.5,
        model_rank=4,
    ).reason()
    unexp = UnexpectedEvidence(
        artist="The Specials",
        artist_id=3,
        route=Route(
            home_scene=SceneRef(0, "street punk"),
            target_scene=SceneRef(1, "ska"),
            bridge=(Step("Rancid", 1), Step("The Specials", 3)),
            bridge_shared_listeners=(12,),
        ),
        model_score=0.9,
        model_rank=20,
    ).reason()
    tracks = (
        PlaylistTrack(1, 1, "Rancid", 1, "Roots", 1, "familiar", fam),
        PlaylistTrack(2, 3, "The Specials", None, None, None, "unexpected", unexp),
        PlaylistTrack(3, 2, "Cock Sparrer", None, None, None, "discovery", disc),
    )
    return Playlist(
        id="pl-test",
        listener="ana",
        created_at="2026-01-01T00:00:00+00:00",
        params={"length": 3, "surprise": 0.3},
        model_id="m1",
        personalised=True,
        terms={"excluded_tracks": 0},
        notes=("a note",),
        tracks=tracks,
    )


def test_save_and_explain_round_trip(store: Store) -> None:
    _seed(store)
    playlist = _playlist()
    save_playlist(store, playlist)
    again = explain_playlist(store, "pl-test")
    assert again == playlist
    assert again.count("unexpected") == 1


def test_unknown_playlist_names_the_fix(store: Store) -> None:
    with pytest.raises(UnknownPlaylist, match="tastemaker playlist"):
        explain_playlist(store, "nope")


def test_sentences_come_from_evidence() -> None:
    tracks = _playlist().tracks
    expected = "You played Rancid 42 times, last 3 days ago (this track 7 times)"
    assert tracks[0].reason.text == expected
    assert "Listeners who play Rancid also play Cock Sparrer (31 shared listeners)" in (
        tracks[2].reason.text
    )
    assert tracks[1].reason.text == (
        "A step outside your street punk into ska: The Specials shares 12 listeners with Rancid,"
        " one of yours"
    )
    for track in tracks:
        assert render(track.kind, dict(track.reason.evidence)) == track.reason.text
