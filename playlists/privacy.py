"""A listener's data on both sides of the store: forget it, or export all of it.

These span the model side (listens, feedback, terms, imports, the catalogue, models) and the
playlist side (playlists, verdicts and the files written for the listener), so they sit above
both packages: `recommender` never imports `playlists`.

Forgetting
----------
Deleting rows is not enough for a promise to forget. SQLite leaves deleted content in free
pages and in the write-ahead log, a trained model has learned from the data, and a train may be
running while the forget happens. So `forget` is complete, or it fails loudly:

1. in one transaction, with `PRAGMA secure_delete` on (freed pages are zeroed on every SQLite
   build), it deletes the chosen listens and feedback (for `all_data` also the listener, their
   terms, their playlists (also those made for the name before it was in the store) and the
   verdicts on them, the record of the files written for them, and the imports rows that only
   brought in their data, whose file paths would name them); tracks and artists nothing refers
   to any more go too, except catalogue artists that carry tags; every model is marked stale
   and the data generation (`recommender.generation`) is raised, so a train that read the data
   before can never record its model;
2. holding the write lock (so no train records a model meanwhile) it deletes, inside this
   store's own `models/` folder and nowhere else, the stale models' bundles, the bundles no
   row records (a train that lost a race or was killed) and the half-written
   `.<id>.partial/` folders of killed trains: they hold listener names;
3. checkpoints and truncates the WAL, VACUUMs, and checkpoints again, checking that each of
   these really happened (a checkpoint cannot finish while another process reads the store);
4. lists the files the listener asked tastemaker to write (`playlist -o`, `report --html`,
   `export-data -o`) that still name them: those are the listener's own files, and tastemaker
   deletes nothing outside the store's folder.

When step 2 or 3 cannot finish, `forget` raises `ForgetIncomplete` saying what is left and
how to finish; the store remembers that work is left, and running the same forget again
finishes it, also when the listener is already gone (for example after a full disk).

Exporting
---------
`export_listener` gathers everything stored about one listener as one documented JSON file
(`"format": "tastemaker-export"`, `"version": 1`, described in `docs/export-format.md`).
`tastemaker import tastemaker FILE` (`recommender.sources.tastemaker`) reads it back:
listens (with their original source) and terms are restored; playlists and verdicts are
records of what a past model made and are reported as skipped, not rebuilt.
"""

from __future__ import annotations

import html
import json
import math
import os
import re
import shutil
import sqlite3
import stat
import sys
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, replace
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Any

from playlists import storage
from playlists.errors import ForgetIncomplete
from playlists.written import (
    FileKind,
    SavedFile,
    WrittenFile,
    files_for,
    forget_files_for,
    write_listener_file,
)
from recommender.bundle import MANIFEST
from recommender.catalog import resolve_artist, resolve_listener
from recommender.errors import InvalidForget, StoreError, UnknownListener
from recommender.feedback import export_feedback, forget_feedback
from recommender.generation import bump_generation, forget_unfinished, set_forget_unfinished
from recommender.sources.tastemaker import EXPORT_FORMAT, EXPORT_VERSION
from recommender.store import Store, utc_now
from recommender.terms_storage import load_terms
from recommender.training import mark_models_stale, models_dir_for

DAY_SECONDS = 86_400
# A staging folder `write_bundle` writes a model into before renaming it into place.
_STAGING = re.compile(r"^\..+\.partial$")
_SCAN_CHUNK = 1 << 20
# How long a checkpoint waits for other processes' readers to move on before forget says so.
CHECKPOINT_WAIT_MS = 5000


@dataclass(frozen=True)
class ForgetReport:
    listener: str
    listens: int  # listen rows deleted
    plays: int  # plays those rows stood for
    listener_deleted: bool
    playlists: int
    verdicts: int
    imports: int
    tracks: int
    artists: int
    models_marked_stale: int
    bundles_deleted: int  # bundle and staging folders removed from the store's models/
    bytes_before: int | None
    bytes_after: int | None
    feedback: int = 0  # feedback rows (loves, hates, skips) deleted
    finished: bool = True  # every step done and checked; otherwise see `left`
    left: tuple[str, ...] = ()  # what is left to do, and how
    files_naming_listener: tuple[str, ...] = ()  # files written for them that still name them
    resumed: bool = False  # an earlier forget had work left, and this run finished it
    notes: tuple[str, ...] = ()  # what the listener should know (bundles left to others)

    def as_dict(self) -> dict[str, object]:
        out = asdict(self)
        for key in ("left", "files_naming_listener", "notes"):
            out[key] = list(out[key])
        return out


