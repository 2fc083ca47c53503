"""The tracks a playlist offers for an artist, most played first: counted from the model's bundle
while the store's usable listens are the ones it was trained on, else read from the store, so
that an opt-out, an ignored source, a forget or an import shows at once, without a new train."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

import recommender.training as training
from playlists.privacy import forget
from playlists.profile import Catalogue
from playlists.stages.tracks import top_tracks
from recommender.aggregates import usable_stamp
from recommender.ingest import Listen
from recommender.listens import track_plays
from recommender.models import TastemakerConfig
from recommender.store import Store
from recommender.terms_storage import update_terms
from recommender.training import TrainedModel, load_model, train
from tests.terms_fixtures import DAY, T0, add, small_world

FAST = TastemakerConfig(no_components=4, epochs=3, learning_rate=0.05, ease_share=0.1)


@pytest.fixture
def trained(file_store: Store) -> Iterator[tuple[Store, TrainedModel]]:
    """The small terms world with a model trained on it and loaded back from its bundle."""
    small_world(file_store)
    train(file_store, FAST, num_threads=1)
    yield file_store, load_model(file_store)


def _ids(store: Store, table: str, column: str) -> dict[str, int]:
    return dict(store.conn.execute(f"SELECT {column}, id FROM {table}").fetchall())


def _top(store: Store, model: TrainedModel, artist_id: int) -> int | None:
    """The track a playlist would offer first for this artist."""
    catalogue = Catalogue.of(store, model.graph, model)
    return top_tracks(catalogue, [artist_id], 1)[artist_id][0].track_id


def _every_artist(store: Store) -> list[int]:
    return [int(a) for (a,) in store.conn.execute("SELECT id FROM artists ORDER BY id")]


def test_the_bundle_counts_are_the_stores_and_are_used_while_nothing_changed(
    trained: tuple[Store, TrainedModel], monkeypatch: pytest.MonkeyPatch
) -> None:
    store, model = trained
    artists = _every_artist(store)
    live = track_plays(store, artists)
    assert model.tracks_stamp == usable_stamp(store)
    assert model.track_plays(store, artists) == live and sum(live.values()) == 11

    def no_store_read(*_: object) -> dict[int, int]:
        raise AssertionError("read from the store although the bundle's counts hold")

    monkeypatch.setattr(training, "store_track_plays", no_store_read)
    assert model.track_plays(store, artists) == live
    update_terms(store, "alice", surprise=0.9)  # not a consent term: the counts still hold
    assert model.track_plays(store, artists) == live
    update_terms(store, "bob", personalise=False)
    with pytest.raises(AssertionError, match="read from the store"):
        model.track_plays(store, artists)


def test_opt_out_ignored_sources_forget_and_imports_show_at_once(
    trained: tuple[Store, TrainedModel],
) -> None:
    store, model = trained
    artists, tracks = _ids(store, "artists", "name"), _ids(store, "tracks", "title")
    rancid, earth_crisis = artists["Rancid"], artists["Earth Crisis"]
    assert _top(store, model, rancid) == tracks["Song 1"]  # alice's play and bob's
    assert model.track_plays(store, [earth_crisis]) == {tracks["Firestorm"]: 4}

    update_terms(store, "alice", ignore_sources=["spotify"])
    assert model.track_plays(store, [earth_crisis]) == {tracks["Firestorm"]: 3}
    update_terms(store, "bob", personalise=False)
    # Without bob's play every song has one play: the lowest track id comes first.
    assert _top(store, model, rancid) == tracks["Song 0"]
    update_terms(store, "bob", personalise=True)
    assert _top(store, model, rancid) == tracks["Song 1"]

    forget(store, "bob", artist="Rancid")
    assert _top(store, model, rancid) == tracks["Song 0"]
    assert model.track_plays(store, [rancid]) == track_plays(store, [rancid])

    add(store, "demo", [Listen("Rancid", "carol", title="Song 4", listened_at=T0 + 20 * DAY)])
    assert _top(store, model, rancid) == tracks["Song 4"]


def test_the_stamp_moves_with_what_makes_listens_usable(file_store: Store) -> None:
    small_world(file_store)
    seen = {usable_stamp(file_store)}

    def moved() -> bool:
        stamp = usable_stamp(file_store)
        new = stamp not in seen
        seen.add(stamp)
        return new

    update_terms(file_store, "alice", half_life_days=30.0)
    assert not moved()
    update_terms(file_store, "alice", ignore_sources=["spotify"])
    assert moved()
    update_terms(file_store, "bob", personalise=False)
    assert moved()
    add(file_store, "demo", [Listen("Rancid", "carol", title="Song 9", listened_at=T0)])
    assert moved()
    forget(file_store, "carol", all_data=True)
    assert moved()


def test_the_store_read_takes_any_number_of_artists_in_one_statement(file_store: Store) -> None:
    """More artist ids than SQLite binds in one statement (999 on older builds): one JSON array."""
    small_world(file_store)
    everyone = track_plays(file_store)
    artist_of = dict(file_store.conn.execute("SELECT id, artist_id FROM tracks").fetchall())
    some = sorted({artist_of[t] for t in everyone})[:2]
    asked = [*some, *range(10**6, 10**6 + 5_000)]  # 5,000 artists the store does not have
    assert track_plays(file_store, asked) == {
        t: n for t, n in everyone.items() if artist_of[t] in some
    }
    assert track_plays(file_store, some) and track_plays(file_store, []) == {}
