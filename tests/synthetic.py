"""A small planted world for model tests: two scenes whose right answers are known.

Listeners 0..19 play only "punk" artists, listeners 20..39 only "folk" artists. Two more
artists are tagged but nobody has played them (cold start), one per scene.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import scipy.sparse as sp

from recommender.ingest import Artist, ArtistTag, Listen
from recommender.ingest.writer import import_records
from recommender.interactions import Interactions
from recommender.store import Store

SCENES = {
    "punk": [f"punk band {i}" for i in range(10)],
    "folk": [f"folk duo {i}" for i in range(10)],
}
COLD = {"punk": "cold punk act", "folk": "cold folk act"}
LISTENERS = {"punk": [f"p{i:02d}" for i in range(20)], "folk": [f"f{i:02d}" for i in range(20)]}
NOW = 1_750_000_000
DAY = 86_400


def planted_records(seed: int = 7, per_listener: int = 6) -> list[Artist | ArtistTag | Listen]:
    rng = np.random.default_rng(seed)
    records: list[Artist | ArtistTag | Listen] = []
    for scene, artists in SCENES.items():
        for name in [*artists, COLD[scene]]:
            records.append(Artist(name=name))
            records.append(ArtistTag(artist=name, tag=scene, count=5))
            records.append(ArtistTag(artist=name, tag=f"{scene} rock", count=2))
        for listener in LISTENERS[scene]:
            for artist in rng.choice(artists, size=per_listener, replace=False):
                plays = int(rng.integers(1, 50))
                records.append(Listen(artist=str(artist), listener=listener, plays=plays))
    return records


def fill_planted(store: Store, extra: list[Listen] | None = None) -> Store:
    """Import the planted world (plus `extra` listens) into `store`."""
    import_records(store, "synthetic", Path("planted"), [*planted_records(), *(extra or [])])
    return store


def set_terms(store: Store, listener: str, **values: object) -> None:
    listener_id = store.listener_id(listener)
    columns = ", ".join(values)
    marks = ", ".join("?" for _ in values)
    with store.transaction() as conn:
        conn.execute(
            f"INSERT INTO terms (listener_id, {columns}, updated_at) VALUES (?, {marks}, ?)",
            (listener_id, *values.values(), "2026-01-01T00:00:00Z"),
        )


def matrix_interactions(plays: np.ndarray) -> Interactions:
    """Interactions straight from a listener x artist play-count matrix (no store, no tags).

    Listeners are named l0, l1, ...; artist ids are 1..n in column order.
    """
    counts = sp.csr_matrix(np.asarray(plays, dtype=np.float64))
    weights = counts.copy()
    weights.data = np.log1p(weights.data)
    n_listeners, n_artists = counts.shape
    names = [f"l{i}" for i in range(n_listeners)]
    artists = np.arange(1, n_artists + 1, dtype=np.int64)
    return Interactions(
        listeners=names,
        listener_ids=np.arange(1, n_listeners + 1, dtype=np.int64),
        artists=artists,
        artist_names=[f"artist {a}" for a in artists],
        plays=counts,
        weights=weights,
        tags=[],
        artist_tags=sp.csr_matrix((n_artists, 0)),
        now=None,
        fingerprint="matrix",
        listener_index={n: i for i, n in enumerate(names)},
        artist_index={int(a): j for j, a in enumerate(artists)},
    )


# A checkerboard (implicit's planted matrix): three blocks of 10 listeners x 8 artists, every
# listener plays every artist of their block and nothing else, except that the first listener of
# each block has never played the block's last artist: the one right answer for them.
BLOCKS = 3
BLOCK_ARTISTS = 8
BLOCK_LISTENERS = 10


def block_artist(block: int, index: int) -> str:
    return f"block {block} artist {index}"


def block_listener(block: int, index: int) -> str:
    return f"b{block}-l{index}"


def withheld(block: int) -> tuple[str, str]:
    """(listener, the artist of their block they have not heard)."""
    return block_listener(block, 0), block_artist(block, BLOCK_ARTISTS - 1)


def fill_checkerboard(store: Store, seed: int = 11) -> Store:
    rng = np.random.default_rng(seed)
    records: list[Artist | ArtistTag | Listen] = []
    for block in range(BLOCKS):
        for a in range(BLOCK_ARTISTS):
            records.append(Artist(name=block_artist(block, a)))
            records.append(ArtistTag(artist=block_artist(block, a), tag=f"block {block}", count=3))
        for i in range(BLOCK_LISTENERS):
            for a in range(BLOCK_ARTISTS):
                if (block_listener(block, i), block_artist(block, a)) == withheld(block):
                    continue
                plays = int(rng.integers(5, 30))
                records.append(
                    Listen(
                        artist=block_artist(block, a),
                        listener=block_listener(block, i),
                        plays=plays,
                    )
                )
    import_records(store, "synthetic", Path("checkerboard"), records)
    return store
