"""What the store holds, as plain numbers, and how much of each listener's history the rest of
the store knows (collaborative picks need other listeners who play the same artists)."""

from __future__ import annotations

from datetime import UTC, datetime

from recommender.ingest.writer import Community, community
from recommender.store import Store


def store_stats(store: Store) -> dict[str, object]:
    """The store's counts, its listening span and sources, feedback by kind, and per listener
    how much of their history the other listeners know (`listeners_known`)."""
    conn = store.conn
    counts = store.counts()
    plays = conn.execute("SELECT coalesce(sum(plays), 0) FROM listens").fetchone()[0]
    first, last = conn.execute(
        "SELECT min(listened_at), max(listened_at) FROM listens WHERE listened_at IS NOT NULL"
    ).fetchone()
    sources = {
        row[0]: row[1]
        for row in conn.execute(
            "SELECT source, count(*) FROM listens GROUP BY source ORDER BY source"
        )
    }
    feedback = {
        str(kind): int(n)
        for kind, n in conn.execute(
            "SELECT kind, count(*) FROM feedback GROUP BY kind ORDER BY kind"
        )
    }
    pending = conn.execute("SELECT count(*) FROM feedback WHERE artist_id IS NULL").fetchone()[0]

    def when(ts: int | None) -> str | None:
        return None if ts is None else datetime.fromtimestamp(ts, UTC).isoformat()

    return {
        "db": str(store.path) if store.path else ":memory:",
        "schema_version": store.version,
        **counts,
        "plays": int(plays),
        "first_listen": when(first),
        "last_listen": when(last),
        "listens_by_source": sources,
        "feedback": {**feedback, "pending": int(pending)},
        "listeners_known": {
            name: {**c.as_dict(), "known_share_of_plays": _share(c.known_plays, c.plays)}
            for name, c in _per_listener(store).items()
        },
    }


def _per_listener(store: Store) -> dict[str, Community]:
    names = {int(i): str(n) for i, n in store.conn.execute("SELECT id, name FROM listeners")}
    return {names[lid]: c for lid, c in sorted(community(store).items(), key=lambda x: names[x[0]])}


def _share(part: int, whole: int) -> float:
    return round(part / whole, 4) if whole else 0.0


def community_sentence(c: Community) -> str:
    """"412 of 530 artists, 91% of your plays, are known to the other 1,892 listeners", and
    what follows when few are."""
    listeners = f"the other {c.others:,} listener{'s' if c.others != 1 else ''}"
    if c.others == 0:
        return (
            "you are the only listener in this store: collaborative picks need others who play "
            "your artists (import a household's or club's exports, HetRec, or the demo world)"
        )
    if c.known_artists == 0:
        return (
            f"none of your {c.artists:,} artists is known to {listeners}: collaborative picks "
            "need listeners who share some of your artists"
        )
    share = round(100 * c.known_plays / c.plays) if c.plays else 0
    return (
        f"{c.known_artists:,} of {c.artists:,} artists, {share}% of your plays, are known to "
        f"{listeners}"
    )
