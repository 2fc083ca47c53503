"""Feedback as its own record: by hand, in force, pending until its item arrives, never a listen,
in the model input, forgotten and exported with the listener, and on the command line."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp
from click.testing import CliRunner

from playlists.cli import main
from playlists.privacy import export_listener, forget
from recommender.errors import InvalidFeedback, InvalidTerms, NoSuchFeedback, UnknownListener
from recommender.feedback import (
    LOVE_WEIGHT,
    ModelOpinions,
    add_feedback,
    dedupe_key,
    feedback_report,
    listener_feedback,
    model_opinions,
    resolve_pending,
    skip_share,
    skipped_out,
    split_track,
    take_back,
    weigh_model_input,
)
from recommender.ingest import Listen, Record, Track
from recommender.ingest.writer import import_records
from recommender.interactions import load_interactions
from recommender.store import Store
from recommender.terms_storage import describe_terms, load_terms, update_terms

T = 1_750_000_000
HISTORY: list[Record] = [
    *[Listen("Rancid", listener="ana", title="Ruby Soho", listened_at=T + i) for i in range(3)],
    *[
        Listen("Rancid", listener="ana", title="Time Bomb", listened_at=T + 10 + i)
        for i in range(2)
    ],
    Listen("The Skatalites", listener="ana", title="Guns of Navarone", listened_at=T + 20),
    Listen("The Skatalites", listener="ben", title="Guns of Navarone", listened_at=T + 30),
]


@pytest.fixture
def small(store: Store) -> Store:
    import_records(store, "demo", Path("fixture"), HISTORY)
    return store


def _listens(store: Store) -> tuple[int, int]:
    return tuple(store.conn.execute("SELECT count(*), sum(plays) FROM listens").fetchone())


def _ids(store: Store, artist: str, title: str | None = None) -> tuple[int, int | None]:
    artist_id = store.conn.execute("SELECT id FROM artists WHERE name = ?", (artist,)).fetchone()[0]
    if title is None:
        return int(artist_id), None
    track = store.conn.execute(
        "SELECT id FROM tracks WHERE artist_id = ? AND title = ?", (artist_id, title)
    ).fetchone()[0]
    return int(artist_id), int(track)


def test_a_love_by_hand_is_stored_resolved_and_never_becomes_a_listen(small: Store) -> None:
    before = _listens(small)
    change = add_feedback(small, "ana", "love", track="rancid - ruby soho", at=T + 100)
    assert (change.rows, change.pending) == (1, False)
    assert (change.artist_id, change.track_id) == _ids(small, "Rancid", "Ruby Soho")
    assert _listens(small) == before  # feedback never changes play counts
    row = small.conn.execute(
        "SELECT kind, artist_id, track_id, at, source, dedupe FROM feedback"
    ).fetchone()
    assert row == (
        "love",
        *_ids(small, "Rancid", "Ruby Soho"),
        T + 100,
        "hand",
        dedupe_key("love", T + 100, "rancid", "ruby soho"),
    )
    again = add_feedback(small, "ana", "love", track="Rancid - Ruby Soho", at=T + 100)
    assert again.rows == 0  # the same feedback twice changes nothing
    assert small.conn.execute("SELECT count(*) FROM feedback").fetchone()[0] == 1


def test_the_newest_love_or_hate_is_in_force(small: Store) -> None:
    listener_id = small.listener_id("ana")
    artist_id, track_id = _ids(small, "Rancid", "Time Bomb")
    add_feedback(small, "ana", "love", track="Rancid - Time Bomb", at=T + 1)
    add_feedback(small, "ana", "hate", track="Rancid - Time Bomb", at=T + 2)
    mine = listener_feedback(small, listener_id)
    assert mine.hated_tracks == {track_id} and mine.loved(artist_id, track_id) is None
    add_feedback(small, "ana", "love", track="Rancid - Time Bomb", at=T + 3)
    mine = listener_feedback(small, listener_id)
    assert mine.hated_tracks == frozenset()
    loved = mine.loved(artist_id, track_id)
    assert loved is not None and (loved.at, loved.scope) == (T + 3, "track")
    # A loved artist makes its tracks loved, unless a track's own opinion says otherwise.
    add_feedback(small, "ana", "love", artist="Rancid", at=T + 4)
    mine = listener_feedback(small, listener_id)
    ruby = _ids(small, "Rancid", "Ruby Soho")[1]
    assert mine.loved(artist_id, ruby) is not None
    assert mine.loved(artist_id, ruby).scope == "artist"  # type: ignore[union-attr]
    report = feedback_report(small, "ana")
    assert [(r.kind, f) for r, f in report.opinions] == [
        ("love", False),
        ("hate", False),
        ("love", True),
        ("love", True),
    ]


def test_feedback_for_what_is_not_in_the_store_waits_and_applies_once_it_arrives(
    small: Store,
) -> None:
    change = add_feedback(small, "ana", "hate", track="Bad Religion - Generator", at=T)
    assert change.pending and change.rows == 1
    listener_id = small.listener_id("ana")
    assert listener_feedback(small, listener_id).pending == 1
    assert listener_feedback(small, listener_id).hated_tracks == frozenset()
    import_records(
        small, "demo", Path("more"), [Listen("Bad Religion", listener="ben", title="Generator")]
    )
    arrived = _ids(small, "Bad Religion", "Generator")[1]
    mine = listener_feedback(small, listener_id)
    assert mine.hated_tracks == {arrived} and mine.pending == 0
    # The import that brought the track placed the row (resolve_pending at its end).
    with small.transaction():
        assert resolve_pending(small) == 0
    stored = small.conn.execute("SELECT track_id FROM feedback").fetchone()[0]
    assert stored == arrived


def test_a_recording_mbid_finds_its_track(small: Store) -> None:
    # As the import writer stores a ListenBrainz love that names only a recording MBID.
    listener_id = small.listener_id("ana")
    mbid = "0f1e2d3c-0000-4000-8000-000000000001"
    with small.transaction() as conn:
        conn.execute(
            "INSERT INTO feedback (listener_id, kind, recording_mbid, at, source, dedupe)"
            " VALUES (?, 'love', ?, ?, 'listenbrainz', ?)",
            (listener_id, mbid, T, dedupe_key("love", T, recording_mbid=mbid)),
        )
    assert listener_feedback(small, listener_id).pending == 1
    import_records(small, "demo", Path("t"), [Track("Minor Threat", "Filler", mbid=mbid)])
    artist_id, track_id = _ids(small, "Minor Threat", "Filler")
    loved = listener_feedback(small, listener_id).loved(artist_id, track_id)
    assert loved is not None and loved.scope == "track"


def test_taking_feedback_back(small: Store) -> None:
    add_feedback(small, "ana", "skip", track="Rancid - Ruby Soho", at=T + 1)
    add_feedback(small, "ana", "skip", track="Rancid - Ruby Soho", at=T + 2)
    add_feedback(small, "ana", "hate", artist="Rancid", at=T + 3)
    gone = take_back(small, "ana", "skip", track="Rancid - Ruby Soho")
    assert gone.rows == 2
    assert [r[0] for r in small.conn.execute("SELECT kind FROM feedback")] == ["hate"]
    with pytest.raises(NoSuchFeedback, match="--show"):
        take_back(small, "ana", "love", artist="Rancid")
    take_back(small, "ana", "hate", artist="rancid")
    assert small.conn.execute("SELECT count(*) FROM feedback").fetchone()[0] == 0


def test_bad_feedback_is_a_clear_error(small: Store) -> None:
    with pytest.raises(InvalidFeedback, match="exactly one item"):
        add_feedback(small, "ana", "love")
    with pytest.raises(InvalidFeedback, match="exactly one item"):
        add_feedback(small, "ana", "love", artist="Rancid", track="Rancid - Ruby Soho")
    with pytest.raises(InvalidFeedback, match="love, hate or skip"):
        add_feedback(small, "ana", "adore", artist="Rancid")
    with pytest.raises(InvalidFeedback, match="Artist - Title"):
        add_feedback(small, "ana", "love", track="Ruby Soho")
    with pytest.raises(UnknownListener):
        add_feedback(small, "zed", "love", artist="Rancid")


def test_a_track_split_prefers_an_artist_the_store_knows(small: Store) -> None:
    import_records(small, "demo", Path("x"), [Listen("Sleater - Kinney", listener="ana")])
    assert split_track(small, "Sleater - Kinney - Dig Me Out") == ("Sleater - Kinney", "Dig Me Out")
    assert split_track(small, "Unknown - Some - Song") == ("Unknown", "Some - Song")


def test_skips_count_unless_the_listener_switches_learning_from_them_off(small: Store) -> None:
    listener_id = small.listener_id("ana")
    _, ruby = _ids(small, "Rancid", "Ruby Soho")
    for i in range(4):
        add_feedback(small, "ana", "skip", track="Rancid - Ruby Soho", at=T + i)
    assert listener_feedback(small, listener_id).track_skips == {ruby: 4}
    assert skip_share(3, 4) == pytest.approx(4 / 7) and skipped_out(3, 4)
    assert not skipped_out(3, 3) and skip_share(5, 0) == 0.0
    update_terms(small, "ana", learn_from_skips=False)
    terms = load_terms(small, "ana")
    assert terms.learn_from_skips is False
    off = listener_feedback(small, listener_id, learn_from_skips=terms.learn_from_skips)
    assert off.track_skips == {}
    assert feedback_report(small, "ana").learn_from_skips is False


def test_the_new_terms_are_stored_shown_and_checked(small: Store) -> None:
    update_terms(small, "ana", rest_after_offers=5, time_zone="Europe/Berlin")
    terms = load_terms(small, "ana")
    assert (terms.rest_after_offers, terms.time_zone, terms.learn_from_skips) == (
        5,
        "Europe/Berlin",
        True,
    )
    names = {row.name for row in describe_terms(small, "ana").rows}
    assert {"learn_from_skips", "rest_after_offers", "time_zone"} <= names
    with pytest.raises(InvalidTerms, match="IANA"):
        update_terms(small, "ana", time_zone="Berlin")
    with pytest.raises(InvalidTerms, match="rest-after"):
        update_terms(small, "ana", rest_after_offers=-1)


def test_feedback_from_an_ignored_source_is_not_read(small: Store) -> None:
    listener_id = small.listener_id("ana")
    add_feedback(small, "ana", "hate", artist="Rancid", at=T, source="listenbrainz")
    assert listener_feedback(small, listener_id).hated_artists
    ignored = listener_feedback(small, listener_id, ignore_sources=["listenbrainz"])
    assert ignored.hated_artists == frozenset()
    update_terms(small, "ana", ignore_sources=["listenbrainz"])
    assert model_opinions(small) == ModelOpinions()


def test_the_model_input_leaves_hates_out_and_weighs_loves_but_plays_stay() -> None:
    weights = sp.csr_matrix(np.array([[1.0, 2.0, 0.0], [0.5, 0.0, 0.0]]))
    opinions = ModelOpinions(loved=((10, 100), (11, 102)), hated=((10, 101),))
    out = weigh_model_input(weights, np.array([10, 11]), np.array([100, 101, 102]), opinions)
    assert out.toarray().tolist() == [
        [LOVE_WEIGHT * 1.0, 0.0, 0.0],
        [0.5, 0.0, pytest.approx(LOVE_WEIGHT * np.log(2.0))],
    ]
    assert out.nnz == 3 and weights.toarray()[0, 1] == 2.0  # the input is not changed


def test_interactions_with_feedback_change_weights_and_fingerprint_not_plays(
    small: Store,
) -> None:
    plain = load_interactions(small)
    add_feedback(small, "ana", "hate", artist="The Skatalites", at=T)
    add_feedback(small, "ana", "love", track="Rancid - Time Bomb", at=T)
    told = load_interactions(small)
    alone = load_interactions(small, feedback=False)
    assert (told.plays != plain.plays).nnz == 0
    assert alone.fingerprint == plain.fingerprint != told.fingerprint
    row = told.listener_index["ana"]
    rancid, ska = (told.artist_index[_ids(small, name)[0]] for name in ("Rancid", "The Skatalites"))
    assert told.weights[row, ska] == 0 and plain.weights[row, ska] > 0
    assert told.weights[row, rancid] == pytest.approx(LOVE_WEIGHT * plain.weights[row, rancid])
    ben = told.listener_index["ben"]
    assert told.weights[ben, ska] == plain.weights[ben, ska]  # one listener's hate is theirs


def _count(store: Store, sql: str, *args: object) -> int:
    return int(store.conn.execute(sql, args).fetchone()[0])


def test_forget_takes_feedback_with_it_and_export_carries_it(small: Store) -> None:
    add_feedback(small, "ana", "hate", artist="The Skatalites", at=T)
    add_feedback(small, "ana", "love", track="Rancid - Ruby Soho", at=T + 5)
    add_feedback(small, "ben", "love", track="Rancid - Ruby Soho", at=T)
    exported = export_listener(small, "ana")["feedback"]
    assert [(f["kind"], f["artist"], f["title"], f["source"]) for f in exported] == [
        ("hate", "The Skatalites", None, "hand"),
        ("love", "Rancid", "Ruby Soho", "hand"),
    ]
    assert forget(small, "ana", artist="The Skatalites").feedback == 1
    # Only ana listened to Rancid; ben's love keeps the artist and the track (and its row valid).
    assert forget(small, "ana", artist="Rancid").feedback == 1
    assert (
        _count(
            small,
            "SELECT count(*) FROM listens WHERE artist_id IN"
            " (SELECT id FROM artists WHERE name = 'Rancid')",
        )
        == 0
    )
    assert (
        _count(
            small,
            "SELECT count(*) FROM feedback f JOIN tracks t ON t.id = f.track_id"
            " JOIN artists a ON a.id = t.artist_id WHERE a.name = 'Rancid'",
        )
        == 1
    )
    add_feedback(small, "ana", "skip", track="The Skatalites - Guns of Navarone", at=T + 5)
    # T + 5 is 2025-06-15 15:06 UTC: a range that holds it takes it.
    assert forget(small, "ana", since="2025-06-15", until="2025-06-15").feedback == 1
    forget(small, "ben", all_data=True)
    assert _count(small, "SELECT count(*) FROM feedback") == 0


def _cli(db: Path, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["--db", str(db), *args])
    return result.exit_code, result.output


def test_the_feedback_command(tmp_path: Path) -> None:
    db = tmp_path / "t.db"
    with Store.open(db) as store:
        import_records(store, "demo", Path("fixture"), HISTORY)
    code, out = _cli(
        db,
        "feedback",
        "--listener",
        "ana",
        "--love",
        "--track",
        "Rancid - Ruby Soho",
        "--when",
        "2025-03-02",
    )
    assert code == 0 and out.startswith("stored: ana loves Rancid - Ruby Soho")
    code, out = _cli(db, "feedback", "--listener", "ana", "--hate", "--artist", "Bad Relgion")
    assert code == 0 and "not in the store yet" in out
    code, out = _cli(db, "feedback", "--listener", "ana", "--show", "--json")
    shown = json.loads(out)
    assert code == 0 and set(shown) == {
        "listener",
        "learn_from_skips",
        "loves",
        "hates",
        "skips",
        "pending",
    }
    assert shown["loves"][0]["at"] == "2025-03-02T00:00:00+00:00" and shown["pending"] == 1
    assert shown["hates"][0]["pending"] is True
    code, out = _cli(db, "feedback", "--listener", "ana", "--show")
    assert code == 0 and "love  Rancid - Ruby Soho" in out and "pending" in out
    code, out = _cli(
        db, "feedback", "--listener", "ana", "--love", "--undo", "--track", "Rancid - Ruby Soho"
    )
    assert code == 0 and out.startswith("took back 1 love")
    code, out = _cli(db, "feedback", "--listener", "ana", "--love")
    assert code == 1 and out.startswith("Error: ") and "Traceback" not in out
    code, out = _cli(db, "feedback", "--listener", "nobody", "--show")
    assert code == 1 and out.startswith("Error: no listener named")
