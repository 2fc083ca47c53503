"""bench/worlds.py: seeded worlds are byte-identical, import cleanly and keep what they plant.

The generator runs as a user runs it (`python bench/worlds.py --world tiny --out DIR`), and
the HetRec world goes through the real `tastemaker import hetrec`.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import pytest
from click.testing import CliRunner

from playlists.cli import main

ROOT = Path(__file__).resolve().parent.parent
WORLDS = ROOT / "bench" / "worlds.py"


def _generate(world: str, out: Path, seed: int = 42) -> dict[str, object]:
    done = subprocess.run(
        [sys.executable, str(WORLDS), "--world", world, "--out", str(out), "--seed", str(seed)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert f"{world} -> {out}" in done.stdout
    truth: dict[str, object] = json.loads((out / "truth.json").read_text(encoding="utf-8"))
    return truth


def _files(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()
    }


def _table(path: Path, encoding: str = "utf-8") -> list[list[str]]:
    lines = path.read_bytes().decode(encoding).splitlines()
    return [line.split("\t") for line in lines[1:]]


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, object]]:
    out = tmp_path_factory.mktemp("worlds") / "tiny"
    return out, _generate("tiny", out)


def test_same_seed_same_bytes_other_seed_other_world(
    tiny: tuple[Path, dict[str, object]], tmp_path: Path
) -> None:
    folder, _ = tiny
    again = tmp_path / "again"
    _generate("tiny", again)
    assert _files(again) == _files(folder)
    other = tmp_path / "other"
    _generate("tiny", other, seed=43)
    assert (other / "user_artists.dat").read_bytes() != (folder / "user_artists.dat").read_bytes()


def test_files_are_laid_out_like_hetrec(tiny: tuple[Path, dict[str, object]]) -> None:
    folder, truth = tiny
    heads = {
        "artists.dat": b"id\tname\turl\tpictureURL\n",
        "tags.dat": b"tagID\ttagValue\r\n",
        "user_artists.dat": b"userID\tartistID\tweight\r\n",
        "user_taggedartists.dat": b"userID\tartistID\ttagID\tday\tmonth\tyear\r\n",
    }
    for name, head in heads.items():
        data = (folder / name).read_bytes()
        assert data.startswith(head), name
        body = data[len(head) :]
        if head.endswith(b"\r\n"):
            assert body.count(b"\n") == body.count(b"\r\n") > 0, name
        else:
            assert b"\r" not in body
    (folder / "tags.dat").read_bytes().decode("latin-1")  # HetRec's tags.dat is latin-1
    plays = [(int(u), int(a)) for u, a, _ in _table(folder / "user_artists.dat")]
    assert plays == sorted(plays) and len(set(plays)) == len(plays) == truth["rows"]
    tagged = [tuple(map(int, r[:3])) for r in _table(folder / "user_taggedartists.dat")]
    assert tagged == sorted(tagged) and len(set(tagged)) == len(tagged) == truth["tag_rows"]
    artist_ids = {int(r[0]) for r in _table(folder / "artists.dat")}
    assert {a for _, a in plays} == artist_ids  # every listed artist has a listener
    per_listener: dict[int, int] = defaultdict(int)
    for user, _ in plays:
        per_listener[user] += 1
    assert len(per_listener) == truth["listeners"] and max(per_listener.values()) <= 50


def test_world_imports_with_tastemaker(
    tiny: tuple[Path, dict[str, object]], tmp_path: Path
) -> None:
    folder, truth = tiny
    db = str(tmp_path / "t.db")
    done = CliRunner().invoke(main, ["--db", db, "import", "hetrec", str(folder), "--json"])
    assert done.exit_code == 0, done.output
    report = json.loads(done.output)
    assert (report["imported"], report["rejected"], report["skipped"]) == (truth["rows"], 0, 0)
    stats = CliRunner().invoke(main, ["--db", db, "stats", "--json"])
    counts = json.loads(stats.output)
    assert (counts["listeners"], counts["artists"]) == (truth["listeners"], truth["artists"])


def test_lookalike_scenes_share_tags_and_no_listeners(tiny: tuple[Path, dict[str, object]]) -> None:
    folder, truth = tiny
    scenes = truth["scenes"]
    assert isinstance(scenes, list)
    scene_of = {a: s["id"] for s in scenes for a in s["artist_ids"]}
    listeners: dict[int, set[str]] = defaultdict(set)
    for user, artist, _ in _table(folder / "user_artists.dat"):
        listeners[scene_of[int(artist)]].add(user)
    tag_names = {r[0]: r[1] for r in _table(folder / "tags.dat", "latin-1")}
    tags: dict[int, set[str]] = defaultdict(set)
    for _, artist, tag, *_ in _table(folder / "user_taggedartists.dat"):
        tags[scene_of[int(artist)]].add(tag_names[tag])
    pairs = truth["lookalike_pairs"]
    assert isinstance(pairs, list) and pairs
    for pair in pairs:
        a, b = pair["scenes"]
        assert listeners[a] and listeners[b]
        assert not listeners[a] & listeners[b]
        assert set(pair["shared_tags"]) <= tags[a] & tags[b] and pair["shared_tags"]
    # Scenes that are not look-alikes do share listeners: crossover is real.
    unpaired = [s["id"] for s in scenes if s["partner"] is None]
    assert any(listeners[x] & listeners[y] for x in unpaired for y in unpaired if x < y)


def test_listenbrainz_world_is_one_export_per_listener(tmp_path: Path) -> None:
    folder = tmp_path / "lb"
    truth = _generate("lb-tiny", folder)
    again = tmp_path / "lb-again"
    _generate("lb-tiny", again)
    assert _files(again) == _files(folder)
    exports = sorted(p for p in folder.iterdir() if p.is_dir())
    assert len(exports) == truth["listeners"]
    db = str(tmp_path / "lb.db")
    total = 0
    for export in exports:
        lines = sum(len(p.read_text().splitlines()) for p in export.rglob("*.jsonl"))
        done = CliRunner().invoke(
            main, ["--db", db, "import", "listenbrainz", str(export), "--json"]
        )
        assert done.exit_code == 0, done.output
        report = json.loads(done.output)
        assert (report["imported"], report["rejected"]) == (lines, 0)
        assert report["listener"] == export.name
        total += lines
    assert total == truth["listens"]
