"""A listener's terms: what may be used from their history and how playlists are shaped.

This module is only the vocabulary: the `Terms` value, its defaults and its validation. It
depends on nothing but the errors, so readers, the model side and the playlist side can all
hold a `Terms` without pulling in the store. Storing terms (load, save, update, describe) is
`recommender.terms_storage`.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields, replace
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from recommender.errors import InvalidTerms

DEFAULT_SURPRISE = 0.2
DEFAULT_NO_REPEAT_DAYS = 3
# Two weeks: a listen from two months ago counts 1/20 of one today, one from a year ago nothing.
# Tuned on the demo world's drifting listeners (gym-workout for ten months, then 90% trail-folk
# for two): at 60 days 42% of their familiar picks came from the new interest, at 21 days 66%,
# at 14 days 72% (tests/test_drift.py). For a listener whose taste is steady, recent listening
# says the same thing as old listening, so little is lost; anyone can set their own with
# `tastemaker terms --half-life DAYS`. Data without timestamps (HetRec) never fades.
DEFAULT_HALF_LIFE_DAYS = 14.0
# A discovery or unexpected artist offered in this many recent playlists and never played since
# is rested for a while (`playlists.offers`); 0 never rests anything.
DEFAULT_REST_AFTER_OFFERS = 3
DEFAULT_TIME_ZONE = "UTC"  # the listener's clock, for playlists made for a moment of the day

# The terms that hold lists of names: stored as JSON arrays, kept as tuples here.
LIST_TERMS = ("exclude_artists", "exclude_tags", "ignore_sources")
MAX_HALF_LIFE_DAYS = 36_500  # a hundred years: "never fade" in practice
MAX_NO_REPEAT_DAYS = 36_500


def _is_name(value: object) -> bool:
    """A string SQLite can store (no lone surrogates) of a sensible length."""
    if not isinstance(value, str) or len(value) > 1000:
        return False
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True

# Which tracks a playlist may hold, by where they can be played: "off" takes every track;
# "local" only tracks with a file in the music folder, "spotify" only those with a Spotify
# track URI, "musicbrainz" only those with a recording MBID, "any" those with any of the three.
PLAYABLE_OFF = "off"
PLAYABLE_KINDS = ("local", "spotify", "musicbrainz", "any")
PLAYABLE_CHOICES = (PLAYABLE_OFF, *PLAYABLE_KINDS)


@dataclass(frozen=True)
class Terms:
    """One listener's terms; every field has the default a listener gets until they change it."""

    surprise: float = DEFAULT_SURPRISE
    half_life_days: float = DEFAULT_HALF_LIFE_DAYS
    no_repeat_days: int = DEFAULT_NO_REPEAT_DAYS
    personalise: bool = True
    exclude_artists: tuple[str, ...] = ()
    exclude_tags: tuple[str, ...] = ()
    ignore_sources: tuple[str, ...] = ()
    learn_from_skips: bool = True  # skips lower a track's weight in familiar picks
    rest_after_offers: int = DEFAULT_REST_AFTER_OFFERS
    time_zone: str = DEFAULT_TIME_ZONE
    playable: str = PLAYABLE_OFF

    def validated(self) -> Terms:
        """These terms, or InvalidTerms naming the first value of the wrong type or out of
        range (a value from a file may be anything: a string, infinity, a list of numbers)."""
        for name in ("surprise", "half_life_days"):  # infinity and NaN: the range checks below
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise InvalidTerms(f"{name} must be a number, got {value!r}")
        if isinstance(self.no_repeat_days, bool) or not isinstance(self.no_repeat_days, int):
            raise InvalidTerms(
                f"no_repeat_days must be a whole number, got {self.no_repeat_days!r}"
            )
        for flag in ("personalise", "learn_from_skips"):
            if not isinstance(getattr(self, flag), bool):
                raise InvalidTerms(f"{flag} must be true or false, got {getattr(self, flag)!r}")
        if isinstance(self.rest_after_offers, bool) or not isinstance(self.rest_after_offers, int):
            raise InvalidTerms(
                f"rest_after_offers must be a whole number, got {self.rest_after_offers!r}"
            )
        if not _is_name(self.time_zone):
            raise InvalidTerms(f"time_zone must be a time zone name, got {self.time_zone!r}")
        for key in LIST_TERMS:
            values = getattr(self, key)
            if not isinstance(values, tuple) or not all(_is_name(v) for v in values):
                raise InvalidTerms(f"{key} must be a list of names, got {values!r}")
        if not 0.0 <= self.surprise <= 1.0:
            raise InvalidTerms(f"surprise must be between 0 and 1, got {self.surprise}")
        if not 0 < self.half_life_days < math.inf:
            raise InvalidTerms(
                f"half-life must be a positive, finite number of days, got "
                f"{self.half_life_days} (36500 keeps a year-old listen at 99% weight)"
            )
        if self.half_life_days > MAX_HALF_LIFE_DAYS:
            raise InvalidTerms(
                f"half-life must be at most {MAX_HALF_LIFE_DAYS:,} days, got {self.half_life_days}"
            )
        if not 0 <= self.no_repeat_days <= MAX_NO_REPEAT_DAYS:
            raise InvalidTerms(
                f"no-repeat days must be between 0 and {MAX_NO_REPEAT_DAYS:,}, "
                f"got {self.no_repeat_days}"
            )
        if self.rest_after_offers < 0:
            raise InvalidTerms(
                f"rest-after must be 0 (never rest) or more offers, got {self.rest_after_offers}"
            )
        time_zone(self.time_zone)
        if self.playable not in PLAYABLE_CHOICES:
            raise InvalidTerms(
                f"playable must be one of {', '.join(PLAYABLE_CHOICES)}, got {self.playable!r}"
            )
        return self

    def with_changes(self, **changes: Any) -> Terms:
        """These terms with the given fields replaced (None values are ignored)."""
        given = {k: v for k, v in changes.items() if v is not None}
        unknown = set(given) - {f.name for f in fields(self)}
        if unknown:
            raise InvalidTerms(f"unknown terms: {', '.join(sorted(unknown))}")
        for key in LIST_TERMS:
            if key in given:
                if isinstance(given[key], str) or not isinstance(given[key], list | tuple):
                    raise InvalidTerms(f"{key} must be a list of names, got {given[key]!r}")
                given[key] = tuple(given[key])
        return replace(self, **given).validated()

    def as_dict(self) -> dict[str, Any]:
        out = asdict(self)
        for key in LIST_TERMS:
            out[key] = list(out[key])
        return out


def time_zone(name: str) -> ZoneInfo:
    """The IANA time zone `name` (e.g. Europe/Berlin), or InvalidTerms saying what to give."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidTerms(
            f"unknown time zone {name!r}: give an IANA name such as UTC or Europe/Berlin"
        ) from None


def terms_from_dict(values: dict[str, Any]) -> Terms:
    """Terms from `Terms.as_dict()` output (an export file); missing keys take the default."""
    known = {f.name for f in fields(Terms)}
    if not isinstance(values, dict):
        raise InvalidTerms(f"terms must be an object, got {values!r}")
    unknown = set(values) - known
    if unknown:
        raise InvalidTerms(f"unknown terms: {', '.join(sorted(unknown))}")
    return Terms().with_changes(**values)
