"""A really full disk for tests and the red-team bench: a small tmpfs in a private mount
namespace.

`unshare --mount` gives one child process its own mount table (as root; elsewhere `-r` maps
the user to root in a new user namespace where the kernel allows it). The child mounts a
tmpfs of the size asked over a folder and runs a Python script there: the filesystem is
real (writes past its size fail with ENOSPC, as on a full disk), exists only for that child,
and disappears with it, so nothing on the machine is left mounted.

Where no namespace can be made, `small_disk_works()` is False. The callers then fall back to a
documented simulation: the same script under a file-size limit (RLIMIT_FSIZE, with SIGXFSZ
ignored), where writes past the limit fail with EFBIG through the same error paths.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from functools import cache
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent

_SIMULATED = """
import resource, signal, sys
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
limit = int(sys.argv.pop(2))
resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
exec(compile(open(sys.argv.pop(1)).read(), "script", "exec"))
"""


def _unshare() -> list[str] | None:
    binary = shutil.which("unshare")
    if binary is None:
        return None
    return [binary, "--mount"] if os.geteuid() == 0 else [binary, "--mount", "--map-root-user"]


@cache
def small_disk_works() -> bool:
    """Whether a private tmpfs can be mounted here."""
    command = _unshare()
    if command is None:
        return False
    probe = subprocess.run(
        [*command, "sh", "-c", "mount -t tmpfs -o size=64k tmpfs /mnt && touch /mnt/x"],
        capture_output=True,
        check=False,
    )
    return probe.returncode == 0


def run_on_small_disk(
    script: str, folder: Path, *, size_kib: int, timeout: float = 120
) -> dict[str, Any]:
    """Run `script` (Python source) with `sys.argv[1]` = `folder`, which is a fresh tmpfs of
    `size_kib` KiB for the script's lifetime; return the JSON object it printed last.

    Without namespaces the script runs with `folder` as it is and every file limited to
    `size_kib` KiB (the simulation described above); the result then has "simulated": true.
    """
    folder.mkdir(parents=True, exist_ok=True)
    source = folder.parent / f"{folder.name}-script.py"
    source.write_text(script, encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    command = _unshare()
    if small_disk_works() and command is not None:
        mount = 'mount -t tmpfs -o size="$1"k tmpfs "$2" && exec "$3" "$4" "$2"'
        argv = [*command, "sh", "-c", mount, "sh", str(size_kib), str(folder)]
        argv += [sys.executable, str(source)]
        simulated = False
    else:
        argv = [sys.executable, "-c", _SIMULATED, str(source), str(size_kib * 1024), str(folder)]
        simulated = True
    done = subprocess.run(
        argv, capture_output=True, text=True, timeout=timeout, env=env, check=False
    )
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    if done.returncode != 0 or not lines:
        raise AssertionError(f"small-disk script failed ({done.returncode}): {done.stderr}")
    result: dict[str, Any] = json.loads(lines[-1])
    result["simulated"] = simulated
    return result


def run_with_read_only(
    script: str, folder: Path, *args: str, timeout: float = 120
) -> dict[str, Any]:
    """Run `script` with `sys.argv[1:]` = `args` while `folder` is a read-only bind mount of
    itself in a private mount namespace: writes there fail with EROFS even for root, which
    file permissions never stop. Returns the JSON object the script printed last; raises
    AssertionError when no namespace can be made here (callers check `small_disk_works()`)."""
    command = _unshare()
    assert command is not None and small_disk_works(), "no private mount namespace here"
    source = folder.parent / f"{folder.name}-read-only-script.py"
    source.write_text(script, encoding="utf-8")
    mount = 'mount --bind "$1" "$1" && mount -o remount,bind,ro "$1" && shift && exec "$@"'
    argv = [*command, "sh", "-c", mount, "sh", str(folder), sys.executable, str(source), *args]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, env=env)
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    if done.returncode != 0 or not lines:
        raise AssertionError(f"read-only script failed ({done.returncode}): {done.stderr}")
    result: dict[str, Any] = json.loads(lines[-1])
    return result
