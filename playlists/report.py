"""The curator's playlist page: what it shows (`playlist_page`) and the one template that draws it.

The same template, `playlists/web/templates/playlist.html`, makes the static `report --html`
file and the page `tastemaker serve` shows; only the frame differs. The static file is
self-contained: the stylesheet inline, no script, no network, no external asset. Every piece of
text from the store is escaped by Jinja2's autoescape. Numbers are printed as stored, each
inside `<data value=...>` (times inside `<time datetime=...>`) with a `data-key` naming its
evidence field, so a reader (or a test) can check every figure against the store; the
denominators beside them ("rank 65 of 17,632", "9 of the 240 listeners of X") are counted
from the store when the page is drawn.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from importlib import resources
from typing import Any

import jinja2
from markupsafe import Markup

from playlists import storage
from playlists.model import Playlist, PlaylistTrack
from playlists.quality import Quality, playlist_quality
from playlists.review import Link, in_force, reason_links
from playlists.storage import Judgement, Subject, Verdict
from recommender.listens import artist_listeners
from recommender.names import visible_controls
from recommender.store import Store
from recommender.terms_storage import EXPLANATIONS

# The package that holds the templates and the stylesheet (data only: importing it is free).
TEMPLATES_PACKAGE = "playlists.web"
STYLESHEET = "workbench.css"


def render_report(store: Store, playlist_id: str) -> str:
    """The self-contained HTML page for the stored playlist `playlist_id`."""
    return render_page(
        "playlist.html",
        page=playlist_page(store, playlist_id),
        standalone=True,
        stylesheet=stylesheet(),
    )


# What the page shows -----------------------------------------------------------------------


@dataclass(frozen=True)
class TrackView:
    """One track row: the stored entry, its verdicts (all, and those in force), its links."""

    entry: PlaylistTrack
    history: tuple[Verdict, ...]
    current: tuple[Verdict, ...]
    links: tuple[Link, ...]

    @property
    def judged(self) -> bool:
        return bool(self.current)


@dataclass(frozen=True)
class VerdictSummary:
    """What the verdicts in force say about the playlist, counted for the top of the page."""

    tracks: int
    judged: int
    whole: Verdict | None
    on_tracks: Mapping[str, int]
    on_reasons: Mapping[str, int]
    on_links: Mapping[str, int]


@dataclass(frozen=True)
class PlaylistPage:
    """Everything the playlist page draws, read from the store in one go."""

    playlist: Playlist
    quality: Quality
    tracks: tuple[TrackView, ...]
    whole_history: tuple[Verdict, ...]
    summary: VerdictSummary
    names: Mapping[int, str]
    catalogue_artists: int
    store_listeners: int
    listeners_of: Mapping[int, int] = field(default_factory=dict)

    @property
    def params(self) -> list[Fact]:
        return param_facts(self.playlist)

    @property
    def terms(self) -> list[Fact]:
        return term_facts(self.playlist.terms)

    @property
    def effects(self) -> list[Fact]:
        return effect_facts(self.playlist.terms)

    def name(self, artist_id: int | None) -> str:
        if artist_id is None:
            return "?"
        return self.names.get(artist_id, f"artist {artist_id}")


def playlist_page(store: Store, playlist_id: str) -> PlaylistPage:
    """The stored playlist with its quality label, verdicts and the denominators of its
    evidence (raises UnknownPlaylist)."""
    playlist = storage.load_playlist(store, playlist_id)
    verdicts = storage.verdicts_for(store, playlist_id)
    current = in_force(verdicts)
    by_position: dict[int | None, list[Verdict]] = {}
    for v in verdicts:
        by_position.setdefault(v.position, []).append(v)
    current_at: dict[int | None, list[Verdict]] = {}
    for v in current:
        current_at.setdefault(v.position, []).append(v)
    tracks = tuple(
        TrackView(
            entry=t,
            history=tuple(by_position.get(t.position, [])),
            current=tuple(current_at.get(t.position, [])),
            links=tuple(reason_links(t.reason.evidence)),
        )
        for t in playlist.tracks
    )
    names = {t.artist_id: t.artist for t in playlist.tracks}
    for track in tracks:
        for link in track.links:
            names.setdefault(link.explainer_id, link.explainer)
            names.setdefault(link.explained_id, link.explained)
    explainers = sorted({link.explainer_id for t in tracks for link in t.links})
    whole = current_at.get(None, [])
    quality = playlist_quality(store, playlist_id)
    return PlaylistPage(
        playlist=playlist,
        quality=quality,
        tracks=tracks,
        whole_history=tuple(by_position.get(None, [])),
        summary=_summary(tracks, whole[-1] if whole else None),
        names=names,
        catalogue_artists=int(store.conn.execute("SELECT count(*) FROM artists").fetchone()[0]),
        store_listeners=quality.store_listeners,  # listeners with usable listens, counted once
        listeners_of=artist_listeners(store, explainers),
    )


def _summary(tracks: Iterable[TrackView], whole: Verdict | None) -> VerdictSummary:
    tracks = list(tracks)
    on: dict[str, dict[str, int]] = {
        kind: {str(j): 0 for j in Judgement} for kind in ("track", "reason", "link")
    }
    for t in tracks:
        for v in t.current:
            kind = "link" if v.link_from is not None else str(v.subject)
            on[kind][str(v.verdict)] += 1
    return VerdictSummary(
        tracks=len(tracks),
        judged=sum(t.judged for t in tracks),
        whole=whole,
        on_tracks=on["track"],
        on_reasons=on["reason"],
        on_links=on["link"],
    )


# Readable tables of the stored parameters and terms ---------------------------------------

# key: (label, a short note beside the value, the longer explanation behind the label)
PARAMS: dict[str, tuple[str, str, str]] = {
    "length": ("Length", "tracks", "tracks asked for"),
    "surprise": ("Surprise", "unexpected share", "share of picks from outside the scenes"),
    "seed_artist": ("Seed artist", "", "steers toward this artist's scene, opens the playlist"),
    "tag": ("Tag", "", "artists with this tag come first within every kind"),
    "artist_cap": ("Per artist", "tracks at most", "no artist has more tracks than this"),
    "familiar_share": ("Familiar share", "of the rest", "share of the non-unexpected picks"),
    "unexpected_top_fraction": (
        "Unexpected pool",
        "top of the ranking",
        "unexpected picks come from this top share of the model's ranking of unheard artists",
    ),
    "as_of": ("As of", "newest listen", "'days ago' in the reasons counts from here"),
    "personalised": ("Personalised", "", "built from the listener's own history"),
}
TERMS: dict[str, str] = {
    "surprise": "Surprise",
    "half_life_days": "Half-life (days)",
    "no_repeat_days": "No repeats (days)",
    "personalise": "Personalise",
    "exclude_artists": "Excluded artists",
    "exclude_tags": "Excluded tags",
    "ignore_sources": "Ignored sources",
    "playable": "Playable as",
}
EFFECTS: dict[str, tuple[str, str]] = {
    "excluded_artists": ("Excluded artists", "artists left out by the listener's exclusions"),
    "excluded_tags": ("Excluded by tag", "artists left out by the listener's excluded tags"),
    "excluded_tracks": ("Played recently", "tracks played within the no-repeat days"),
    "lookalike_left_out": (
        "Look-alikes",
        "look-alike artists kept from standing in for the listener's main scenes",
    ),
    "curator_rejected": ("Curator-rejected", "tracks a curator rejected for this listener"),
    "curator_links": ("Rejected links", "links a curator rejected, used to explain nothing"),
    "hated_left_out": ("Hated", "artists and tracks the listener hates"),
    "skipped_left_out": ("Mostly skipped", "tracks the listener skips more than they play"),
    "rested": ("Rested", "new artists offered in recent playlists and not played since"),
    "unplayable": ("Not playable", "candidates left out: not playable as the listener asked"),
}


@dataclass(frozen=True)
class Fact:
    """One row of the parameters or terms table: a readable label, the stored key and value,
    a short note beside the value and the longer explanation behind the label."""

    label: str
    key: str
    value: Any
    note: str = ""
    explanation: str = ""


def param_facts(playlist: Playlist) -> list[Fact]:
    """The stored parameters (with `personalised`, one of them) under readable labels."""
    stored = {**playlist.params, "personalised": playlist.personalised}
    facts = []
    for key, value in stored.items():
        label, note, explanation = PARAMS.get(key, (key.replace("_", " ").capitalize(), "", ""))
        facts.append(Fact(label, key, value, note, explanation))
    return facts


def term_facts(terms: Mapping[str, Any]) -> list[Fact]:
    """The terms in force when the playlist was built, marked where this run overrode them."""
    overridden = set(terms.get("overridden") or [])
    return [
        Fact(
            TERMS.get(key, key.replace("_", " ").capitalize()),
            key,
            value,
            "overridden for this playlist" if key in overridden else "",
            EXPLANATIONS.get(key, ""),
        )
        for key, value in terms.items()
        if key not in ("overridden", "effects")
        and key not in EFFECTS
        and not isinstance(value, dict)
    ]


def effect_facts(terms: Mapping[str, Any]) -> list[Fact]:
    """What the terms and the curators' verdicts left out of this playlist, as stored."""
    effects = terms.get("effects")
    counts = effects if isinstance(effects, dict) else terms
    return [
        Fact(label, key, counts[key], "", explanation)
        for key, (label, explanation) in EFFECTS.items()
        if key in counts
    ]


