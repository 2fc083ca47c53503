"""Verdicts change later playlists: on the demo world (real artist graph, test-only model)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from playlists import build_playlist
from playlists.model import DISCOVERY, FAMILIAR, UNEXPECTED, Playlist
from playlists.report import render_report
from playlists.review import blocked_for, link_pair, record_verdict
from recommender.store import Store
from tests.fakes import FakeModel
from tests.test_report import Page, check_against_store

LISTENER = "listener-013"  # street punk in truth.json


@pytest.fixture
def demo(demo_store_path: Path, demo_graph: Any, tmp_path: Path) -> Iterator[tuple[Store, Any]]:
    copy = tmp_path / "demo.db"
    shutil.copy(demo_store_path, copy)  # verdicts are written: keep the shared store clean
    with Store.open(copy) as store:
        yield store, FakeModel(store, demo_graph)


def links_used(playlist: Playlist) -> set[tuple[int, int]]:
    used = set()
    for t in playlist.tracks:
        ev = t.reason.evidence
        used |= {link_pair(b["artist_id"], t.artist_id) for b in ev.get("because_of", [])}
        path = [s["artist_id"] for s in ev.get("bridge", [])]
        used |= {link_pair(a, b) for a, b in zip(path, path[1:], strict=False)}
    return used


def test_a_later_playlist_changes_because_of_verdicts(demo: tuple[Store, Any]) -> None:
    store, model = demo
    first = build_playlist(store, LISTENER, length=20, surprise=0.2, model=model, save=True)
    familiar = next(t for t in first.tracks if t.kind == FAMILIAR and t.track_id is not None)
    discovery = next(t for t in first.tracks if t.kind == DISCOVERY)
    unexpected = next(t for t in first.tracks if t.kind == UNEXPECTED)
    record_verdict(store, first.id, "reject", position=familiar.position, curator="kim")
    record_verdict(store, first.id, "reject", position=discovery.position, on_reason=True)
    record_verdict(store, first.id, "reject", position=unexpected.position, on_reason=True)
    blocks = blocked_for(store, LISTENER)
    assert blocks.tracks == {familiar.track_id}
    assert links_used(first) & blocks.links  # the first playlist did use those links

    second = build_playlist(store, LISTENER, length=20, surprise=0.2, model=model)
    assert familiar.track_id not in {t.track_id for t in second.tracks}
    assert not links_used(second) & blocks.links
    assert second.count(UNEXPECTED) == 4 and len(second.tracks) == 20
    assert [t.track_id for t in second.tracks] != [t.track_id for t in first.tracks]
    assert any("curator" in note for note in second.notes)

    # The rejected track is this listener's only; the rejected links hold for everyone.
    other = build_playlist(store, "listener-014", length=20, surprise=0.2, model=model)
    assert not links_used(other) & blocks.links
    assert blocked_for(store, "listener-014").tracks == frozenset()

    # Taking the rejection back (a newer approve) offers the track again.
    record_verdict(store, first.id, "approve", position=familiar.position)
    assert familiar.track_id not in blocked_for(store, LISTENER).tracks


def test_every_number_on_a_demo_playlist_page_equals_the_store(demo: tuple[Store, Any]) -> None:
    store, model = demo
    playlist = build_playlist(store, LISTENER, length=30, surprise=0.2, model=model, save=True)
    record_verdict(store, playlist.id, "flag", position=2, note="check", curator="kim")
    page = Page(render_report(store, playlist.id))
    assert len(page.rows) == 30
    assert check_against_store(store, playlist.id, page) > 150
