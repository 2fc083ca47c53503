"""Finding artists, tags and listeners by the names people type: the one resolver.

Artists and tags match by `name_key` (case, accents, punctuation and spacing folded), so
"hip hop", "Hip-Hop" and "hip-hop" are one tag wherever a name is typed: `playlist --tag`,
`terms --exclude-tag`, `forget --artist`. A name that matches nothing gets one kind of
"did you mean" everywhere.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence

from recommender.errors import UnknownArtist, UnknownListener, UnknownTag
from recommender.names import name_key
from recommender.store import Store


def did_you_mean(typed: str, known: Iterable[str], *, cutoff: float = 0.6) -> str:
    """"; did you mean A, B?" for close matches among `known`, else ""."""
    close = difflib.get_close_matches(typed, list(known), n=3, cutoff=cutoff)
    return f"; did you mean {', '.join(close)}?" if close else ""


def resolve_artist(store: Store, name: str) -> tuple[int, str]:
    """(artist id, display name) for a typed name, matched by name key; suggests near misses.

    Two artists a dataset keeps apart under one name have keys "name [source id]": the plain
    key wins, then the shortest.
    """
    key = name_key(name)
    rows = store.conn.execute(
        "SELECT id, name FROM artists WHERE key = ? OR key LIKE ? ORDER BY length(key), id",
        (key, f"{key} [%"),
    ).fetchall()
    if rows:
        return int(rows[0][0]), str(rows[0][1])
    keys = {str(k): str(n) for k, n in store.conn.execute("SELECT key, name FROM artists")}
    close = difflib.get_close_matches(key, list(keys), n=3, cutoff=0.75)
    hint = f"; did you mean {', '.join(keys[k] for k in close)}?" if close else ""
    hint = hint or ": check the spelling"
    raise UnknownArtist(f"no artist named {name!r} in the store{hint}")


def artist_ids_named(store: Store, names: Sequence[str]) -> set[int]:
    """Ids of the artists with these names (by name key); unknown names match nothing."""
    keys = sorted({name_key(n) for n in names})
    if not keys:
        return set()
    marks = ",".join("?" for _ in keys)
    rows = store.conn.execute(f"SELECT id FROM artists WHERE key IN ({marks})", keys)
    return {int(r[0]) for r in rows}


def resolve_tag(store: Store, tag: str) -> str:
    """The stored tag name for a tag as typed (matched by name key), or a helpful error."""
    wanted = name_key(tag)
    stored = [str(r[0]) for r in store.conn.execute("SELECT name FROM tags ORDER BY id")]
    for name in stored:
        if name_key(name) == wanted:
            return name
    raise UnknownTag(
        f"no artist carries the tag {tag!r}{did_you_mean(tag, stored)}"
        " (`tastemaker scenes` lists the tags that define each scene)"
    )


def artists_tagged(store: Store, tags: Sequence[str]) -> set[int]:
    """Ids of the artists carrying any of these tags (matched by name key)."""
    wanted = {name_key(t) for t in tags}
    if not wanted:
        return set()
    tag_ids = [
        int(tid)
        for tid, name in store.conn.execute("SELECT id, name FROM tags")
        if name_key(name) in wanted
    ]
    if not tag_ids:
        return set()
    marks = ",".join("?" for _ in tag_ids)
    rows = store.conn.execute(
        f"SELECT DISTINCT artist_id FROM artist_tags WHERE tag_id IN ({marks})", tag_ids
    )
    return {int(r[0]) for r in rows}


def resolve_listener(store: Store, name: str, *, hint: str | None = None) -> int:
    """The id of listener `name`, or UnknownListener with near misses and what to do next."""
    listener_id = store.listener_id(name)
    if listener_id is None:
        known = [str(r[0]) for r in store.conn.execute("SELECT name FROM listeners")]
        close = did_you_mean(name, known).removeprefix("; ")
        then = hint or "import their history first (tastemaker import ...)"
        raise UnknownListener(
            f"no listener named {name!r}: {close + ' ' if close else ''}{then}"
        )
    return listener_id


def require_listener(store: Store, name: str) -> int:
    """`resolve_listener` with the default advice (kept for existing callers)."""
    return resolve_listener(store, name)
