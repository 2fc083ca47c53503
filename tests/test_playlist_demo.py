"""End to end on the demo world: every number in every reason is re-derived by SQL.

The artist graph is the real one (`ArtistGraph.build`); the model's scores come from the
test-only `FakeModel` (co-listening sums), so these tests check the playlist stages alone.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime

import pytest

from playlists import build_playlist, explain_playlist
from playlists.errors import NotEnoughUnexpected
from playlists.model import DISCOVERY, FAMILIAR, UNEXPECTED, Playlist
from recommender.errors import UnknownArtist, UnknownListener
from recommender.graph import ArtistGraph
from recommender.interactions import load_interactions
from recommender.resources import demo_dir
from recommender.sources import import_path
from recommender.store import Store
from recommender.terms import Terms
from tests.fakes import FakeModel

STREET_PUNK_LISTENER = "listener-013"


@pytest.fixture(scope="module")
def truth() -> dict:
    return json.loads((demo_dir() / "truth.json").read_text())


@pytest.fixture(scope="module")
def demo(
    tmp_path_factory: pytest.TempPathFactory, truth: dict
) -> Iterator[tuple[Store, FakeModel]]:
    store = Store.open(tmp_path_factory.mktemp("demo") / "demo.db")
    import_path(store, "demo", demo_dir())
    graph = ArtistGraph.build(load_interactions(store), seed=42)
    yield store, FakeModel(store, graph)
    store.close()


def _sql(store: Store, query: str, *args: object) -> object:
    return store.conn.execute(query, args).fetchone()[0]


def _iso_to_unix(text: str) -> int:
    return int(datetime.fromisoformat(text).timestamp())


def _check_evidence(store: Store, playlist: Playlist) -> None:
    lid = store.listener_id(playlist.listener)
    for track in playlist.tracks:
        ev = track.reason.evidence
        assert track.reason.text
        assert ev["artist_id"] == track.artist_id
        if track.kind == FAMILIAR:
            assert ev["plays"] == _sql(
                store,
                "SELECT sum(plays) FROM listens WHERE listener_id = ? AND artist_id = ?",
                lid,
                track.artist_id,
            )
            assert _iso_to_unix(ev["last_played_at"]) == _sql(
                store,
                "SELECT max(listened_at) FROM listens WHERE listener_id = ? AND artist_id = ?",
                lid,
                track.artist_id,
            )
            assert ev["track_plays"] == _sql(
                store,
                "SELECT sum(plays) FROM listens WHERE listener_id = ? AND track_id = ?",
                lid,
                track.track_id,
            )
            said = "once" if ev["plays"] == 1 else f"{ev['plays']} times"
            assert f"You played {track.artist} {said}" in track.reason.text
        elif track.kind == DISCOVERY:
            assert not _sql(
                store,
                "SELECT count(*) FROM listens WHERE listener_id = ? AND artist_id = ?",
                lid,
                track.artist_id,
            )
            for because in ev["because_of"]:
                assert because["shared_listeners"] == _shared(
                    store, because["artist_id"], track.artist_id
                )
                assert _sql(
                    store,
                    "SELECT count(*) FROM listens WHERE listener_id = ? AND artist_id = ?",
                    lid,
                    because["artist_id"],
                )
        else:
            path = [step["artist_id"] for step in ev["bridge"]]
            assert path[-1] == track.artist_id
            assert _sql(
                store,
                "SELECT count(*) FROM listens WHERE listener_id = ? AND artist_id = ?",
                lid,
                path[0],
            )
            shared = [_shared(store, a, b) for a, b in zip(path, path[1:], strict=False)]
            assert ev["bridge_shared_listeners"] == shared
            assert min(shared) > 0


def _shared(store: Store, a: int, b: int) -> int:
    return int(
        _sql(
            store,
            "SELECT count(*) FROM (SELECT listener_id FROM listens WHERE artist_id = ?"
            " INTERSECT SELECT listener_id FROM listens WHERE artist_id = ?)",
            a,
            b,
        )
    )


def _evidence_artists(playlist: Playlist) -> set[str]:
    names: set[str] = set()
    for track in playlist.tracks:
        ev = track.reason.evidence
        names.add(ev["artist"])
        names.update(b["artist"] for b in ev.get("because_of", []))
        names.update(b["artist"] for b in ev.get("bridge", []))
    return names


def test_street_punk_playlist(demo: tuple[Store, FakeModel], truth: dict) -> None:
    store, model = demo
    playlist = build_playlist(
        store, STREET_PUNK_LISTENER, length=30, surprise=0.2, model=model, save=True
    )
    assert len(playlist.tracks) == 30
    assert playlist.count(UNEXPECTED) == 6
    assert playlist.count(FAMILIAR) > playlist.count(DISCOVERY) > 0
    metalcore = set(truth["scenes"]["metalcore"]["artists"])
    assert not {t.artist for t in playlist.tracks if t.kind != UNEXPECTED} & metalcore
    assert not _evidence_artists(playlist) & metalcore
    # Their scene is street punk; the ska bridge artist they love leads the way out of it.
    home = set(truth["scenes"]["street-punk"]["artists"])
    assert all(t.artist in home for t in playlist.tracks if t.kind == DISCOVERY)
    assert all(t.artist not in home for t in playlist.tracks if t.kind == UNEXPECTED)
    bridges = {b["artist"] for b in truth["bridges"]}
    assert any(
        set(s["artist"] for s in t.reason.evidence["bridge"]) & bridges
        for t in playlist.tracks
        if t.kind == UNEXPECTED
    )
    _check_evidence(store, playlist)
    assert explain_playlist(store, playlist.id) == playlist


def test_recently_played_tracks_are_skipped(demo: tuple[Store, FakeModel]) -> None:
    store, model = demo
    playlist = build_playlist(
        store, STREET_PUNK_LISTENER, length=20, model=model, no_repeat_days=30, save=False
    )
    cutoff = model.now - 30 * 86_400  # type: ignore[operator]
    lid = store.listener_id(STREET_PUNK_LISTENER)
    for track in playlist.tracks:
        if track.track_id is not None:
            last = _sql(
                store,
                "SELECT max(listened_at) FROM listens WHERE listener_id = ? AND track_id = ?",
                lid,
                track.track_id,
            )
            assert last is None or last < cutoff
    assert playlist.terms["excluded_tracks"] > 0
    assert any("last 30 days" in note for note in playlist.notes)


def test_exclusions_and_opt_out(demo: tuple[Store, FakeModel], truth: dict) -> None:
    store, model = demo
    first = build_playlist(store, STREET_PUNK_LISTENER, length=15, model=model, save=False)
    banned = first.tracks[0].artist
    terms = Terms(exclude_artists=(banned.upper(),), exclude_tags=("ska",))
    again = build_playlist(
        store, STREET_PUNK_LISTENER, length=15, model=model, terms=terms, save=False
    )
    assert banned not in {t.artist for t in again.tracks}
    ska = set(truth["scenes"]["ska-punk"]["artists"])
    assert not {t.artist for t in again.tracks} & ska
    assert again.terms["excluded_artists"] >= 1 and again.terms["excluded_tags"] >= 1

    cold = build_playlist(
        store,
        STREET_PUNK_LISTENER,
        length=15,
        model=model,
        terms=Terms(personalise=False),
        save=True,
    )
    assert not cold.personalised
    assert cold.count(FAMILIAR) == 0 and cold.count(UNEXPECTED) == 3
    assert all(t.reason.evidence["personalised"] is False for t in cold.tracks)
    assert all(t.reason.text.startswith("Not personalised") for t in cold.tracks)
    for track in cold.tracks:
        assert track.reason.evidence["listeners"] == _sql(
            store,
            "SELECT count(DISTINCT listener_id) FROM listens WHERE artist_id = ?",
            track.artist_id,
        )
    assert explain_playlist(store, cold.id).personalised is False


def test_new_listener_and_steering(demo: tuple[Store, FakeModel], truth: dict) -> None:
    store, model = demo
    with pytest.raises(UnknownListener, match="did you mean listener-"):
        build_playlist(store, "listener-13", model=model)
    with pytest.raises(UnknownArtist, match="did you mean"):
        build_playlist(store, STREET_PUNK_LISTENER, seed_artist="Marble Driftr", model=model)
    seed = truth["scenes"]["trail-folk"]["artists"][0]
    fresh = build_playlist(
        store, "someone-new", length=10, seed_artist=seed.lower(), model=model, new_listener=True
    )
    assert not fresh.personalised
    graph = model.graph
    seed_scene = graph.scene_of(fresh.tracks[0].artist_id)
    assert all(
        graph.scene_of(t.artist_id) == seed_scene for t in fresh.tracks if t.kind == DISCOVERY
    )
    assert all(
        graph.scene_of(t.artist_id) != seed_scene for t in fresh.tracks if t.kind == UNEXPECTED
    )
    assert fresh.tracks[0].artist == seed


def test_never_another_share(demo: tuple[Store, FakeModel]) -> None:
    store, model = demo
    with pytest.raises(NotEnoughUnexpected, match=r"asked for 150 unexpected picks .* found only"):
        build_playlist(store, STREET_PUNK_LISTENER, length=150, surprise=1.0, model=model)


def test_tag_steers(demo: tuple[Store, FakeModel], truth: dict) -> None:
    store, model = demo
    listener = next(
        n for n, s in truth["listener_scenes"].items() if s == ["street-punk", "ska-punk"]
    )
    playlist = build_playlist(store, listener, length=10, tag="Ska Punk", model=model, save=False)
    ska = set(truth["scenes"]["ska-punk"]["artists"])
    familiar = [t for t in playlist.tracks if t.kind == FAMILIAR]
    assert sum(t.artist in ska for t in familiar) > len(familiar) / 2


def test_bridge_finder_matches_graph_bridge(demo: tuple[Store, FakeModel]) -> None:
    """The one-search bridge finder returns exactly what ArtistGraph.bridge returns."""
    import random

    from playlists.stages.bridges import BridgeFinder

    _store, model = demo
    graph = model.graph
    ids = [int(a) for a in graph.artist_ids]
    rng = random.Random(7)
    compared = found = 0
    for _ in range(4):
        starts = rng.sample(ids, 8)
        finder = BridgeFinder(graph, starts)
        for target in rng.sample(ids, 60):
            expected = graph.bridge(starts, target)
            got = finder.path(target)
            assert got == (None if expected is None else expected.path)
            compared += 1
            found += got is not None
    assert compared == 240 and found > 20