# Drawing -----------------------------------------------------------------------------------


def shown_value(value: Any) -> str:
    """A parameter or term value in words: lists joined, booleans as yes/no, None as none."""
    if value is None or value == [] or value == ():
        return "none"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value)
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    return str(value)


def thousands(value: Any) -> str:
    """An integer with thousands separators ("17,632"); anything else as it is."""
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    return str(value)


def short_time(value: str | None) -> str:
    """An ISO time as a reader wants it: "2025-10-27 03:13 UTC" (the exact value stays in the
    element's `datetime` attribute)."""
    if not value:
        return "no date"
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return value
    zone = " UTC" if moment.utcoffset() is not None and not moment.utcoffset() else ""
    return moment.strftime("%Y-%m-%d %H:%M") + zone


def day(value: str | None) -> str:
    """An ISO time as its date ("2025-10-27"), for evidence rows where the day is enough."""
    return short_time(value)[:10] if value else "no date"


def fixed(value: float | None, digits: int = 3) -> str | None:
    return None if value is None else f"{value:.{digits}f}"


def rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


def is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def is_time(value: Any) -> bool:
    """An ISO 8601 date and time as the store writes them ("2025-10-31T23:51:40+00:00")."""
    if not isinstance(value, str) or "T" not in value:
        return False
    try:
        datetime.fromisoformat(value)
    except ValueError:
        return False
    return True


