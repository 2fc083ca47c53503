"""Writing the files a listener asks for (`-o`, `--html`): completely, or not at all.

Every command that writes a file the listener named calls `write_output`. It

- writes a hidden temporary file in the target's own folder, flushes it to disk, and only then
  renames it over the target, so a reader never sees half a file and a full disk or a killed
  process leaves the old file (or nothing) behind, never a partial one;
- renames only over a regular file: a device (`/dev/full`), a FIFO, a socket or a folder at
  the path is refused, so a write can never replace a device node or feed a pipe;
- never writes through a symbolic link silently: a link to a regular file is followed, the
  link is kept and the result says so (`Written.through_link`, which the command prints); a
  link to anything else, or to nothing, is refused;
- refuses a missing folder and a read-only file with a message that says what to do.

Failures are `OutputError` (or `UnsafeOutput`), one line each. The module sits at the bottom
of the layers and knows nothing of the store, so any command, on either side, can use it.
"""

from __future__ import annotations

import errno
import os
import stat
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from recommender.errors import OutputError, UnsafeOutput

Content = str | bytes | Iterable[str] | Iterable[bytes]

# Errors that mean "no room": say so, since the fix is to free space or write elsewhere.
_NO_ROOM = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG}


@dataclass(frozen=True)
class Written:
    """What `write_output` did: the file really written, and how it got there."""

    path: Path  # the path as asked for
    target: Path  # the regular file written (the link's target when `through_link`)
    size: int  # bytes written
    replaced: bool  # a file was there before and was replaced
    through_link: bool  # `path` is a symbolic link, kept, and its target was replaced

    def describe(self) -> str:
        """How the command names the file: the path, and the link's target when followed."""
        if self.through_link:
            return f"{self.path} (a link: wrote its target {self.target})"
        return str(self.path)


def output_target(path: str | os.PathLike[str]) -> tuple[Path, bool, bool]:
    """(the regular file to write, whether it exists, whether `path` is a link to it).

    Raises UnsafeOutput for anything `write_output` must not replace and OutputError for a
    folder that is not there. Checked again just before the rename.
    """
    asked = Path(path)
    target, through_link = asked, False
    try:
        info = asked.lstat()
    except FileNotFoundError:
        info = None
    except OSError as exc:
        raise OutputError(f"cannot write {asked}: {exc.strerror}; choose another path") from None
    if info is not None and stat.S_ISLNK(info.st_mode):
        through_link = True
        target = Path(os.path.realpath(asked))
        try:
            info = target.stat()
        except OSError:
            raise UnsafeOutput(
                f"{asked} is a symbolic link to {target}, which does not exist: tastemaker does "
                "not create files through links; write to the real path instead"
            ) from None
        if not stat.S_ISREG(info.st_mode):
            raise UnsafeOutput(
                f"{asked} is a symbolic link to {target}, which is {file_kind(info.st_mode)}: "
                "tastemaker only replaces regular files; choose another path"
            )
    if info is not None and not stat.S_ISREG(info.st_mode):
        hint = "name a file inside it" if stat.S_ISDIR(info.st_mode) else "choose another path"
        raise UnsafeOutput(
            f"{asked} is {file_kind(info.st_mode)}, not a regular file: tastemaker only replaces "
            f"regular files; {hint}"
        )
    folder = target.parent
    if not folder.is_dir():
        raise OutputError(
            f"the folder {folder} does not exist: create it first (mkdir -p {folder}) or "
            "choose another path"
        )
    # No write permission for anyone counts as read-only even for root, whom access() lets by.
    if info is not None and (not info.st_mode & 0o222 or not os.access(target, os.W_OK)):
        raise OutputError(
            f"{target} is read-only: tastemaker will not replace it; make it writable or "
            "choose another path"
        )
    return target, info is not None, through_link


def file_kind(mode: int) -> str:
    """What a file of this `st_mode` is, for an error that says why it is refused."""
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe)"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


def _chunks(content: Content, encoding: str) -> Iterable[bytes]:
    if isinstance(content, str):
        yield content.encode(encoding)
    elif isinstance(content, bytes):
        yield content
    else:
        for chunk in content:
            yield chunk.encode(encoding) if isinstance(chunk, str) else chunk


def _new_file_mode() -> int:
    # The mode `open()` would give a new file: 0o666 less the umask (only readable this way).
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def write_output(
    path: str | os.PathLike[str], content: Content, *, encoding: str = "utf-8"
) -> Written:
    """Write `content` (text, bytes, or an iterable of either, streamed) to the file at `path`,
    atomically; see the module docstring for what is refused. Nothing is left behind on error.
    """
    target, existed, through_link = output_target(path)
    mode = stat.S_IMODE(target.stat().st_mode) if existed else _new_file_mode()
    try:
        handle, temporary = tempfile.mkstemp(
            prefix=f".{target.name}.", suffix=".partial", dir=target.parent
        )
    except OSError as exc:
        raise _failed(Path(path), exc) from None
    size = 0
    try:
        with os.fdopen(handle, "wb") as stream:
            for chunk in _chunks(content, encoding):
                stream.write(chunk)
                size += len(chunk)
            stream.flush()
            os.fsync(stream.fileno())
        os.chmod(temporary, mode)
        # The path may have changed while we wrote: refuse a device or link put there since.
        if output_target(path) != (target, existed, through_link):
            raise UnsafeOutput(f"{path} changed while it was being written: nothing was written")
        os.replace(temporary, target)
    except BaseException as exc:
        try:
            os.unlink(temporary)
        except FileNotFoundError:
            pass
        if isinstance(exc, OSError):
            raise _failed(Path(path), exc) from None
        raise
    _sync_folder(target.parent)
    return Written(Path(path), target, size, existed, through_link)


def _failed(path: Path, exc: OSError) -> OutputError:
    if exc.errno in _NO_ROOM:
        return OutputError(
            f"could not write {path}: {exc.strerror} (the disk is full?); nothing was written: "
            "free some space or choose another folder"
        )
    return OutputError(f"could not write {path}: {exc.strerror}; nothing was written")


def _sync_folder(folder: Path) -> None:
    """Make the rename durable (best effort: not every filesystem lets a folder be synced)."""
    try:
        handle = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(handle)
    except OSError:
        pass
    finally:
        os.close(handle)
