"""Listeners' terms in the store: load, save, update and describe them.

Stored one row per listener in `terms`; a NULL column means "the default". Every playlist reads
these, and command-line flags override them for one run without being stored.

`update_terms` is what `tastemaker terms` changes them with (adding and taking back exclusions
and ignored sources); `describe_terms` is what `terms --show` prints: every term, its value,
whether it is the default, and exactly which of the listener's data is used.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime
from typing import Any

from recommender.catalog import require_listener, resolve_artist, resolve_tag
from recommender.errors import InvalidTerms
from recommender.ingest.records import IMPORT_FORMATS
from recommender.names import name_key
from recommender.store import Store, utc_now
from recommender.terms import LIST_TERMS, Terms


def load_terms(store: Store, listener: str) -> Terms:
    """The listener's stored terms, defaults where nothing is stored."""
    listener_id = store.listener_id(listener)
    row = None if listener_id is None else _stored_row(store, listener_id)
    if row is None:
        return Terms()
    default = Terms()
    return Terms(
        surprise=default.surprise if row["surprise"] is None else float(row["surprise"]),
        half_life_days=(
            default.half_life_days
            if row["half_life_days"] is None
            else float(row["half_life_days"])
        ),
        no_repeat_days=(
            default.no_repeat_days if row["no_repeat_days"] is None else int(row["no_repeat_days"])
        ),
        personalise=default.personalise if row["personalise"] is None else bool(row["personalise"]),
        exclude_artists=tuple(json.loads(row["exclude_artists"])),
        exclude_tags=tuple(json.loads(row["exclude_tags"])),
        ignore_sources=tuple(json.loads(row["ignore_sources"])),
        learn_from_skips=_or(row.get("learn_from_skips"), default.learn_from_skips, bool),
        rest_after_offers=_or(row.get("rest_after_offers"), default.rest_after_offers, int),
        time_zone=_or(row.get("time_zone"), default.time_zone, str),
        playable=row.get("playable") or default.playable,
    )


def _or(value: Any, default: Any, kind: type) -> Any:
    """A stored term (NULL: the default)."""
    return default if value is None else kind(value)


def _stored_row(store: Store, listener_id: int) -> dict[str, Any] | None:
    return next(store.query("SELECT * FROM terms WHERE listener_id = ?", [listener_id]), None)


def save_terms(store: Store, listener: str, terms: Terms) -> Terms:
    """Store `terms` for an existing listener (one transaction)."""
    terms.validated()
    listener_id = require_listener(store, listener)
    with store.transaction():
        write_terms(store, listener_id, terms)
    return terms


def write_terms(store: Store, listener_id: int, terms: Terms) -> None:
    """Upsert the listener's terms row inside an already open transaction."""
    store.db.table("terms").upsert(
        {
            "listener_id": listener_id,
            "surprise": terms.surprise,
            "half_life_days": terms.half_life_days,
            "no_repeat_days": terms.no_repeat_days,
            "personalise": int(terms.personalise),
            **{key: json.dumps(list(getattr(terms, key))) for key in LIST_TERMS},
            "learn_from_skips": int(terms.learn_from_skips),
            "rest_after_offers": terms.rest_after_offers,
            "time_zone": terms.time_zone,
            "playable": terms.playable,
            "updated_at": utc_now(),
        },
        pk="listener_id",
    )


def _add(current: tuple[str, ...], added: Iterable[str]) -> tuple[str, ...]:
    """`current` plus `added`, keeping order and dropping case-insensitive repeats."""
    out = list(current)
    seen = {name_key(v) for v in out}
    for value in added:
        if name_key(value) not in seen:
            seen.add(name_key(value))
            out.append(value)
    return tuple(out)


def _remove(current: tuple[str, ...], removed: Iterable[str]) -> tuple[str, ...]:
    gone = {name_key(v) for v in removed}
    return tuple(v for v in current if name_key(v) not in gone)


def known_sources(store: Store) -> set[str]:
    """Sources a listener can ignore: every import format, and any source already stored."""
    stored = {str(r[0]) for r in store.conn.execute("SELECT DISTINCT source FROM listens")}
    return set(IMPORT_FORMATS) | stored