def parse_when(text: str, *, end: bool) -> int:
    """Unix seconds for an ISO date or date-time (UTC unless it carries an offset).

    A date without a time (`2025-09-30` or `20250930`) as the end of a range means the end of
    that day, so `--since 2025-09-01 --until 2025-09-30` covers all of September.
    """
    hint = "use YYYY-MM-DD or an ISO time like 2025-09-01T18:00:00Z"
    try:
        try:
            day = date.fromisoformat(text)
        except ValueError:
            moment = datetime.fromisoformat(text)
            if moment.tzinfo is None:
                moment = moment.replace(tzinfo=UTC)
            return int(moment.timestamp())
        # Counted in seconds, not dates: the day after 9999-12-31 is not a `date`.
        start = int(datetime.combine(day, time(), UTC).timestamp())
        return start + DAY_SECONDS if end else start
    except (ValueError, OverflowError):
        raise InvalidForget(f"{text!r} is not a date: {hint}") from None


@dataclass(frozen=True)
class _Selection:
    """Which of a listener's listens to forget (SQL), and the same selection of their feedback
    in the terms `recommender.feedback.forget_feedback` takes."""

    listens: str
    args: tuple[object, ...]
    artist_id: int | None = None
    artist_name: str | None = None
    since: int | None = None
    until: int | None = None


def _selection(
    store: Store,
    listener_id: int,
    artist: str | None,
    since: str | None,
    until: str | None,
) -> _Selection:
    if artist is not None:
        artist_id, name = resolve_artist(store, artist)
        return _Selection(
            "listener_id = ? AND artist_id = ?",
            (listener_id, artist_id),
            artist_id=artist_id,
            artist_name=name,
        )
    if since is None and until is None:
        return _Selection("listener_id = ?", (listener_id,))
    start = parse_when(since, end=False) if since is not None else None
    stop = parse_when(until, end=True) if until is not None else None
    if start is not None and stop is not None and start >= stop:
        raise InvalidForget(f"--since {since} is not before --until {until}: swap them")
    # Rows without a time (artist-level play counts) are in no date range.
    listens = "listener_id = ? AND listened_at IS NOT NULL"
    args: list[object] = [listener_id]
    if start is not None:
        listens += " AND listened_at >= ?"
        args.append(start)
    if stop is not None:
        listens += " AND listened_at < ?"
        args.append(stop)
    return _Selection(listens, tuple(args), since=start, until=stop)


def forget(
    store: Store,
    listener: str,
    *,
    artist: str | None = None,
    since: str | None = None,
    until: str | None = None,
    all_data: bool = False,
) -> ForgetReport:
    """Forget the selected listens and feedback of `listener` (see the module docstring).

    Raises ForgetIncomplete (carrying the report) when the rows are gone but their bytes or
    files may not be; running the same forget again finishes.
    """
    chosen = sum([artist is not None, since is not None or until is not None, all_data])
    if chosen != 1:
        raise InvalidForget(
            "say what to forget: exactly one of --artist A, --since/--until DATE, or --all"
        )
    for text, end in ((since, False), (until, True)):
        if text is not None:
            parse_when(text, end=end)  # a bad date is refused before anything happens
    _secure_delete(store)
    listener_id = store.listener_id(listener)
    playlist_ids = storage.playlist_ids_of(store, listener_id, listener)
    files = files_for(store, listener_id, playlist_ids)
    bytes_before = _file_bytes(store)
    if listener_id is None and not (all_data and playlist_ids):
        if forget_unfinished(store):  # an earlier forget stopped: finish it
            nothing = replace(_empty_report(listener), bytes_before=bytes_before)
            return _finished(_finish(store, nothing, resumed=True))
        if playlist_ids:
            raise InvalidForget(
                f"{listener!r} has no listens in the store, only playlists made for the name: "
                "forget them with --all"
            )
        resolve_listener(store, listener)  # raises UnknownListener with near misses
        raise UnknownListener(f"no listener named {listener!r}")  # pragma: no cover
    try:
        if listener_id is None:
            report = _forget_name_only(store, listener, playlist_ids, bytes_before)
        else:
            selection = _selection(store, listener_id, artist, since, until)
            report = _forget_rows(
                store, listener, listener_id, selection, all_data, playlist_ids, bytes_before
            )
    except sqlite3.OperationalError as exc:
        raise _nothing_forgotten(exc) from None
    except StoreError as exc:  # the store's own account of the same trouble
        if isinstance(exc.__cause__, sqlite3.OperationalError):
            raise _nothing_forgotten(exc.__cause__) from None
        raise StoreError(f"nothing was forgotten: {exc}") from None
    naming = _files_naming(files, listener)
    return _finished(replace(_finish(store, report), files_naming_listener=naming))


