"""Stores as older tastemakers left them, to check that they open and keep every row.

`data/store_v1_schema.sql` is the empty schema of format 1; `data/store_v2.sql` is a small
format-2 store with data in every table. Both are SQL dumps (`Connection.iterdump()` plus the
`user_version`) written by tastemaker at commit c1fd66a, the last single-schema version, through
its own writers (`import_records`, `update_terms`, `save_playlist`, `record_verdict`; the
`models` row as `train` records one); `data/legacy_stores.md` has the script.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

DATA = Path(__file__).parent / "data"
# The tables of a format-2 store: the model side's, then the playlist side's.
CORE_TABLES = [
    "listeners",
    "artists",
    "artist_external_ids",
    "tracks",
    "imports",
    "listens",
    "tags",
    "artist_tags",
    "terms",
    "models",
]
PLAYLIST_TABLES = ["playlists", "playlist_tracks", "verdicts"]


def legacy_store(path: Path, version: int) -> Path:
    """Write the store of format `version` (1: empty, 2: with data) to `path`."""
    dump = {1: "store_v1_schema.sql", 2: "store_v2.sql"}[version]
    conn = sqlite3.connect(path)
    try:
        conn.executescript((DATA / dump).read_text(encoding="utf-8"))
        conn.commit()
    finally:
        conn.close()
    return path
