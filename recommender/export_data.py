"""Everything stored about one listener, as one documented JSON file.

The format (`"format": "tastemaker-export"`, `"version": 1`) is described in
`docs/export-format.md`. `tastemaker import tastemaker FILE` reads it back: listens (with
their original source) and terms are restored; playlists and verdicts are records of what a
past model made and are reported as skipped, not rebuilt.
"""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from recommender.catalog import require_listener
from recommender.store import Store, utc_now
from recommender.terms_storage import load_terms

EXPORT_FORMAT = "tastemaker-export"
EXPORT_VERSION = 1


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
            duration_ms,
            listened_at,
            ms_played,
            plays,
            source,
        ) in conn.execute(
            "SELECT a.name, a.mbid, t.title, t.album, t.mbid, t.duration_ms, l.listened_at,"
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
        "imports": imports,
        "playlists": _playlists(store, listener_id, listener),
    }


def _playlists(store: Store, listener_id: int, listener: str) -> list[dict[str, Any]]:
    conn = store.conn
    out = []
    for playlist_id, created, params, model_id, terms, notes in conn.execute(
        "SELECT id, created_at, params, model_id, terms, notes FROM playlists"
        " WHERE listener_id = ? OR listener_name = ? ORDER BY created_at, id",
        (listener_id, listener),
    ).fetchall():
        tracks = [
            {
                "position": position,
                "artist": artist,
                "title": title,
                "kind": kind,
                "reason": json.loads(reason),
            }
            for position, artist, title, kind, reason in conn.execute(
                "SELECT pt.position, a.name, t.title, pt.kind, pt.reason FROM playlist_tracks pt"
                " JOIN artists a ON a.id = pt.artist_id LEFT JOIN tracks t ON t.id = pt.track_id"
                " WHERE pt.playlist_id = ? ORDER BY pt.position",
                (playlist_id,),
            )
        ]
        verdicts = [
            {"position": pos, "verdict": verdict, "note": note, "curator": curator, "at": at}
            for pos, verdict, note, curator, at in conn.execute(
                "SELECT position, verdict, note, curator, created_at FROM verdicts"
                " WHERE playlist_id = ? ORDER BY id",
                (playlist_id,),
            )
        ]
        out.append(
            {
                "id": playlist_id,
                "created_at": created,
                "params": json.loads(params),
                "model_id": model_id,
                "terms": json.loads(terms),
                "notes": json.loads(notes),
                "tracks": tracks,
                "verdicts": verdicts,
            }
        )
    return out


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
