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
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import scipy.sparse as sp

from recommender.feedback import model_opinions, weigh_model_input
from recommender.listens import usable_frame
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


def load_interactions(
    store: Store, now: int | None = None, *, feedback: bool = True
) -> Interactions:
    """Read the store into matrices, applying every listener's terms (and feedback)."""
    conn = store.conn
    artists = pd.read_sql_query("SELECT id, name FROM artists ORDER BY id", conn)
    listens = usable_frame(store)
    listeners = pd.read_sql_query("SELECT id, name FROM listeners ORDER BY id", conn)
    terms = listener_terms(store)

    if now is None:
        newest = listens["listened_at"].max() if len(listens) else None
        now = None if newest is None or pd.isna(newest) else int(newest)

    opted_out = {lid for lid, t in terms.items() if not t.personalise}
    half_lives = (
        listens["listener_id"]
        .map(lambda lid: terms.get(int(lid), ListenerTerms()).half_life_days)
        .to_numpy(dtype=float)
    )
    if now is None:
        factor = np.ones(len(listens))
    else:
        ages = (now - listens["listened_at"].astype(float)).to_numpy()
        factor = decay(ages, half_lives)
    decayed = listens["plays"].to_numpy(dtype=float) * factor

    listeners = listeners[~listeners["id"].isin(opted_out)].reset_index(drop=True)
    listener_pos = {int(lid): i for i, lid in enumerate(listeners["id"])}
    artist_pos = {int(aid): j for j, aid in enumerate(artists["id"])}
    rows = listens["listener_id"].map(listener_pos).to_numpy()
    cols = listens["artist_id"].map(artist_pos).to_numpy()
    shape = (len(listeners), len(artists))
    plays = sp.csr_matrix((decayed, (rows, cols)), shape=shape, dtype=np.float64)
    plays.sum_duplicates()
    weights = plays.copy()
    weights.data = np.log1p(weights.data)
    weights.eliminate_zeros()
    opinions = model_opinions(store) if feedback else None
    if opinions:
        weights = weigh_model_input(
            weights, listeners["id"].to_numpy(), artists["id"].to_numpy(), opinions
        )

    tag_rows = pd.read_sql_query(
        "SELECT at.artist_id, t.name AS tag, sum(at.count) AS count FROM artist_tags at"
        " JOIN tags t ON t.id = at.tag_id GROUP BY at.artist_id, t.name ORDER BY t.name",
        conn,
    )
    tag_names = sorted(tag_rows["tag"].unique().tolist())
    tag_pos = {t: k for k, t in enumerate(tag_names)}
    artist_tags = sp.csr_matrix(
        (
            tag_rows["count"].to_numpy(dtype=float),
            (
                tag_rows["artist_id"].map(artist_pos).to_numpy(),
                tag_rows["tag"].map(tag_pos).to_numpy(),
            ),
        ),
        shape=(len(artists), len(tag_names)),
    )

    names = listeners["name"].tolist()
    return Interactions(
        listeners=names,
        listener_ids=listeners["id"].to_numpy(),
        artists=artists["id"].to_numpy(),
        artist_names=artists["name"].tolist(),
        plays=plays,
        weights=weights,
        tags=tag_names,
        artist_tags=artist_tags,
        now=now,
        fingerprint=_fingerprint(
            plays,
            artist_tags,
            names,
            artists["id"].to_numpy(),
            opinions.digest() if opinions else b"",
        ),
        listener_index={n: i for i, n in enumerate(names)},
        artist_index=artist_pos,
    )


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
