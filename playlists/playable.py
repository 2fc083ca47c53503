"""`--playable`: a playlist of tracks that can be played from here, and what could not be.

With the listener's `playable` term (or `playlist --playable`) set to `local`, `spotify`,
`musicbrainz` or `any`, the profile carries the tracks that resolve to that kind of location
(`recommender.library.playable_tracks`), and every stage offers only those: an artist without
one is not taken, and an artist's most played playable tracks stand in for its most played
ones (`playlists.stages.base.Tally`). The mix rules hold as always (the exact unexpected share,
the artist cap); when too few candidates resolve, the build stops with the usual error plus
how many artists and tracks of each kind were left out, and what to do.

Nothing is dropped silently: the notes say how many were left out, and name every track that
the same request without the filter would have placed and that could not be resolved, so the
listener knows which files or links are missing. Artist-level entries (HetRec) name no track,
so they never resolve.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import replace

from playlists.assemble import select
from playlists.errors import NotEnoughCandidates, NotEnoughUnexpected, PlaylistError
from playlists.model import Candidate
from playlists.profile import Catalogue, ListenerProfile
from playlists.request import PlaylistRequest
from playlists.stages import StageRegistry, StageResult

# Why a track does not resolve, and what to do about it, per kind of location asked for.
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
Results = Mapping[str, StageResult]


def propose(
    stages: StageRegistry,
    request: PlaylistRequest,
    profile: ListenerProfile,
    catalogue: Catalogue,
) -> dict[str, StageResult]:
    """Every stage of the mix proposes its candidates for `profile`."""
    return {
        kind: stage.propose(request, profile, catalogue)
        for kind, stage in stages.for_mix(request.mix, profile.personalised).items()
    }


def _left_out(results: Results) -> dict[str, int]:
    return {kind: r.effects.unplayable for kind, r in results.items()}


def explained(exc: Shortfall, playable: str, results: Results) -> Shortfall:
    """The assembly's shortfall error with what the filter left out and how to fix it."""
    counts = ", ".join(f"{n} {kind}" for kind, n in _left_out(results).items())
    return type(exc)(
        f"{exc}; --playable {playable} left out artists and tracks with {MISSING[playable]} "
        f"({counts}): {FIX[playable]}, or ask for a shorter playlist"
    )


def notes_on_playable(
    stages: StageRegistry,
    request: PlaylistRequest,
    profile: ListenerProfile,
    catalogue: Catalogue,
    results: Results,
) -> list[str]:
    """What the filter changed: how many artists and tracks it left out, and every track the
    request would have placed without it that cannot be played as asked. The stages run a
    second time, unfiltered, to know those (only when the filter is on)."""
    chosen = profile.playable
    if chosen is None:
        return []
    playable = chosen.playable
    left = sum(_left_out(results).values())
    found = [
        f"Playable as {playable}: {left} artists and tracks with {MISSING[playable]} were left out"
    ]
    unfiltered = propose(stages, request, replace(profile, playable=None), catalogue)
    try:
        would_have = select({k: r.candidates for k, r in unfiltered.items()}, request.mix)
    except PlaylistError:  # the request cannot be met even without the filter
        would_have = []
    missing = [c for c in would_have if c.track_id is None or c.track_id not in chosen.tracks]
    if missing:
        found.append(
            f"{len(missing)} tracks that would have been on this playlist have "
            f"{MISSING[playable]} and were replaced: {_names(missing)}"
        )
    return found


def _names(entries: Iterable[Candidate]) -> str:
    return "; ".join(f"{c.artist} - {c.title}" if c.title else c.artist for c in entries)
