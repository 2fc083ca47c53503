"""The one shape of a candidate stage: request, profile and catalogue in; candidates and the
effects of the listener's terms and the curators' verdicts out. Nothing is shared or mutated
between stages: each keeps its own tally while it runs and returns it frozen.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from playlists.model import Candidate
from playlists.profile import Catalogue, ListenerProfile
from playlists.request import PlaylistRequest
from playlists.review import link_pair

ANCHORS = 15  # the listener's strongest artists used as evidence and bridge starts


@dataclass(frozen=True)
class Effects:
    """What a stage left out and why: counts, and the curator-rejected links it avoided."""

    excluded_artists: int = 0  # by the listener's excluded artists
    excluded_tags: int = 0  # by the listener's excluded tags
    excluded_tracks: int = 0  # played within the listener's no-repeat days
    lookalike_left_out: int = 0  # the listener's artists in a look-alike of a home scene
    curator_rejected: int = 0  # tracks a curator rejected for this listener
    unplayable: int = 0  # artists and tracks that cannot be played as the terms ask
    links_avoided: frozenset[tuple[int, int]] = field(default_factory=frozenset)
    # The listener's feedback: hated artists and tracks met (("artist" | "track", id), each
    # counted once over all stages), tracks kept out because mostly skipped, rested artists met.
    hated: frozenset[tuple[str, int]] = field(default_factory=frozenset)
    skipped_left_out: int = 0
    rested: frozenset[int] = field(default_factory=frozenset)

    def __add__(self, other: Effects) -> Effects:
        return Effects(
            excluded_artists=self.excluded_artists + other.excluded_artists,
            excluded_tags=self.excluded_tags + other.excluded_tags,
            excluded_tracks=self.excluded_tracks + other.excluded_tracks,
            lookalike_left_out=self.lookalike_left_out + other.lookalike_left_out,
            curator_rejected=self.curator_rejected + other.curator_rejected,
            unplayable=self.unplayable + other.unplayable,
            links_avoided=self.links_avoided | other.links_avoided,
            hated=self.hated | other.hated,
            skipped_left_out=self.skipped_left_out + other.skipped_left_out,
            rested=self.rested | other.rested,
        )

    def counts(self) -> dict[str, int]:
        """The stored `terms.effects` shape (a link avoided by two stages counts once, and so
        does a hated item or a rested artist)."""
        feedback = {
            "hated_left_out": len(self.hated),
            "skipped_left_out": self.skipped_left_out,
            "rested": len(self.rested),
        }
        return {**self._terms_counts(), **{k: v for k, v in feedback.items() if v}}

    def _terms_counts(self) -> dict[str, int]:
        return {
            "excluded_artists": self.excluded_artists,
            "excluded_tags": self.excluded_tags,
            "excluded_tracks": self.excluded_tracks,
            "lookalike_left_out": self.lookalike_left_out,
            "curator_rejected": self.curator_rejected,
            "curator_links": len(self.links_avoided),
            "unplayable": self.unplayable,
        }


@dataclass(frozen=True)
class StageResult:
    """A stage's candidates in preference order, what it left out, and (for the error when
    there are too few) a sentence saying how many qualified at each step."""

    candidates: Sequence[Candidate]
    effects: Effects = field(default_factory=Effects)
    summary: str = ""


class Stage(Protocol):
    """A source of candidates of one kind.

    `personalised` stages run when the listener's history can be used (the profile has the
    model's scores); the others run for non-personalised playlists and read nothing of it.
    """

    @property
    def kind(self) -> str: ...

    @property
    def personalised(self) -> bool: ...

    def propose(
        self, request: PlaylistRequest, profile: ListenerProfile, catalogue: Catalogue
    ) -> StageResult: ...


class Tally:
    """One stage run's own count of what the terms and the verdicts left out."""

    def __init__(self, profile: ListenerProfile) -> None:
        self.profile = profile
        self.excluded_artists = 0
        self.excluded_tags = 0
        self.excluded_tracks = 0
        self.lookalike_left_out = 0
        self.curator_rejected = 0
        self.unplayable = 0
        self.links: set[tuple[int, int]] = set()
        self.hated: set[tuple[str, int]] = set()
        self.skipped_left_out = 0
        self.rested: set[int] = set()
        # Built once here: the feedback makes these sets afresh on every call.
        self._hated_artists = profile.feedback.hated_artists
        self._hated_tracks = profile.feedback.hated_tracks

    def allowed(self, artist_id: int) -> bool:
        """Not excluded by the listener's terms nor hated, and with a track playable as they
        ask (and counted when it is not)."""
        if artist_id in self._hated_artists:
            self.hated.add(("artist", artist_id))
            return False
        if artist_id in self.profile.excluded_artists:
            self.excluded_artists += 1
            return False
        if artist_id in self.profile.excluded_by_tag:
            self.excluded_tags += 1
            return False
        playable = self.profile.playable
        if playable is not None and artist_id not in playable.artists:
            self.unplayable += 1
            return False
        return True

    def new_allowed(self, artist_id: int) -> bool:
        """`allowed`, and not rested (`playlists.offers`): for stages offering new artists."""
        if not self.allowed(artist_id):
            return False
        if artist_id in self.profile.rested:
            self.rested.add(artist_id)
            return False
        return True

    def playable(self, track_id: int | None) -> bool:
        """Playable as the listener's terms ask (always, when they ask nothing; and counted
        when it is not). An artist-level entry names no track, so it never is."""
        playable = self.profile.playable
        if playable is None or (track_id is not None and track_id in playable.tracks):
            return True
        self.unplayable += 1
        return False

    def rejected(self, artist_id: int, track_id: int | None) -> bool:
        """Rejected for this listener by a curator, or a track they hate (counted either way)."""
        if track_id is not None and track_id in self._hated_tracks:
            self.hated.add(("track", track_id))
            return True
        if self.profile.blocks.blocks_entry(artist_id, track_id):
            self.curator_rejected += 1
            return True
        return False

    def link_rejected(self, a: int, b: int) -> bool:
        """A curator rejected "a explains b" (remembered when it is)."""
        if self.profile.blocks.blocks_link(a, b):
            self.links.add(link_pair(a, b))
            return True
        return False

    def effects(self) -> Effects:
        return Effects(
            excluded_artists=self.excluded_artists,
            excluded_tags=self.excluded_tags,
            excluded_tracks=self.excluded_tracks,
            lookalike_left_out=self.lookalike_left_out,
            curator_rejected=self.curator_rejected,
            unplayable=self.unplayable,
            links_avoided=frozenset(self.links),
            hated=frozenset(self.hated),
            skipped_left_out=self.skipped_left_out,
            rested=frozenset(self.rested),
        )


