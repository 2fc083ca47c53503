from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner

from playlists.cli import main
from playlists.errors import NoReasonLink, ReviewError, UnknownPlaylist, UnknownPosition
from playlists.review import (
    Blocks,
    blocked_for,
    reason_links,
    record_verdict,
    review_queue,
)
from playlists.storage import verdicts_for
from recommender.store import Store
from tests.review_fixtures import save_rows, track_id, unexpected, world_with_playlist


def test_a_verdict_is_stored_with_time_curator_and_note(store: Store) -> None:
    pid = world_with_playlist(store)
    v = record_verdict(
        store, pid, "approve", position=1, note="fine", curator="kim", now="2026-02-01T10:00:00"
    )
    row = store.conn.execute(
        "SELECT playlist_id, position, verdict, note, curator, created_at, subject FROM verdicts"
    ).fetchone()
    assert row == (pid, 1, "approve", "fine", "kim", "2026-02-01T10:00:00", "track")
    assert verdicts_for(store, pid) == [v]


def test_mistakes_are_refused_with_what_to_do_next(store: Store) -> None:
    pid = world_with_playlist(store)
    with pytest.raises(UnknownPlaylist, match="review --queue"):
        record_verdict(store, "pl-nope", "approve")
    with pytest.raises(UnknownPosition, match="from 1 to 4"):
        record_verdict(store, pid, "reject", position=9)
    with pytest.raises(ReviewError, match="one of approve"):
        record_verdict(store, pid, "maybe")
    with pytest.raises(ReviewError, match="--track"):
        record_verdict(store, pid, "reject", on_reason=True)
    with pytest.raises(NoReasonLink, match="judge the track"):
        record_verdict(store, pid, "reject", position=1, on_reason=True)
    with pytest.raises(NoReasonLink, match="links start from: Rancid, The Specials"):
        record_verdict(store, pid, "reject", position=3, link_from="Madness")
    assert store.conn.execute("SELECT count(*) FROM verdicts").fetchone()[0] == 0


def test_reason_links_are_because_of_and_bridge_steps(store: Store) -> None:
    world_with_playlist(store)
    evidence = unexpected(store, [1, 4, 6], "Alert & <Run>")["evidence"]
    assert [(link.explainer_id, link.explained_id) for link in reason_links(evidence)] == [
        (1, 4),
        (4, 6),
    ]
    assert reason_links({"artist": "x", "artist_id": 1, "plays": 3}) == []


def test_a_rejected_track_is_blocked_for_that_listener_only(store: Store) -> None:
    pid = world_with_playlist(store)
    assert not blocked_for(store, "ana")
    record_verdict(store, pid, "reject", position=2)
    oi = track_id(store, 3, "Oi! Oi! Oi!")
    assert blocked_for(store, "ana") == Blocks(tracks=frozenset({oi}))
    assert blocked_for(store, "bo") == Blocks()


def test_a_rejected_reason_blocks_its_links_for_everyone_both_ways(store: Store) -> None:
    pid = world_with_playlist(store)
    record_verdict(store, pid, "reject", position=3, on_reason=True, curator="kim")
    for who in ("ana", "bo", None):
        blocks = blocked_for(store, who)
        assert blocks.links == {(1, 4), (4, 6)}
        assert blocks.blocks_link(6, 4) and blocks.blocks_path([1, 4])
        assert not blocks.blocks_entry(6, track_id(store, 6, "Alert & <Run>"))


def test_one_named_link_blocks_only_that_step(store: Store) -> None:
    pid = world_with_playlist(store)
    record_verdict(store, pid, "reject", position=3, link_from="the specials")
    assert blocked_for(store, "cy").links == {(4, 6)}
    record_verdict(store, pid, "reject", position=2, link_from="Cock Sparrer")
    assert blocked_for(store, "cy").links == {(4, 6), (2, 3)}


def test_the_newest_verdict_on_a_subject_wins(store: Store) -> None:
    pid = world_with_playlist(store)
    record_verdict(store, pid, "reject", position=2, now="2026-02-01T10:00:00")
    record_verdict(store, pid, "approve", position=2, now="2026-02-02T10:00:00")
    assert not blocked_for(store, "ana")


def test_queue_lists_unreviewed_playlists_and_flags_until_resolved(store: Store) -> None:
    pid = world_with_playlist(store)
    entries = [unexpected(store, [1, 4, 6], "Alert & <Run>")]
    other = save_rows(store, "pl-a-later", "ana", entries, created_at="2026-01-02T00:00:00+00:00")
    queue = review_queue(store)
    assert [(w.playlist_id, w.tracks, w.judged) for w in queue.waiting] == [
        (pid, 4, 0),
        (other, 1, 0),
    ]
    assert queue.flagged == ()

    record_verdict(store, pid, "flag", position=3, on_reason=True, note="is this bridge fair?")
    record_verdict(store, other, "approve", position=1)
    queue = review_queue(store)
    assert [(w.playlist_id, w.judged) for w in queue.waiting] == [(pid, 1)]
    (flag,) = queue.flagged
    assert (flag.playlist_id, flag.position, flag.subject) == (pid, 3, "reason")
    assert flag.note == "is this bridge fair?" and flag.reason and "ska" in flag.reason

    record_verdict(store, pid, "approve", position=3, on_reason=True)
    record_verdict(store, pid, "approve")
    queue = review_queue(store)
    assert queue.waiting == () and queue.flagged == ()


def test_verdicts_from_schema_1_keep_their_meaning(tmp_path: Path) -> None:
    from tests.legacy_stores import legacy_store

    path = legacy_store(tmp_path / "old.db", version=1)
    conn = sqlite3.connect(path)
    conn.execute(
        "INSERT INTO playlists (id, listener_name, created_at, params) VALUES ('p', 'x', 't', '{}')"
    )
    conn.execute(
        "INSERT INTO verdicts (playlist_id, position, verdict, created_at) VALUES"
        " ('p', NULL, 'approve', 't'), ('p', 3, 'reject', 't')"
    )
    conn.commit()
    conn.close()
    with Store.open(path) as upgraded:
        subjects = upgraded.conn.execute("SELECT subject FROM verdicts ORDER BY id").fetchall()
    assert subjects == [("playlist",), ("track",)]


def test_every_command_says_the_same_about_an_unknown_playlist(tmp_path: Path) -> None:
    db = tmp_path / "s.db"
    with Store.open(db) as opened:
        pid = world_with_playlist(opened)
    expected = (
        "Error: no playlist with id 'pl-nope': build one with `tastemaker playlist`, or list "
        f"those waiting for review with `tastemaker review --queue`; recent playlists: {pid}"
    )
    for args in (
        ["explain", "pl-nope"],
        ["review", "pl-nope", "--verdict", "approve"],
        ["report", "pl-nope", "--html", "-"],
    ):
        result = CliRunner().invoke(main, ["--db", str(db), *args])
        assert (result.exit_code, result.output.splitlines()) == (1, [expected]), args
