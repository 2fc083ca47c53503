"""Finding artists and listeners by the names people type."""

from __future__ import annotations

import difflib

from recommender.errors import UnknownArtist, UnknownListener
from recommender.names import name_key
from recommender.store import Store


def resolve_artist(store: Store, name: str) -> tuple[int, str]:
    """(artist id, display name) for a typed name, matched by name key; suggests near misses."""
    key = name_key(name)
    rows = store.conn.execute(
        "SELECT id, name FROM artists WHERE key = ? OR key LIKE ? ORDER BY length(key), id",
        (key, f"{key} [%"),
    ).fetchall()
    if rows:
        return int(rows[0][0]), str(rows[0][1])
    keys = [row[0] for row in store.conn.execute("SELECT key FROM artists")]
    close = difflib.get_close_matches(key, keys, n=3, cutoff=0.75)
    names = [
        store.conn.execute("SELECT name FROM artists WHERE key = ?", (k,)).fetchone()[0]
        for k in close
    ]
    hint = f"; did you mean {', '.join(names)}?" if names else ": check the spelling"
    raise UnknownArtist(f"no artist named {name!r} in the store{hint}")


def require_listener(store: Store, name: str) -> int:
    listener_id = store.listener_id(name)
    if listener_id is None:
        raise UnknownListener(
            f"no listener named {name!r}: import their history first (tastemaker import ...)"
        )
    return listener_id
