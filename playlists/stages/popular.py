"""Non-personalised candidates (no history, opted out, or unknown to the model): nothing from
the listener's history is read, only the graph and popularity (distinct listeners per artist).

- `PopularStage` (kind discovery): the most popular artists of the starting scene (the
  profile's home: the seed's scene, the tag's, or the biggest).
- `PopularUnexpectedStage` (kind unexpected): popular artists of other scenes, in the top
  `UNEXPECTED_TOP_FRACTION` of them, reached through a co-listening bridge from the starting
  scene's most popular artists (and the seed artist).
"""

from __future__ import annotations

from playlists.model import DISCOVERY, UNEXPECTED
from playlists.profile import Catalogue, ListenerProfile
from playlists.reasons import PopularEvidence, PopularUnexpectedEvidence
from playlists.request import PlaylistRequest
from playlists.stages.base import ANCHORS, StageResult, Tally
from playlists.stages.bridges import reach, spread_scenes
from playlists.stages.tracks import Pick, with_tracks
from playlists.stages.unexpected import UNEXPECTED_TOP_FRACTION, spare


def _by_popularity(profile: ListenerProfile, catalogue: Catalogue) -> list[int]:
    listeners = catalogue.popularity
    return profile.steer(sorted(listeners, key=lambda a: (-listeners[a], a)))


def _starting_scene(
    request: PlaylistRequest, profile: ListenerProfile, catalogue: Catalogue, tally: Tally
) -> list[Pick]:
    """The starting scene's most popular artists allowed by the terms, with their reasons."""
    listeners = catalogue.popularity
    picks: list[Pick] = []
    for artist_id in _by_popularity(profile, catalogue):
        if len(picks) >= 2 * request.length:
            break
        scene = catalogue.scene_of(artist_id)
        if scene in profile.home_scenes and tally.new_allowed(artist_id):
            evidence = PopularEvidence(
                artist=catalogue.names[artist_id],
                artist_id=artist_id,
                listeners=listeners[artist_id],
                scene=catalogue.scene_ref(scene),
            )
            picks.append(Pick(artist_id, evidence.reason(), float(listeners[artist_id])))
    return picks


class PopularStage:
    """Popular artists of the starting scene (non-personalised)."""

    kind = DISCOVERY
    personalised = False

    def propose(
        self, request: PlaylistRequest, profile: ListenerProfile, catalogue: Catalogue
    ) -> StageResult:
        tally = Tally(profile)
        picks = _starting_scene(request, profile, catalogue, tally)
        candidates = with_tracks(catalogue, tally, picks, DISCOVERY, request.artist_cap)
        return StageResult(tuple(candidates), tally.effects())


class PopularUnexpectedStage:
    """Popular artists of other scenes, reached by a bridge (non-personalised)."""

    kind = UNEXPECTED
    personalised = False

    def propose(
        self, request: PlaylistRequest, profile: ListenerProfile, catalogue: Catalogue
    ) -> StageResult:
        tally = Tally(profile)
        listeners = catalogue.popularity
        # The bridge starts: the discovery stage's picks (what it left out is its to report).
        inside = _starting_scene(request, profile, catalogue, Tally(profile))
        starts = [p.artist_id for p in inside[:ANCHORS]]
        seed = profile.seed_artist
        if seed is not None and seed not in starts:
            starts.insert(0, seed)
        away = profile.home_scenes | profile.avoid_scenes
        others = [
            a
            for a in _by_popularity(profile, catalogue)
            if (s := catalogue.scene_of(a)) is not None and s not in away
        ]
        top = others[: max(1, int(len(others) * UNEXPECTED_TOP_FRACTION))]
        wanted = spare(request.mix.most(UNEXPECTED))
        bridged = reach(catalogue, tally, top, starts, profile.avoid_scenes, wanted)
        picks = [
            Pick(
                b.artist_id,
                PopularUnexpectedEvidence(
                    artist=catalogue.names[b.artist_id],
                    artist_id=b.artist_id,
                    route=b.route(catalogue),
                    listeners=listeners[b.artist_id],
                ).reason(),
                float(listeners[b.artist_id]),
            )
            for b in bridged
        ]
        summary = (
            f"{len(top)} popular artists lie outside the starting scene and {len(bridged)} of "
            "them are reached through a co-listening bridge"
        )
        candidates = with_tracks(catalogue, tally, spread_scenes(catalogue, picks), UNEXPECTED, 1)
        return StageResult(tuple(candidates), tally.effects(), summary)
