"""The files a listener asked tastemaker to write, written safely and remembered for `forget`.

`write_listener_file` is how a command writes a file for someone (`playlist -o`, `report
--html`, `export-data -o`): it writes through `recommender.files.write_output` (complete or not
at all, never over a device or silently through a link) and then notes the real path in the
`written_files` table (playlist schema step 005), so that `forget` can list the files that
still name the listener. Only the path, the kind of file and whose it is are kept: the
listener's id when they are in the store, the playlist's id for a playlist or report (a
playlist for a listener not in the store has no listener id). This module is the only reader
and writer of that table.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from playlists.schema import ensure_playlist_schema
from recommender.errors import StoreError
from recommender.files import Content, Written, write_output
from recommender.store import Store, utc_now


class FileKind(StrEnum):
    """What a written file holds."""

    PLAYLIST = "playlist"  # `playlist -o` in any format
    REPORT = "report"  # `report --html`
    EXPORT = "export"  # `export-data -o`


@dataclass(frozen=True)
class WrittenFile:
    """One file tastemaker wrote for a listener, as remembered."""

    path: Path
    kind: FileKind
    written_at: str


@dataclass(frozen=True)
class SavedFile:
    """What `write_listener_file` did, and a note when the store could not remember it."""

    written: Written
    note: str | None = None


def write_listener_file(
    store: Store,
    path: str | os.PathLike[str],
    content: Content,
    *,
    kind: FileKind,
    listener_id: int | None = None,
    playlist_id: str | None = None,
) -> SavedFile:
    """Write `content` to `path` safely, then remember it for the listener (see above).

    A store that cannot be written (read-only, or busy past the wait) does not stop the file
    from being written: the result's note says that `forget` will not list it.
    """
    written = write_output(path, content)
    try:
        ensure_playlist_schema(store)
        with store.transaction():
            store.db.table("written_files").upsert(
                {
                    "path": os.path.realpath(written.target),
                    "kind": str(kind),
                    "listener_id": listener_id,
                    "playlist_id": playlist_id,
                    "written_at": utc_now(),
                },
                pk="path",
            )
    except (sqlite3.Error, StoreError) as exc:  # StoreError: the store's account of a write refused
        return SavedFile(
            written,
            f"the store could not note this file ({exc}): `tastemaker forget` will not list it",
        )
    return SavedFile(written)


_CHUNK = 500  # playlist ids bound per statement


def _chunked(
    listener_id: int | None, playlist_ids: Iterable[str]
) -> Iterable[tuple[str, list[object]]]:
    """(condition, arguments) pairs covering the listener's id and every playlist id."""
    ids = sorted(set(playlist_ids))
    yield "listener_id = ?", [listener_id]
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start : start + _CHUNK]
        yield f"playlist_id IN ({', '.join('?' for _ in chunk)})", list(chunk)


def files_for(
    store: Store, listener_id: int | None, playlist_ids: Iterable[str]
) -> list[WrittenFile]:
    """The files written for this listener or for these playlists of theirs, oldest first."""
    ensure_playlist_schema(store)
    found: dict[str, WrittenFile] = {}
    for where, args in _chunked(listener_id, playlist_ids):
        for row in store.db.table("written_files").rows_where(where, args):
            found[row["path"]] = WrittenFile(
                Path(row["path"]), FileKind(row["kind"]), str(row["written_at"])
            )
    return sorted(found.values(), key=lambda f: (f.written_at, str(f.path)))


def forget_files_for(store: Store, listener_id: int | None, playlist_ids: Iterable[str]) -> int:
    """Drop what is remembered about these files (inside the caller's transaction)."""
    ensure_playlist_schema(store)
    return sum(
        store.conn.execute(f"DELETE FROM written_files WHERE {where}", args).rowcount
        for where, args in _chunked(listener_id, playlist_ids)
    )
