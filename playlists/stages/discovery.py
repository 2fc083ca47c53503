"""Discovery: artists new to the listener that the model scores well INSIDE the listener's
scenes, explained by the listener's artists they share the most listeners with (`because_of`).

An artist that looks like one of the listener's five strongest artists is left out, and so is
one whose every explanation is a link a curator rejected.
"""

from __future__ import annotations

import numpy as np

from playlists.model import DISCOVERY
from playlists.profile import Catalogue, ListenerProfile
from playlists.reasons import DiscoveryEvidence, HeardWith
from playlists.request import PlaylistRequest
from playlists.stages.base import ANCHORS, StageResult, Tally
from playlists.stages.tracks import Pick, with_tracks

BECAUSE_OF = 2  # the listener's artists quoted as the reason
LOOKALIKE_ANCHORS = 5  # a look-alike of one of these is never a discovery


class DiscoveryStage:
    """New artists from the listener's own scenes (personalised only)."""

    kind = DISCOVERY
    personalised = True

    def propose(
        self, request: PlaylistRequest, profile: ListenerProfile, catalogue: Catalogue
    ) -> StageResult:
        tally = Tally(profile)
        model = profile.scores
        limit = 2 * request.length
        anchors = [h.artist_id for h in profile.liked[:ANCHORS]]
        if profile.seed_artist is not None and profile.seed_artist not in anchors:
            anchors.insert(0, profile.seed_artist)
        scenes = catalogue.scene_columns(model.artist_ids)
        inside = np.flatnonzero(
            np.isin(scenes, sorted(profile.home_scenes))
            & ~np.isin(scenes, sorted(profile.avoid_scenes))
            & ~np.isin(model.artist_ids, sorted(profile.history))
        )
        columns = inside[np.argsort(-model.values[inside], kind="stable")]
        ordered = [int(model.artist_ids[j]) for j in columns]
        column_of = {int(model.artist_ids[j]): int(j) for j in columns}
        picks: list[Pick] = []
        for artist_id in profile.steer(ordered):
            if len(picks) >= limit:
                break
            if not tally.new_allowed(artist_id):
                continue
            if any(catalogue.lookalike(artist_id, a) for a in anchors[:LOOKALIKE_ANCHORS]):
                continue
            heard = sorted(
                ((catalogue.shared(a, artist_id), a) for a in anchors),
                key=lambda x: (-x[0], x[1]),
            )
            because = [(n, a) for n, a in heard if n > 0 and not tally.link_rejected(a, artist_id)][
                :BECAUSE_OF
            ]
            if not because:
                continue
            j = column_of[artist_id]
            evidence = DiscoveryEvidence(
                artist=catalogue.names[artist_id],
                artist_id=artist_id,
                because_of=tuple(HeardWith(catalogue.names[a], a, n) for n, a in because),
                scene=catalogue.scene_ref(catalogue.scene_of(artist_id)),
                model_score=float(model.values[j]),
                model_rank=int(model.ranks[j]),
            )
            picks.append(Pick(artist_id, evidence.reason(), float(model.values[j])))
        candidates = with_tracks(catalogue, tally, picks, DISCOVERY, request.artist_cap)
        return StageResult(tuple(candidates), tally.effects())
