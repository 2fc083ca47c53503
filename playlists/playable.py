"""`--playable`: a playlist of tracks that can be played from here, and what could not be.

With the listener's `playable` term (or `playlist --playable`) set to `local`, `spotify`,
`musicbrainz` or `any`, only candidates whose track resolves to that kind of location
(`recommender.library.Locations.resolves_to`) reach the assembly: the mix rules hold as
always (the exact unexpected share, the artist cap), so when too few candidates resolve the
build stops with the usual error plus how many candidates of each kind were left out and why.
Nothing is dropped silently: the notes say how many candidates were left out, and name every
track that the same request without the filter would have placed and that could not be
resolved (so the listener knows which files or links are missing).

Artist-level entries (HetRec) name no track, so they never resolve.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from playlists.assemble import select
from playlists.errors import NotEnoughCandidates, NotEnoughUnexpected, PlaylistError
from playlists.model import Candidate, track_ids
from playlists.request import MixSpec
from recommender.library import NOWHERE, Locations, locate_tracks
from recommender.store import Store
from recommender.terms import PLAYABLE_OFF

# Why a track does not resolve, per kind of location asked for.
MISSING = {
    "local": "no file in your music folder",
    "spotify": "no Spotify link",
    "musicbrainz": "no MusicBrainz recording id",
    "any": "no file, Spotify link or MusicBrainz recording id",
}
FIX = {
    "local": "add the folder that holds them with `tastemaker library add PATH`",
    "spotify": "import a Spotify history that played them",
    "musicbrainz": "import a ListenBrainz export, or tag your files with MusicBrainz Picard",
    "any": "add your music folder with `tastemaker library add PATH`",
}

Shortfall = NotEnoughCandidates | NotEnoughUnexpected


@dataclass(frozen=True)
class PlayableFilter:
    """The `playable` term applied to one request's candidates (inactive when it is off)."""

    playable: str
    located: Mapping[int, Locations]  # every candidate track, when active
    offered: Mapping[str, int]  # candidates per kind before the filter
    left_out: Mapping[str, int]  # of those, how many do not resolve

    @classmethod
    def of(
        cls, store: Store, playable: str, candidates: Mapping[str, Sequence[Candidate]]
    ) -> PlayableFilter:
        if playable == PLAYABLE_OFF:
            return cls(playable, {}, {}, {})
        located = locate_tracks(store, track_ids(c for pool in candidates.values() for c in pool))
        offered = {kind: len(pool) for kind, pool in candidates.items()}
        left_out = {
            kind: sum(1 for c in pool if not _resolves(c, located, playable))
            for kind, pool in candidates.items()
        }
        return cls(playable, located, offered, left_out)

    @property
    def active(self) -> bool:
        return self.playable != PLAYABLE_OFF

    def kept(self, candidates: Mapping[str, Sequence[Candidate]]) -> dict[str, list[Candidate]]:
        """The candidates whose tracks resolve, in their order (all of them when inactive)."""
        return {
            kind: [c for c in pool if _resolves(c, self.located, self.playable)]
            for kind, pool in candidates.items()
        }

    def explained(self, exc: Shortfall) -> Shortfall:
        """The assembly's shortfall error with what the filter left out and how to fix it."""
        counts = ", ".join(
            f"{self.left_out[k]} of {self.offered[k]} {k}" for k in self.offered if self.offered[k]
        )
        return type(exc)(
            f"{exc}; --playable {self.playable} left out candidates with "
            f"{MISSING[self.playable]} ({counts or 'no candidates at all'}): "
            f"{FIX[self.playable]}, or ask for a shorter playlist"
        )

    def effects(self) -> dict[str, int]:
        """`unplayable`: candidates left out, for the playlist's effects (none when off)."""
        return {"unplayable": sum(self.left_out.values())} if self.active else {}

    def notes(self, candidates: Mapping[str, Sequence[Candidate]], mix: MixSpec) -> list[str]:
        """What the filter changed: how many candidates it left out, and every track the
        request would have placed without it that could not be resolved."""
        if not self.active:
            return []
        total, offered = sum(self.left_out.values()), sum(self.offered.values())
        notes = [
            f"Playable as {self.playable}: {total} of {offered} candidates were left out "
            f"({MISSING[self.playable]})"
        ]
        try:
            unfiltered = select(candidates, mix)
        except PlaylistError:  # the request cannot be met even without the filter
            unfiltered = []
        missing = [c for c in unfiltered if not _resolves(c, self.located, self.playable)]
        if missing:
            notes.append(
                f"{len(missing)} tracks that would have been on this playlist have "
                f"{MISSING[self.playable]} and were replaced: {_names(missing)}"
            )
        return notes

    def locations(self, store: Store, entries: Sequence[Candidate]) -> Mapping[int, Locations]:
        """Where the chosen entries can be played (already known when active)."""
        return self.located if self.active else locate_tracks(store, track_ids(entries))


def _resolves(candidate: Candidate, located: Mapping[int, Locations], playable: str) -> bool:
    if playable == PLAYABLE_OFF:
        return True
    if candidate.track_id is None:
        return False
    return located.get(candidate.track_id, NOWHERE).resolves_to(playable)


def _names(entries: Iterable[Candidate]) -> str:
    return "; ".join(f"{c.artist} - {c.title}" if c.title else c.artist for c in entries)