def update_terms(
    store: Store,
    listener: str,
    *,
    surprise: float | None = None,
    half_life_days: float | None = None,
    no_repeat_days: int | None = None,
    personalise: bool | None = None,
    exclude_artists: Iterable[str] = (),
    include_artists: Iterable[str] = (),
    exclude_tags: Iterable[str] = (),
    include_tags: Iterable[str] = (),
    ignore_sources: Iterable[str] = (),
    use_sources: Iterable[str] = (),
    clear_exclusions: bool = False,
    learn_from_skips: bool | None = None,
    rest_after_offers: int | None = None,
    time_zone: str | None = None,
    playable: str | None = None,
) -> Terms:
    """Change some of a listener's stored terms and return the result.

    Exclusions are added with `exclude_*` and taken back with `include_*` (or all at once with
    `clear_exclusions`); a source is ignored with `ignore_sources` and used again with
    `use_sources`. Artist and tag names must be known to the store, so a typo is an error
    rather than an exclusion that silently never matches.
    """
    require_listener(store, listener)
    current = load_terms(store, listener)
    artists_out = [resolve_artist(store, a)[1] for a in exclude_artists]
    tags_out = [resolve_tag(store, t) for t in exclude_tags]
    sources = known_sources(store)
    for source in (*ignore_sources, *use_sources):
        if source not in sources:
            raise InvalidTerms(
                f"unknown source {source!r}: choose one of {', '.join(sorted(sources))}"
            )
    if clear_exclusions:
        current = replace(current, exclude_artists=(), exclude_tags=())
    artists = _remove(_add(current.exclude_artists, artists_out), include_artists)
    tags = _remove(_add(current.exclude_tags, tags_out), include_tags)
    ignored = tuple(
        s for s in _add(current.ignore_sources, ignore_sources) if s not in set(use_sources)
    )
    updated = current.with_changes(
        surprise=surprise,
        half_life_days=half_life_days,
        no_repeat_days=no_repeat_days,
        personalise=personalise,
        exclude_artists=artists,
        exclude_tags=tags,
        ignore_sources=ignored,
        learn_from_skips=learn_from_skips,
        rest_after_offers=rest_after_offers,
        time_zone=time_zone,
        playable=playable,
    )
    return save_terms(store, listener, updated)


@dataclass(frozen=True)
class TermRow:
    """One term as `terms --show` prints it."""

    name: str
    value: Any
    default: Any
    explanation: str

    @property
    def is_default(self) -> bool:
        return bool(self.value == self.default)


@dataclass(frozen=True)
class SourceUse:
    """How much of one source the listener's store holds, and whether it is used."""

    source: str
    rows: int
    plays: int
    first_listen: str | None
    last_listen: str | None
    used: bool


@dataclass(frozen=True)
class TermsReport:
    """What `terms --show` prints: every term, and which of the listener's data is used."""

    listener: str
    terms: Terms
    rows: tuple[TermRow, ...]
    sources: tuple[SourceUse, ...]
    stored: bool  # False when every term is the default because none were ever set

    @property
    def used_rows(self) -> int:
        return sum(s.rows for s in self.sources if s.used)

    def as_dict(self) -> dict[str, Any]:
        return {
            "listener": self.listener,
            "terms": {
                r.name: {
                    "value": r.value,
                    "default": r.default,
                    "is_default": r.is_default,
                    "explanation": r.explanation,
                }
                for r in self.rows
            },
            "data": {
                "personalised": self.terms.personalise,
                "used_rows": self.used_rows,
                "sources": [asdict(s) for s in self.sources],
            },
        }


EXPLANATIONS = {
    "surprise": "share of each playlist that is unexpected picks from outside your scenes",
    "half_life_days": "days after which a listen counts half as much as one today",
    "no_repeat_days": "tracks you played this many days back are not offered as familiar",
    "personalise": "whether your listening history is used at all",
    "exclude_artists": "artists never put in your playlists",
    "exclude_tags": "artists with these tags are never put in your playlists",
    "ignore_sources": "imports whose listens are not used for your model or reasons",
    "learn_from_skips": "whether the tracks you skip are offered less (and, mostly skipped, not)",
    "rest_after_offers": "a new artist offered in this many recent playlists and never played "
    "since is rested for a while (0: never)",
    "time_zone": "your clock, for playlists made for a moment of the day (--context, --at)",
    "playable": "only tracks that can be played from here: local (a file in your music folder),"
    " spotify, musicbrainz (a recording MBID), any of them, or off (every track)",
}


def describe_terms(store: Store, listener: str) -> TermsReport:
    """Every term with its value and default, and which of the listener's data is used."""
    listener_id = require_listener(store, listener)
    terms = load_terms(store, listener)
    stored = _stored_row(store, listener_id) is not None
    values, defaults = terms.as_dict(), Terms().as_dict()
    rows = tuple(TermRow(name, values[name], defaults[name], EXPLANATIONS[name]) for name in values)
    sources = tuple(
        SourceUse(
            source=str(source),
            rows=int(count),
            plays=int(plays),
            first_listen=_iso(first),
            last_listen=_iso(last),
            used=terms.personalise and source not in terms.ignore_sources,
        )
        for source, count, plays, first, last in store.conn.execute(
            "SELECT source, count(*), sum(plays), min(listened_at), max(listened_at)"
            " FROM listens WHERE listener_id = ? GROUP BY source ORDER BY source",
            (listener_id,),
        )
    )
    return TermsReport(listener, terms, rows, sources, stored)


def _iso(ts: int | None) -> str | None:
    return None if ts is None else datetime.fromtimestamp(int(ts), UTC).isoformat()
