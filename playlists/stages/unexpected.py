"""Unexpected: artists new to the listener OUTSIDE their scenes (and outside the look-alikes of
their scenes), in the top `UNEXPECTED_TOP_FRACTION` of the model's scores for them among
unheard artists, and reached through a real co-listening bridge from one of their artists in a
home scene. Artists no better known than the listener's own median artist are tried first
(`known_no_better`). Picks are spread over the scenes they come from, one track per artist.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from statistics import median

import numpy as np

from playlists.model import UNEXPECTED
from playlists.profile import Catalogue, ListenerProfile
from playlists.reasons import UnexpectedEvidence
from playlists.request import PlaylistRequest
from playlists.stages.base import ANCHORS, StageResult, Tally, best_first_lazily, best_mask
from playlists.stages.bridges import reach, spread_scenes
from playlists.stages.tracks import Pick, with_tracks

UNEXPECTED_TOP_FRACTION = 0.5  # "still scored well": top half of the unheard artists


def known_no_better(known: np.ndarray, own: Sequence[int]) -> np.ndarray:
    """Which candidates (`known`: their listeners) are at most as well known as the
    listener's own median artist (`own`: the listeners of each of their artists); these are
    tried first, the better-known after, each part in its order: a surprise should be a
    discovery, not the catalogue's best-known artist (bench/surprise_bench.py). The
    candidates are the same, so a playlist that could be made still can."""
    if not len(own):
        return np.ones(len(known), dtype=bool)
    low: np.ndarray = np.asarray(known) <= median(own)
    return low


def spare(wanted: int) -> int:
    """How many bridged artists to look for: spares beyond `wanted` leave room for spreading
    the picks over scenes and for an artist the assembly cannot use."""
    return 2 * wanted + 2


class UnexpectedStage:
    """Scored well, from another scene, reached by a bridge (personalised only)."""

    kind = UNEXPECTED
    personalised = True

    def propose(
        self, request: PlaylistRequest, profile: ListenerProfile, catalogue: Catalogue
    ) -> StageResult:
        tally = Tally(profile)
        model = profile.scores
        home = profile.home_scenes
        starts = [h.artist_id for h in profile.liked if catalogue.scene_of(h.artist_id) in home][
            :ANCHORS
        ]
        scenes = catalogue.scene_columns(model.artist_ids)
        unheard = ~np.isin(model.artist_ids, sorted(profile.history))
        k = max(1, int(np.count_nonzero(unheard) * UNEXPECTED_TOP_FRACTION))
        top = np.zeros(len(unheard), dtype=bool)
        top[np.flatnonzero(unheard)[best_mask(model.values[unheard], k)]] = True
        outside = top & (scenes >= 0) & ~np.isin(scenes, sorted(home | profile.avoid_scenes))
        ids = np.asarray(model.artist_ids)
        # The order, as masks and then a lazily sorted front: there may be tens of thousands
        # of candidates, and the bridge search reads the first few dozen of them. Artists no
        # better known than the listener's median first, within that those carrying --tag,
        # within that by score (ties: column order).
        low = known_no_better(
            catalogue.audience_columns(ids),
            catalogue.audience_columns(list(profile.history)).tolist(),
        )
        tagged = profile.steered(ids)
        groups = [outside & low & tagged, outside & low & ~tagged]
        groups += [outside & ~low & tagged, outside & ~low & ~tagged]
        column_of: dict[int, int] = {}

        def order() -> Iterator[int]:
            for group in groups:
                for j in best_first_lazily(model.values, np.flatnonzero(group)):
                    column_of[int(ids[j])] = j
                    yield int(ids[j])

        wanted = spare(request.mix.most(UNEXPECTED))
        bridged = reach(catalogue, tally, order(), starts, profile.avoid_scenes, wanted)
        picks = []
        for b in bridged:
            j = column_of[b.artist_id]
            evidence = UnexpectedEvidence(
                artist=catalogue.names[b.artist_id],
                artist_id=b.artist_id,
                route=b.route(catalogue),
                model_score=float(model.values[j]),
                model_rank=model.rank(j),
            )
            picks.append(Pick(b.artist_id, evidence.reason(), float(model.values[j])))
        summary = (
            f"{np.count_nonzero(outside)} artists outside your scenes are in the model's top "
            f"{UNEXPECTED_TOP_FRACTION:.0%} for you and {len(bridged)} of them are reached "
            "through a co-listening bridge"
        )
        if profile.seed_scene is not None and profile.seed_artist is not None:
            summary += (
                f" (the seed artist {catalogue.names.get(profile.seed_artist, '')} made "
                f"{catalogue.scene_names.get(profile.seed_scene, 'its scene')} one of your "
                "scenes, so its artists are not unexpected picks; a seed from one of your own "
                "scenes keeps them)"
            )
        candidates = with_tracks(catalogue, tally, spread_scenes(catalogue, picks), UNEXPECTED, 1)
        return StageResult(tuple(candidates), tally.effects(), summary)
