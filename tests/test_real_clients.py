"""Exports checked by real clients: totem-pl-parser (GNOME's playlist parser, through its
GObject bindings) resolves every M3U8 and XSPF entry to an existing file with the right
title, and VLC, headless with a dummy audio output, plays the M3U8 to the end without a
"cannot open". The playlists are built by the real pipeline over a music folder of real
audio files (tests/playable_world.py), and by hand with names made to break playlists.

Each client's test skips only when the client is absent, naming the Debian packages:
gir1.2-totemplparser-1.0 and python3-gi (run with /usr/bin/python3 in a subprocess, since a
virtual environment does not see Debian's `gi`), and vlc-bin with vlc-plugin-base.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from playlists import load_playlist
from playlists.cli import main
from playlists.export import ExportOptions, parse_m3u8, render
from playlists.export.locations import one_line, path_of
from playlists.export.records import display
from playlists.model import Playlist, PlaylistTrack, Reason
from recommender.ingest.records import Track
from recommender.ingest.writer import import_records
from recommender.library import Locations, locate_tracks, scan_folder
from recommender.store import Store
from recommender.training import TrainedModel
from tests.audio_files import tagged, tone

World = tuple[Path, Path, TrainedModel]
LISTENER = "listener-013"
SYSTEM_PYTHON = "/usr/bin/python3"

TOTEM_SCRIPT = r"""
import json, sys
import gi
gi.require_version("TotemPlParser", "1.0")
from gi.repository import Gio, TotemPlParser
entries = []
parser = TotemPlParser.Parser()
parser.connect("entry-parsed", lambda p, uri, meta: entries.append(
    {"uri": uri, "title": meta.get("title"), "author": meta.get("author")}))
result = parser.parse(Gio.File.new_for_path(sys.argv[1]).get_uri(), False)
print(json.dumps({"result": result.value_nick, "entries": entries}))
"""


def _totem_available() -> bool:
    if not os.path.exists(SYSTEM_PYTHON):
        return False
    probe = 'import gi; gi.require_version("TotemPlParser", "1.0")'
    probe += "; from gi.repository import TotemPlParser"
    return subprocess.run([SYSTEM_PYTHON, "-c", probe], capture_output=True).returncode == 0


needs_totem = pytest.mark.skipif(
    not _totem_available(),
    reason="needs totem-pl-parser: apt-get install gir1.2-totemplparser-1.0 python3-gi",
)
CVLC = shutil.which("cvlc")
needs_vlc = pytest.mark.skipif(
    CVLC is None, reason="needs VLC: apt-get install vlc-bin vlc-plugin-base"
)


def totem(playlist: Path) -> list[dict[str, str | None]]:
    """The entries totem-pl-parser reads from `playlist`, each with its local path."""
    done = subprocess.run(
        [SYSTEM_PYTHON, "-c", TOTEM_SCRIPT, str(playlist)],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    parsed = json.loads(done.stdout)
    assert parsed["result"] == "success", parsed
    for entry in parsed["entries"]:
        uri = entry["uri"]
        entry["path"] = uri if uri.startswith("/") else path_of(uri)
    return list(parsed["entries"])


def vlc(playlist: Path, home: Path) -> tuple[int, str]:
    """Play `playlist` to its end with VLC (no interface, no sound card): exit code and log.

    VLC refuses to run as root; as root it runs in a new user namespace, where it is not root
    and still reads the test's files (they are owned by the same user outside)."""
    assert CVLC is not None
    command = [
        CVLC, "-I", "dummy", "--aout", "dummy", "--vout", "dummy", "--no-video",
        "--no-media-library", "--no-auto-preparse", "--play-and-exit", "-vv", str(playlist),
    ]  # fmt: skip
    if os.geteuid() == 0:
        command = ["unshare", "--user", *command]
    home.mkdir(exist_ok=True)
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(home), "LANG": "C.UTF-8"}
    done = subprocess.run(command, capture_output=True, text=True, timeout=120, env=env)
    return done.returncode, done.stdout + done.stderr


@pytest.fixture
def world(playable_world: World) -> World:
    return playable_world


