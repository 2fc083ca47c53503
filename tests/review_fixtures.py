"""A tiny hand-built world with one stored playlist, for the review, quality and report tests.

The playlist rows follow the stored-reason contract (`playlists/reasons.py`), and every number
in the evidence is computed here with SQL from the listens, as the playlist build does.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from recommender.store import Store

HOSTILE = '<script>alert(1)</script> & "Co"'
DAY = 86_400
T0 = 1_700_000_000  # 2023-11-14

ARTISTS = {
    1: "Rancid",
    2: "Cock Sparrer",
    3: "Cockney Rejects",
    4: "The Specials",
    5: "Madness",
    6: HOSTILE,
}
TAGS = {1: "street punk", 2: "ska", 3: "hardcore"}
ARTIST_TAGS = [(1, 1, 10), (1, 3, 2), (2, 1, 8), (3, 1, 6), (3, 3, 3), (4, 2, 9), (5, 2, 7)]
ARTIST_TAGS += [(6, 2, 3), (6, 1, 1)]
# (listener, artist, track title, days after T0, plays)
LISTENS = [
    ("ana", 1, "Ruby Soho", 10, 1),
    ("ana", 1, "Ruby Soho", 40, 1),
    ("ana", 1, "Ruby Soho", 50, 1),
    ("ana", 1, "Time Bomb", 20, 1),
    ("ana", 2, "England <Belongs> to Me & You", 30, 1),
    ("ana", 2, "England <Belongs> to Me & You", 55, 1),
    ("bo", 1, "Time Bomb", 5, 1),
    ("bo", 2, "Runnin' Riot", 6, 1),
    ("bo", 3, "Oi! Oi! Oi!", 7, 1),
    ("bo", 4, "Ghost Town", 8, 1),
    ("cy", 3, "Oi! Oi! Oi!", 9, 1),
    ("cy", 4, "Ghost Town", 10, 1),
    ("cy", 6, "Alert & <Run>", 11, 1),
    ("di", 4, "Ghost Town", 12, 1),
    ("di", 5, "Our House", 13, 1),
    ("di", 6, "Alert & <Run>", 14, 1),
]


def iso(ts: int | None) -> str | None:
    return None if ts is None else datetime.fromtimestamp(ts, UTC).isoformat(timespec="seconds")


def build_world(store: Store) -> None:
    conn = store.conn
    with store.transaction():
        for name in ("ana", "bo", "cy", "di", "eve"):
            conn.execute("INSERT INTO listeners (name, created_at) VALUES (?, 'then')", (name,))
        for aid, name in ARTISTS.items():
            conn.execute(
                "INSERT INTO artists (id, name, key) VALUES (?, ?, ?)", (aid, name, name.lower())
            )
        for tid, name in TAGS.items():
            conn.execute("INSERT INTO tags (id, name) VALUES (?, ?)", (tid, name))
        conn.executemany(
            "INSERT INTO artist_tags (artist_id, tag_id, source, count) VALUES (?, ?, 'demo', ?)",
            ARTIST_TAGS,
        )
        for i, (listener, artist_id, title, day, plays) in enumerate(LISTENS):
            track_id = _track(store, artist_id, title)
            listener_id = store.listener_id(listener)
            conn.execute(
                "INSERT INTO listens (listener_id, artist_id, track_id, listened_at, plays,"
                " source, dedupe) VALUES (?, ?, ?, ?, ?, 'demo', ?)",
                (listener_id, artist_id, track_id, T0 + day * DAY, plays, f"d{i}"),
            )


def _track(store: Store, artist_id: int, title: str) -> int:
    row = store.conn.execute(
        "SELECT id FROM tracks WHERE artist_id = ? AND title = ?", (artist_id, title)
    ).fetchone()
    if row:
        return int(row[0])
    cur = store.conn.execute(
        "INSERT INTO tracks (artist_id, title, key, duration_ms) VALUES (?, ?, ?, 180000)",
        (artist_id, title, title.lower()),
    )
    return int(cur.lastrowid or 0)


def track_id(store: Store, artist_id: int, title: str) -> int:
    row = store.conn.execute(
        "SELECT id FROM tracks WHERE artist_id = ? AND title = ?", (artist_id, title)
    ).fetchone()
    return int(row[0])


def shared(store: Store, a: int, b: int) -> int:
    return int(
        store.conn.execute(
            "SELECT count(*) FROM (SELECT listener_id FROM listens WHERE artist_id = ?"
            " INTERSECT SELECT listener_id FROM listens WHERE artist_id = ?)",
            (a, b),
        ).fetchone()[0]
    )


def familiar(store: Store, listener: str, artist_id: int, title: str) -> dict[str, Any]:
    lid = store.listener_id(listener)
    plays, first, last = store.conn.execute(
        "SELECT sum(plays), min(listened_at), max(listened_at) FROM listens"
        " WHERE listener_id = ? AND artist_id = ?",
        (lid, artist_id),
    ).fetchone()
    tid = track_id(store, artist_id, title)
    track_plays, track_last = store.conn.execute(
        "SELECT sum(plays), max(listened_at) FROM listens WHERE listener_id = ? AND track_id = ?",
        (lid, tid),
    ).fetchone()
    evidence = {
        "artist": ARTISTS[artist_id],
        "artist_id": artist_id,
        "plays": plays,
        "first_played_at": iso(first),
        "last_played_at": iso(last),
        "track_plays": track_plays,
        "track_last_played_at": iso(track_last),
        "recency_weight": 1.234,
        "half_life_days": 60.0,
        "as_of": iso(T0 + 60 * DAY),
    }
    text = f"You played {ARTISTS[artist_id]} {plays} times (this track {track_plays} times)"
    return {"kind": "familiar", "text": text, "evidence": evidence, "track_id": tid}


def discovery(store: Store, artist_id: int, because: list[int], title: str) -> dict[str, Any]:
    evidence = {
        "artist": ARTISTS[artist_id],
        "artist_id": artist_id,
        "because_of": [
            {"artist": ARTISTS[a], "artist_id": a, "shared_listeners": shared(store, a, artist_id)}
            for a in because
        ],
        "scene": {"id": 0, "name": "street punk"},
        "model_score": 1.5,
        "model_rank": 3,
    }
    names = " and ".join(ARTISTS[a] for a in because)
    text = f"Listeners who play {names} also play {ARTISTS[artist_id]}"
    return {
        "kind": "discovery",
        "text": text,
        "evidence": evidence,
        "track_id": track_id(store, artist_id, title),
    }


def unexpected(store: Store, path: list[int], title: str) -> dict[str, Any]:
    target = path[-1]
    evidence = {
        "artist": ARTISTS[target],
        "artist_id": target,
        "home_scene": {"id": 0, "name": "street punk"},
        "target_scene": {"id": 1, "name": "ska"},
        "bridge": [{"artist": ARTISTS[a], "artist_id": a} for a in path],
        "bridge_shared_listeners": [
            shared(store, a, b) for a, b in zip(path, path[1:], strict=False)
        ],
        "model_score": 0.7,
        "model_rank": 9,
    }
    text = f"A step outside your street punk: ska listeners bridge to {ARTISTS[target]}"
    return {
        "kind": "unexpected",
        "text": text,
        "evidence": evidence,
        "track_id": track_id(store, target, title),
    }


def save_rows(
    store: Store,
    playlist_id: str,
    listener: str,
    entries: list[dict[str, Any]],
    *,
    surprise: float = 0.25,
    created_at: str = "2026-01-01T00:00:00+00:00",
) -> str:
    with store.transaction() as conn:
        conn.execute(
            "INSERT INTO playlists (id, listener_id, listener_name, created_at, params, model_id,"
            " terms, notes) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (
                playlist_id,
                store.listener_id(listener),
                listener,
                created_at,
                json.dumps(
                    {
                        "length": len(entries),
                        "surprise": surprise,
                        "seed_artist": None,
                        "tag": None,
                        "as_of": iso(T0 + 60 * DAY),
                        "personalised": True,
                    }
                ),
                "model-abc123",
                json.dumps({"excluded_tracks": 0}),
                json.dumps(["1 track left out because you played it in the last 3 days"]),
            ),
        )
        for position, entry in enumerate(entries, start=1):
            reason = {k: entry[k] for k in ("kind", "text", "evidence")}
            conn.execute(
                "INSERT INTO playlist_tracks (playlist_id, position, artist_id, track_id, kind,"
                " reason) VALUES (?, ?, ?, ?, ?, ?)",
                (
                    playlist_id,
                    position,
                    entry["evidence"]["artist_id"],
                    entry["track_id"],
                    entry["kind"],
                    json.dumps(reason),
                ),
            )
    return playlist_id


def world_with_playlist(store: Store, playlist_id: str = "pl-test1") -> str:
    """The world plus ana's 4-track playlist: familiar, discovery, unexpected, familiar."""
    build_world(store)
    entries = [
        familiar(store, "ana", 1, "Ruby Soho"),
        discovery(store, 3, [2, 1], "Oi! Oi! Oi!"),
        unexpected(store, [1, 4, 6], "Alert & <Run>"),
        familiar(store, "ana", 2, "England <Belongs> to Me & You"),
    ]
    return save_rows(store, playlist_id, "ana", entries)
