"""The listener's terms: stored, changed, taken back, shown, and honoured by the model input."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from playlists.cli import main
from recommender.errors import InvalidTerms, UnknownArtist, UnknownListener, UnknownTag
from recommender.ingest import ArtistTag, Listen
from recommender.interactions import DEFAULT_HALF_LIFE_DAYS, load_interactions
from recommender.store import Store
from recommender.terms import Terms, terms_from_dict
from recommender.terms_storage import describe_terms, load_terms, update_terms
from tests.terms_fixtures import small_world


@pytest.fixture
def world(store: Store) -> Store:
    small_world(store)
    return store


def test_the_default_half_life_is_the_one_the_model_input_uses() -> None:
    # The terms value sits below the model side, which keeps its own name for the default.
    assert Terms().half_life_days == DEFAULT_HALF_LIFE_DAYS


def test_defaults_until_something_is_set(world: Store) -> None:
    assert load_terms(world, "alice") == Terms()
    report = describe_terms(world, "alice")
    assert not report.stored
    assert all(row.is_default for row in report.rows)
    half_life = next(r for r in report.rows if r.name == "half_life_days")
    assert half_life.value == DEFAULT_HALF_LIFE_DAYS


def test_exclusions_are_added_and_taken_back(world: Store) -> None:
    update_terms(world, "alice", exclude_artists=["rancid"], exclude_tags=["Hardcore"])
    terms = load_terms(world, "alice")
    assert terms.exclude_artists == ("Rancid",)  # the stored display name
    assert terms.exclude_tags == ("hardcore",)
    update_terms(world, "alice", exclude_artists=["RANCID"])  # no duplicate
    assert load_terms(world, "alice").exclude_artists == ("Rancid",)
    update_terms(world, "alice", include_artists=["Rancid"])
    assert load_terms(world, "alice").exclude_artists == ()
    assert load_terms(world, "alice").exclude_tags == ("hardcore",)
    update_terms(world, "alice", clear_exclusions=True)
    assert load_terms(world, "alice").exclude_tags == ()


def test_other_terms_are_kept_when_one_changes(world: Store) -> None:
    update_terms(world, "alice", surprise=0.5, half_life_days=14)
    update_terms(world, "alice", no_repeat_days=7)
    assert load_terms(world, "alice") == Terms(surprise=0.5, half_life_days=14, no_repeat_days=7)
    assert load_terms(world, "bob") == Terms()


def test_mistakes_are_named_errors(world: Store) -> None:
    with pytest.raises(UnknownArtist, match="check the spelling"):
        update_terms(world, "alice", exclude_artists=["Nobody Band"])
    with pytest.raises(UnknownTag, match="no artist carries the tag 'polka'"):
        update_terms(world, "alice", exclude_tags=["polka"])
    with pytest.raises(InvalidTerms, match="unknown source"):
        update_terms(world, "alice", ignore_sources=["myspace"])
    with pytest.raises(InvalidTerms, match="between 0 and 1"):
        update_terms(world, "alice", surprise=1.5)
    with pytest.raises(InvalidTerms, match="positive"):
        update_terms(world, "alice", half_life_days=0)
    with pytest.raises(UnknownListener):
        update_terms(world, "carol", surprise=0.1)
    assert load_terms(world, "alice") == Terms()  # nothing half-applied


def test_show_lists_sources_with_counts_and_use(world: Store) -> None:
    update_terms(world, "alice", ignore_sources=["spotify"])
    report = describe_terms(world, "alice")
    by_source = {s.source: s for s in report.sources}
    assert (by_source["demo"].rows, by_source["demo"].used) == (6, True)
    assert (by_source["spotify"].rows, by_source["spotify"].used) == (1, False)
    assert report.used_rows == 6
    update_terms(world, "alice", use_sources=["spotify"])
    assert describe_terms(world, "alice").used_rows == 7


def test_ignored_source_is_not_model_input(world: Store) -> None:
    before = load_interactions(world)
    row = before.listener_index["alice"]
    crisis = before.artist_names.index("Earth Crisis")
    assert before.plays[row, crisis] > 0
    update_terms(world, "alice", ignore_sources=["spotify"])
    after = load_interactions(world)
    assert after.plays[after.listener_index["alice"], crisis] == 0
    # bob's Earth Crisis listens are his own and stay.
    assert after.plays[after.listener_index["bob"], crisis] > 0
    assert after.fingerprint != before.fingerprint


def test_opted_out_listener_is_not_model_input(world: Store) -> None:
    update_terms(world, "alice", personalise=False)
    interactions = load_interactions(world)
    assert "alice" not in interactions.listeners
    assert interactions.listeners == ["bob"]


def test_half_life_is_per_listener(world: Store) -> None:
    default = load_interactions(world)
    update_terms(world, "alice", half_life_days=1)
    short = load_interactions(world)
    rancid = default.artist_names.index("Rancid")
    alice, bob = default.listener_index["alice"], default.listener_index["bob"]
    assert short.plays[alice, rancid] < default.plays[alice, rancid]
    assert short.plays[bob, rancid] == pytest.approx(default.plays[bob, rancid])


@settings(max_examples=50, deadline=None)
@given(
    surprise=st.floats(0, 1),
    half_life=st.floats(0.5, 3650),
    no_repeat=st.integers(0, 365),
    personalise=st.booleans(),
    artists=st.lists(st.text(min_size=1, max_size=8), max_size=3),
)
def test_terms_survive_their_dict_form(
    surprise: float, half_life: float, no_repeat: int, personalise: bool, artists: list[str]
) -> None:
    terms = Terms(surprise, half_life, no_repeat, personalise, tuple(artists))
    assert terms_from_dict(json.loads(json.dumps(terms.as_dict()))) == terms


def test_cli_sets_and_shows_terms(tmp_path) -> None:  # type: ignore[no-untyped-def]
    db = tmp_path / "t.db"
    with Store.open(db) as opened:
        small_world(opened)
    runner = CliRunner()
    result = runner.invoke(
        main,
        [
            "--db",
            str(db),
            "terms",
            "--listener",
            "alice",
            "--half-life",
            "30",
            "--exclude-tag",
            "hardcore",
            "--ignore-source",
            "spotify",
        ],
    )
    assert result.exit_code == 0, result.output
    shown = runner.invoke(main, ["--db", str(db), "terms", "--listener", "alice", "--show"])
    assert "half_life_days   30 days" in shown.output
    assert "spotify" in shown.output and "NOT used" in shown.output
    as_json = json.loads(
        runner.invoke(main, ["--db", str(db), "terms", "--listener", "alice", "--json"]).output
    )
    assert as_json["terms"]["half_life_days"] == {
        "value": 30.0,
        "default": DEFAULT_HALF_LIFE_DAYS,
        "is_default": False,
        "explanation": as_json["terms"]["half_life_days"]["explanation"],
    }
    assert as_json["terms"]["surprise"]["is_default"] is True
    assert as_json["data"]["used_rows"] == 6
    bad = runner.invoke(main, ["--db", str(db), "terms", "--listener", "alice", "--surprise", "2"])
    assert bad.exit_code == 1 and bad.output.startswith("Error: surprise must be")


@pytest.mark.parametrize("command", ["terms", "forget", "export-data"])
def test_commands_have_help(command: str) -> None:
    result = CliRunner().invoke(main, [command, "--help"])
    assert result.exit_code == 0
    assert "--listener" in result.output and len(result.output.splitlines()) > 4


def test_counts_shown_to_others_use_only_consented_listens(world: Store) -> None:
    # The playlist's top tracks through a trained model: tests/test_track_plays.py.
    from recommender.listens import artist_listeners as popularity
    from recommender.listens import track_plays

    ids = dict(world.conn.execute("SELECT name, id FROM artists").fetchall())
    tracks = dict(world.conn.execute("SELECT title, id FROM tracks").fetchall())
    rancid = ids["Rancid"]
    assert popularity(world)[ids["Earth Crisis"]] == 2
    assert track_plays(world, [rancid])[tracks["Song 1"]] == 2  # alice + bob
    update_terms(world, "alice", ignore_sources=["spotify"])
    assert popularity(world)[ids["Earth Crisis"]] == 1
    update_terms(world, "bob", personalise=False)
    assert ids["Earth Crisis"] not in popularity(world)
    assert popularity(world)[rancid] == 1
    # Without bob's play, "Song 1" is one play like the others.
    assert track_plays(world, [rancid]) == {tracks[f"Song {i}"]: 1 for i in range(5)}


def test_a_tag_is_the_same_tag_however_it_is_typed(store: Store) -> None:
    """Regression: `--tag "hip hop"` worked on `playlist` but `terms --exclude-tag "hip hop"`
    was refused when the stored tag is `hip-hop`; both now use the one resolver."""
    from recommender.catalog import artists_tagged, resolve_tag
    from tests.terms_fixtures import add

    add(
        store,
        "demo",
        [
            ArtistTag("MC Ridge", "hip-hop", 3),
            Listen("MC Ridge", "alice", title="Flow", listened_at=1_750_000_000),
        ],
    )
    assert resolve_tag(store, "hip hop") == "hip-hop"
    update_terms(store, "alice", exclude_tags=["Hip Hop"])
    assert load_terms(store, "alice").exclude_tags == ("hip-hop",)
    assert artists_tagged(store, ["hip hop"]) == artists_tagged(store, ["hip-hop"]) != set()
