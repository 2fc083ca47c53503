"""The one reader of usable listens: what each listener's terms let tastemaker read.

A listen is *usable* when its listener has not turned personalisation off and does not ignore
the listen's source. Everything that learns from or counts listening goes through here: the
model input (`recommender.interactions`), a listener's own history (familiar picks and their
reasons), popularity and track plays shown to other listeners, and the curator page's
calibration. Writing the rule once is the point: a copy of it drifts.

Reads that are *about* the data rather than *from* it (`terms --show`, `stats`, `export-data`,
`forget`) see every row on purpose and do not use this module.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from recommender.store import Store

if TYPE_CHECKING:
    import pandas as pd

# A condition on the unaliased `listens` table: not from a listener who opted out, not from a
# source that listener ignores.
_CHUNK = 500  # ids bound per statement

USABLE = (
    "NOT EXISTS (SELECT 1 FROM terms ut WHERE ut.listener_id = listens.listener_id"
    " AND (ut.personalise = 0 OR EXISTS (SELECT 1 FROM json_each(ut.ignore_sources) j"
    " WHERE j.value = listens.source)))"
)


@dataclass(frozen=True)
class OwnListen:
    """One of a listener's usable listens, with the names a reason quotes."""

    artist_id: int
    artist: str
    track_id: int | None
    title: str | None
    duration_ms: int | None
    listened_at: int | None
    plays: int
    source: str


def usable_frame(store: Store) -> pd.DataFrame:
    """Every usable listen as (listener_id, artist_id, track_id, listened_at, plays, source),
    in insertion order: the model input's raw rows."""
    import pandas as pd  # only here: a playlist never needs it

    return pd.read_sql_query(
        "SELECT listener_id, artist_id, track_id, listened_at, plays, source FROM listens"
        f" WHERE {USABLE} ORDER BY id",
        store.conn,
    )


def own_listens(
    store: Store,
    listener_id: int,
    *,
    ignore_sources: Sequence[str] | None = None,
    since: int | None = None,
    until: int | None = None,
) -> list[OwnListen]:
    """One listener's listens that may be used, optionally within (since, until] in Unix seconds.

    `ignore_sources` None applies the stored terms; a sequence applies exactly those sources
    instead (a playlist built with terms given in code). Timestamp-less aggregate rows (HetRec)
    are in every window. Nothing is returned for a listener who turned personalisation off.
    """
    args: list[object]
    if ignore_sources is None:
        condition, args = USABLE, []
    else:
        marks = ",".join("?" for _ in ignore_sources)
        condition = f"listens.source NOT IN ({marks})" if ignore_sources else "1"
        args = list(ignore_sources)
    window = ""
    if since is not None:
        window += " AND (listens.listened_at IS NULL OR listens.listened_at > ?)"
        args.append(since)
    if until is not None:
        window += " AND (listens.listened_at IS NULL OR listens.listened_at <= ?)"
        args.append(until)
    rows = store.conn.execute(
        "SELECT listens.artist_id, a.name, listens.track_id, t.title, t.duration_ms,"
        " listens.listened_at, listens.plays, listens.source FROM listens"
        " JOIN artists a ON a.id = listens.artist_id"
        " LEFT JOIN tracks t ON t.id = listens.track_id"
        f" WHERE listens.listener_id = ? AND {condition}{window} ORDER BY listens.id",
        (listener_id, *args),
    ).fetchall()
    return [
        OwnListen(
            artist_id=int(artist_id),
            artist=str(artist),
            track_id=None if track_id is None else int(track_id),
            title=title,
            duration_ms=None if duration is None else int(duration),
            listened_at=None if listened_at is None else int(listened_at),
            plays=int(plays),
            source=str(source),
        )
        for artist_id, artist, track_id, title, duration, listened_at, plays, source in rows
    ]


def newest_listen(store: Store, listener_id: int | None = None) -> int | None:
    """The newest usable listen's time (of one listener, or of the whole store)."""
    where, args = USABLE, list[object]()
    if listener_id is not None:
        where += " AND listener_id = ?"
        args.append(listener_id)
    value = store.conn.execute(
        f"SELECT max(listened_at) FROM listens WHERE {where}", args
    ).fetchone()[0]
    return None if value is None else int(value)


def artist_listeners(store: Store, artist_ids: Sequence[int] | None = None) -> dict[int, int]:
    """Distinct listeners per artist over usable listens (all artists, or only these)."""
    where, args = USABLE, list[object]()
    if artist_ids is not None:
        if not artist_ids:
            return {}
        where += f" AND artist_id IN ({','.join('?' for _ in artist_ids)})"
        args = [int(a) for a in artist_ids]
    return {
        int(a): int(n)
        for a, n in store.conn.execute(
            f"SELECT artist_id, count(DISTINCT listener_id) FROM listens WHERE {where}"
            " GROUP BY artist_id",
            args,
        )
    }


def listener_count(store: Store) -> int:
    """Listeners with at least one usable listen."""
    return int(
        store.conn.execute(
            f"SELECT count(DISTINCT listener_id) FROM listens WHERE {USABLE}"
        ).fetchone()[0]
    )


def artist_plays(store: Store) -> dict[int, int]:
    """Plays per artist over usable listens (everyone's)."""
    return {
        int(a): int(n)
        for a, n in store.conn.execute(
            f"SELECT artist_id, sum(plays) FROM listens WHERE {USABLE} GROUP BY artist_id"
        )
    }


def track_plays(store: Store, artist_ids: Sequence[int] | None = None) -> dict[int, int]:
    """Plays per track over usable listens (everyone's; of all artists, or only these)."""
    if artist_ids is None:
        rows = store.conn.execute(
            "SELECT track_id, sum(plays) FROM listens WHERE track_id IS NOT NULL"
            f" AND {USABLE} GROUP BY track_id"
        )
        return {int(t): int(n) for t, n in rows}
    found: dict[int, int] = {}
    ids = [int(a) for a in artist_ids]
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start : start + _CHUNK]
        rows = store.conn.execute(
            "SELECT track_id, sum(plays) FROM listens WHERE track_id IS NOT NULL"
            f" AND artist_id IN ({','.join('?' for _ in chunk)}) AND {USABLE}"
            " GROUP BY track_id",
            chunk,
        )
        found.update((int(t), int(n)) for t, n in rows)
    return found
