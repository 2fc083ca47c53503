"""recommender.files: the one writer of the files a listener asks for (`-o`, `--html`).

Real files, links, FIFOs and device nodes in the test's folder (a device node needs root: that
test skips without it), and a really full disk: a small tmpfs in a private mount namespace
(tests/small_disk.py; elsewhere a file-size limit stands in for it, and the test says so).
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from click.testing import CliRunner

from playlists.cli import main
from recommender.errors import OutputError, UnsafeOutput
from recommender.files import write_output
from recommender.store import Store
from tests.small_disk import run_on_small_disk
from tests.terms_fixtures import small_world


def _leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".partial"))


def test_writes_a_new_file_and_replaces_a_regular_one_keeping_its_mode(tmp_path: Path) -> None:
    target = tmp_path / "out.json"
    first = write_output(target, "one\n")
    assert target.read_text() == "one\n" and not first.replaced and not first.through_link
    os.chmod(target, 0o600)
    second = write_output(target, ["two", "\n"])  # streamed pieces
    assert target.read_text() == "two\n" and second.replaced and second.size == 4
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert _leftovers(tmp_path) == []


def test_a_device_node_is_never_replaced(tmp_path: Path) -> None:
    device = tmp_path / "full"
    try:  # a copy of /dev/full (char 1:7), so nothing outside the test's folder is at risk
        os.mknod(device, 0o666 | stat.S_IFCHR, os.makedev(1, 7))
    except PermissionError:
        pytest.skip("making a device node needs root")
    with pytest.raises(UnsafeOutput, match="is a device, not a regular file"):
        write_output(device, "x")
    assert stat.S_ISCHR(device.lstat().st_mode)
    link = tmp_path / "to-device"
    link.symlink_to(device)
    with pytest.raises(UnsafeOutput, match="symbolic link to .*which is a device"):
        write_output(link, "x")
    assert link.is_symlink() and _leftovers(tmp_path) == []


def test_fifo_folder_and_dangling_link_are_refused(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    with pytest.raises(UnsafeOutput, match="FIFO"):
        write_output(fifo, "x")  # refused at once: it never blocks opening the pipe
    with pytest.raises(UnsafeOutput, match="is a folder.*name a file inside it"):
        write_output(tmp_path, "x")
    dangling = tmp_path / "dangling"
    dangling.symlink_to(tmp_path / "nowhere" / "file")
    with pytest.raises(UnsafeOutput, match="does not exist"):
        write_output(dangling, "x")
    assert not (tmp_path / "nowhere").exists() and _leftovers(tmp_path) == []


def test_a_link_to_a_file_is_followed_kept_and_said(tmp_path: Path) -> None:
    real = tmp_path / "real.m3u8"
    real.write_text("old")
    link = tmp_path / "link.m3u8"
    link.symlink_to(real)
    written = write_output(link, "new")
    assert link.is_symlink() and real.read_text() == "new"
    assert written.through_link and written.target == real.resolve()
    assert "a link: wrote its target" in written.describe()


def test_missing_folder_and_read_only_file(tmp_path: Path) -> None:
    with pytest.raises(OutputError, match=r"does not exist: create it first \(mkdir -p"):
        write_output(tmp_path / "no" / "such" / "out.json", "x")
    locked = tmp_path / "locked.json"
    locked.write_text("keep")
    os.chmod(locked, 0o444)  # refused for root too, whom the permission itself lets by
    with pytest.raises(OutputError, match="read-only"):
        write_output(locked, "x")
    assert locked.read_text() == "keep"


def test_an_error_while_streaming_leaves_the_old_file(tmp_path: Path) -> None:
    target = tmp_path / "out.json"
    target.write_text("old")

    def pieces() -> object:
        yield "half a file"
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        write_output(target, pieces())  # type: ignore[arg-type]
    assert target.read_text() == "old" and _leftovers(tmp_path) == []


FULL_DISK = """
import json, sys
from pathlib import Path
from recommender.errors import OutputError
from recommender.files import write_output
disk = Path(sys.argv[1])
(disk / "out.json").write_text("old")
try:
    write_output(disk / "out.json", "x" * (600 * 1024))
    print(json.dumps({"error": None}))
except OutputError as exc:
    print(json.dumps({"error": str(exc), "files": sorted(p.name for p in disk.iterdir()),
                      "old": (disk / "out.json").read_text()}))
"""


def test_a_full_disk_is_one_error_and_leaves_nothing(tmp_path: Path) -> None:
    result = run_on_small_disk(FULL_DISK, tmp_path / "disk", size_kib=256)
    assert result["error"] and "nothing was written" in result["error"], result
    assert "free some space" in result["error"]
    assert result["files"] == ["out.json"] and result["old"] == "old"


def test_cli_outputs_refuse_devices_and_missing_folders(tmp_path: Path) -> None:
    db = tmp_path / "t.db"
    with Store.open(db) as store:
        small_world(store)
    runner = CliRunner()
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    for target in (fifo, tmp_path / "missing" / "x.json"):
        for args in (
            ["export-data", "--listener", "alice", "-o", str(target)],
            ["playlist", "--listener", "alice", "--new-listener", "-o", str(target)],
        ):
            result = runner.invoke(main, ["--db", str(db), *args])
            assert result.exit_code == 1, result.output
            assert result.output.startswith("Error: ") and result.output.count("\n") == 1
            assert "Traceback" not in result.output
    assert stat.S_ISFIFO(fifo.lstat().st_mode) and _leftovers(tmp_path) == []
