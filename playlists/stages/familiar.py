"""Familiar: the listener's own artists, strongest recent listening first (plays decayed by the
listener's half-life back from the model's reference time, and weighed by the moment's kernel
when the playlist is for a moment), their own most-played tracks, skipping tracks played in the
last `no_repeat_days`. Artists in a look-alike of a home scene are left out: they never stand in
for the listener's own scenes.

The listener's feedback (`recommender.feedback`): hated artists and tracks are left out; loved
tracks (and the tracks of a loved artist) come first, each artist's loved tracks before its
others; a track's weight is multiplied by 1 - its share of skipped plays (and an artist's by
1 - the share of its artist-level skips), and a track or artist skipped on more than
`SKIP_OUT_SHARE` of its plays is left out. A loved track the listener never played is not a
familiar pick (there is nothing of theirs to quote).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Any, NamedTuple, Protocol, TypeVar

from playlists.lazy import LazySequence
from playlists.model import FAMILIAR, Candidate
from playlists.profile import ArtistHistory, Catalogue, ListenerProfile, TrackHistory
from playlists.reasons import FamiliarEvidence, iso
from playlists.request import PlaylistRequest
from playlists.stages.base import StageResult, Tally
from recommender.feedback import Loved, skip_share, skipped_out

DAY = 86_400


class Ranked(Protocol):
    """What `by_recent_weight` ranks by."""

    @property
    def artist_id(self) -> int: ...

    @property
    def key(self) -> tuple[int, int | None]: ...

    @property
    def score(self) -> float: ...


R = TypeVar("R", bound=Ranked)


class _Draft(NamedTuple):
    """A familiar pick before its reason is written: all the ranking reads. A listener's
    history offers thousands; only those the assembly reads become candidates."""

    history: ArtistHistory
    track: TrackHistory | None
    score: float

    @property
    def artist_id(self) -> int:
        return self.history.artist_id

    @property
    def key(self) -> tuple[int, int | None]:
        return (self.history.artist_id, None if self.track is None else self.track.track_id)


class FamiliarStage:
    """The listener's own music (personalised only)."""

    kind = FAMILIAR
    personalised = True

    def propose(
        self, request: PlaylistRequest, profile: ListenerProfile, catalogue: Catalogue
    ) -> StageResult:
        tally = Tally(profile)
        feedback = profile.feedback
        cutoff = _recent_cutoff(profile.as_of, request.no_repeat_days)
        order = [h.artist_id for h in profile.strongest]
        seed = profile.seed_artist
        if seed is not None and seed in profile.history:
            order.remove(seed)
            order.insert(0, seed)
        per_artist: list[list[_Draft]] = []
        loved: set[tuple[int, int | None]] = set()
        for artist_id in profile.steer(order):
            h = profile.history[artist_id]
            if not tally.allowed(artist_id):
                continue
            if catalogue.scene_of(artist_id) in profile.avoid_scenes:
                tally.lookalike_left_out += 1
                continue
            artist_skips = feedback.artist_skips.get(artist_id, 0)
            if skipped_out(h.plays, artist_skips):
                tally.skipped_left_out += 1
                continue
            weight = h.weight * (1.0 - skip_share(h.plays, artist_skips))
            picks: list[_Draft] = []
            if not h.tracks and tally.playable(None) and not tally.rejected(artist_id, None):
                picks.append(_Draft(h, None, weight))
            for track in _tracks_in_order(h, profile):
                if len(picks) >= request.artist_cap:
                    break
                if not tally.playable(track.track_id) or tally.rejected(artist_id, track.track_id):
                    continue
                if cutoff is not None and track.last_played_at is not None:
                    if track.last_played_at >= cutoff:
                        tally.excluded_tracks += 1
                        continue
                skips = feedback.track_skips.get(track.track_id, 0)
                if skipped_out(track.plays, skips):
                    tally.skipped_left_out += 1
                    continue
                score = weight * (1.0 - skip_share(track.plays, skips))
                picks.append(_Draft(h, track, score))
            loved |= {d.key for d in picks if feedback.loved(*d.key)}
            per_artist.append(picks)
        first = {seed} | (profile.steer_tag_artists or set())
        ranked = by_recent_weight(per_artist, first, loved)
        # Reasons are written only for the candidates the assembly reads.
        candidates = LazySequence(
            len(ranked), lambda i: _candidate(*ranked[i], request, profile)
        )
        return StageResult(candidates, tally.effects())