def _finished(report: ForgetReport) -> ForgetReport:
    """`report`, or ForgetIncomplete carrying it when something is left to do."""
    if not report.finished:
        raise ForgetIncomplete(
            f"the rows are deleted, but forgetting is not finished: {'; '.join(report.left)}",
            report,
        )
    return report


def _empty_report(listener: str) -> ForgetReport:
    return ForgetReport(
        listener=listener,
        listens=0,
        plays=0,
        listener_deleted=False,
        playlists=0,
        verdicts=0,
        imports=0,
        tracks=0,
        artists=0,
        models_marked_stale=0,
        bundles_deleted=0,
        bytes_before=None,
        bytes_after=None,
    )


def _forget_name_only(
    store: Store, listener: str, playlist_ids: list[str], bytes_before: int | None
) -> ForgetReport:
    """A name with stored playlists but no listener row (`playlist --new-listener`)."""
    with store.transaction():
        playlists, verdicts = storage.delete_listener_playlists(store, None, listener)
        forget_files_for(store, None, playlist_ids)
        set_forget_unfinished(store, True)
    return replace(
        _empty_report(listener),
        listener_deleted=True,
        playlists=playlists,
        verdicts=verdicts,
        bytes_before=bytes_before,
    )


def _forget_rows(
    store: Store,
    listener: str,
    listener_id: int,
    chosen: _Selection,
    all_data: bool,
    playlist_ids: list[str],
    bytes_before: int | None,
) -> ForgetReport:
    with store.transaction() as conn:
        listens, plays = conn.execute(
            f"SELECT count(*), coalesce(sum(plays), 0) FROM listens WHERE {chosen.listens}",
            chosen.args,
        ).fetchone()
        touched = {
            int(r[0])
            for r in conn.execute(
                f"SELECT DISTINCT import_id FROM listens WHERE {chosen.listens}"
                " AND import_id IS NOT NULL",
                chosen.args,
            )
        }
        refs = conn.execute(
            f"SELECT DISTINCT artist_id, track_id FROM listens WHERE {chosen.listens}",
            chosen.args,
        ).fetchall()
        conn.execute(f"DELETE FROM listens WHERE {chosen.listens}", chosen.args)
        # Feedback never adds artists or tracks (it waits, pending, until they arrive), so it
        # brings no orphans of its own; its owner deletes the same selection of it.
        feedback = forget_feedback(
            store,
            listener_id,
            artist_id=chosen.artist_id,
            artist_name=chosen.artist_name,
            since=chosen.since,
            until=chosen.until,
        )
        playlists = verdicts = 0
        if all_data:
            playlists, verdicts = storage.delete_listener_playlists(store, listener_id, listener)
            forget_files_for(store, listener_id, playlist_ids)
            conn.execute("DELETE FROM terms WHERE listener_id = ?", (listener_id,))
            conn.execute("DELETE FROM listeners WHERE id = ?", (listener_id,))
        imports = _delete_emptied_imports(conn, sorted(touched), listener, all_data)
        tracks, artists = _delete_orphans(
            store, {int(a) for a, _ in refs}, {int(t) for _, t in refs if t is not None}
        )
        stale = 0
        if listens or feedback or all_data:
            stale = mark_models_stale(
                store, f"listens of a listener were forgotten on {datetime.now(UTC):%Y-%m-%d}"
            )
            bump_generation(store)
        set_forget_unfinished(store, True)
    return ForgetReport(
        listener=listener,
        listens=int(listens),
        plays=int(plays),
        listener_deleted=all_data,
        playlists=playlists,
        verdicts=verdicts,
        imports=imports,
        tracks=tracks,
        artists=artists,
        models_marked_stale=stale,
        bundles_deleted=0,
        bytes_before=bytes_before,
        bytes_after=None,
        feedback=feedback,
    )


