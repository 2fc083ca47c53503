"""What the store holds, as plain numbers."""

from __future__ import annotations

from datetime import UTC, datetime

from recommender.store import Store


def store_stats(store: Store) -> dict[str, object]:
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
    }
