"""What the workbench's pages other than the playlist page show, read through the library.

No Flask here: each function takes the store and returns plain frozen data for a template
(the playlist page itself is `playlists.report.playlist_page`, shared with `report --html`).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

from playlists import storage
from playlists.offers import Acceptance, acceptance
from playlists.review import ReviewQueue, in_force, review_queue
from playlists.storage import PlaylistSummary, Subject, Verdict
from recommender.catalog import resolve_listener
from recommender.feedback import feedback_counts
from recommender.store import Store
from recommender.terms_storage import TermsReport, describe_terms

# A listener page lists this many of their newest playlists.
LISTENER_PLAYLISTS = 100
SUBJECTS = tuple(str(s) for s in Subject)


@dataclass(frozen=True)
class QueueFilter:
    """The queue page's filters as given (None: not filtered)."""

    listener: str | None = None
    kind: str | None = None
    since: str | None = None
    until: str | None = None

    @classmethod
    def of(cls, args: Any) -> QueueFilter:
        """From a query string mapping; empty fields mean "not filtered"."""

        def given(key: str) -> str | None:
            value = str(args.get(key) or "").strip()
            return value or None

        return cls(given("listener"), given("kind"), given("since"), given("until"))

    @property
    def active(self) -> bool:
        return any((self.listener, self.kind, self.since, self.until))


@dataclass(frozen=True)
class QueuePage:
    """The review queue, filtered, with what the filter form offers."""

    queue: ReviewQueue
    total: ReviewQueue
    chosen: QueueFilter
    listeners: tuple[str, ...]

    @property
    def unjudged_tracks(self) -> int:
        return sum(w.tracks - w.judged for w in self.queue.waiting)


def queue_page(store: Store, chosen: QueueFilter) -> QueuePage:
    """The queue with `chosen` applied (raises ReviewError for a bad kind or date)."""
    total = review_queue(store)
    queue = total.filtered(
        listener=chosen.listener, subject=chosen.kind, since=chosen.since, until=chosen.until
    )
    names = {w.listener for w in total.waiting} | {f.listener for f in total.flagged}
    return QueuePage(queue, total, chosen, tuple(sorted(names)))


def next_in_queue(store: Store, after: str) -> tuple[str, int | None] | None:
    """Where a curator goes after finishing playlist `after`: the oldest other playlist still
    waiting, else the oldest open flag (its playlist and position), else nowhere."""
    queue = review_queue(store)
    for waiting in queue.waiting:
        if waiting.playlist_id != after:
            return waiting.playlist_id, None
    if queue.flagged:
        return queue.flagged[0].playlist_id, queue.flagged[0].position
    return None


def is_waiting(store: Store, playlist_id: str) -> bool:
    return any(w.playlist_id == playlist_id for w in review_queue(store).waiting)


@dataclass(frozen=True)
class ListenerPlaylist:
    """One of the listener's playlists with how far its review has come."""

    summary: PlaylistSummary
    judged: int
    whole: Verdict | None


@dataclass(frozen=True)
class ListenerPage:
    """A listener as curators see them: terms, the data used, playlists, verdicts on picks."""

    name: str
    terms: TermsReport | None  # None for a listener with playlists but no history in the store
    playlists: tuple[ListenerPlaylist, ...]
    more_playlists: int
    # (kind, verdict) -> tracks of that kind with that verdict in force, over their playlists
    verdicts_by_kind: dict[tuple[str, str], int]
    # Discovery and unexpected picks played after the offer (`playlists.offers`), and the
    # listener's loves, hates and skips (None: not in the store).
    acceptance: Acceptance | None = None
    feedback: dict[str, int] | None = None

    @property
    def kinds(self) -> list[str]:
        return sorted({kind for kind, _ in self.verdicts_by_kind})


def listener_page(store: Store, name: str) -> ListenerPage:
    """Everything the listener page shows (raises UnknownListener for a listener with neither
    history nor playlists)."""
    mine = [p for p in storage.list_playlists(store) if p.listener == name]
    listener_id = store.listener_id(name)
    terms: TermsReport | None = None
    if store.listener_id(name) is not None or not mine:
        resolve_listener(store, name, hint="open one from the review queue")
        terms = describe_terms(store, name)
    newest = list(reversed(mine))[:LISTENER_PLAYLISTS]
    rows = []
    judged_tracks: list[Verdict] = []
    for summary in newest:
        current = in_force(storage.verdicts_for(store, summary.id))
        whole = [v for v in current if v.position is None]
        rows.append(
            ListenerPlaylist(
                summary,
                judged=len({v.position for v in current if v.position is not None}),
                whole=whole[-1] if whole else None,
            )
        )
        judged_tracks += [v for v in current if v.subject == Subject.TRACK]
    entries = storage.stored_entries(
        store, [(v.playlist_id, v.position) for v in judged_tracks if v.position is not None]
    )
    by_kind: Counter[tuple[str, str]] = Counter()
    for v in judged_tracks:
        entry = entries.get((v.playlist_id, v.position or 0))
        if entry is not None:
            by_kind[(entry.reason.kind, str(v.verdict))] += 1
    return ListenerPage(
        name=name,
        terms=terms,
        playlists=tuple(rows),
        more_playlists=max(0, len(mine) - LISTENER_PLAYLISTS),
        verdicts_by_kind=dict(by_kind),
        acceptance=acceptance(store, name).get(name),
        feedback=None if listener_id is None else feedback_counts(store, listener_id),
    )


@dataclass(frozen=True)
class ListenerRow:
    name: str
    playlists: int
    newest: str


def listeners_with_playlists(store: Store) -> list[ListenerRow]:
    """Listeners who have stored playlists, newest playlist first."""
    count: Counter[str] = Counter()
    newest: dict[str, str] = {}
    for summary in storage.list_playlists(store):
        count[summary.listener] += 1
        newest[summary.listener] = max(newest.get(summary.listener, ""), summary.created_at)
    return sorted(
        (ListenerRow(n, count[n], newest[n]) for n in count),
        key=lambda r: (r.newest, r.name),
        reverse=True,
    )
