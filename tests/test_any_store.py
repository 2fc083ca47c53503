"""`train` works on any store: a clear error with no listens, and from one listener up a model
and a playlist built from what the data supports, with a note saying what is missing."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from playlists import build_playlist
from playlists.cli import main
from recommender.demo import SAMPLE_EXPORT, samples_dir
from recommender.ingest.records import Feedback, Listen, Record
from recommender.ingest.writer import import_records
from recommender.resources import demo_dir
from recommender.sources import demo as demo_reader
from recommender.sources import import_path
from recommender.store import Store
from recommender.training import train


def first_listeners(n: int) -> Iterator[Record]:
    """The demo world's catalogue and the listens (and feedback) of its first `n` listeners."""
    keep = {f"listener-{i:03d}" for i in range(1, n + 1)}
    for record in demo_reader.read(demo_dir()):
        if isinstance(record, Listen | Feedback) and record.listener not in keep:
            continue
        yield record


def test_a_store_without_listens_is_one_clear_error(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["--db", str(tmp_path / "empty.db"), "train"])
    assert result.exit_code == 1
    assert result.output == "Error: there are no listens to train on: import some history first\n"


@pytest.mark.slow
@pytest.mark.parametrize("listeners", [1, 2, 5])
def test_a_few_listeners_train_and_get_their_own_music_with_a_note(
    tmp_path: Path, listeners: int
) -> None:
    with Store.open(tmp_path / "few.db") as store:
        import_records(store, "demo", Path("first listeners"), first_listeners(listeners))
        model = train(store, num_threads=1)
        assert len(model.listeners) == listeners
        assert any("artist graph has no scenes" in note for note in model.notes)
        playlist = build_playlist(store, "listener-001", length=20, surprise=0.2, model=model)
    assert len(playlist.tracks) == 20 and playlist.personalised
    assert {t.kind for t in playlist.tracks} == {"familiar"}
    assert playlist.notes[0].startswith("Only your own music")
    assert "4 unexpected picks were asked for" in playlist.notes[0]


@pytest.mark.slow
def test_one_personal_export_alone_trains_and_says_what_it_needs(tmp_path: Path) -> None:
    db = tmp_path / "me.db"
    runner = CliRunner()
    imported = runner.invoke(
        main,
        ["--db", str(db), "import", "listenbrainz", str(samples_dir() / SAMPLE_EXPORT)],
    )
    assert imported.exit_code == 0, imported.output
    trained = runner.invoke(main, ["--db", str(db), "train"])
    assert trained.exit_code == 0, trained.output
    assert "note: the EASE share was left out" in trained.output
    assert "need a community in this store" in trained.output
    made = runner.invoke(main, ["--db", str(db), "playlist", "--listener", "me", "--length", "10"])
    assert made.exit_code == 0, made.output
    assert "10 tracks (10 familiar" in made.output and "Only your own music" in made.output


@pytest.mark.slow
def test_the_demo_world_keeps_the_full_mix(demo_store_path: Path, tmp_path: Path) -> None:
    copy = tmp_path / "demo.db"
    shutil.copy(demo_store_path, copy)
    with Store.open(copy) as store:
        model = train(store, num_threads=1)
        assert model.graph.scenes and not [n for n in model.notes if "no scenes" in n]
        playlist = build_playlist(store, "listener-001", length=20, surprise=0.2, model=model)
    kinds = [t.kind for t in playlist.tracks]
    assert kinds.count("unexpected") == 4 and "discovery" in kinds
    assert not any(n.startswith("Only your own music") for n in playlist.notes)


@pytest.mark.slow
def test_a_personal_export_in_a_community_gets_every_kind(tmp_path: Path) -> None:
    with Store.open(tmp_path / "shared.db") as store:
        import_path(store, "demo", demo_dir())
        report = import_path(store, "listenbrainz", samples_dir() / SAMPLE_EXPORT)
        assert report.community is not None and report.community.known_artists > 20
        model = train(store, num_threads=1)
        playlist = build_playlist(store, "me", length=20, surprise=0.2, model=model)
    kinds = [t.kind for t in playlist.tracks]
    assert kinds.count("unexpected") == 4 and kinds.count("discovery") >= 1
