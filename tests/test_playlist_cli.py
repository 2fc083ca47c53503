"""The playlist and explain commands over a trained demo world (real model and graph)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from playlists.cli import main
from playlists.export import parse_jspf, parse_xspf
from recommender.resources import demo_dir
from recommender.sources import import_path
from recommender.store import Store
from recommender.training import train

LISTENER = "listener-013"  # street punk in truth.json


@pytest.fixture(scope="module")
def trained_db(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    path = tmp_path_factory.mktemp("cli") / "demo.db"
    with Store.open(path) as store:
        import_path(store, "demo", demo_dir())
        train(store)
    yield path


def _run(db: Path, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["--db", str(db), *args])
    return result.exit_code, result.output


def test_help_texts() -> None:
    for command in ("playlist", "explain"):
        code, out = _run(Path("unused.db"), command, "--help")
        assert code == 0 and "Usage" in out and len(out.splitlines()) > 4


def test_playlist_json_then_explain(trained_db: Path) -> None:
    code, out = _run(trained_db, "playlist", "--listener", LISTENER, "--format", "json")
    assert code == 0, out
    built = json.loads(out)
    assert len(built["tracks"]) == 30
    assert sum(t["kind"] == "unexpected" for t in built["tracks"]) == 6
    assert all(t["reason"]["text"] for t in built["tracks"])
    code, out = _run(trained_db, "explain", built["id"], "--json")
    assert code == 0
    assert json.loads(out) == {**built, "verdicts": []}
    code, out = _run(trained_db, "explain", built["id"])
    assert code == 0 and built["tracks"][0]["reason"]["text"] in out


def test_exports_to_files(trained_db: Path, tmp_path: Path) -> None:
    for fmt, parse in (("jspf", parse_jspf), ("xspf", parse_xspf)):
        target = tmp_path / f"out.{fmt}"
        code, out = _run(
            trained_db,
            "playlist",
            "--listener",
            LISTENER,
            "--length",
            "12",
            "--surprise",
            "0.25",
            "--format",
            fmt,
            "-o",
            str(target),
        )
        assert code == 0, out
        playlist = parse(target.read_text(encoding="utf-8"))
        assert len(playlist.tracks) == 12 and playlist.count("unexpected") == 3
        assert playlist.id in out
    code, out = _run(trained_db, "playlist", "--listener", LISTENER, "--format", "m3u8")
    assert code == 0 and out.startswith("#EXTM3U\n#PLAYLIST:")


def test_user_mistakes_are_one_line_errors(trained_db: Path) -> None:
    code, out = _run(trained_db, "playlist", "--listener", "listener-13")
    assert code == 1 and out.startswith("Error: no listener named") and "Traceback" not in out
    code, out = _run(trained_db, "playlist", "--listener", LISTENER, "--tag", "strett punk")
    assert code == 1 and "did you mean street punk" in out
    code, out = _run(
        trained_db, "playlist", "--listener", LISTENER, "--length", "200", "--surprise", "1"
    )
    assert code == 1 and "found only" in out
    code, out = _run(trained_db, "explain", "pl-missing")
    assert code == 1 and "tastemaker playlist" in out


def test_real_model_street_punk(trained_db: Path) -> None:
    """The same checks as the demo test, with the trained hybrid model's scores."""
    from playlists import build_playlist
    from playlists.model import UNEXPECTED
    from tests.test_playlist_demo import _check_evidence, _evidence_artists

    truth = json.loads((demo_dir() / "truth.json").read_text())
    with Store.open(trained_db) as store:
        playlist = build_playlist(store, LISTENER, length=30, surprise=0.3)
        assert playlist.count(UNEXPECTED) == 9
        metalcore = set(truth["scenes"]["metalcore"]["artists"])
        assert not {t.artist for t in playlist.tracks if t.kind != UNEXPECTED} & metalcore
        assert not _evidence_artists(playlist) & metalcore
        _check_evidence(store, playlist)
        ranks = [t.reason.evidence["model_rank"] for t in playlist.tracks if t.kind != "familiar"]
        assert max(ranks) <= 312 // 2


def test_a_playlist_for_a_moment_and_stats_with_acceptance(trained_db: Path) -> None:
    morning = "listener-110"  # a morning and evening listener (truth.json -> moments)
    code, out = _run(
        trained_db, "playlist", "--listener", morning, "--context", "morning", "--format", "json"
    )
    assert code == 0, out
    built = json.loads(out)
    assert built["params"]["moment"]["context"] == "morning"
    assert any(n.startswith("Made for morning (UTC)") for n in built["notes"])
    code, out = _run(
        trained_db,
        "playlist",
        "--listener",
        morning,
        "--at",
        "2025-10-27T20:00",
        "--format",
        "json",
    )
    assert code == 0 and json.loads(out)["params"]["moment"]["at"] == "2025-10-27T20:00:00+00:00"
    code, out = _run(
        trained_db, "playlist", "--listener", morning, "--context", "night", "--at", "2025-10-27"
    )
    assert code == 1 and out == "Error: give --context or --at, not both\n"
    code, out = _run(trained_db, "stats", "--json")
    stats = json.loads(out)
    assert code == 0 and stats["acceptance"][morning]["offered"] > 0
    assert stats["acceptance"][morning]["accepted"] == 0  # nothing was played since
    assert set(stats["feedback"]) == {"love", "hate", "skip"}
    code, out = _run(trained_db, "stats")
    assert code == 0 and f"  {morning}: 0 of " in out
