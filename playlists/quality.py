"""The quality label of a stored playlist: five figures a curator reads before it goes out.

All figures are computed from the store alone (the stored playlist, read through
`playlists.storage`, listens and artist tags), so anyone can re-derive them with SQL. For a
playlist of n entries with artists a_1..a_n:

- **Unexpected share**: requested = floor(length x surprise + 0.5) entries (the playlist's
  stored `params`), delivered = entries of kind `unexpected`, and delivered / n.
- **Intra-list diversity** (by tags): each artist's tag vector t_a holds its tag counts
  (summed over tag sources); ILD = mean over pairs i < j of 1 - cos(t_ai, t_aj). 0 = every
  entry sounds alike, 1 = no tag in common. Pairs with an untagged artist are left out.
- **Novelty**: mean self-information of the entries' artists, in bits:
  mean_i -log2(p(a_i)), p(a) = listeners(a) / listeners in the store, where listeners(a) =
  distinct listeners with a listen of a, floored at 1 (an artist no one has played yet).
- **Popularity spread**: min, median and max of listeners(a_i) over the entries.
- **Calibration** (Steck, "Calibrated recommendations", RecSys 2018): KL(p || q~) in nats,
  where p = the listener's recent tag mix, q = the playlist's tag mix and
  q~ = (1 - ALPHA) q + ALPHA p smooths q so that a tag the listener plays but the playlist
  lacks gives a large but finite value. A tag mix sums each artist's normalised tag vector
  t_a / sum(t_a), weighted by the listener's plays of the artist for p (listens in the
  RECENT_DAYS before the playlist's `as_of`, else the newest listen, plus timestamp-less
  aggregate rows) and by one per entry for q; both are then normalised to sum to 1.
  0 = the playlist mirrors the listener's recent listening. None when the listener has no
  tagged recent listening (a non-personalised playlist). `tag_chart` holds the CHART_TAGS
  largest tags of either mix, for the page's bar chart.
- **Popularity lift** (Delta GAP, as in `tastemaker audit`): mean listeners(a_i) over the entries
  divided by the mean listeners(a) over the listener's own artists (each once), minus 1.
  Positive: the playlist leans to better-known artists than the listener plays.
- **Long-tail share of new picks**: of the entries whose artist the listener has never played,
  the share outside the head (the fewest most-played artists of the store making 20% of all
  plays, `recommender.audit.head_of`).
- **Unexpected picks' popularity**: the median listeners(a) of the unexpected entries beside
  the median over the listener's own artists (a surprise should be a discovery, not a hit).
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import asdict, dataclass
from datetime import datetime
from statistics import median
from typing import Any

import numpy as np

from playlists import storage
from playlists.model import UNEXPECTED
from recommender import listens
from recommender.audit import head_of
from recommender.store import Store

ALPHA = 0.01
RECENT_DAYS = 90
CHART_TAGS = 6  # tags drawn in the page's tag-mix chart
DAY = 86_400


@dataclass(frozen=True)
class Quality:
    """The label of one playlist; see the module docstring for each formula."""

    entries: int
    surprise_requested: float | None
    unexpected_requested: int | None
    unexpected_delivered: int
    unexpected_share: float
    diversity: float | None
    diversity_pairs: int
    novelty_bits: float | None
    popularity_min: int
    popularity_median: float
    popularity_max: int
    store_listeners: int
    calibration_kl: float | None
    recent_days: int
    popularity_lift: float | None = None
    new_picks: int = 0
    long_tail_new_share: float | None = None
    head_artists: int = 0
    own_median_listeners: float | None = None
    unexpected_median_listeners: float | None = None
    tag_chart: tuple[tuple[str, float, float], ...] = ()  # (tag, recent share, playlist share)
    alpha: float = ALPHA

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def unexpected_count(length: int, surprise: float) -> int:
    """round(length x surprise) with halves rounded up, as the playlist build counts it."""
    return int(math.floor(length * surprise + 0.5))


def playlist_quality(store: Store, playlist_id: str) -> Quality:
    """The quality label of the stored playlist `playlist_id`."""
    head = storage.playlist_summary(store, playlist_id)
    playlist = storage.load_playlist(store, playlist_id)
    params = playlist.params
    artists = [t.artist_id for t in playlist.tracks]
    n = len(artists)
    delivered = playlist.count(UNEXPECTED)
    surprise = params.get("surprise")
    length = params.get("length", n)
    requested = None if surprise is None else unexpected_count(int(length), float(surprise))

    tags = artist_tag_vectors(store, set(artists))
    diversity, pairs = intra_list_diversity(artists, tags)
    listeners = listens.artist_listeners(store, sorted(set(artists)))
    total = listens.listener_count(store)
    counts = [listeners.get(a, 0) for a in artists]
    novelty = None
    if n and total:
        novelty = sum(-math.log2(max(c, 1) / total) for c in counts) / n

    calibration = None
    chart: tuple[tuple[str, float, float], ...] = ()
    own: set[int] = set()
    if head.listener_id is not None and n:
        recent = recent_tag_mix(store, head.listener_id, params.get("as_of"))
        mix = playlist_tag_mix(artists, tags)
        if recent:
            calibration = kl_calibration(recent, mix, ALPHA)
            chart = tag_chart(recent, mix)
        own = {row.artist_id for row in listens.own_listens(store, head.listener_id)}
    own_counts = list(listens.artist_listeners(store, sorted(own)).values()) if own else []
    head_ids = head_artist_ids(store)
    new = [a for a in artists if a not in own] if own else []
    unexpected = [listeners.get(t.artist_id, 0) for t in playlist.tracks if t.kind == UNEXPECTED]
    return Quality(
        entries=n,
        surprise_requested=None if surprise is None else float(surprise),
        unexpected_requested=requested,
        unexpected_delivered=delivered,
        unexpected_share=delivered / n if n else 0.0,
        diversity=diversity,
        diversity_pairs=pairs,
        novelty_bits=novelty,
        popularity_min=min(counts, default=0),
        popularity_median=float(median(counts)) if counts else 0.0,
        popularity_max=max(counts, default=0),
        store_listeners=total,
        calibration_kl=calibration,
        recent_days=RECENT_DAYS,
        popularity_lift=popularity_lift(counts, own_counts),
        new_picks=len(new),
        long_tail_new_share=(sum(a not in head_ids for a in new) / len(new) if new else None),
        head_artists=len(head_ids),
        own_median_listeners=float(median(own_counts)) if own_counts else None,
        unexpected_median_listeners=float(median(unexpected)) if unexpected else None,
        tag_chart=chart,
    )


# The pieces, each over plain data ----------------------------------------------------------


def artist_tag_vectors(store: Store, artist_ids: set[int]) -> dict[int, dict[str, float]]:
    """Tag counts per artist, summed over tag sources."""
    if not artist_ids:
        return {}
    marks = ",".join("?" for _ in artist_ids)
    vectors: dict[int, dict[str, float]] = defaultdict(dict)
    for artist_id, tag, count in store.conn.execute(
        "SELECT at.artist_id, t.name, sum(at.count) FROM artist_tags at JOIN tags t"
        f" ON t.id = at.tag_id WHERE at.artist_id IN ({marks}) GROUP BY at.artist_id, t.name",
        tuple(artist_ids),
    ):
        vectors[int(artist_id)][str(tag)] = float(count)
    return dict(vectors)


def _cosine(u: dict[str, float], v: dict[str, float]) -> float:
    dot = sum(w * v.get(t, 0.0) for t, w in u.items())
    nu = math.sqrt(sum(w * w for w in u.values()))
    nv = math.sqrt(sum(w * w for w in v.values()))
    return dot / (nu * nv)


def intra_list_diversity(
    artists: list[int], tags: dict[int, dict[str, float]]
) -> tuple[float | None, int]:
    """Mean tag distance over pairs of entries whose artists both have tags."""
    tagged = [a for a in artists if tags.get(a)]
    total, pairs = 0.0, 0
    for i in range(len(tagged)):
        for j in range(i + 1, len(tagged)):
            total += 1.0 - _cosine(tags[tagged[i]], tags[tagged[j]])
            pairs += 1
    return (total / pairs if pairs else None), pairs


def _mix(weighted: list[tuple[dict[str, float], float]]) -> dict[str, float]:
    mix: dict[str, float] = defaultdict(float)
    for vector, weight in weighted:
        size = sum(vector.values())
        if size and weight:
            for tag, count in vector.items():
                mix[tag] += weight * count / size
    total = sum(mix.values())
    return {t: w / total for t, w in mix.items()} if total else {}


def playlist_tag_mix(artists: list[int], tags: dict[int, dict[str, float]]) -> dict[str, float]:
    return _mix([(tags.get(a, {}), 1.0) for a in artists])


def recent_tag_mix(store: Store, listener_id: int, as_of: str | None) -> dict[str, float]:
    """The listener's tag mix over the RECENT_DAYS before `as_of` (ISO UTC), from the listens
    their terms let tastemaker use (the same ones the playlist was built from)."""
    if as_of is not None:
        end = int(datetime.fromisoformat(as_of).timestamp())
    else:
        end = listens.newest_listen(store, listener_id) or 0
    plays: dict[int, float] = defaultdict(float)
    for row in listens.own_listens(store, listener_id, since=end - RECENT_DAYS * DAY, until=end):
        plays[row.artist_id] += row.plays
    tags = artist_tag_vectors(store, set(plays))
    return _mix([(tags.get(a, {}), n) for a, n in plays.items()])


def popularity_lift(entries: list[int], own: list[int]) -> float | None:
    """Mean of `entries` (listeners per entry's artist) over the mean of `own` (per artist of
    the listener's), minus 1; None without both."""
    if not entries or not own or sum(own) == 0:
        return None
    return (sum(entries) / len(entries)) / (sum(own) / len(own)) - 1.0


def head_artist_ids(store: Store) -> set[int]:
    """The store's head: the fewest most-played artists making 20% of all usable plays."""
    plays = listens.artist_plays(store)
    ids = sorted(plays)
    mask = head_of(np.array([plays[a] for a in ids], dtype=np.float64))
    return {a for a, inside in zip(ids, mask.tolist(), strict=True) if inside}


def tag_chart(
    recent: dict[str, float], playlist: dict[str, float], size: int = CHART_TAGS
) -> tuple[tuple[str, float, float], ...]:
    """The `size` tags with the largest share in either mix (ties by name), with both shares."""
    tags = sorted(
        set(recent) | set(playlist),
        key=lambda t: (-max(recent.get(t, 0.0), playlist.get(t, 0.0)), t),
    )[:size]
    return tuple((t, recent.get(t, 0.0), playlist.get(t, 0.0)) for t in tags)


def kl_calibration(p: dict[str, float], q: dict[str, float], alpha: float = ALPHA) -> float:
    """KL(p || (1 - alpha) q + alpha p), in nats."""
    total = 0.0
    for tag, pg in p.items():
        if pg > 0:
            smoothed = (1 - alpha) * q.get(tag, 0.0) + alpha * pg
            total += pg * math.log(pg / smoothed)
    return total