def _delete_emptied_imports(
    conn: sqlite3.Connection, touched: list[int], name: str, all_data: bool
) -> int:
    """Drop imports rows left with no listens or feedback that held only this listener's data.

    Their path and listener name would say who the forgotten data belonged to. Imports shared
    with other listeners (a dataset folder) keep their row, since other listens still point at it.
    """
    deleted = 0
    used = (
        "EXISTS (SELECT 1 FROM listens WHERE import_id = {0})"
        " OR EXISTS (SELECT 1 FROM feedback WHERE import_id = {0})"
    )
    for import_id in touched:
        if conn.execute(f"SELECT {used.format('?')}", (import_id, import_id)).fetchone()[0]:
            continue
        # Re-imports of the same file brought nothing new and name the same path.
        deleted += conn.execute(
            "DELETE FROM imports WHERE checksum = (SELECT checksum FROM imports WHERE id = ?)"
            f" AND checksum != '' AND NOT ({used.format('imports.id')})",
            (import_id,),
        ).rowcount
        deleted += conn.execute("DELETE FROM imports WHERE id = ?", (import_id,)).rowcount
    if all_data:
        deleted += conn.execute("DELETE FROM imports WHERE listener = ?", (name,)).rowcount
    return deleted


def _delete_orphans(store: Store, artist_ids: set[int], track_ids: set[int]) -> tuple[int, int]:
    """Delete the forgotten rows' tracks and artists that nothing refers to any more.

    Artists with tags stay: they are catalogue knowledge that did not come from this listener.
    Whatever a stored playlist (or a verdict on one) or someone's feedback names stays too.
    """
    conn = store.conn
    in_playlists, tracks_in_playlists = storage.referenced(store, artist_ids, track_ids)
    tracks = 0
    for track_id in sorted(track_ids - tracks_in_playlists):
        tracks += conn.execute(
            "DELETE FROM tracks WHERE id = :t"
            " AND NOT EXISTS (SELECT 1 FROM listens WHERE track_id = :t)"
            " AND NOT EXISTS (SELECT 1 FROM feedback WHERE track_id = :t)",
            {"t": track_id},
        ).rowcount
    artists = 0
    unreferenced = (
        "NOT EXISTS (SELECT 1 FROM listens WHERE artist_id = :a)"
        " AND NOT EXISTS (SELECT 1 FROM artist_tags WHERE artist_id = :a)"
        " AND NOT EXISTS (SELECT 1 FROM tracks WHERE artist_id = :a)"
        " AND NOT EXISTS (SELECT 1 FROM feedback WHERE artist_id = :a)"
    )
    for artist_id in sorted(artist_ids - in_playlists):
        params = {"a": artist_id}
        if conn.execute(f"SELECT {unreferenced}", params).fetchone()[0]:
            conn.execute("DELETE FROM artist_external_ids WHERE artist_id = :a", params)
            artists += conn.execute("DELETE FROM artists WHERE id = :a", params).rowcount
    return tracks, artists


def _secure_delete(store: Store) -> None:
    """Have SQLite zero what it frees on this connection, whatever the build's default."""
    store.conn.execute("PRAGMA secure_delete = ON")
    if store.conn.execute("PRAGMA secure_delete").fetchone()[0] != 1:
        raise StoreError(
            "this SQLite cannot zero deleted content (PRAGMA secure_delete): nothing was "
            "forgotten; run tastemaker with a Python whose SQLite allows it"
        )


# Finishing: the models folder and the file itself -----------------------------------------


