"""The demo world: reproducible from the code, and what truth.json says is planted is in it."""

from __future__ import annotations

import csv
import gzip
import json
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest

from recommender import demo_world
from recommender.demo import demo_imported, ensure_demo
from recommender.errors import IngestError
from recommender.ingest import Artist, Listen, Rejected, Track
from recommender.ingest.records import Feedback
from recommender.resources import demo_dir
from recommender.sources import demo as demo_reader
from recommender.sources import import_path
from recommender.store import Store

ROOT = Path(__file__).resolve().parent.parent
SLUGS = {
    "punk": ["street-punk", "ska-punk", "midwest-emo"],
    "heavy": ["metalcore", "doom-metal", "power-metal"],
    "beats": ["gym-workout", "synthwave", "emo-rap"],
    "roots": ["trail-folk", "americana", "chamber-folk"],
}


@pytest.fixture(scope="module")
def truth() -> dict[str, Any]:
    return json.loads((demo_dir() / "truth.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def listened_scenes(truth: dict[str, Any]) -> dict[str, set[str]]:
    """listener -> the scenes whose own (non-bridge) artists they played."""
    folder = demo_dir()
    with (folder / "tracks.csv").open(encoding="utf-8") as handle:
        artist_of_track = {row["track_id"]: row["artist_id"] for row in csv.DictReader(handle)}
    with (folder / "artists.csv").open(encoding="utf-8") as handle:
        name_of = {row["artist_id"]: row["name"] for row in csv.DictReader(handle)}
    scene_of = {n: slug for slug, s in truth["scenes"].items() for n in s["artists"]}
    bridges = {b["artist"] for b in truth["bridges"]}
    scenes: dict[str, set[str]] = defaultdict(set)
    with gzip.open(folder / "listens.csv.gz", "rt", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            artist = name_of[artist_of_track[row["track_id"]]]
            if artist not in bridges:
                scenes[row["listener"]].add(scene_of[artist])
    return scenes


@pytest.mark.slow
def test_committed_files_are_exactly_what_the_generator_writes(tmp_path: Path) -> None:
    written = demo_world.write(demo_world.generate(), tmp_path)
    assert len(written) == 6  # feedback.csv: the planted loves, hates and skips
    for path in written:
        assert path.read_bytes() == (demo_dir() / path.name).read_bytes(), path.name


def test_scenes_families_and_slugs(truth: dict[str, Any]) -> None:
    families: dict[str, list[str]] = defaultdict(list)
    for slug, scene in truth["scenes"].items():
        families[scene["family"]].append(slug)
        assert len(scene["artists"]) == demo_world.ARTISTS_PER_SCENE
    assert dict(families) == SLUGS
    assert truth["end"] == "2025-10-31T23:59:59+00:00"
    assert truth["seed"] == demo_world.SEED


def test_lookalike_pairs_share_their_tag_but_not_their_audience(
    truth: dict[str, Any],
    listened_scenes: dict[str, set[str]],
) -> None:
    assert truth["lookalike_pairs"] == [
        ["street-punk", "metalcore", "hardcore"],
        ["midwest-emo", "emo-rap", "emo"],
    ]
    for a, b, tag in truth["lookalike_pairs"]:
        assert tag in truth["scenes"][a]["tags"] and tag in truth["scenes"][b]["tags"]
        audience_a = {who for who, scenes in listened_scenes.items() if a in scenes}
        audience_b = {who for who, scenes in listened_scenes.items() if b in scenes}
        assert len(audience_a) >= 20 and len(audience_b) >= 20
        assert audience_a.isdisjoint(audience_b)


def test_drift_listeners_move_from_gym_to_trail(truth: dict[str, Any]) -> None:
    assert len(truth["drift_listeners"]) == 30
    assert truth["drift"]["from"] == "gym-workout" and truth["drift"]["to"] == "trail-folk"
    assert truth["drift"]["since"].startswith("2025-09-01")
    cold = set(truth["cold_start_artists"])
    assert len(cold) == 24 and set(truth["cold_start_scenes"]) == cold
    assert len(truth["bridges"]) == 3


def test_reader_yields_every_artist_and_track_and_the_listens() -> None:
    records = list(demo_reader.read(demo_dir()))
    artists = [r for r in records if isinstance(r, Artist)]
    tracks = [r for r in records if isinstance(r, Track)]
    listens = [r for r in records if isinstance(r, Listen)]
    assert (len(artists), len(tracks), len(listens)) == (312, 2210, 102_847)
    assert not [r for r in records if isinstance(r, Rejected)]
    first = listens[0]
    assert first.title and first.album and first.duration_ms and first.ms_played
    assert first.listened_at is not None and first.listened_at >= 1_730_419_200


def test_reader_rejects_bad_rows_with_their_location(tmp_path: Path) -> None:
    (tmp_path / "artists.csv").write_text("artist_id,name\n1,Quiet Kites\n2,\n")
    (tmp_path / "artist_tags.csv").write_text("artist_id,tag,count\n1,folk,3\n9,folk,2\n1,x,lots\n")
    (tmp_path / "tracks.csv").write_text(
        "track_id,artist_id,title,album,duration_ms\n1,1,Open Road,Far,200000\n2,7,Lost,,1\n"
    )
    rows = "listener,track_id,listened_at,ms_played\nl1,1,100,5000\nl1,2,100,5\nl1,1,soon,5\n"
    with gzip.open(tmp_path / "listens.csv.gz", "wt") as handle:
        handle.write(rows)
    rejects = [r.location for r in demo_reader.read(tmp_path) if isinstance(r, Rejected)]
    assert rejects == [
        "artists.csv:3",
        "artist_tags.csv:3",
        "artist_tags.csv:4",
        "tracks.csv:3",
        "listens.csv.gz:3",
        "listens.csv.gz:4",
    ]


def test_reader_names_the_fix_for_a_wrong_folder(tmp_path: Path) -> None:
    with pytest.raises(IngestError, match="demo_world"):
        list(demo_reader.read(tmp_path))
    (tmp_path / "artists.csv").write_text("id,name\n")
    for name in ("artist_tags.csv", "tracks.csv", "listens.csv.gz"):
        (tmp_path / name).write_text("")
    with pytest.raises(IngestError, match="header"):
        list(demo_reader.read(tmp_path))


def test_ensure_demo_imports_once(demo_store_path: Path) -> None:
    with Store.open(demo_store_path) as store:
        assert demo_imported(store)
        before = store.counts()
        assert ensure_demo(store) is None
        assert store.counts() == before
        assert before["listens"] == 102_847 and before["listeners"] == 300
        assert before["artists"] == 312 and before["tracks"] == 2210


def test_import_demo_into_a_fresh_store_then_ensure_is_a_no_op(tmp_path: Path) -> None:
    """A small copy of the world (same format) keeps this fast."""
    small = tmp_path / "small"
    small.mkdir()
    for name in ("artists.csv", "artist_tags.csv", "tracks.csv"):
        (small / name).write_bytes((demo_dir() / name).read_bytes())
    with gzip.open(demo_dir() / "listens.csv.gz", "rt") as src:
        head = [next(src) for _ in range(1001)]
    with gzip.open(small / "listens.csv.gz", "wt") as dst:
        dst.writelines(head)
    with Store.open(":memory:") as store:
        report = import_path(store, "demo", small)
        assert (report.imported, report.rejected) == (1000, 0)
        assert demo_imported(store, small) and not demo_imported(store)


def test_demo_dir_points_at_the_checkout_for_editable_installs() -> None:
    assert demo_dir().resolve() == (ROOT / "datasets" / "demo").resolve()


def test_the_planted_feedback_follows_its_rules(truth: dict[str, Any]) -> None:
    folder = demo_dir()
    with (folder / "tracks.csv").open(encoding="utf-8") as handle:
        tracks = {int(r["track_id"]): r for r in csv.DictReader(handle)}
    with (folder / "artists.csv").open(encoding="utf-8") as handle:
        name_of = {int(r["artist_id"]): r["name"] for r in csv.DictReader(handle)}
    plays: dict[str, dict[int, int]] = defaultdict(lambda: defaultdict(int))
    track_plays: dict[tuple[str, int], int] = defaultdict(int)
    with gzip.open(folder / "listens.csv.gz", "rt", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            plays[row["listener"]][int(tracks[int(row["track_id"])]["artist_id"])] += 1
            track_plays[(row["listener"], int(row["track_id"]))] += 1
    planted = truth["feedback"]
    for hate in planted["hates"]:
        mine = plays[hate["listener"]]
        ranked = sorted(mine, key=lambda a: (-mine[a], a))
        if hate["rule"] == "third most played artist":
            assert hate["artist"] == name_of[ranked[2]]
        elif hate["rule"].startswith("most widely played unheard"):
            assert hate["artist"] not in {name_of[a] for a in mine}
        else:
            assert hate["artist"] == name_of[ranked[1]] and hate["title"]
    for skip in planted["skips"]:
        heard = track_plays[(skip["listener"], skip["track_id"])]
        assert skip["plays"] == heard >= 3
        assert skip["skips"] == (2 * heard if skip["share"] == "heavy" else max(1, heard // 3))
    records = [r for r in demo_reader.read(folder) if isinstance(r, Feedback)]
    kinds = defaultdict(int)
    for record in records:
        kinds[record.kind] += 1
    assert kinds == {
        "hate": len(planted["hates"]),
        "love": len(planted["loves"]),
        "skip": sum(s["skips"] for s in planted["skips"]),
    }
    # Planted on listeners 101-270 only: the ones tests and the README quote keep their history.
    who = {r.listener for r in records} | set(truth["moments"]["listeners"])
    assert all(101 <= int(str(name).split("-")[1]) <= 270 for name in who)


def test_moment_listeners_play_each_half_of_their_artists_at_its_hours(
    truth: dict[str, Any],
) -> None:
    moments = truth["moments"]
    assert len(moments["listeners"]) == demo_world.MOMENT_LISTENERS
    folder = demo_dir()
    with (folder / "tracks.csv").open(encoding="utf-8") as handle:
        artist_of = {r["track_id"]: r["artist_id"] for r in csv.DictReader(handle)}
    with (folder / "artists.csv").open(encoding="utf-8") as handle:
        name_of = {r["artist_id"]: r["name"] for r in csv.DictReader(handle)}
    half_of = {
        (listener, artist): half
        for listener, halves in moments["listeners"].items()
        for half, artists in halves.items()
        for artist in artists
    }
    seen = 0
    with gzip.open(folder / "listens.csv.gz", "rt", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            half = half_of.get((row["listener"], name_of[artist_of[row["track_id"]]]))
            if half is None:
                continue
            first, end = moments["hours"][half]
            assert first <= (int(row["listened_at"]) % 86_400) // 3600 < end
            seen += 1
    assert seen > 12 * demo_world.MOMENT_MIN_LISTENS


def test_reader_reads_feedback_when_the_file_is_there_and_rejects_bad_rows(
    tmp_path: Path,
) -> None:
    (tmp_path / "artists.csv").write_text("artist_id,name\n1,Quiet Kites\n2,Paper Foxes\n")
    (tmp_path / "artist_tags.csv").write_text("artist_id,tag,count\n")
    (tmp_path / "tracks.csv").write_text(
        "track_id,artist_id,title,album,duration_ms\n1,1,Open Road,Far,200000\n"
    )
    with gzip.open(tmp_path / "listens.csv.gz", "wt") as handle:
        handle.write("listener,track_id,listened_at,ms_played\nl1,1,100,5000\n")
    assert not [r for r in demo_reader.read(tmp_path) if isinstance(r, Feedback)]
    (tmp_path / "feedback.csv").write_text(
        "listener,kind,artist_id,track_id,at\n"
        "l1,love,1,1,50\n"  # a track
        "l1,hate,2,,60\n"  # a whole artist
        "l1,adore,1,1,70\n"  # no such kind
        "l1,skip,2,1,80\n"  # track 1 is not Paper Foxes'
        "l1,skip,1,1,soon\n"
    )
    records = list(demo_reader.read(tmp_path))
    assert [r for r in records if isinstance(r, Feedback)] == [
        Feedback("love", artist="Quiet Kites", title="Open Road", listener="l1", at=50),
        Feedback("hate", artist="Paper Foxes", listener="l1", at=60),
    ]
    rejects = [r.location for r in records if isinstance(r, Rejected)]
    assert rejects == ["feedback.csv:4", "feedback.csv:5", "feedback.csv:6"]
