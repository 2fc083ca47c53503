"""The listener x artist matrices every model-side module starts from.

Weights follow the listener's terms: play counts are log-scaled, and each listen fades with a
half-life (per listener, default DEFAULT_HALF_LIFE_DAYS) counted back from the newest listen in
the store, so results do not depend on the day the command runs. Data without timestamps
(HetRec play counts) does not fade. Listens from a source the listener ignores are not read,
and a listener who opted out of personalisation contributes nothing. The listener's feedback
then shapes `weights` (not `plays`): hated artists are left out, loved ones count double
(`recommender.feedback.weigh_model_input`); `feedback=False` reads the listens alone.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp

from recommender.feedback import model_opinions, weigh_model_input
from recommender.listens import USABLE, newest_listen
from recommender.store import Store

# Two weeks: a listen from two months ago counts 1/20 of one today, one from a year ago nothing.
# Tuned on the demo world's drifting listeners (gym-workout for ten months, then 90% trail-folk
# for two): at 60 days 42% of their familiar picks came from the new interest, at 21 days 66%,
# at 14 days 72% (tests/test_drift.py). For a listener whose taste is steady, recent listening
# says the same thing as old listening, so little is lost; anyone can set their own with
# `tastemaker terms --half-life DAYS`. Data without timestamps (HetRec) never fades.
DEFAULT_HALF_LIFE_DAYS = 14.0
DAY = 86_400


@dataclass(frozen=True)
class Interactions:
    """Rows are listeners, columns artists (every artist in the catalogue, listened to or not)."""

    listeners: list[str]
    listener_ids: np.ndarray  # store ids, aligned with `listeners`
    artists: np.ndarray  # store artist ids, column order
    artist_names: list[str]
    plays: sp.csr_matrix  # decayed play counts
    weights: sp.csr_matrix  # log1p(decayed play counts): the model input
    tags: list[str]
    artist_tags: sp.csr_matrix  # artist x tag, count of people who gave the tag
    now: int | None  # the reference time for decay (newest listen), None without timestamps
    fingerprint: str
    listener_index: dict[str, int] = field(repr=False, default_factory=dict)
    artist_index: dict[int, int] = field(repr=False, default_factory=dict)

    @property
    def shape(self) -> tuple[int, int]:
        return (len(self.listeners), len(self.artists))


@dataclass(frozen=True)
class ListenerTerms:
    """The parts of a listener's terms that shape what is read from their history."""

    half_life_days: float = DEFAULT_HALF_LIFE_DAYS
    personalise: bool = True
    ignore_sources: frozenset[str] = frozenset()


def listener_terms(store: Store) -> dict[int, ListenerTerms]:
    """Stored terms per listener id; listeners without a row use the defaults."""
    terms: dict[int, ListenerTerms] = {}
    rows = store.conn.execute(
        "SELECT listener_id, half_life_days, personalise, ignore_sources FROM terms"
    )
    for listener_id, half_life, personalise, ignore in rows:
        terms[int(listener_id)] = ListenerTerms(
            half_life_days=DEFAULT_HALF_LIFE_DAYS if half_life is None else float(half_life),
            personalise=True if personalise is None else bool(personalise),
            ignore_sources=frozenset(json.loads(ignore or "[]")),
        )
    return terms


def decay(ages_seconds: np.ndarray, half_life_days: np.ndarray) -> np.ndarray:
    """Weight of a listen `age` seconds old: 1 now, 1/2 after one half-life. NaN age -> 1."""
    ages = np.nan_to_num(ages_seconds, nan=0.0).clip(min=0.0)
    return np.asarray(np.power(0.5, ages / (half_life_days * DAY)))


READ_CHUNK = 500_000  # listen rows turned into arrays at a time


def _usable_rows(store: Store) -> Iterator[np.ndarray]:
    """Every usable listen as int64 rows (listener_id, artist_id, listened_at or 0,
    listened_at is null, plays), in insertion order, a chunk at a time: a Python object per
    value exists for one chunk only, so memory stays bounded at any size."""
    cursor = store.conn.execute(
        "SELECT listener_id, artist_id, ifnull(listened_at, 0), listened_at IS NULL, plays"
        f" FROM listens WHERE {USABLE} ORDER BY id"
    )
    while rows := cursor.fetchmany(READ_CHUNK):
        yield np.array(rows, dtype=np.int64).reshape(-1, 5)