def _build(world: World, target: Path, fmt: str, length: int = 12) -> Playlist:
    db, _, _ = world
    result = CliRunner().invoke(
        main,
        ["--db", str(db), "playlist", "--listener", LISTENER, "--length", str(length),
         "--playable", "local", "--format", fmt, "-o", str(target)],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    playlist_id = result.output.split()[1].rstrip(":")
    with Store.open(db) as store:
        return load_playlist(store, playlist_id)


@needs_totem
@pytest.mark.parametrize("where", ["beside", "elsewhere"])
def test_totem_resolves_every_m3u8_entry(world: World, tmp_path: Path, where: str) -> None:
    _, music, _ = world
    target = (music if where == "beside" else tmp_path) / f"totem-{where}.m3u8"
    playlist = _build(world, target, "m3u8")
    entries = totem(target)
    assert [e["path"] for e in entries] == [t.locations.file for t in playlist.tracks]
    assert all(Path(str(e["path"])).is_file() for e in entries)
    assert [e["title"] for e in entries] == [display(t) for t in playlist.tracks]


@needs_totem
def test_totem_resolves_every_xspf_entry(world: World, tmp_path: Path) -> None:
    target = tmp_path / "totem.xspf"
    playlist = _build(world, target, "xspf")
    entries = totem(target)
    assert [e["path"] for e in entries] == [t.locations.file for t in playlist.tracks]
    assert all(Path(str(e["path"])).is_file() for e in entries)
    assert [(e["author"], e["title"]) for e in entries] == [
        (t.artist, t.title) for t in playlist.tracks
    ]


@needs_vlc
@pytest.mark.parametrize("where", ["beside", "elsewhere"])
def test_vlc_plays_the_m3u8_to_the_end(world: World, tmp_path: Path, where: str) -> None:
    _, music, _ = world
    target = (music if where == "beside" else tmp_path) / f"vlc-{where}.m3u8"
    playlist = _build(world, target, "m3u8", length=6)
    code, log = vlc(target, tmp_path / "home")
    assert code == 0, log[-2000:]
    assert "cannot open" not in log and "no suitable demux" not in log, log[-4000:]
    opened = {path_of(uri) for uri in re.findall(r"`(file://[^']+)' successfully opened", log)}
    assert {t.locations.file for t in playlist.tracks} <= opened
    # Every entry and the playlist itself were read to their end.
    assert log.count("EOF reached") == len(playlist.tracks) + 1


def _hostile(tmp_path: Path) -> Playlist:
    """Real files and names made to break M3U8: a leading '#', a line break that spells an
    entry, control characters; paths with spaces, '#', '%', '&', '?' and non-ASCII."""
    template = tone(tmp_path, ".flac")
    names = [
        ("#1 Dads", "So Soldier", "#1 Dads/So Soldier #1.flac"),
        ("Ana\n#EXTINF:1,fake\n/etc/passwd", "Hidden?\r", "Ana/100% & more?.flac"),
        ("Björk", "Jóga\x1b[31m", "Björk/Homogenic/04 Jóga.flac"),
        ("AC;DC", "T.N.T.", "space  twice/[x] a&b.flac"),
    ]
    tracks = []
    for i, (artist, title, rel) in enumerate(names, start=1):
        path = tagged(template, tmp_path / "lib" / rel, {"artist": artist, "title": title})
        tracks.append(
            PlaylistTrack(
                i, i, artist, i, title, 1000, "familiar", Reason("familiar", "why\n#x", {}),
                Locations(file=str(path)),
            )
        )  # fmt: skip
    tracks.append(
        PlaylistTrack(5, 5, "#Nowhere", 5, "x", None, "familiar", Reason("familiar", "-", {}))
    )
    return Playlist(
        "pl-x", "ana", "2025-01-01T00:00:00+00:00", {}, None, True, {}, (), tuple(tracks)
    )


@needs_totem
def test_names_never_make_or_hide_an_entry_for_totem(tmp_path: Path) -> None:
    playlist = _hostile(tmp_path)
    playable = playlist.tracks[:4]
    for playlist_dir in (tmp_path / "lib", tmp_path / "elsewhere"):
        playlist_dir.mkdir(exist_ok=True)
        target = playlist_dir / "hostile.m3u8"
        target.write_text(
            render(playlist, "m3u8", ExportOptions(playlist_dir=playlist_dir)), encoding="utf-8"
        )
        entries = totem(target)
        assert [e["path"] for e in entries] == [t.locations.file for t in playable]
        assert [e["title"] for e in entries] == [one_line(display(t)) for t in playable]
        assert parse_m3u8(target.read_text("utf-8"), playlist_dir).unplayable == ("#Nowhere - x",)
    target = tmp_path / "hostile.xspf"
    target.write_text(render(playlist, "xspf"), encoding="utf-8")
    assert [e["path"] for e in totem(target)] == [t.locations.file for t in playable]


@needs_vlc
def test_vlc_opens_every_hostile_path(tmp_path: Path) -> None:
    playlist = _hostile(tmp_path)
    target = tmp_path / "lib" / "hostile.m3u8"
    target.write_text(
        render(playlist, "m3u8", ExportOptions(playlist_dir=target.parent)), encoding="utf-8"
    )
    code, log = vlc(target, tmp_path / "home")
    assert code == 0 and "cannot open" not in log, log[-4000:]
    assert log.count("EOF reached") == 4 + 1


def test_the_library_resolves_what_the_clients_open(tmp_path: Path) -> None:
    """The hostile files, scanned: each track is located at the file the clients were given."""
    playlist = _hostile(tmp_path)
    with Store.open(tmp_path / "t.db") as store:
        import_records(
            store, "lastfm", Path("x.csv"), [Track(t.artist, str(t.title)) for t in playlist.tracks]
        )
        scan_folder(store, tmp_path / "lib")
        ids = [int(r[0]) for r in store.conn.execute("SELECT id FROM tracks ORDER BY id")]
        located = locate_tracks(store, ids)
    assert sorted(str(w.file) for w in located.values() if w.file) == sorted(
        str(t.locations.file) for t in playlist.tracks[:4]
    )
