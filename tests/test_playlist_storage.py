"""Stored playlists come back exactly as built; reasons render from their evidence."""

from __future__ import annotations

import json

import pytest

from playlists import Playlist, PlaylistTrack, explain_playlist, save_playlist, storage
from playlists.errors import UnknownPlaylist, UnknownPosition
from playlists.quality import playlist_quality
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
from playlists.review import record_verdict
from playlists.storage import Judgement, Subject
from recommender.store import Store
from tests.review_fixtures import save_rows, track_id, unexpected, world_with_playlist

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


# The rest of the table group: heads, entries, verdicts, and a listener's playlists ---------


def test_one_unknown_playlist_error_names_both_ways_on(store: Store) -> None:
    with pytest.raises(UnknownPlaylist) as nothing_stored:
        storage.load_playlist(store, "nope")
    assert "recent playlists" not in str(nothing_stored.value)
    pid = world_with_playlist(store)
    for call in (storage.load_playlist, storage.playlist_summary, playlist_quality):
        with pytest.raises(UnknownPlaylist, match=f"review --queue`; recent playlists: {pid}$"):
            call(store, "nope")
    with pytest.raises(UnknownPlaylist, match="build one with `tastemaker playlist`"):
        record_verdict(store, "nope", "approve")


def test_heads_come_oldest_first_with_their_track_counts(store: Store) -> None:
    pid = world_with_playlist(store)
    entry = unexpected(store, [1, 4, 6], "Alert & <Run>")
    early = save_rows(store, "pl-early", "ana", [entry], created_at="2025-12-01T00:00:00+00:00")
    heads = storage.list_playlists(store)
    assert [(h.id, h.listener, h.tracks) for h in heads] == [(early, "ana", 1), (pid, "ana", 4)]
    assert storage.playlist_summary(store, pid) == heads[1]
    assert heads[1].listener_id == store.listener_id("ana")


def test_a_tracks_evidence_and_stored_entries(store: Store) -> None:
    pid = world_with_playlist(store)
    assert storage.track_evidence(store, pid, 3)["bridge"][1]["artist"] == "The Specials"
    with pytest.raises(UnknownPosition, match="positions run from 1 to 4"):
        storage.track_evidence(store, pid, 5)
    entries = storage.stored_entries(store, [(pid, 2), (pid, 9), ("pl-none", 1)])
    assert list(entries) == [(pid, 2)]
    entry = entries[(pid, 2)]
    assert (entry.listener, entry.artist, entry.track_id) == (
        "ana",
        "Cockney Rejects",
        track_id(store, 3, "Oi! Oi! Oi!"),
    )
    assert entry.reason.kind == "discovery"


def test_verdicts_are_enums_in_memory_and_plain_strings_on_disk(store: Store) -> None:
    pid = world_with_playlist(store)
    record_verdict(store, pid, "flag", position=3, link_from="Rancid", now="2026-02-01T10:00")
    record_verdict(store, pid, "approve", now="2026-02-01T09:00")
    first, second = storage.all_verdicts(store)
    assert (first.verdict, first.subject) == (Judgement.APPROVE, Subject.PLAYLIST)
    assert (second.verdict, second.subject, second.link_from, second.link_to) == (
        Judgement.FLAG,
        Subject.REASON,
        1,
        4,
    )
    assert store.conn.execute("SELECT DISTINCT typeof(verdict) FROM verdicts").fetchall() == [
        ("text",)
    ]
    assert json.loads(json.dumps(second.to_dict()))["subject"] == "reason"
    assert type(second.to_dict()["verdict"]) is str


def test_deleting_a_listeners_playlists_takes_their_verdicts_only(store: Store) -> None:
    pid = world_with_playlist(store)
    other = save_rows(store, "pl-bo", "bo", [unexpected(store, [1, 4, 6], "Alert & <Run>")])
    record_verdict(store, pid, "reject", position=2)
    record_verdict(store, pid, "approve")
    record_verdict(store, other, "flag", position=1)
    lid = store.listener_id("ana")
    assert lid is not None
    with store.transaction():
        assert storage.delete_listener_playlists(store, lid, "ana") == (1, 2)
    assert [h.id for h in storage.list_playlists(store)] == [other]
    assert [v.playlist_id for v in storage.all_verdicts(store)] == [other]


def test_what_stored_playlists_still_name(store: Store) -> None:
    pid = world_with_playlist(store)
    oi, ghost = track_id(store, 3, "Oi! Oi! Oi!"), track_id(store, 4, "Ghost Town")
    # The entries are artists 1, 3, 6 and 2; The Specials (4) only sits inside a reason.
    assert storage.referenced(store, range(1, 7), [oi, ghost]) == ({1, 2, 3, 6}, {oi})
    record_verdict(store, pid, "reject", position=3, link_from="The Specials")
    assert storage.referenced(store, range(1, 7), [ghost]) == ({1, 2, 3, 4, 6}, set())
    assert storage.referenced(store, [], []) == (set(), set())