def _finish(store: Store, report: ForgetReport, *, resumed: bool = False) -> ForgetReport:
    """Steps 2 and 3 of the module docstring; what could not be done goes into `left`."""
    left: list[str] = []
    notes: list[str] = []
    bundles = _clean_models_folder(store, left, notes)
    _compact(store, left)
    if not left:
        try:
            with store.transaction():
                set_forget_unfinished(store, False)
            _checkpoint(store, left)
        except sqlite3.Error as exc:
            left.append(f"the store could not note that forgetting finished ({exc})")
        if left:
            _still_unfinished(store)
    return replace(
        report,
        bundles_deleted=report.bundles_deleted + bundles,
        bytes_after=_file_bytes(store),
        finished=not left,
        left=tuple(left),
        resumed=resumed,
        notes=tuple(notes),
    )


def _still_unfinished(store: Store) -> None:
    try:
        with store.transaction():
            set_forget_unfinished(store, True)
    except sqlite3.Error:
        pass  # the flag was set by the delete; a rerun finishes either way


def _models_folder(store: Store) -> Path | None:
    """This store's own `models/` folder (beside the store file), or None in memory."""
    if store.path is None:
        return None
    return models_dir_for(store, None)


def _clean_models_folder(store: Store, left: list[str], notes: list[str]) -> int:
    """Delete stale, unrecorded and half-written bundles inside this store's `models/` folder,
    holding the write lock so that no train records a model while it looks. Returns how many
    folders went; what cannot be deleted is added to `left`."""
    folder = _models_folder(store)
    if folder is None:
        return 0
    deleted = 0
    try:
        with store.transaction() as conn:
            live = {str(r[0]) for r in conn.execute("SELECT id FROM models WHERE stale = 0")}
            foreign = [
                str(path)
                for (path,) in conn.execute("SELECT path FROM models")
                if Path(path).parent != folder and Path(path).exists()
            ]
            if foreign:
                notes.append(
                    f"{len(foreign)} model rows point at bundles outside {folder} (a copied "
                    "store?): those belong to another store and were left alone"
                )
            try:
                info = folder.lstat()
            except FileNotFoundError:
                return 0
            if stat.S_ISLNK(info.st_mode) or not stat.S_ISDIR(info.st_mode):
                left.append(
                    f"{folder} is a link or not a folder, so its bundles were not deleted "
                    "(tastemaker deletes nothing outside the store's folder): delete the "
                    "model folders in it yourself, or make it a plain folder, and run forget again"
                )
                return 0
            for child in sorted(folder.iterdir()):
                if not _is_debris(child, live):
                    continue
                try:
                    if child.is_symlink():
                        left.append(
                            f"{child} is a link to {os.path.realpath(child)}: delete that model "
                            "folder yourself (tastemaker deletes nothing outside the store's "
                            "folder), then remove the link and run forget again"
                        )
                        continue
                    if child.is_dir():
                        shutil.rmtree(child)
                    else:
                        child.unlink()
                    deleted += 1
                except OSError as exc:
                    left.append(f"could not delete {child} ({exc.strerror}): delete it yourself")
    except sqlite3.Error as exc:
        left.append(f"the model folders were not cleaned: the store was busy ({exc})")
    return deleted


def _is_debris(child: Path, live: set[str]) -> bool:
    """A folder in models/ that may hold forgotten names: a half-written bundle, or a bundle
    no live model row records (stale, or never recorded)."""
    if _STAGING.match(child.name):
        return True
    if child.name in live:
        return False
    return (child / MANIFEST).is_file() or child.is_symlink()


def _checkpoint(store: Store, left: list[str]) -> bool:
    """Copy the WAL into the file and truncate it; False (and a line in `left`) when another
    process still reads an older snapshot, so the WAL (and old pages) could not be replaced."""
    if store.path is None:
        return True
    conn = store.conn
    wait = conn.execute("PRAGMA busy_timeout").fetchone()[0]
    conn.execute(f"PRAGMA busy_timeout = {int(CHECKPOINT_WAIT_MS)}")
    try:
        busy, log, done = conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
    finally:
        conn.execute(f"PRAGMA busy_timeout = {int(wait)}")
    wal = Path(f"{store.path}-wal")
    size = wal.stat().st_size if wal.exists() else 0
    if busy or (log not in (-1, done)) or size:
        left.append(
            "the write-ahead log could not be copied into the store and emptied: another "
            "process is reading the store (a `tastemaker serve`, a train or a playlist), so "
            f"the deleted rows may still be on disk in {store.path.name} and {wal.name}; stop "
            "it and run the same forget again"
        )
        return False
    return True


