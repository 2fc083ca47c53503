"""The README is checked: its Python snippets run, and every CLI command and option is in it.

Users copy the README's code and flags into their scripts; a snippet that no longer runs or a
flag nobody documented is a broken promise, so both fail the suite.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import click
import pytest

from playlists.cli import main

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def _commands(group: click.Group, prefix: str = "") -> list[tuple[str, click.Command]]:
    found = []
    for name, command in sorted(group.commands.items()):
        full = f"{prefix}{name}"
        found.append((full, command))
        if isinstance(command, click.Group):
            found.extend(_commands(command, f"{full} "))
    return found


COMMANDS = _commands(main)


def test_the_cli_has_commands_to_document() -> None:
    assert len(COMMANDS) >= 10
    assert "playlist" in dict(COMMANDS)


@pytest.mark.parametrize("name", [name for name, _ in COMMANDS])
def test_every_command_is_in_the_readme(name: str) -> None:
    assert f"tastemaker {name}" in README, f"`tastemaker {name}` is not in README.md"


@pytest.mark.parametrize(
    ("name", "option"),
    [
        (name, flag)
        for name, command in COMMANDS
        for param in command.params
        if isinstance(param, click.Option)
        for flag in (*param.opts, *param.secondary_opts)
        if flag.startswith("--") and flag != "--help"
    ],
)
def test_every_option_is_in_the_readme(name: str, option: str) -> None:
    assert re.search(rf"{re.escape(option)}(?![\w-])", README), (
        f"`tastemaker {name} {option}` is not in README.md"
    )


def _python_snippets() -> list[str]:
    return re.findall(r"^```python\n(.*?)^```", README, flags=re.S | re.M)


def test_the_readme_has_python_snippets() -> None:
    assert len(_python_snippets()) >= 1


@pytest.mark.slow
def test_the_readme_python_snippets_run_in_order(tmp_path: Path) -> None:
    """Every ```python block, in README order, in one fresh interpreter and an empty folder
    (with the repository's `datasets/` beside it, as in a checkout)."""
    (tmp_path / "datasets").symlink_to(ROOT / "datasets")
    script = "\n\n".join(_python_snippets())
    env = {**os.environ, "PYTHONPATH": str(ROOT), "TASTEMAKER_DB": str(tmp_path / "env.db")}
    done = subprocess.run(
        [sys.executable, "-c", script],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.strip(), "the snippets print what they build"
