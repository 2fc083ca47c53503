"""Small hand-built stores for the terms, forget and export tests."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from recommender.ingest import ArtistTag, Listen, Record
from recommender.ingest.writer import ImportReport, import_records
from recommender.store import Store

DAY = 86_400
T0 = 1_750_000_000  # 2025-06-15


def add(store: Store, fmt: str, records: Iterable[Record], path: str = "fixture") -> ImportReport:
    """Import hand-built records as if they came from a file in format `fmt`."""
    return import_records(store, fmt, Path(path), list(records))


def small_world(store: Store) -> None:
    """Two listeners over a tagged catalogue; alice has demo and spotify-sourced listens."""
    add(
        store,
        "demo",
        [
            ArtistTag("Rancid", "street punk", 5),
            ArtistTag("Rancid", "hardcore", 3),
            ArtistTag("Earth Crisis", "hardcore", 4),
            ArtistTag("Fleet Pines", "folk", 2),
            *[
                Listen("Rancid", "alice", title=f"Song {i}", listened_at=T0 + i * DAY)
                for i in range(5)
            ],
            Listen("Fleet Pines", "alice", title="Ridge", listened_at=T0 + 9 * DAY),
            *[
                Listen("Earth Crisis", "bob", title="Firestorm", listened_at=T0 + i * DAY)
                for i in range(3)
            ],
            Listen("Rancid", "bob", title="Song 1", listened_at=T0 + 4 * DAY),
        ],
    )
    add(
        store,
        "spotify",
        [Listen("Earth Crisis", "alice", title="Firestorm", listened_at=T0 + 8 * DAY)],
    )