def shown_text(value: Any) -> Any:
    """Every value a page prints passes here first (the environment's `finalize`): control and
    bidi control characters in text are written out as `\\uXXXX`, so a name ending in U+202E
    cannot turn the "23 plays" after it into "32". Markup (already made safe) passes as is."""
    if isinstance(value, str) and not isinstance(value, Markup):
        return visible_controls(value, keep="\n\t")
    return value


def isolated(name: Any) -> Markup:
    """A name (artist, title, listener, curator, scene) in its own `<bdi>`: a right-to-left
    name, or one with controls, cannot reorder the text around it (the stylesheet also gives
    the name's element `unicode-bidi: isolate`)."""
    return Markup("<bdi>{}</bdi>").format(shown_text(str(name)))


def verbatim(value: Any) -> Markup:
    """A value a form sends back exactly as it came (an option's `value`): escaped, but its
    characters are not rewritten by `shown_text`."""
    return Markup.escape(value)


FILTERS = {
    "name": isolated,
    "verbatim": verbatim,
    "shown_value": shown_value,
    "thousands": thousands,
    "short_time": short_time,
    "day": day,
    "fixed": fixed,
    "rounded": rounded,
}
TESTS = {"number": is_number, "time": is_time}


@cache
def environment() -> jinja2.Environment:
    """The one Jinja2 environment for every page (autoescape on, undefined names fail)."""
    env = jinja2.Environment(
        loader=template_loader(),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    install(env)
    return env


def template_loader() -> jinja2.BaseLoader:
    return jinja2.PackageLoader(TEMPLATES_PACKAGE, "templates")


def install(env: jinja2.Environment) -> None:
    """Give `env` the filters and tests the templates use (the web app's environment too)."""
    env.finalize = shown_text
    env.filters.update(FILTERS)
    env.tests.update(TESTS)
    env.globals.update(Subject=Subject, Judgement=Judgement)


def render_page(template: str, **context: Any) -> str:
    return environment().get_template(template).render(**context)


@cache
def stylesheet() -> str:
    """The workbench stylesheet, inlined by the static page (and served by the web app)."""
    return (resources.files(TEMPLATES_PACKAGE) / "static" / STYLESHEET).read_text("utf-8")