def best_first(values: np.ndarray, k: int) -> np.ndarray:
    """Positions of the `k` highest values, highest first, ties in position order: what a
    stable sort of all of them would put first, without sorting the rest (at 100,000
    artists a full sort is a tenth of a playlist)."""
    negated = -np.asarray(values, dtype=float)
    chosen = np.flatnonzero(best_mask(values, k))
    return chosen[np.argsort(negated[chosen], kind="stable")]


def best_mask(values: np.ndarray, k: int) -> np.ndarray:
    """Which positions `best_first(values, k)` holds, without ordering them."""
    negated = -np.asarray(values, dtype=float)
    mask = np.zeros(len(negated), dtype=bool)
    if k >= len(negated) or np.isnan(negated).any():
        mask[np.argsort(negated, kind="stable")[:k]] = True
        return mask
    kth = np.partition(negated, k - 1)[k - 1]
    mask[negated < kth] = True
    mask[np.flatnonzero(negated == kth)[: k - int(mask.sum())]] = True
    return mask


def best_first_lazily(values: np.ndarray, positions: np.ndarray) -> Iterator[int]:
    """`positions` (ascending) in the order `best_first` gives their `values`, worked out a
    growing front at a time: a caller that stops after a few dozen does not sort thousands.
    Every front is a prefix of the full order, so what is yielded is that order exactly."""
    done, front = 0, 64
    while done < len(positions):
        front = min(front, len(positions))
        ranked = positions[best_first(values[positions], front)]
        yield from ranked[done:].tolist()
        done, front = front, front * 4
