"""Offered and ignored, offered and accepted: what the stored playlists say about new picks.

Every stored playlist is a record of what was offered to whom and when (`created_at`). For the
kinds that offer something new (discovery and unexpected):

- **Accepted.** An offered track the listener played at or after the playlist was made (a
  usable listen of that track; of the artist for an artist-level entry) is accepted. The
  acceptance rate is accepted offers / offers, per listener and kind. It is derived from the
  stored playlists and the listens each time, so forgetting listens forgets acceptances too.
- **Rested.** Among the listener's newest REST_WINDOW playlists that offered something new, an
  artist offered in at least `rest_after_offers` of them (a listener term, default 3; 0 never
  rests) with no usable listen of it since its first offer there, is rested until REST_DAYS
  after its latest offer: no discovery or unexpected stage offers it before then, and the
  playlist's notes count it. Once back, one more ignored offer rests it again.

Time is the playlists' own: the request's `made_at` (the wall clock unless given).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from playlists import storage
from playlists.model import DISCOVERY, UNEXPECTED
from recommender.feedback import feedback_counts
from recommender.listens import own_listens
from recommender.stats import store_stats
from recommender.store import Store

OFFER_KINDS = (str(DISCOVERY), str(UNEXPECTED))
REST_WINDOW = 10  # the listener's newest playlists with new picks looked back over
REST_DAYS = 28  # how long a rested artist stays out, from its latest offer
DAY = 86_400


def _unix(text: str) -> int:
    return int(datetime.fromisoformat(text).timestamp())


def _iso(ts: int) -> str:
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="seconds")


@dataclass(frozen=True)
class Rest:
    """One rested artist: the playlists that offered it and when it may come back."""

    artist_id: int
    offers: int
    first_offered_at: int
    last_offered_at: int

    @property
    def until(self) -> int:
        return self.last_offered_at + REST_DAYS * DAY


def rested_artists(
    store: Store,
    listener: str,
    listener_id: int | None,
    *,
    rest_after: int,
    made_at: int,
    ignore_sources: Iterable[str] = (),
) -> dict[int, Rest]:
    """The listener's artists rested at `made_at` (see the module docstring)."""
    if listener_id is None or rest_after <= 0:
        return {}
    offered = storage.offers(
        store, OFFER_KINDS, listener=listener, before=_iso(made_at + 1), recent=REST_WINDOW
    )
    playlists: dict[int, set[str]] = defaultdict(set)
    times: dict[int, list[int]] = defaultdict(list)
    for offer in offered:
        playlists[offer.artist_id].add(offer.playlist_id)
        times[offer.artist_id].append(_unix(offer.created_at))
    candidates = {a: ps for a, ps in playlists.items() if len(ps) >= rest_after}
    if not candidates:
        return {}
    since = min(min(times[a]) for a in candidates)
    played: dict[int, int] = {}
    for listen in own_listens(
        store, listener_id, ignore_sources=list(ignore_sources), since=since - 1
    ):
        if listen.listened_at is not None and listen.artist_id in candidates:
            played[listen.artist_id] = max(played.get(listen.artist_id, 0), listen.listened_at)
    rests = {}
    for artist_id, ps in candidates.items():
        first, last = min(times[artist_id]), max(times[artist_id])
        rest = Rest(artist_id, len(ps), first, last)
        if played.get(artist_id, first - 1) < first and made_at < rest.until:
            rests[artist_id] = rest
    return rests


@dataclass(frozen=True)
class Acceptance:
    """How many of the new picks offered to one listener they played afterwards, per kind."""

    listener: str
    offered: dict[str, int]
    accepted: dict[str, int]

    @property
    def rate(self) -> float | None:
        total = sum(self.offered.values())
        return None if total == 0 else sum(self.accepted.values()) / total

    def to_dict(self) -> dict[str, Any]:
        return {
            "offered": sum(self.offered.values()),
            "accepted": sum(self.accepted.values()),
            "rate": None if self.rate is None else round(self.rate, 4),
            "by_kind": {
                kind: {
                    "offered": self.offered.get(kind, 0),
                    "accepted": self.accepted.get(kind, 0),
                }
                for kind in OFFER_KINDS
            },
        }


def acceptance(store: Store, listener: str | None = None) -> dict[str, Acceptance]:
    """Each listener's acceptance of discovery and unexpected picks (listeners with stored
    playlists; one listener when named)."""
    by_listener: dict[str, list[storage.Offer]] = defaultdict(list)
    for offer in storage.offers(store, OFFER_KINDS, listener=listener):
        by_listener[offer.listener].append(offer)
    out = {}
    for name in sorted(by_listener):
        mine = by_listener[name]
        offered: dict[str, int] = defaultdict(int)
        accepted: dict[str, int] = defaultdict(int)
        listener_id = store.listener_id(name)
        last_track: dict[int, int] = {}
        last_artist: dict[int, int] = {}
        if listener_id is not None:
            since = min(_unix(o.created_at) for o in mine) - 1
            for listen in own_listens(store, listener_id, since=since):
                if listen.listened_at is None:
                    continue
                if listen.track_id is not None:
                    last_track[listen.track_id] = max(
                        last_track.get(listen.track_id, 0), listen.listened_at
                    )
                last_artist[listen.artist_id] = max(
                    last_artist.get(listen.artist_id, 0), listen.listened_at
                )
        for offer in mine:
            offered[offer.kind] += 1
            at = _unix(offer.created_at)
            if offer.track_id is not None:
                heard = last_track.get(offer.track_id, at - 1) >= at
            else:
                heard = last_artist.get(offer.artist_id, at - 1) >= at
            accepted[offer.kind] += int(heard)
        out[name] = Acceptance(name, dict(offered), dict(accepted))
    return out


def stats_with_acceptance(store: Store) -> dict[str, object]:
    """`tastemaker stats`: what the store holds, its feedback rows, and each listener's
    acceptance of discovery and unexpected picks."""
    return {
        **store_stats(store),
        "feedback": feedback_counts(store),
        "acceptance": {name: a.to_dict() for name, a in acceptance(store).items()},
    }
