"""Forgetting: the listens go, models go stale, and the bytes are gone from the file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from playlists.cli import main
from playlists.privacy import forget, parse_when
from playlists.review import blocked_for, record_verdict
from recommender.errors import InvalidForget, ModelStale, UnknownListener
from recommender.ingest import ArtistTag, Listen
from recommender.store import Store, utc_now
from recommender.terms_storage import update_terms
from recommender.training import load_model
from tests.review_fixtures import build_world, discovery, save_rows
from tests.terms_fixtures import DAY, T0, add, small_world

# Strings only the forgotten listener's data contains.
SECRET_LISTENER = "zyxwquorra-listener"
SECRET_ARTIST = "Qwopplewick Hexatone"
SECRET_TRACK = "Vlorbinate Sunrise Q9"
SECRET_PATH = "/home/zyxwquorra/exports/history.json"


def _secret_history(store: Store) -> None:
    add(
        store,
        "spotify",
        [
            Listen(SECRET_ARTIST, SECRET_LISTENER, title=SECRET_TRACK, listened_at=T0 + i * DAY)
            for i in range(20)
        ]
        + [Listen("Rancid", SECRET_LISTENER, title="Song 1", listened_at=T0 + 30 * DAY)],
        path=SECRET_PATH,
    )


def _fake_model(store: Store, folder: Path) -> Path:
    """A models row pointing at a bundle-shaped folder holding the listener names."""
    bundle = folder / "models" / "m1"
    bundle.mkdir(parents=True)
    (bundle / "manifest.json").write_text(json.dumps({"model_id": "m1"}))
    (bundle / "mappings.json").write_text(json.dumps({"listeners": [SECRET_LISTENER]}))
    with store.transaction() as conn:
        conn.execute(
            "INSERT INTO models (id, path, created_at, data_fingerprint, params)"
            " VALUES ('m1', ?, ?, 'x', '{}')",
            (str(bundle), utc_now()),
        )
    return bundle


def _bytes_on_disk(db: Path) -> bytes:
    return b"".join(
        p.read_bytes() for p in (db, Path(f"{db}-wal"), Path(f"{db}-shm")) if p.exists()
    )


def test_forget_all_leaves_no_trace_in_the_file(tmp_path: Path) -> None:
    db = tmp_path / "t.db"
    with Store.open(db) as store:
        small_world(store)
        _secret_history(store)
        update_terms(store, SECRET_LISTENER, exclude_artists=["Rancid"], surprise=0.4)
        with store.transaction() as conn:
            lid = store.listener_id(SECRET_LISTENER)
            conn.execute(
                "INSERT INTO playlists (id, listener_id, listener_name, created_at, params)"
                " VALUES ('p1', ?, ?, ?, '{}')",
                (lid, SECRET_LISTENER, utc_now()),
            )
            conn.execute(
                "INSERT INTO verdicts (playlist_id, verdict, note, created_at)"
                " VALUES ('p1', 'flag', ?, ?)",
                (f"about {SECRET_LISTENER}", utc_now()),
            )
        bundle = _fake_model(store, tmp_path)
        # Make sure the secrets really are on disk before forgetting.
        store.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        raw = _bytes_on_disk(db)
        for secret in (SECRET_LISTENER, SECRET_ARTIST, SECRET_TRACK, SECRET_PATH):
            assert secret.encode() in raw

        report = forget(store, SECRET_LISTENER, all_data=True)

        assert (report.listens, report.playlists, report.verdicts) == (21, 1, 1)
        assert (report.tracks, report.artists, report.imports) == (1, 1, 1)
        assert report.models_marked_stale == 1 and not bundle.exists()
        assert store.listener_id(SECRET_LISTENER) is None
        for table in ("terms", "playlists", "verdicts"):
            assert store.conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0] == 0
        with pytest.raises(ModelStale, match="tastemaker train"):
            load_model(store)
        # Everyone else's data is untouched, catalogue artists with tags stay.
        assert store.conn.execute("SELECT count(*) FROM listens").fetchone()[0] == 11
        assert store.conn.execute("SELECT count(*) FROM imports").fetchone()[0] == 2
        assert (
            store.conn.execute("SELECT count(*) FROM tracks WHERE title = 'Song 1'").fetchone()[0]
            == 1
        )
        assert store.conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    raw = _bytes_on_disk(db)
    for secret in (SECRET_LISTENER, SECRET_ARTIST, SECRET_TRACK, SECRET_PATH, "zyxwquorra"):
        assert secret.encode() not in raw, secret
        assert secret.encode("utf-16-le") not in raw, secret


def test_forget_one_artist_keeps_the_rest(store: Store) -> None:
    small_world(store)
    report = forget(store, "alice", artist="rancid")
    assert report.listens == 5 and report.tracks == 4  # bob still plays "Song 1"
    assert report.artists == 0  # Rancid has tags and bob's listens
    artists = {
        r[0]
        for r in store.conn.execute(
            "SELECT a.name FROM listens l JOIN artists a ON a.id = l.artist_id"
            " WHERE l.listener_id = ?",
            (store.listener_id("alice"),),
        )
    }
    assert artists == {"Fleet Pines", "Earth Crisis"}


def test_forget_a_date_range(store: Store) -> None:
    small_world(store)
    add(store, "hetrec", [Listen("Fleet Pines", "alice", plays=40)])  # no time: in no range
    # alice's timed listens are on days 0-4, 8 and 9 after T0 (2025-06-15).
    report = forget(store, "alice", since="2025-06-16", until="2025-06-23")
    assert report.listens == 4 + 1  # days 1-4 and day 8
    left = store.conn.execute(
        "SELECT count(*) FROM listens WHERE listener_id = ?", (store.listener_id("alice"),)
    ).fetchone()[0]
    assert left == 3  # day 0, day 9 and the timeless row


def test_a_bare_until_date_covers_that_whole_day() -> None:
    assert parse_when("2025-06-16", end=True) - parse_when("2025-06-16", end=False) == DAY
    assert parse_when("2025-06-16T12:00:00+02:00", end=False) == parse_when(
        "2025-06-16T10:00:00", end=False
    )


def test_forget_needs_exactly_one_selection(store: Store) -> None:
    small_world(store)
    with pytest.raises(InvalidForget):
        forget(store, "alice")
    with pytest.raises(InvalidForget):
        forget(store, "alice", artist="Rancid", all_data=True)
    with pytest.raises(InvalidForget, match="swap"):
        forget(store, "alice", since="2025-07-01", until="2025-06-01")
    with pytest.raises(InvalidForget, match="not a date"):
        forget(store, "alice", since="last tuesday")
    with pytest.raises(UnknownListener):
        forget(store, "nobody", all_data=True)


def test_untagged_artists_only_the_listener_played_go_tagged_stay(store: Store) -> None:
    add(store, "demo", [ArtistTag("Tagged Solo", "folk", 1)])
    add(
        store,
        "demo",
        [
            Listen("Tagged Solo", "dana", listened_at=T0),
            Listen("Bare Solo", "dana", listened_at=T0),
        ],
    )
    report = forget(store, "dana", all_data=True)
    names = {r[0] for r in store.conn.execute("SELECT name FROM artists")}
    assert names == {"Tagged Solo"} and report.artists == 1


def test_cli_forget(tmp_path: Path) -> None:
    db = tmp_path / "t.db"
    with Store.open(db) as opened:
        small_world(opened)
    runner = CliRunner()
    result = runner.invoke(main, ["--db", str(db), "forget", "--listener", "alice", "--all"])
    assert result.exit_code == 0, result.output
    assert "forgot 7 listen rows" in result.output and "compacted" in result.output
    again = runner.invoke(main, ["--db", str(db), "forget", "--listener", "alice", "--all"])
    assert again.exit_code == 1 and again.output.startswith("Error: no listener named 'alice'")
    nothing = runner.invoke(main, ["--db", str(db), "forget", "--listener", "bob"])
    assert nothing.exit_code == 1 and "exactly one of" in nothing.output


def test_an_artist_a_verdict_link_names_stays(store: Store) -> None:
    """Regression: forgetting the only listener of an untagged artist that a verdict's reason
    link names (on someone else's playlist) raised sqlite3.IntegrityError (a foreign key)."""
    build_world(store)
    add(store, "demo", [Listen("Lone Untagged", "eve", title="Alone", listened_at=T0)])
    (lone,) = store.conn.execute("SELECT id FROM artists WHERE name = 'Lone Untagged'").fetchone()
    entry = discovery(store, 3, [1], "Oi! Oi! Oi!")
    entry["evidence"]["because_of"] = [{"artist": "Lone Untagged", "artist_id": lone}]
    save_rows(store, "pl-x", "ana", [entry])
    record_verdict(store, "pl-x", "reject", position=1, link_from="Lone Untagged")

    report = forget(store, "eve", all_data=True)

    assert (report.listens, report.tracks, report.artists) == (1, 1, 0)
    assert store.conn.execute("SELECT name FROM artists WHERE id = ?", (lone,)).fetchone()
    assert blocked_for(store, "ana").links == {(3, lone) if 3 < lone else (lone, 3)}
