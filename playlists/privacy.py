"""A listener's data on both sides of the store: forget it, or export all of it.

These span the model side (listens, terms, imports, the catalogue, models) and the playlist
side (playlists and verdicts, through `playlists.storage`), so they sit above both packages:
`recommender` never imports `playlists`.

Forgetting
----------
Deleting rows is not enough for a promise to forget. SQLite leaves deleted content in free
pages and in the write-ahead log, and a trained model has learned from the data. So `forget`:

1. deletes the chosen listens and the listener's feedback in the same selection (on that
   artist, said in that range, or all of it) in one transaction (for `all_data` also the
   listener, their terms, their playlists and the verdicts on those playlists, and the
   imports rows that only brought in their data, whose file paths would name them);
2. deletes tracks and artists nothing refers to any more (no listen, no stored playlist or
   verdict), except catalogue artists that carry tags (they were known before this listener
   and stay useful to everyone);
3. marks every model stale, since each may have learned from the forgotten listens, and deletes
   those models' bundle folders (their id mappings hold listener names);
4. checkpoints and truncates the WAL, VACUUMs, and checkpoints again, so the file is rewritten
   from live rows only and no forgotten byte is left in the database, its -wal or its -shm.

Exporting
---------
`export_listener` gathers everything stored about one listener as one documented JSON file
(`"format": "tastemaker-export"`, `"version": 1`, described in `docs/export-format.md`).
`tastemaker import tastemaker FILE` (`recommender.sources.tastemaker`) reads it back:
listens (with their original source) and terms are restored; playlists and verdicts are
records of what a past model made and are reported as skipped, not rebuilt.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from playlists import storage
from recommender.bundle import MANIFEST
from recommender.catalog import require_listener, resolve_artist
from recommender.errors import InvalidForget
from recommender.feedback import export_feedback, forget_feedback
from recommender.sources.tastemaker import EXPORT_FORMAT, EXPORT_VERSION
from recommender.store import Store, utc_now
from recommender.terms_storage import load_terms
from recommender.training import mark_models_stale


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
    bundles_deleted: int
    bytes_before: int | None
    bytes_after: int | None
    feedback: int = 0  # loves, hates and skips deleted

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


def parse_when(text: str, *, end: bool) -> int:
    """Unix seconds for an ISO date or date-time (UTC unless it carries an offset).

    A bare date as the end of a range means the end of that day, so
    `--since 2025-09-01 --until 2025-09-30` covers all of September.
    """
    try:
        if len(text) == 10:
            day = date.fromisoformat(text)
            moment = datetime.combine(day + timedelta(days=1) if end else day, time(), UTC)
        else:
            moment = datetime.fromisoformat(text)
            if moment.tzinfo is None:
                moment = moment.replace(tzinfo=UTC)
    except ValueError:
        raise InvalidForget(
            f"{text!r} is not a date: use YYYY-MM-DD or an ISO time like 2025-09-01T18:00:00Z"
        ) from None
    return int(moment.timestamp())


def forget(
    store: Store,
    listener: str,
    *,
    artist: str | None = None,
    since: str | None = None,
    until: str | None = None,
    all_data: bool = False,
) -> ForgetReport:
    """Forget the selected listens of `listener` (see the module docstring for everything)."""
    chosen = sum([artist is not None, since is not None or until is not None, all_data])
    if chosen != 1:
        raise InvalidForget(
            "say what to forget: exactly one of --artist A, --since/--until DATE, or --all"
        )
    listener_id = require_listener(store, listener)
    where, args = "listener_id = ?", [listener_id]
    artist_id: int | None = None
    start = stop = None
    if artist is not None:
        artist_id, _ = resolve_artist(store, artist)
        where += " AND artist_id = ?"
        args.append(artist_id)
    if since is not None or until is not None:
        start = parse_when(since, end=False) if since is not None else None
        stop = parse_when(until, end=True) if until is not None else None
        if start is not None and stop is not None and start >= stop:
            raise InvalidForget(f"--since {since} is not before --until {until}: swap them")
        # Listens without a time (artist-level play counts) are in no date range.
        where += " AND listened_at IS NOT NULL"
        if start is not None:
            where += " AND listened_at >= ?"
            args.append(start)
        if stop is not None:
            where += " AND listened_at < ?"
            args.append(stop)

    bytes_before = _file_bytes(store)
    with store.transaction() as conn:
        listens, plays = conn.execute(
            f"SELECT count(*), coalesce(sum(plays), 0) FROM listens WHERE {where}", args
        ).fetchone()
        touched_imports = [
            int(r[0])
            for r in conn.execute(
                f"SELECT DISTINCT import_id FROM listens WHERE {where} AND import_id IS NOT NULL",
                args,
            )
        ]
        refs = conn.execute(
            f"SELECT DISTINCT artist_id, track_id FROM listens WHERE {where}", args
        ).fetchall()
        conn.execute(f"DELETE FROM listens WHERE {where}", args)
        feedback = forget_feedback(
            store,
            listener_id,
            artist_id=artist_id,
            artist_name=artist,
            since=start,
            until=stop,
        )
        playlists = verdicts = 0
        if all_data:
            playlists, verdicts = storage.delete_listener_playlists(store, listener_id, listener)
            conn.execute("DELETE FROM terms WHERE listener_id = ?", (listener_id,))
            conn.execute("DELETE FROM listeners WHERE id = ?", (listener_id,))
        imports = _delete_emptied_imports(conn, touched_imports, listener, all_data)
        tracks, artists = _delete_orphans(
            store, {int(a) for a, _ in refs}, {int(t) for _, t in refs if t is not None}
        )
        stale = 0
        if listens or all_data:
            stale = mark_models_stale(
                store, f"listens of a listener were forgotten on {datetime.now(UTC):%Y-%m-%d}"
            )
        stale_paths = [Path(r[0]) for r in conn.execute("SELECT path FROM models WHERE stale = 1")]
    bundles = sum(_delete_bundle(path) for path in stale_paths)
    compact(store)
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
        bundles_deleted=bundles,
        bytes_before=bytes_before,
        bytes_after=_file_bytes(store),
        feedback=feedback,
    )


def _delete_emptied_imports(
    conn: sqlite3.Connection, touched: list[int], name: str, all_data: bool
) -> int:
    """Drop imports rows left with no listens that held only this listener's data.

    Their path and listener name would say who the forgotten data belonged to. Imports shared
    with other listeners (a dataset folder) keep their row, since other listens still point at it.
    """
    deleted = 0
    for import_id in touched:
        left = conn.execute(
            "SELECT 1 FROM listens WHERE import_id = ? LIMIT 1", (import_id,)
        ).fetchone()
        if left is None:
            # Re-imports of the same file brought nothing new and name the same path.
            deleted += conn.execute(
                "DELETE FROM imports WHERE checksum = (SELECT checksum FROM imports WHERE id = ?)"
                " AND checksum != '' AND NOT EXISTS"
                " (SELECT 1 FROM listens WHERE listens.import_id = imports.id)",
                (import_id,),
            ).rowcount
            deleted += conn.execute("DELETE FROM imports WHERE id = ?", (import_id,)).rowcount
    if all_data:
        deleted += conn.execute("DELETE FROM imports WHERE listener = ?", (name,)).rowcount
    return deleted


def _delete_orphans(store: Store, artist_ids: set[int], track_ids: set[int]) -> tuple[int, int]:
    """Delete the forgotten listens' tracks and artists that nothing refers to any more.

    Artists with tags stay: they are catalogue knowledge that did not come from this listener.
    Whatever a stored playlist (or a verdict on one) names stays too.
    """
    conn = store.conn
    in_playlists, tracks_in_playlists = storage.referenced(store, artist_ids, track_ids)
    tracks = 0
    for track_id in sorted(track_ids - tracks_in_playlists):
        tracks += conn.execute(
            "DELETE FROM tracks WHERE id = ?"
            " AND NOT EXISTS (SELECT 1 FROM listens WHERE track_id = ?)"
            " AND NOT EXISTS (SELECT 1 FROM feedback WHERE track_id = ?)",
            (track_id, track_id, track_id),
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


def _delete_bundle(path: Path) -> int:
    """Remove a stale model's bundle folder (only a folder that really is a bundle)."""
    if path.is_dir() and (path / MANIFEST).is_file():
        shutil.rmtree(path)
        return 1
    return 0


