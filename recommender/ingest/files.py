"""The files an import may read: regular files only, and a folder's files without leaving it.

A FIFO, a device or a socket where an export is expected would block or never end (reading
`/dev/zero` goes on for ever), so it is refused before anything opens it. A folder is walked
without following symlinks to folders, and a symlinked file is read only when it resolves to a
regular file inside the folder: an export folder cannot make an import read `/etc/passwd`.
`checksum` (recorded per import) reads exactly the files the readers may read.
"""

from __future__ import annotations

import hashlib
import os
import stat
from dataclasses import dataclass, field
from pathlib import Path

from recommender.errors import IngestError
from recommender.files import file_kind


def _stat(path: Path) -> os.stat_result:
    try:
        return path.stat()
    except OSError as exc:
        raise IngestError(
            f"cannot read {path} ({exc.strerror or exc}): check the path and its permissions"
        ) from exc


def check_import_path(path: Path) -> None:
    """Refuse at once anything but a regular file or a folder (IngestError says what it is)."""
    mode = _stat(path).st_mode
    if not (stat.S_ISREG(mode) or stat.S_ISDIR(mode)):
        raise IngestError(
            f"{path} is {file_kind(mode)}, not an export file or folder: pass the file you "
            "downloaded (or its unpacked folder)"
        )


def require_regular_file(path: Path, what: str = "an export file") -> None:
    """IngestError unless `path` is a regular file (after following a symlink)."""
    mode = _stat(path).st_mode
    if not stat.S_ISREG(mode):
        raise IngestError(f"{path} is {file_kind(mode)}, not {what}: pass the file itself")


@dataclass
class FolderFiles:
    """The regular files inside a folder (relative POSIX names) and what the walk left out."""

    files: list[tuple[str, Path]] = field(default_factory=list)
    left_out: list[str] = field(default_factory=list)  # names, with why


def folder_files(folder: Path) -> FolderFiles:
    """Every regular file below `folder`, in name order, never leaving the folder: symlinked
    folders are not entered, a symlinked file counts only when it resolves inside the folder,
    FIFOs and devices are left out (and listed)."""
    root = folder.resolve()
    found = FolderFiles()
    for current, dirs, names in os.walk(folder, followlinks=False):
        base = Path(current)
        for name in list(dirs):
            if (base / name).is_symlink():
                found.left_out.append(f"{(base / name).relative_to(folder).as_posix()} (a link)")
        for name in names:
            path = base / name
            relative = path.relative_to(folder).as_posix()
            try:
                if path.is_symlink() and not path.resolve().is_relative_to(root):
                    found.left_out.append(f"{relative} (a link leading outside the folder)")
                    continue
                mode = path.stat().st_mode
            except OSError:
                found.left_out.append(f"{relative} (unreadable)")
                continue
            if not stat.S_ISREG(mode):
                found.left_out.append(f"{relative} ({file_kind(mode)})")
                continue
            found.files.append((relative, path))
    found.files.sort()
    return found


def folder_member(folder: Path, name: str) -> Path | None:
    """`folder/name` when it is a regular file inside the folder, else None."""
    path = folder / name
    try:
        if not path.resolve().is_relative_to(folder.resolve()):
            return None
        return path if stat.S_ISREG(path.stat().st_mode) else None
    except OSError:
        return None


def checksum(path: Path) -> str:
    """sha256 over a file, or over every file of a folder (as `folder_files` finds them)."""
    digest = hashlib.sha256()
    if path.is_dir():
        files = [file for _, file in folder_files(path).files]
    else:
        require_regular_file(path)
        files = [path]
    try:
        for file in files:
            digest.update(file.name.encode())
            with file.open("rb") as handle:
                for block in iter(lambda: handle.read(1 << 20), b""):
                    digest.update(block)
    except OSError as exc:
        raise IngestError(
            f"cannot read {path} ({exc.strerror or exc}): check the path and its permissions"
        ) from exc
    return digest.hexdigest()
