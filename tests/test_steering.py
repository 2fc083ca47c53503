"""Steering that is honest: a seed the listener never played opens the playlist and steers it,
or the notes (or the error) say why not; discovery links need enough shared listeners."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from playlists import build_playlist
from playlists.errors import NotEnoughUnexpected
from playlists.profile import Catalogue
from playlists.stages.discovery import MIN_SHARED, strong_enough, strong_link
from recommender.store import Store
from recommender.training import TrainedModel, train


@pytest.fixture(scope="module")
def demo(
    demo_store_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Store, TrainedModel]]:
    # A private copy: training records a model in the store.
    copy = tmp_path_factory.mktemp("steering") / "store.db"
    shutil.copy(demo_store_path, copy)
    with Store.open(copy) as store:
        yield store, train(store, num_threads=1)


def _played(store: Store, listener: str, artist: str) -> int:
    return int(
        store.conn.execute(
            "SELECT count(*) FROM listens l JOIN listeners p ON p.id = l.listener_id"
            " JOIN artists a ON a.id = l.artist_id WHERE p.name = ? AND a.name = ?",
            (listener, artist),
        ).fetchone()[0]
    )


def test_a_seed_never_played_opens_the_playlist_and_its_neighbours_cite_it(
    demo: tuple[Store, TrainedModel],
) -> None:
    store, model = demo
    seed = "Orchid Meridian"  # ska-punk; listener-013 plays street punk only
    assert _played(store, "listener-013", seed) == 0
    plain = build_playlist(store, "listener-013", length=20, surprise=0.2, model=model)
    seeded = build_playlist(
        store, "listener-013", length=20, surprise=0.2, seed_artist=seed, model=model
    )
    assert seeded.tracks[0].artist == seed and seeded.tracks[0].kind == "discovery"
    assert [t.artist for t in seeded.tracks] != [t.artist for t in plain.tracks]
    citing = [
        t
        for t in seeded.tracks
        if t.kind == "discovery" and t.artist != seed
        and t.reason.evidence["because_of"][0]["artist"] == seed
    ]  # fmt: skip
    assert len(citing) >= 3
    # Its scene is now one of the listener's: discoveries come from it, none did before.
    ska = seeded.tracks[0].reason.evidence["scene"]["name"]
    scenes = [
        t.reason.evidence["scene"]["name"] for t in seeded.tracks[1:] if t.kind == "discovery"
    ]
    before = [t.reason.evidence["scene"]["name"] for t in plain.tracks if t.kind == "discovery"]
    assert ska in scenes and ska not in before
    assert not seeded.notes


def test_a_seed_no_reason_can_hold_for_is_a_note(demo: tuple[Store, TrainedModel]) -> None:
    store, model = demo
    seed = "Static Drifters"  # doom metal: nobody who plays street punk plays it
    playlist = build_playlist(
        store, "listener-013", length=20, surprise=0.0, seed_artist=seed, model=model
    )
    assert seed not in {t.artist for t in playlist.tracks}
    assert any(n.startswith(f"{seed} does not open the playlist") for n in playlist.notes)
    # Its scene was still made one of the listener's, and its neighbours cite it.
    assert any(
        t.kind == "discovery" and t.reason.evidence["because_of"][0]["artist"] == seed
        for t in playlist.tracks
    )


def test_a_seed_from_the_scene_of_the_surprises_is_named_in_the_error(
    demo: tuple[Store, TrainedModel],
) -> None:
    store, model = demo
    plain = build_playlist(store, "listener-001", length=20, surprise=0.2, model=model)
    surprise = next(t.artist for t in plain.tracks if t.kind == "unexpected")
    with pytest.raises(NotEnoughUnexpected, match=f"the seed artist {surprise} made"):
        build_playlist(
            store, "listener-001", length=20, surprise=0.2, seed_artist=surprise, model=model
        )


def test_every_discovery_link_is_strong_for_its_audiences(
    demo: tuple[Store, TrainedModel],
) -> None:
    store, model = demo
    catalogue = Catalogue.of(store, model.graph)
    links = 0
    for listener in ("listener-001", "listener-013", "listener-040", "listener-077"):
        for track in build_playlist(store, listener, length=30, model=model).tracks:
            if track.kind != "discovery":
                continue
            for link in track.reason.evidence["because_of"]:
                links += 1
                assert strong_link(
                    catalogue, link["artist_id"], track.artist_id, link["shared_listeners"]
                )
    assert links > 20


def test_the_minimum_of_shared_listeners_grows_with_the_audiences() -> None:
    assert not strong_enough(MIN_SHARED - 1, 30, 40)
    assert strong_enough(MIN_SHARED, 30, 40)
    assert not strong_enough(MIN_SHARED, 300, 400)  # chance at these audiences
    assert not strong_enough(17, 300, 400) and strong_enough(18, 300, 400)  # 0.05 x 346.4