def compact(store: Store) -> None:
    """Rewrite the file from live rows only and empty the WAL (no transaction may be open)."""
    conn = store.conn
    if store.path is not None:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.execute("VACUUM")
    if store.path is not None:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")


def _file_bytes(store: Store) -> int | None:
    if store.path is None:
        return None
    return sum(p.stat().st_size for p in (store.path, Path(f"{store.path}-wal")) if p.exists())


# Exporting ---------------------------------------------------------------------------------


def export_listener(store: Store, listener: str) -> dict[str, Any]:
    """The listener's data as a JSON-ready dict (see docs/export-format.md)."""
    listener_id = require_listener(store, listener)
    conn = store.conn
    created_at = conn.execute(
        "SELECT created_at FROM listeners WHERE id = ?", (listener_id,)
    ).fetchone()[0]
    stored_terms = conn.execute(
        "SELECT updated_at FROM terms WHERE listener_id = ?", (listener_id,)
    ).fetchone()
    listens = [
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
            " t.isrc, t.duration_ms, l.listened_at,"
            " l.ms_played, l.plays, l.source FROM listens l"
            " JOIN artists a ON a.id = l.artist_id LEFT JOIN tracks t ON t.id = l.track_id"
            " WHERE l.listener_id = ? ORDER BY l.listened_at, l.id",
            (listener_id,),
        )
    ]
    imports = [
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
    return {
        "format": EXPORT_FORMAT,
        "version": EXPORT_VERSION,
        "exported_at": utc_now(),
        "listener": {"name": listener, "created_at": created_at},
        "terms": None
        if stored_terms is None
        else {**load_terms(store, listener).as_dict(), "updated_at": stored_terms[0]},
        "listens": listens,
        "feedback": export_feedback(store, listener_id),
        "imports": imports,
        "playlists": storage.export_playlists(store, listener_id, listener),
    }


def write_export(store: Store, listener: str, path: str | os.PathLike[str]) -> dict[str, Any]:
    """Write the listener's export to `path` (atomically) and return what was written."""
    data = export_listener(store, listener)
    target = Path(path)
    partial = target.with_name(target.name + ".partial")
    partial.write_text(json.dumps(data, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    partial.replace(target)
    return data


def _iso(ts: int | None) -> str | None:
    return None if ts is None else datetime.fromtimestamp(int(ts), UTC).isoformat()
