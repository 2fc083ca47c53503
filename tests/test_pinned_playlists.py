"""Pinned demo-world playlists: the same store and the same trained model must give the same
playlists (tracks, kinds, reasons and their evidence, notes).

`tests/data/pinned_demo_playlists.json` was first written by main at e41fe95, before the
architecture refactor (issue 11), which then changed none of them. Only a deliberate behaviour
change regenerates it, in its own commit that says why, with
`python -m tests.test_pinned_playlists --regenerate` (same requests, a single-threaded,
deterministic train on the demo world). History: e41fe95 (first); the demo world planting
morning/evening listeners and feedback (issue 17).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from playlists import build_playlist
from recommender.resources import demo_dir
from recommender.sources import import_path
from recommender.store import Store
from recommender.training import train

PINNED = Path(__file__).parent / "data" / "pinned_demo_playlists.json"


def build_pins(folder: Path, requests: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The playlists for `requests`, made the way the pins were made."""
    with Store.open(folder / "t.db") as store:
        import_path(store, "demo", demo_dir())
        model = train(store, num_threads=1)
        out = []
        for request in requests:
            playlist = build_playlist(store, model=model, save=False, **request)
            out.append(
                {
                    "request": request,
                    "personalised": playlist.personalised,
                    "notes": list(playlist.notes),
                    "tracks": [t.to_dict() for t in playlist.tracks],
                }
            )
    return out


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> list[dict[str, Any]]:
    pins = json.loads(PINNED.read_text(encoding="utf-8"))
    return build_pins(tmp_path_factory.mktemp("pinned"), [pin["request"] for pin in pins])


@pytest.mark.parametrize("index", range(7))
def test_playlist_is_as_pinned(built: list[dict[str, Any]], index: int) -> None:
    pinned = json.loads(PINNED.read_text(encoding="utf-8"))[index]
    now = json.loads(json.dumps(built[index], sort_keys=True))
    assert now["request"] == pinned["request"]
    assert now["personalised"] == pinned["personalised"]
    assert now["notes"] == pinned["notes"]
    assert [(t["artist"], t["title"], t["kind"]) for t in now["tracks"]] == [
        (t["artist"], t["title"], t["kind"]) for t in pinned["tracks"]
    ]
    assert now["tracks"] == pinned["tracks"]


def test_every_pin_is_checked() -> None:
    assert len(json.loads(PINNED.read_text(encoding="utf-8"))) == 7


if __name__ == "__main__":
    import sys
    import tempfile

    if sys.argv[1:] != ["--regenerate"]:
        sys.exit("usage: python -m tests.test_pinned_playlists --regenerate")
    requests = [pin["request"] for pin in json.loads(PINNED.read_text(encoding="utf-8"))]
    with tempfile.TemporaryDirectory() as scratch:
        pins = build_pins(Path(scratch), requests)
    text = json.dumps(pins, indent=1, ensure_ascii=False, sort_keys=True) + "\n"
    PINNED.write_text(text, encoding="utf-8")
    print(f"wrote {len(pins)} pinned playlists to {PINNED}")