def _compact(store: Store, left: list[str]) -> None:
    """Checkpoint, VACUUM and check: the file is rewritten from live rows only."""
    conn = store.conn
    try:
        if not _checkpoint(store, left):
            return
        conn.execute("VACUUM")
        if conn.execute("PRAGMA freelist_count").fetchone()[0]:
            left.append("VACUUM left free pages behind: run the same forget again")
            return
        _checkpoint(store, left)
    except sqlite3.OperationalError as exc:
        left.append(
            f"the store could not be compacted: {_trouble(exc)}; the rows are deleted and "
            f"their pages zeroed, but the file is not yet rewritten: {_remedy(exc)} and run "
            "the same forget again"
        )


def _disk_full(exc: BaseException) -> bool:
    # A failed COMMIT may hide the cause behind the ROLLBACK that followed it.
    seen: BaseException | None = exc
    while seen is not None:
        if "full" in str(seen):
            return True
        seen = seen.__context__
    return False


def _nothing_forgotten(exc: sqlite3.OperationalError) -> StoreError:
    return StoreError(
        f"nothing was forgotten: {_trouble(exc)}; the store is as it was: "
        f"{_remedy(exc)} and run the same forget again"
    )


def _trouble(exc: sqlite3.OperationalError) -> str:
    if _disk_full(exc):
        return "the disk is full"
    if _read_only(exc):
        return "the store is read-only"
    return f"the store was busy ({exc})"


def _remedy(exc: sqlite3.OperationalError) -> str:
    if _disk_full(exc):
        return "free some space"
    if _read_only(exc):
        return "make the store's file and folder writable"
    return "stop other tastemaker processes"


def _read_only(exc: sqlite3.OperationalError) -> bool:
    return "readonly" in str(exc).lower() or "read-only" in str(exc).lower()


def _file_bytes(store: Store) -> int | None:
    if store.path is None:
        return None
    return sum(p.stat().st_size for p in (store.path, Path(f"{store.path}-wal")) if p.exists())


# Files written for the listener -------------------------------------------------------------


def _spellings(name: str) -> list[bytes]:
    """How a name appears in the files tastemaker writes: as is, HTML/XML-escaped, JSON-escaped."""
    forms = {
        name,
        html.escape(name),
        html.escape(name, quote=False),
        json.dumps(name)[1:-1],
        json.dumps(name, ensure_ascii=False)[1:-1],
    }
    return sorted({form.encode("utf-8") for form in forms if form})


def _files_naming(files: Iterable[WrittenFile], name: str) -> tuple[str, ...]:
    needles = _spellings(name)
    return tuple(str(f.path) for f in files if _names(f.path, needles))


def _names(path: Path, needles: list[bytes]) -> bool:
    """Whether the regular file at `path` holds one of `needles` (read in bounded chunks; a
    FIFO or device put there since is never opened for reading)."""
    try:
        handle = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOFOLLOW", 0))
    except OSError:
        return False
    try:
        if not stat.S_ISREG(os.fstat(handle).st_mode):
            return False
        overlap = max(len(n) for n in needles) - 1
        tail = b""
        while chunk := os.read(handle, _SCAN_CHUNK):
            window = tail + chunk
            if any(n in window for n in needles):
                return True
            tail = window[-overlap:] if overlap else b""
        return False
    finally:
        os.close(handle)


# Exporting ---------------------------------------------------------------------------------


def export_listener(store: Store, listener: str) -> dict[str, Any]:
    """The listener's data as a JSON-ready dict (see docs/export-format.md)."""
    listener_id = store.listener_id(listener)
    playlists_only = listener_id is None and bool(storage.playlist_ids_of(store, None, listener))
    if listener_id is None and not playlists_only:
        resolve_listener(store, listener)  # raises UnknownListener with near misses
    conn = store.conn
    created_at = None
    stored_terms = None
    if listener_id is not None:
        created_at = conn.execute(
            "SELECT created_at FROM listeners WHERE id = ?", (listener_id,)
        ).fetchone()[0]
        stored_terms = conn.execute(
            "SELECT updated_at FROM terms WHERE listener_id = ?", (listener_id,)
        ).fetchone()
    return {
        "format": EXPORT_FORMAT,
        "version": EXPORT_VERSION,
        "exported_at": utc_now(),
        "listener": {"name": listener, "created_at": created_at},
        "terms": None
        if stored_terms is None
        else {**load_terms(store, listener).as_dict(), "updated_at": stored_terms[0]},
        "listens": _exported_listens(conn, listener_id),
        "feedback": [] if listener_id is None else export_feedback(store, listener_id),
        "imports": _exported_imports(conn, listener_id, listener),
        "playlists": storage.export_playlists(store, listener_id, listener),
    }


