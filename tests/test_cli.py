"""The command line: help everywhere, one-line errors, stable JSON."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from playlists.cli import main
from tests.hetrec_fixtures import write_folder


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.output


@pytest.mark.parametrize("name", sorted(main.commands))
def test_every_command_has_help(name: str) -> None:
    command = main.commands[name]
    assert command.help and command.help.strip(), f"{name} has no help text"
    code, output = run(name, "--help")
    assert code == 0 and "Usage:" in output
    for param in command.params:
        if isinstance(param, click.Option) and not param.hidden:
            assert param.help, f"{name} {param.opts} has no help text"


def test_group_help_lists_the_foundation_commands() -> None:
    code, output = run("--help")
    assert code == 0
    for name in ("import", "stats", "demo"):
        assert name in output


def test_a_user_mistake_is_one_error_line_without_traceback(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    code, output = run("--db", str(tmp_path / "t.db"), "import", "hetrec", str(empty))
    assert code == 1
    assert output.startswith("Error: ") and "Traceback" not in output
    assert "hetrec2011-lastfm-2k" in output  # says what to do next


def test_unknown_format_is_a_usage_error(tmp_path: Path) -> None:
    code, output = run("--db", str(tmp_path / "t.db"), "import", "nope", str(tmp_path))
    assert code == 2 and "Error" in output and "Traceback" not in output


def test_import_then_stats_json(tmp_path: Path) -> None:
    db = str(tmp_path / "t.db")
    folder = write_folder(tmp_path / "h")
    code, output = run("--db", db, "import", "hetrec", str(folder), "--json")
    assert code == 0
    report = json.loads(output)
    assert (report["imported"], report["rejected"], report["format"]) == (3, 0, "hetrec")
    code, output = run("--db", db, "stats", "--json")
    assert code == 0
    stats = json.loads(output)
    assert set(stats) >= {
        "db",
        "schema_version",
        "listeners",
        "artists",
        "tracks",
        "listens",
        "tags",
        "artist_tags",
        "imports",
        "plays",
        "first_listen",
        "last_listen",
        "listens_by_source",
    }
    assert (stats["listeners"], stats["listens"], stats["plays"]) == (2, 3, 157)
    assert stats["listens_by_source"] == {"hetrec": 3}
    assert stats["first_listen"] is None


def test_db_from_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TASTEMAKER_DB", str(tmp_path / "env.db"))
    code, output = run("stats", "--json")
    assert code == 0 and json.loads(output)["db"] == str(tmp_path / "env.db")


def test_demo_command_trains_once_and_prints_a_playlist(
    demo_store_path: Path, tmp_path: Path
) -> None:
    # A private copy: the demo command trains and stores a playlist.
    db = tmp_path / "demo.db"
    shutil.copy(demo_store_path, db)
    code, output = run("--db", str(db), "demo", "--length", "10")
    assert code == 0, output
    assert "demo world already in the store" in output and "trained model" in output
    assert output.count("familiar") + output.count("discovery") + output.count("unexpected") >= 10
    code, output = run("--db", str(db), "demo", "--json", "--length", "10")
    assert code == 0, output
    shown = json.loads(output)
    assert shown["trained"] is False and shown["store"]["listeners"] == 300
    assert len(shown["playlist"]["tracks"]) == 10
