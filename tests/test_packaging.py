"""The wheel carries the demo world and the type markers; `datasets/` stays a data folder."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEMO_FILES = [
    "README.md",
    "artist_tags.csv",
    "artists.csv",
    "feedback.csv",
    "listens.csv.gz",
    "tracks.csv",
]


def test_datasets_holds_no_python_file() -> None:
    found = [p for p in (ROOT / "datasets").rglob("*") if p.suffix in {".py", ".pyc", ".pyx"}]
    assert found == []


def test_wheel_contains_the_demo_world_and_no_datasets_package(tmp_path: Path) -> None:
    # hatchling comes with the dev group, so this builds offline without build isolation.
    subprocess.run(
        [sys.executable, "-m", "hatchling", "build", "-t", "wheel", "-d", str(tmp_path)],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    (wheel,) = tmp_path.glob("tastemaker-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        demo = {n.removeprefix("recommender/datasets/demo/") for n in names if "datasets/" in n}
        assert set(DEMO_FILES) | {"truth.json"} <= demo
        assert not [n for n in names if n.startswith("datasets/")]
        assert "recommender/resources.py" in names and "playlists/cli/__init__.py" in names
        # PEP 561: both packages tell type checkers that their annotations are to be used.
        assert {"recommender/py.typed", "playlists/py.typed"} <= names
        assert "recommender/ingest/records.py" in names and "playlists/schema.py" in names
        inside = archive.read("recommender/datasets/demo/listens.csv.gz")
    assert inside == (ROOT / "datasets" / "demo" / "listens.csv.gz").read_bytes()
