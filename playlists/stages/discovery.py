"""Discovery: artists new to the listener that the model scores well INSIDE the listener's
scenes, explained by the listener's artists they share the most listeners with (`because_of`).

An artist that looks like one of the listener's five strongest artists is left out, and so is
one whose every explanation is a link a curator rejected.

A link explains a pick only when enough listeners stand behind it for audiences of its size
(`strong_link`): at least `MIN_SHARED` shared listeners, and at least `MIN_COSINE` of the
geometric mean of the two audiences (sqrt(n_a * n_b), distinct listeners of each). Three shared
listeners between artists of 30 and 40 listeners is a link; three between artists of 300 and 400
is chance (it would need 18).

A seed artist the listener never played is proposed first, explained by the listener's
artists it shares listeners with, so it opens the playlist; the artists it shares enough
listeners with come next (those of its scene first), and each of them cites it first.
"""

from __future__ import annotations

import math

import numpy as np

from playlists.model import DISCOVERY
from playlists.profile import Catalogue, ListenerProfile
from playlists.reasons import DiscoveryEvidence, HeardWith
from playlists.request import PlaylistRequest
from playlists.stages.base import ANCHORS, StageResult, Tally
from playlists.stages.tracks import Pick, with_tracks

BECAUSE_OF = 2  # the listener's artists quoted as the reason
LOOKALIKE_ANCHORS = 5  # a look-alike of one of these is never a discovery
MIN_SHARED = 3  # shared listeners a link needs at the least...
MIN_COSINE = 0.05  # ...and this share of sqrt(audience a x audience b)


def strong_link(catalogue: Catalogue, a: int, b: int, shared: int) -> bool:
    """Whether `shared` listeners of artists a and b are enough to explain one by the other."""
    if shared < MIN_SHARED:
        return False
    # The audiences from the graph, like `shared`: one snapshot of the listening (the store's
    # counts may have moved on since the train), and no pass over the listens per playlist.
    graph = catalogue.graph
    return strong_enough(shared, graph.listeners_of(a), graph.listeners_of(b))


def strong_enough(shared: int, audience_a: int, audience_b: int) -> bool:
    """At least MIN_SHARED listeners, and MIN_COSINE of the audiences' geometric mean."""
    scale = math.sqrt(audience_a * audience_b)
    return shared >= MIN_SHARED and shared >= math.ceil(MIN_COSINE * scale)


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
        seed = profile.seed_artist
        if seed is not None and seed not in anchors:
            anchors.insert(0, seed)
        scenes = catalogue.scene_columns(model.artist_ids)
        inside = np.flatnonzero(
            np.isin(scenes, sorted(profile.home_scenes))
            & ~np.isin(scenes, sorted(profile.avoid_scenes))
            & ~np.isin(model.artist_ids, sorted(profile.history))
        )
        columns = inside[np.argsort(-model.values[inside], kind="stable")]
        column_ids = np.asarray(model.artist_ids)[columns].tolist()  # C speed, not per item
        ordered = profile.steer(column_ids)
        column_of = dict(zip(column_ids, columns.tolist(), strict=True))
        if profile.seed_is_new and seed is not None:
            # The seed opens the playlist, then the artists it explains, then the rest.
            near = [
                a
                for a in ordered
                if a != seed and strong_link(catalogue, seed, a, catalogue.shared(seed, a))
            ]
            seed_scene = catalogue.scene_of(seed)
            near.sort(key=lambda a: catalogue.scene_of(a) != seed_scene)  # its own scene first
            explained = set(near)
            rest = [a for a in ordered if a != seed and a not in explained]
            ordered = ([seed] if seed in column_of else []) + near + rest
        picks: list[Pick] = []
        shared_with = catalogue.shared_counter(anchors)
        for artist_id in ordered:
            if len(picks) >= limit:
                break
            if not tally.new_allowed(artist_id):
                continue
            if any(catalogue.lookalike(artist_id, a) for a in anchors[:LOOKALIKE_ANCHORS]):
                continue
            shared = shared_with(artist_id)
            heard = sorted(
                ((shared[a], a) for a in anchors if a != artist_id),
                key=lambda x: (-x[0], x[1]),
            )
            if profile.seed_is_new:
                # The listener asked for this seed: a pick it explains cites it first.
                heard.sort(key=lambda x: x[1] != seed)
            because = [
                (n, a)
                for n, a in heard
                if strong_link(catalogue, a, artist_id, n) and not tally.link_rejected(a, artist_id)
            ][:BECAUSE_OF]
            if not because:
                continue
            j = column_of[artist_id]
            evidence = DiscoveryEvidence(
                artist=catalogue.names[artist_id],
                artist_id=artist_id,
                because_of=tuple(HeardWith(catalogue.names[a], a, n) for n, a in because),
                scene=catalogue.scene_ref(catalogue.scene_of(artist_id)),
                model_score=float(model.values[j]),
                model_rank=model.rank(j),
            )
            picks.append(Pick(artist_id, evidence.reason(), float(model.values[j])))
        candidates = with_tracks(catalogue, tally, picks, DISCOVERY, request.artist_cap)
        return StageResult(tuple(candidates), tally.effects())
