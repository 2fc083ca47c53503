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

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from recommender.store import Store

if TYPE_CHECKING:
    import pandas as pd

# A condition on the unaliased `listens` table: not from a listener who opted out, not from a
# source that listener ignores.
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


def _own_condition(
    listener_id: int,
    ignore_sources: Sequence[str] | None,
    since: int | None,
    until: int | None,
) -> tuple[str, list[object]]:
    """The WHERE clause (and its arguments) of one listener's usable listens; see own_listens."""
    args: list[object] = [listener_id]
    if ignore_sources is None:
        condition = USABLE
    else:
        marks = ",".join("?" for _ in ignore_sources)
        condition = f"listens.source NOT IN ({marks})" if ignore_sources else "1"
        args.extend(ignore_sources)
    if since is not None:
        condition += " AND (listens.listened_at IS NULL OR listens.listened_at > ?)"
        args.append(since)
    if until is not None:
        condition += " AND (listens.listened_at IS NULL OR listens.listened_at <= ?)"
        args.append(until)
    return f"listens.listener_id = ? AND {condition}", args


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
    where, args = _own_condition(listener_id, ignore_sources, since, until)
    rows = store.conn.execute(
        "SELECT listens.artist_id, a.name, listens.track_id, t.title, t.duration_ms,"
        " listens.listened_at, listens.plays, listens.source FROM listens"
        " JOIN artists a ON a.id = listens.artist_id"
        " LEFT JOIN tracks t ON t.id = listens.track_id"
        f" WHERE {where} ORDER BY listens.id",
        args,
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


@dataclass(frozen=True)
class OwnListenArrays:
    """One listener's usable listens as aligned arrays, in insertion order (`own_listens`
    without names or sources): a listener with years of history has tens of thousands of
    listens, and one Python object per listen costs more than the rest of a playlist."""

    artist_ids: np.ndarray  # int64
    track_ids: np.ndarray  # int64, -1 for an artist-level listen
    listened_at: np.ndarray  # float64 Unix seconds, NaN for a timestamp-less row
    plays: np.ndarray  # int64

    def __len__(self) -> int:
        return len(self.artist_ids)


def own_listen_arrays(
    store: Store, listener_id: int, *, ignore_sources: Sequence[str] | None = None
) -> OwnListenArrays:
    """The listens `own_listens` returns (same terms, same order), as arrays."""
    where, args = _own_condition(listener_id, ignore_sources, None, None)
    rows = store.conn.execute(
        "SELECT listens.id, listens.artist_id, ifnull(listens.track_id, -1), listens.plays,"
        f" listens.listened_at FROM listens WHERE {where}",
        args,
    ).fetchall()
    # One float array (None becomes NaN; ids, plays and Unix seconds are exact far beyond any
    # store), put in insertion order here: cheaper than SQLite sorting the rows it found
    # through the listener's time index.
    table = np.array(rows, dtype=np.float64).reshape(-1, 5)
    table = table[np.argsort(table[:, 0], kind="stable")]
    return OwnListenArrays(
        artist_ids=table[:, 1].astype(np.int64),
        track_ids=table[:, 2].astype(np.int64),
        listened_at=table[:, 4].copy(),
        plays=table[:, 3].astype(np.int64),
    )


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


def usable_state(store: Store) -> list[object]:
    """What decides which listens are usable, in a few indexed reads: the newest listen's id
    and every listener's terms that leave listens out (personalisation off, ignored sources).

    Listens are only ever added (with rising ids) or deleted by `forget`, which raises the data
    generation (`recommender.generation`); so this state and that generation together tell
    whether the usable listens are still those some numbers were computed from."""
    newest = store.conn.execute("SELECT max(id) FROM listens").fetchone()[0]
    restricting = store.conn.execute(
        "SELECT listener_id, personalise = 0, ignore_sources FROM terms"
        " WHERE personalise = 0 OR ignore_sources <> '[]' ORDER BY listener_id"
    ).fetchall()
    return [newest, [list(row) for row in restricting]]


def track_plays(store: Store, artist_ids: Sequence[int] | None = None) -> dict[int, int]:
    """Plays per track over usable listens (everyone's; of all artists, or only these).

    The artists travel as one JSON array, as in `Store.values_in`: one statement however
    many there are, and SQLite still looks each one up in the listens' artist index."""
    condition, args = "", []
    if artist_ids is not None:
        condition = " AND artist_id IN (SELECT value FROM json_each(?))"
        args = [json.dumps(sorted({int(a) for a in artist_ids}))]
    rows = store.conn.execute(
        f"SELECT track_id, sum(plays) FROM listens WHERE track_id IS NOT NULL{condition}"
        f" AND {USABLE} GROUP BY track_id",
        args,
    )
    return {int(t): int(n) for t, n in rows}
