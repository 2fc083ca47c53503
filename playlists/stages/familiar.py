"""Familiar: the listener's own artists, strongest recent listening first (plays decayed by the
listener's half-life back from the model's reference time), their own most-played tracks,
skipping tracks played in the last `no_repeat_days`. Artists in a look-alike of a home scene
are left out: they never stand in for the listener's own scenes.
"""

from __future__ import annotations

from collections.abc import Sequence

from playlists.model import FAMILIAR, Candidate
from playlists.profile import ArtistHistory, Catalogue, ListenerProfile, TrackHistory
from playlists.reasons import FamiliarEvidence, iso
from playlists.request import PlaylistRequest
from playlists.stages.base import StageResult, Tally

DAY = 86_400


class FamiliarStage:
    """The listener's own music (personalised only)."""

    kind = FAMILIAR
    personalised = True

    def propose(
        self, request: PlaylistRequest, profile: ListenerProfile, catalogue: Catalogue
    ) -> StageResult:
        tally = Tally(profile)
        cutoff = _recent_cutoff(profile.as_of, request.no_repeat_days)
        order = [h.artist_id for h in profile.strongest]
        seed = profile.seed_artist
        if seed is not None and seed in profile.history:
            order.remove(seed)
            order.insert(0, seed)
        per_artist: list[list[Candidate]] = []
        for artist_id in profile.steer(order):
            h = profile.history[artist_id]
            if not tally.allowed(artist_id):
                continue
            if catalogue.scene_of(artist_id) in profile.avoid_scenes:
                tally.lookalike_left_out += 1
                continue
            picks: list[Candidate] = []
            if not h.tracks and tally.playable(None) and not tally.rejected(artist_id, None):
                picks.append(_candidate(h, None, request, profile))
            for track in h.tracks:
                if len(picks) >= request.artist_cap:
                    break
                if not tally.playable(track.track_id) or tally.rejected(artist_id, track.track_id):
                    continue
                if cutoff is not None and track.last_played_at is not None:
                    if track.last_played_at >= cutoff:
                        tally.excluded_tracks += 1
                        continue
                picks.append(_candidate(h, track, request, profile))
            per_artist.append(picks)
        first = {seed} | (profile.steer_tag_artists or set())
        return StageResult(tuple(by_recent_weight(per_artist, first)), tally.effects())


def _recent_cutoff(as_of: int | None, no_repeat_days: int) -> int | None:
    if as_of is None or no_repeat_days <= 0:
        return None
    return as_of - no_repeat_days * DAY


def by_recent_weight(
    per_artist: Sequence[Sequence[Candidate]], first: set[int | None]
) -> list[Candidate]:
    """Familiar picks in order of recent listening, shared out like seats by D'Hondt.

    An artist's k-th pick ranks at recency_weight / k, so an artist played a lot lately gets
    its second track before an artist last played months ago gets its first. A plain
    round-robin would give every artist the listener ever played one track first, and a
    listener whose taste moved on would keep getting the music they left behind. Artists in
    `first` (the seed artist, artists with the steering tag) keep their place in front.
    """
    ranked = [
        (c.artist_id not in first, -c.score / (depth + 1), order, depth, c)
        for order, picks in enumerate(per_artist)
        for depth, c in enumerate(picks)
    ]
    return [c for *_, c in sorted(ranked, key=lambda r: r[:4])]


def _candidate(
    h: ArtistHistory,
    track: TrackHistory | None,
    request: PlaylistRequest,
    profile: ListenerProfile,
) -> Candidate:
    evidence = FamiliarEvidence(
        artist=h.artist,
        artist_id=h.artist_id,
        plays=h.plays,
        first_played_at=iso(h.first_played_at),
        last_played_at=iso(h.last_played_at),
        track_plays=None if track is None else track.plays,
        track_last_played_at=None if track is None else iso(track.last_played_at),
        recency_weight=h.recency_weight,
        half_life_days=request.half_life_days,
        as_of=iso(profile.as_of),
    )
    return Candidate(
        artist_id=h.artist_id,
        artist=h.artist,
        track_id=None if track is None else track.track_id,
        title=None if track is None else track.title,
        duration_ms=None if track is None else track.duration_ms,
        kind=FAMILIAR,
        reason=evidence.reason(),
        score=h.recency_weight,
    )
