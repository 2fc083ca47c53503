"""--no-personalise: playlists from the graph and popularity alone; nothing personal is read."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from playlists import build_playlist
from recommender.interactions import load_interactions
from recommender.store import Store
from recommender.terms_storage import update_terms
from tests.fakes import FakeModel

LISTENER = "listener-013"


@pytest.fixture
def opted_out(
    demo_store_path: Path, demo_graph, tmp_path: Path
) -> Iterator[tuple[Store, FakeModel]]:  # type: ignore[no-untyped-def]
    copy = tmp_path / "demo.db"
    shutil.copy(demo_store_path, copy)
    with Store.open(copy) as store:
        model = FakeModel(store, demo_graph)
        update_terms(store, LISTENER, personalise=False)
        yield store, model


def test_nothing_of_their_history_is_read(opted_out: tuple[Store, FakeModel]) -> None:
    store, model = opted_out
    lid = store.listener_id(LISTENER)
    statements: list[str] = []
    store.conn.set_trace_callback(statements.append)
    try:
        playlist = build_playlist(store, LISTENER, model=model, save=False)
    finally:
        store.conn.set_trace_callback(None)
    reading_listens = [s for s in statements if "listens" in s]
    assert reading_listens  # popularity is read ...
    for statement in reading_listens:  # ... but never this listener's own rows
        assert f"listener_id = {lid}" not in statement.replace("l.listener_id", "listener_id")
    assert not playlist.personalised
    assert any("turned personalisation off" in note for note in playlist.notes)
    assert all(t.reason.evidence.get("plays") is None for t in playlist.tracks)
    assert {t.kind for t in playlist.tracks} <= {"discovery", "unexpected", "popular"}


def test_same_playlist_as_someone_with_no_history(opted_out: tuple[Store, FakeModel]) -> None:
    store, model = opted_out
    mine = build_playlist(store, LISTENER, model=model, save=False)
    nobody = build_playlist(store, "nobody-at-all", model=model, save=False, new_listener=True)
    assert [(t.artist_id, t.track_id, t.kind) for t in mine.tracks] == [
        (t.artist_id, t.track_id, t.kind) for t in nobody.tracks
    ]
    assert [t.reason.text for t in mine.tracks] == [t.reason.text for t in nobody.tracks]


def test_opted_out_listens_are_not_model_input(opted_out: tuple[Store, FakeModel]) -> None:
    store, _ = opted_out
    assert LISTENER not in load_interactions(store).listeners
