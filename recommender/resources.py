"""Where the embedded data files are, installed or in a source checkout."""

from __future__ import annotations

from importlib import resources
from pathlib import Path


def demo_dir() -> Path:
    """The demo world's folder: inside the installed wheel, else the checkout's datasets/demo."""
    packaged = Path(str(resources.files("recommender"))) / "datasets" / "demo"
    if (packaged / "listens.csv.gz").is_file():
        return packaged
    # Editable installs and source checkouts read the top-level data folder directly.
    return Path(__file__).resolve().parent.parent / "datasets" / "demo"