def _tracks_in_order(h: ArtistHistory, profile: ListenerProfile) -> Sequence[TrackHistory]:
    """The artist's tracks: loved first, then by plays times 1 - their skip share (ties: as
    played, most first)."""
    feedback = profile.feedback
    if not feedback.track_opinions and not feedback.track_skips:
        # No track of the artist is loved or skipped on its own: every key is (same, -plays).
        # The tracks themselves, not a list of them: the caller reads the first few.
        return h.tracks

    def key(track: TrackHistory) -> tuple[bool, float]:
        skips = feedback.track_skips.get(track.track_id, 0)
        loved = feedback.loved(h.artist_id, track.track_id) is not None
        return (not loved, -track.plays * (1.0 - skip_share(track.plays, skips)))

    return sorted(h.tracks, key=key)  # stable: h.tracks is most played first


def _recent_cutoff(as_of: int | None, no_repeat_days: int) -> int | None:
    if as_of is None or no_repeat_days <= 0:
        return None
    return as_of - no_repeat_days * DAY


def by_recent_weight(
    per_artist: Sequence[Sequence[R]],
    first: set[int | None],
    loved: Collection[tuple[int, int | None]] = frozenset(),
) -> list[R]:
    """Familiar picks in order of recent listening, shared out like seats by D'Hondt.

    An artist's k-th pick ranks at recency_weight / k, so an artist played a lot lately gets
    its second track before an artist last played months ago gets its first. A plain
    round-robin would give every artist the listener ever played one track first, and a
    listener whose taste moved on would keep getting the music they left behind. Artists in
    `first` (the seed artist, artists with the steering tag) keep their place in front, then
    the `loved` picks (by the same ranking among themselves), then the rest.
    """
    ranked = [
        (c.artist_id not in first, c.key not in loved, -c.score / (depth + 1), order, depth, c)
        for order, picks in enumerate(per_artist)
        for depth, c in enumerate(picks)
    ]
    return [c for *_, c in sorted(ranked, key=lambda r: r[:5])]


def _loved(loved: Loved | None) -> dict[str, Any] | None:
    if loved is None:
        return None
    return {"at": iso(loved.at), "scope": loved.scope, "feedback_id": loved.feedback_id}


def _moment(h: ArtistHistory, profile: ListenerProfile) -> dict[str, Any] | None:
    moment = profile.moment
    if moment is None:
        return None
    out = {**moment.to_dict(), "weight": round(float(h.weight), 4)}
    if h.peak is not None and moment.matches(h.peak):
        out |= {
            "peak": h.peak.label,
            "peak_plays": h.peak.plays,
            "timed_plays": h.peak.timed_plays,
        }
    return out


def _candidate(
    h: ArtistHistory,
    track: TrackHistory | None,
    score: float,
    request: PlaylistRequest,
    profile: ListenerProfile,
) -> Candidate:
    feedback = profile.feedback
    track_id = None if track is None else track.track_id
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
        loved=_loved(feedback.loved(h.artist_id, track_id)),
        track_skips=0 if track_id is None else feedback.track_skips.get(track_id, 0),
        artist_skips=feedback.artist_skips.get(h.artist_id, 0),
        moment=_moment(h, profile),
    )
    return Candidate(
        artist_id=h.artist_id,
        artist=h.artist,
        track_id=track_id,
        title=None if track is None else track.title,
        duration_ms=None if track is None else track.duration_ms,
        kind=FAMILIAR,
        reason=evidence.reason(),
        score=score,
    )
