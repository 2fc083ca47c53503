"""Feedback from the exports that carry it: loves, hates and skips, stored in `feedback`, never
as listens; placed on its artist or track, or kept pending until the item arrives."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from recommender.sources import import_path
from recommender.store import Store
from tests.export_files import (
    lastfm_to_csv,
    lb_export_listen,
    lb_export_zip,
    lb_feedback,
    snapshot,
    spotify_row,
)

JOGA = "2b7c1f5d-43a4-4c8e-a2c4-7a1e4f5d2b10"
HUNTER = "5d8e2a11-9b0c-4d3e-8f12-3a4b5c6d7e8f"
NOT_HERE = "7e6d5c4b-3a29-4180-9f7e-6d5c4b3a2918"
HUNTER_MSID = "c0ffee00-1234-4abc-8def-0123456789ab"
T = int(datetime(2024, 5, 1, 12, tzinfo=UTC).timestamp())


def feedback(store: Store) -> list[tuple[object, ...]]:
    return store.conn.execute(
        "SELECT f.kind, a.name, t.title, f.recording_mbid, f.recording_msid, f.at, f.source"
        " FROM feedback f LEFT JOIN artists a ON a.id = f.artist_id"
        " LEFT JOIN tracks t ON t.id = f.track_id ORDER BY f.id"
    ).fetchall()


def lb_zip(tmp_path: Path, name: str = "lb.zip") -> Path:
    listens = [
        lb_export_listen(T, "Björk", "Jóga", "Homogenic", recording_mbid=JOGA),
        # No server match: only the MSID identifies it, and the love below names only that.
        lb_export_listen(T + 400, "Björk", "Hunter", "Homogenic", msid=HUNTER_MSID),
    ]
    notes = [
        lb_feedback(1, T + 100, mbid=JOGA),
        lb_feedback(-1, T + 500, msid=HUNTER_MSID),
        lb_feedback(1, T + 600, mbid=NOT_HERE),  # a recording not in the store (yet)
        lb_feedback(0, T + 700, mbid=JOGA),  # withdrawn
    ]
    return lb_export_zip(tmp_path / name, "rob", listens, notes)


def test_listenbrainz_loves_and_hates_are_feedback_placed_by_mbid_or_msid(
    store: Store, tmp_path: Path
) -> None:
    report = import_path(store, "listenbrainz", lb_zip(tmp_path))
    assert (report.imported, report.feedback, report.feedback_pending) == (2, 3, 1)
    assert report.skip_reasons == {"feedback withdrawn (score 0)": 1}
    assert feedback(store) == [
        ("love", "Björk", "Jóga", JOGA, None, T + 100, "listenbrainz"),
        ("hate", "Björk", "Hunter", None, HUNTER_MSID, T + 500, "listenbrainz"),
        ("love", None, None, NOT_HERE, None, T + 600, "listenbrainz"),
    ]
    # Feedback never becomes a listen, nor changes a play count.
    assert store.counts()["listens"] == 2


def test_the_same_feedback_twice_changes_nothing(store: Store, tmp_path: Path) -> None:
    import_path(store, "listenbrainz", lb_zip(tmp_path))
    before = (snapshot(store), feedback(store))
    again = import_path(store, "listenbrainz", lb_zip(tmp_path, "again.zip"))
    assert (again.feedback, again.feedback_duplicates) == (0, 3)
    after = (snapshot(store), feedback(store))
    assert after == ({**before[0], "imports": before[0]["imports"] + 1}, before[1])


def test_pending_feedback_is_placed_when_its_item_arrives(store: Store, tmp_path: Path) -> None:
    import_path(store, "listenbrainz", lb_zip(tmp_path))
    later = [lb_export_listen(T + 9000, "Sigur Rós", "Hoppípolla", recording_mbid=NOT_HERE)]
    report = import_path(store, "listenbrainz", lb_export_zip(tmp_path / "l.zip", "rob", later))
    assert report.feedback_placed == 1
    assert feedback(store)[2][:3] == ("love", "Sigur Rós", "Hoppípolla")


def test_spotify_skips_follow_the_documented_rule(store: Store, tmp_path: Path) -> None:
    rows = [
        # Forward button after 8 s: a skip, and not a listen.
        spotify_row("2025-03-02T18:00:08Z", 8_000, "Ruby Soho", "Rancid", reason_end="fwdbtn"),
        # Spotify's own flag, after three minutes: a listen AND a skip.
        spotify_row("2025-03-02T18:10:00Z", 180_000, "Time Bomb", "Rancid", skipped=True),
        # Ended by itself under 30 s (a short track): neither.
        spotify_row("2025-03-02T18:20:00Z", 20_000, "Intro", "Rancid", reason_end="trackdone"),
        # Forward button after two minutes: heard, not a skip.
        spotify_row("2025-03-02T18:30:00Z", 120_000, "Olympia WA", "Rancid", reason_end="fwdbtn"),
    ]
    path = tmp_path / "Streaming_History_Audio_2025.json"
    path.write_text(json.dumps(rows))
    report = import_path(store, "spotify", path, listener="me")
    assert (report.imported, report.feedback) == (2, 2)
    assert [(k, t, at) for k, _, t, _, _, at, _ in feedback(store)] == [
        ("skip", None, int(datetime(2025, 3, 2, 18, 0, tzinfo=UTC).timestamp())),
        ("skip", "Time Bomb", int(datetime(2025, 3, 2, 18, 7, tzinfo=UTC).timestamp())),
    ]
    # The first skip names a track not in the store: kept with its names until it arrives.
    assert store.conn.execute(
        "SELECT artist_name, track_title FROM feedback WHERE track_id IS NULL"
    ).fetchall() == [("Rancid", "Ruby Soho")]


def test_lastfm_loved_tracks_and_rockbox_skips(store: Store, tmp_path: Path) -> None:
    scrobbles = tmp_path / "rob.csv"
    scrobbles.write_text(lastfm_to_csv([("Rancid", "Wolves", "Ruby Soho", "02 Mar 2025 18:00")]))
    import_path(store, "lastfm", scrobbles, listener="rob")
    loved = tmp_path / "rob_loved.csv"
    loved.write_text(
        "Rancid,Ruby Soho,01 Mar 2025 09:30\nOperation Ivy,Knowledge,01 Feb 2025 08:00\n"
    )
    report = import_path(store, "lastfm", loved, listener="rob")
    assert (report.imported, report.feedback, report.feedback_pending) == (0, 2, 1)
    log = tmp_path / ".scrobbler.log"
    log.write_text(
        "#AUDIOSCROBBLER/1.1\n#TZ/UTC\n#CLIENT/Rockbox\n"
        "Rancid\tWolves\tRuby Soho\t3\t200\tS\t1740900000\t\n"
    )
    skipped = import_path(store, "lastfm", log, listener="rob")
    assert (skipped.imported, skipped.feedback) == (0, 1)
    kinds = [(k, a, t) for k, a, t, *_ in feedback(store)]
    assert kinds == [
        ("love", "Rancid", "Ruby Soho"),
        ("love", None, None),
        ("skip", "Rancid", "Ruby Soho"),
    ]
    assert store.counts()["listens"] == 1


def test_a_tastemaker_export_brings_feedback_back(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "export.json"
    path.write_text(
        json.dumps(
            {
                "format": "tastemaker-export",
                "version": 1,
                "listener": {"name": "rob"},
                "listens": [
                    {"artist": "Rancid", "title": "Ruby Soho", "listened_at": T, "plays": 1,
                     "source": "lastfm", "spotify_uri": "spotify:track:1ueMmM9yGdDiJyYeRTNzCx"}
                ],
                "feedback": [
                    {"kind": "love", "artist": "Rancid", "title": "Ruby Soho", "at": T + 5,
                     "source": "listenbrainz"},
                    {"kind": "hate", "recording_mbid": NOT_HERE, "at": T + 6},
                    {"kind": "meh", "artist": "Rancid"},
                ],
            }
        )
    )  # fmt: skip
    report = import_path(store, "tastemaker", path)
    assert (report.imported, report.feedback, report.rejected) == (1, 2, 1)
    assert feedback(store) == [
        ("love", "Rancid", "Ruby Soho", None, None, T + 5, "listenbrainz"),
        ("hate", None, None, NOT_HERE, None, T + 6, "tastemaker"),
    ]
    again = import_path(store, "tastemaker", path)
    assert (again.imported, again.feedback) == (0, 0)


def test_the_demo_world_import_stores_its_planted_feedback(demo_store_path: Path) -> None:
    import csv

    from recommender.resources import demo_dir

    with (demo_dir() / "feedback.csv").open(encoding="utf-8", newline="") as handle:
        planted = list(csv.DictReader(handle))
    with Store.open(demo_store_path) as store:
        rows = store.conn.execute(
            "SELECT kind, count(*) FROM feedback WHERE source = 'demo' GROUP BY kind"
        ).fetchall()
        pending = store.conn.execute("SELECT count(*) FROM feedback WHERE artist_id IS NULL")
        assert pending.fetchone() == (0,)
    by_kind: dict[str, int] = {}
    for row in planted:
        by_kind[row["kind"]] = by_kind.get(row["kind"], 0) + 1
    assert dict(rows) == by_kind