def load_interactions(
    store: Store, now: int | None = None, *, feedback: bool = True
) -> Interactions:
    """Read the store into matrices, applying every listener's terms (and feedback)."""
    conn = store.conn
    artist_rows = conn.execute("SELECT id, name FROM artists ORDER BY id").fetchall()
    artist_ids = np.array([r[0] for r in artist_rows], dtype=np.int64)
    listener_rows = conn.execute("SELECT id, name FROM listeners ORDER BY id").fetchall()
    terms = listener_terms(store)
    if now is None:
        now = newest_listen(store)

    opted_out = {lid for lid, t in terms.items() if not t.personalise}
    kept = [(int(lid), str(name)) for lid, name in listener_rows if int(lid) not in opted_out]
    listener_ids = np.array([lid for lid, _ in kept], dtype=np.int64)
    top_id = int(listener_ids.max()) if len(listener_ids) else 0
    half_life = np.full(max(top_id, *terms.keys(), 0) + 1, DEFAULT_HALF_LIFE_DAYS)
    for lid, t in terms.items():
        half_life[lid] = t.half_life_days

    parts: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
    for chunk in _usable_rows(store):
        listener, artist, when, untimed, plays = chunk.T
        if now is None:
            factor = np.ones(len(chunk))
        else:
            ages = now - when.astype(float)
            ages[untimed == 1] = np.nan  # no timestamp: never fades
            factor = decay(ages, half_life[listener])
        rows = np.searchsorted(listener_ids, listener)
        parts.append((plays.astype(float) * factor, rows, np.searchsorted(artist_ids, artist)))
    if not parts:  # nothing usable
        parts = [(np.zeros(0), np.zeros(0, np.int64), np.zeros(0, np.int64))]
    decayed, rows, cols = (np.concatenate(column) for column in zip(*parts, strict=True))
    del parts
    shape = (len(listener_ids), len(artist_ids))
    plays_matrix = sp.csr_matrix((decayed, (rows, cols)), shape=shape, dtype=np.float64)
    del decayed, rows, cols
    plays_matrix.sum_duplicates()
    weights = plays_matrix.copy()
    weights.data = np.log1p(weights.data)
    weights.eliminate_zeros()
    opinions = model_opinions(store) if feedback else None
    if opinions:
        weights = weigh_model_input(weights, listener_ids, artist_ids, opinions)

    tag_names, artist_tags = _artist_tags(store, artist_ids)
    names = [name for _, name in kept]
    return Interactions(
        listeners=names,
        listener_ids=listener_ids,
        artists=artist_ids,
        artist_names=[str(r[1]) for r in artist_rows],
        plays=plays_matrix,
        weights=weights,
        tags=tag_names,
        artist_tags=artist_tags,
        now=now,
        fingerprint=_fingerprint(
            plays_matrix,
            artist_tags,
            names,
            artist_ids,
            opinions.digest() if opinions else b"",
        ),
        listener_index={n: i for i, n in enumerate(names)},
        artist_index={int(a): j for j, a in enumerate(artist_ids.tolist())},
    )


def _artist_tags(store: Store, artist_ids: np.ndarray) -> tuple[list[str], sp.csr_matrix]:
    """(tag names in name order, artist x tag counts summed over the sources of tags)."""
    used = store.conn.execute(
        "SELECT id, name FROM tags WHERE id IN (SELECT DISTINCT tag_id FROM artist_tags)"
        " ORDER BY name"
    ).fetchall()
    tag_ids = np.array([r[0] for r in used], dtype=np.int64)
    column = np.zeros(int(tag_ids.max()) + 1 if len(tag_ids) else 1, dtype=np.int64)
    column[tag_ids] = np.arange(len(tag_ids))
    cursor = store.conn.execute(
        "SELECT artist_id, tag_id, sum(count) FROM artist_tags GROUP BY artist_id, tag_id"
    )
    parts = []
    while rows := cursor.fetchmany(READ_CHUNK):
        parts.append(np.array(rows, dtype=np.int64).reshape(-1, 3))
    table = np.concatenate(parts) if parts else np.zeros((0, 3), dtype=np.int64)
    matrix = sp.csr_matrix(
        (
            table[:, 2].astype(float),
            (np.searchsorted(artist_ids, table[:, 0]), column[table[:, 1]]),
        ),
        shape=(len(artist_ids), len(tag_ids)),
    )
    return [str(r[1]) for r in used], matrix


def _fingerprint(
    plays: sp.csr_matrix,
    artist_tags: sp.csr_matrix,
    listeners: list[str],
    artists: np.ndarray,
    feedback: bytes = b"",
) -> str:
    """A digest of exactly what a model is trained on, to tell when it has gone stale."""
    digest = hashlib.sha256(feedback)
    for matrix in (plays, artist_tags):
        digest.update(np.asarray(matrix.indptr, dtype=np.int64).tobytes())
        digest.update(np.asarray(matrix.indices, dtype=np.int64).tobytes())
        digest.update(np.round(matrix.data, 6).astype(np.float64).tobytes())
    digest.update("\x1f".join(listeners).encode())
    digest.update(np.asarray(artists, dtype=np.int64).tobytes())
    return digest.hexdigest()