def _exported_listens(conn: sqlite3.Connection, listener_id: int | None) -> list[dict[str, Any]]:
    return [
        {
            "artist": artist,
            "artist_mbid": artist_mbid,
            "title": title,
            "album": album,
            "track_mbid": track_mbid,
            "release_mbid": release_mbid,
            "spotify_uri": spotify_uri,
            "isrc": isrc,
            "duration_ms": duration_ms,
            "listened_at": listened_at,
            "listened_at_utc": _iso(listened_at),
            "ms_played": ms_played,
            "plays": plays,
            "source": source,
        }
        for (
            artist,
            artist_mbid,
            title,
            album,
            track_mbid,
            release_mbid,
            spotify_uri,
            isrc,
            duration_ms,
            listened_at,
            ms_played,
            plays,
            source,
        ) in conn.execute(
            "SELECT a.name, a.mbid, t.title, t.album, t.mbid, t.release_mbid, t.spotify_uri,"
            " t.isrc, t.duration_ms, l.listened_at, l.ms_played, l.plays, l.source FROM listens l"
            " JOIN artists a ON a.id = l.artist_id LEFT JOIN tracks t ON t.id = l.track_id"
            " WHERE l.listener_id = ? ORDER BY l.listened_at, l.id",
            (listener_id,),
        )
    ]


def _exported_imports(
    conn: sqlite3.Connection, listener_id: int | None, listener: str
) -> list[dict[str, Any]]:
    return [
        {
            "format": fmt,
            "path": path,
            "checksum": checksum,
            "started_at": started,
            "finished_at": finished,
            "listens_from_it": int(count),
        }
        for fmt, path, checksum, started, finished, count in conn.execute(
            "SELECT i.format, i.path, i.checksum, i.started_at, i.finished_at, count(l.id)"
            " FROM imports i LEFT JOIN listens l ON l.import_id = i.id AND l.listener_id = ?"
            " WHERE i.listener = ? OR l.id IS NOT NULL GROUP BY i.id ORDER BY i.id",
            (listener_id, listener),
        )
    ]


def standard_json(value: Any) -> Any:
    """`value` with every float JSON can write: an infinity becomes the largest finite double
    (so a half-life of `inf` still reads back as "never fades") and NaN becomes null."""
    if isinstance(value, float) and not math.isfinite(value):
        return None if math.isnan(value) else math.copysign(sys.float_info.max, value)
    if isinstance(value, dict):
        return {k: standard_json(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [standard_json(v) for v in value]
    return value


def export_json(data: dict[str, Any]) -> Iterator[str]:
    """The export as standard JSON text, in pieces (a large export is never one string)."""
    encoder = json.JSONEncoder(indent=1, ensure_ascii=False, allow_nan=False)
    yield from encoder.iterencode(standard_json(data))
    yield "\n"


def save_export(
    store: Store, listener: str, path: str | os.PathLike[str]
) -> tuple[dict[str, Any], SavedFile]:
    """Write the listener's export to `path` (through `recommender.files`: complete or not at
    all) and remember the file for `forget`; returns what was written and where."""
    data = export_listener(store, listener)
    saved = write_listener_file(
        store,
        path,
        export_json(data),
        kind=FileKind.EXPORT,
        listener_id=store.listener_id(listener),
    )
    return data, saved


def write_export(store: Store, listener: str, path: str | os.PathLike[str]) -> dict[str, Any]:
    """`save_export`, returning only what was written."""
    return save_export(store, listener, path)[0]


def _iso(ts: int | None) -> str | None:
    if ts is None:
        return None
    try:
        return datetime.fromtimestamp(int(ts), UTC).isoformat()
    except (OverflowError, ValueError, OSError):  # a time no calendar holds: the number stays
        return None
