"""The README's quick tour runs as written, against the demo world and the sample export."""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from recommender.demo import SAMPLE_EXPORT, sample_export_bytes, samples_dir

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def tour() -> list[str]:
    """The command lines of the first code block under "## A quick tour"."""
    section = README.split("## A quick tour", 1)[1]
    block = re.search(r"^```\n(.*?)^```", section, flags=re.S | re.M)
    assert block is not None, "the quick tour has no code block"
    return [line for line in block.group(1).splitlines() if line.strip()]


def _zip_contents(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def test_the_shipped_sample_export_is_what_the_generator_writes() -> None:
    shipped = (samples_dir() / SAMPLE_EXPORT).read_bytes()
    assert _zip_contents(shipped) == _zip_contents(sample_export_bytes())


@pytest.mark.slow
def test_the_quick_tour_runs_as_written(tmp_path: Path) -> None:
    venv = Path(sys.prefix)
    if not (venv / "bin" / "activate").is_file() or not (venv / "bin" / "tastemaker").exists():
        pytest.skip("the tour activates the project's virtual environment (make test makes it)")
    (tmp_path / "datasets").symlink_to(ROOT / "datasets")
    (tmp_path / ".venv").symlink_to(venv)
    lines = tour()
    assert lines[0].startswith(". .venv/bin/activate")
    env = {
        **os.environ,
        "HOME": str(tmp_path),
        "TASTEMAKER_DB": str(tmp_path / "store" / "tastemaker.db"),
    }
    playlist_id: str | None = None
    outputs: list[str] = []
    for line in lines[1:]:
        command = line
        if "PLAYLIST_ID" in command:
            assert playlist_id is not None, "the tour explains a playlist before making one"
            command = command.replace("PLAYLIST_ID", playlist_id)
        done = subprocess.run(
            ["bash", "-c", f"{lines[0]}\n{command}"],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert done.returncode == 0, f"{line}\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}"
        assert "Traceback" not in done.stderr
        outputs.append(done.stdout)
        found = re.search(r"\[(pl-[0-9a-f]{12})\]", done.stdout)
        if found and "--format" not in line:
            playlist_id = found.group(1)
    by_line = dict(zip(lines[1:], outputs, strict=True))
    imported = next(out for line, out in by_line.items() if "listenbrainz" in line)
    assert "are known to the other 300 listeners" in imported
    made = next(out for line, out in by_line.items() if line.startswith("tastemaker playlist"))
    assert "30 tracks" in made and "personalised" in made
    jspf = json.loads((tmp_path / "tonight.jspf").read_text(encoding="utf-8"))
    assert len(jspf["playlist"]["track"]) == 30
    explained = next(out for line, out in by_line.items() if "explain" in line)
    assert playlist_id is not None and playlist_id in explained
    similar = next(out for line, out in by_line.items() if "similar" in line)
    assert "listeners play both" in similar
