"""What was asked for: a frozen playlist request and the mix specification it carries.

`playlist_request` turns the arguments of `build_playlist` into a `PlaylistRequest`: it checks
the listener is known (unless `new_listener`), reads their stored terms and applies this run's
overrides. The mix says which kinds make up the playlist and how many of each, in the order the
picks are taken:

- `Part(kind, exactly=s)`: exactly round(length x s) picks of the kind, or the playlist fails
  (the unexpected part: s is the surprise);
- `Part(kind, share=f)`: up to round(rest x f) picks, where rest is what the exact parts leave
  (the familiar share);
- `Part(kind)`: as many as still fit (fallbacks: discovery, then familiar when discovery ran
  short).

A `spaced` kind is placed at evenly spaced slots instead of in the nearest-neighbour walk.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

from playlists.errors import InvalidPlaylistRequest
from playlists.model import DISCOVERY, FAMILIAR, UNEXPECTED
from playlists.moment import Moment, moment_for
from recommender.catalog import resolve_listener
from recommender.store import Store
from recommender.terms import Terms
from recommender.terms_storage import load_terms

DEFAULT_LENGTH = 30
DEFAULT_ARTIST_CAP = 2
DEFAULT_FAMILIAR_SHARE = 0.6  # of the non-unexpected part: mostly music the listener knows


def rounded_share(length: int, share: float) -> int:
    """round(length x share), halves rounded up (Python's round() would round to even)."""
    return int(math.floor(length * share + 0.5))


@dataclass(frozen=True)
class Part:
    """One step of the mix: picks of `kind`, exactly, up to a share of the rest, or to fill."""

    kind: str
    exactly: float | None = None  # exactly round(length x this) picks, else the playlist fails
    share: float | None = None  # up to round(rest x this), rest = what exact parts leave
    spaced: bool = False  # evenly spaced slots instead of the walk

    def __post_init__(self) -> None:
        if not self.kind:
            raise InvalidPlaylistRequest("a mix part needs a kind")
        if self.exactly is not None and self.share is not None:
            raise InvalidPlaylistRequest(
                f"the {self.kind} part is either exact or a share of the rest, not both"
            )
        value = self.exactly if self.exactly is not None else self.share
        if value is not None and not 0.0 <= value <= 1.0:
            raise InvalidPlaylistRequest(
                f"the {self.kind} share must be between 0 and 1, got {value}"
            )


@dataclass(frozen=True)
class MixSpec:
    """How many picks of which kinds, for a playlist of `length` with at most `artist_cap`
    entries per artist. Parts are taken in order."""

    length: int
    parts: tuple[Part, ...]
    artist_cap: int = DEFAULT_ARTIST_CAP

    def __post_init__(self) -> None:
        if self.length < 1:
            raise InvalidPlaylistRequest(f"length must be at least 1, got {self.length}")
        if self.artist_cap < 1:
            raise InvalidPlaylistRequest(
                f"the artist cap must be at least 1, got {self.artist_cap}"
            )
        if not self.parts:
            raise InvalidPlaylistRequest("a mix needs at least one part")
        spaced = {p.kind for p in self.parts if p.spaced}
        if any(p.kind in spaced and not p.spaced for p in self.parts):
            raise InvalidPlaylistRequest("a kind is spaced in every part of the mix or in none")
        if self.exact_total > self.length:
            raise InvalidPlaylistRequest(
                f"the exact parts of the mix ask for {self.exact_total} picks, more than the "
                f"{self.length} of the playlist: lower their shares"
            )

    @property
    def kinds(self) -> tuple[str, ...]:
        """Every kind in the mix, once, in the order of first use."""
        return tuple(dict.fromkeys(p.kind for p in self.parts))

    @property
    def spaced(self) -> frozenset[str]:
        return frozenset(p.kind for p in self.parts if p.spaced)

    def exact_count(self, part: Part) -> int:
        return 0 if part.exactly is None else rounded_share(self.length, part.exactly)

    @property
    def exact_total(self) -> int:
        return sum(self.exact_count(p) for p in self.parts)

    def share_count(self, part: Part) -> int:
        rest = self.length - self.exact_total
        return 0 if part.share is None else rounded_share(rest, part.share)

    def most(self, kind: str) -> int:
        """The most picks of `kind` this mix could take (what a stage should aim to offer)."""
        total = 0
        for part in self.parts:
            if part.kind != kind:
                continue
            if part.exactly is not None:
                total += self.exact_count(part)
            elif part.share is not None:
                total += self.share_count(part)
            else:
                total = self.length
        return min(total, self.length)


def standard_mix(
    length: int,
    surprise: float,
    *,
    artist_cap: int = DEFAULT_ARTIST_CAP,
    familiar_share: float = DEFAULT_FAMILIAR_SHARE,
    extra: Sequence[Part] = (),
) -> MixSpec:
    """Exactly round(length x surprise) unexpected picks (spaced), then any `extra` parts, then
    the familiar share of the rest, discovery for what is left, familiar when discovery ran
    short."""
    return MixSpec(
        length=length,
        parts=(
            Part(UNEXPECTED, exactly=surprise, spaced=True),
            *extra,
            Part(FAMILIAR, share=familiar_share),
            Part(DISCOVERY),
            Part(FAMILIAR),
        ),
        artist_cap=artist_cap,
    )


@dataclass(frozen=True)
class PlaylistRequest:
    """One playlist request: who, how long, the terms in force, the steering and the mix."""

    listener: str
    listener_id: int | None  # None: not in the store (a new listener)
    terms: Terms  # the stored terms with this run's overrides applied
    mix: MixSpec
    seed_artist: str | None = None  # as typed: the profile resolves it
    tag: str | None = None  # as typed: the profile resolves it
    new_listener: bool = False
    overridden: tuple[str, ...] = field(default=())  # the terms this run overrode
    moment: Moment | None = None  # --context / --at: listens weighed by closeness to it
    made_at: int = 0  # when the playlist is made (Unix seconds): offers and rests count from it

    @property
    def length(self) -> int:
        return self.mix.length

    @property
    def artist_cap(self) -> int:
        return self.mix.artist_cap

    @property
    def surprise(self) -> float:
        return self.terms.surprise

    @property
    def no_repeat_days(self) -> int:
        return self.terms.no_repeat_days

    @property
    def half_life_days(self) -> float:
        return self.terms.half_life_days


def playlist_request(
    store: Store,
    listener: str,
    length: int = DEFAULT_LENGTH,
    surprise: float | None = None,
    seed_artist: str | None = None,
    tag: str | None = None,
    *,
    terms: Terms | None = None,
    no_repeat_days: int | None = None,
    artist_cap: int = DEFAULT_ARTIST_CAP,
    new_listener: bool = False,
    extra_parts: Sequence[Part] = (),
    context: str | None = None,
    at: str | None = None,
    made_at: int | None = None,
    playable: str | None = None,
) -> PlaylistRequest:
    """The request for `build_playlist`'s arguments (raises UnknownListener, InvalidTerms,
    InvalidPlaylistRequest). `made_at` is the wall clock unless given."""
    listener_id = store.listener_id(listener)
    if listener_id is None and not new_listener:
        resolve_listener(
            store,
            listener,
            hint="import their history with `tastemaker import`, or pass --new-listener for a "
            "non-personalised playlist",
        )
    base = terms if terms is not None else load_terms(store, listener)
    overrides = {"surprise": surprise, "no_repeat_days": no_repeat_days, "playable": playable}
    effective = base.with_changes(**overrides)
    made = int(time.time()) if made_at is None else int(made_at)
    return PlaylistRequest(
        listener=listener,
        listener_id=listener_id,
        terms=effective,
        mix=standard_mix(length, effective.surprise, artist_cap=artist_cap, extra=extra_parts),
        seed_artist=seed_artist,
        tag=tag,
        new_listener=new_listener,
        overridden=tuple(k for k, v in overrides.items() if v is not None),
        moment=moment_for(context, at, effective.time_zone, made),
        made_at=made,
    )
