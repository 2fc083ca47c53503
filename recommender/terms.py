"""A listener's terms: what may be used from their history and how playlists are shaped.

Stored one row per listener in `terms`; a NULL column means "the default". Every playlist reads
these, and command-line flags override them for one run without being stored.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, fields, replace
from typing import Any

from recommender.errors import TastemakerError, UnknownListener
from recommender.interactions import DEFAULT_HALF_LIFE_DAYS
from recommender.store import Store, utc_now

DEFAULT_SURPRISE = 0.2
DEFAULT_NO_REPEAT_DAYS = 3


class InvalidTerms(TastemakerError):
    """A term was given a value outside its range."""


@dataclass(frozen=True)
class Terms:
    surprise: float = DEFAULT_SURPRISE
    half_life_days: float = DEFAULT_HALF_LIFE_DAYS
    no_repeat_days: int = DEFAULT_NO_REPEAT_DAYS
    personalise: bool = True
    exclude_artists: tuple[str, ...] = ()
    exclude_tags: tuple[str, ...] = ()
    ignore_sources: tuple[str, ...] = ()

    def validated(self) -> Terms:
        if not 0.0 <= self.surprise <= 1.0:
            raise InvalidTerms(f"surprise must be between 0 and 1, got {self.surprise}")
        if not self.half_life_days > 0:
            raise InvalidTerms(
                f"half-life must be a positive number of days, got {self.half_life_days}"
            )
        if self.no_repeat_days < 0:
            raise InvalidTerms(f"no-repeat days must be 0 or more, got {self.no_repeat_days}")
        return self

    def with_changes(self, **changes: Any) -> Terms:
        """These terms with the given fields replaced (None values are ignored)."""
        given = {k: v for k, v in changes.items() if v is not None}
        unknown = set(given) - {f.name for f in fields(self)}
        if unknown:
            raise InvalidTerms(f"unknown terms: {', '.join(sorted(unknown))}")
        for key in ("exclude_artists", "exclude_tags", "ignore_sources"):
            if key in given:
                given[key] = tuple(given[key])
        return replace(self, **given).validated()

    def as_dict(self) -> dict[str, Any]:
        out = asdict(self)
        for key in ("exclude_artists", "exclude_tags", "ignore_sources"):
            out[key] = list(out[key])
        return out


def load_terms(store: Store, listener: str) -> Terms:
    """The listener's stored terms, defaults where nothing is stored."""
    listener_id = store.listener_id(listener)
    if listener_id is None:
        return Terms()
    row = store.conn.execute(
        "SELECT surprise, half_life_days, no_repeat_days, personalise, exclude_artists,"
        " exclude_tags, ignore_sources FROM terms WHERE listener_id = ?",
        (listener_id,),
    ).fetchone()
    if row is None:
        return Terms()
    surprise, half_life, no_repeat, personalise, artists, tags, sources = row
    default = Terms()
    return Terms(
        surprise=default.surprise if surprise is None else float(surprise),
        half_life_days=default.half_life_days if half_life is None else float(half_life),
        no_repeat_days=default.no_repeat_days if no_repeat is None else int(no_repeat),
        personalise=default.personalise if personalise is None else bool(personalise),
        exclude_artists=tuple(json.loads(artists)),
        exclude_tags=tuple(json.loads(tags)),
        ignore_sources=tuple(json.loads(sources)),
    )


def save_terms(store: Store, listener: str, terms: Terms) -> Terms:
    """Store `terms` for an existing listener (one transaction)."""
    terms.validated()
    listener_id = store.listener_id(listener)
    if listener_id is None:
        raise UnknownListener(
            f"no listener named {listener!r}: import their history first (tastemaker import ...)"
        )
    with store.transaction() as conn:
        conn.execute(
            "INSERT INTO terms (listener_id, surprise, half_life_days, no_repeat_days, personalise,"
            " exclude_artists, exclude_tags, ignore_sources, updated_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
            " ON CONFLICT (listener_id) DO UPDATE SET surprise = excluded.surprise,"
            " half_life_days = excluded.half_life_days, no_repeat_days = excluded.no_repeat_days,"
            " personalise = excluded.personalise, exclude_artists = excluded.exclude_artists,"
            " exclude_tags = excluded.exclude_tags, ignore_sources = excluded.ignore_sources,"
            " updated_at = excluded.updated_at",
            (
                listener_id,
                terms.surprise,
                terms.half_life_days,
                terms.no_repeat_days,
                int(terms.personalise),
                json.dumps(list(terms.exclude_artists)),
                json.dumps(list(terms.exclude_tags)),
                json.dumps(list(terms.ignore_sources)),
                utc_now(),
            ),
        )
    return terms
