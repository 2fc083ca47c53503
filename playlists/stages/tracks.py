"""Tracks of an artist: which of an artist's tracks a stage offers, most played first.

Stages that pick artists new to the listener (discovery, unexpected, popular) choose an artist
and its reason first, then offer the artist's most played tracks (by everyone's usable
listens). Artist-level data (HetRec) has no tracks: the artist itself is the entry.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple

from playlists.model import Candidate, Reason
from playlists.profile import Catalogue
from playlists.stages.base import Tally


class TrackRef(NamedTuple):
    track_id: int | None  # None: an artist-level entry
    title: str | None
    duration_ms: int | None


ARTIST_LEVEL = TrackRef(None, None, None)


@dataclass(frozen=True)
class Pick:
    """An artist a stage chose, with its reason and the number it was ranked by."""

    artist_id: int
    reason: Reason
    score: float


def top_tracks(
    catalogue: Catalogue, artist_ids: Sequence[int], per_artist: int | None
) -> dict[int, list[TrackRef]]:
    """Each artist's most played tracks over everyone's usable listens (all: None), most
    played first, ties by track id. Only these artists' tracks are read, and their plays
    come from `Catalogue.track_plays` (the model's counts while they still hold): a playlist
    asks for a few dozen artists, and the store may hold millions of listens of them."""
    ids = sorted({int(a) for a in artist_ids})
    found: dict[int, list[TrackRef]] = defaultdict(list)
    rows = catalogue.store.values_in(
        "tracks", "artist_id", ids, select="id, artist_id, title, duration_ms"
    )
    for track_id, artist_id, title, duration_ms in rows:
        found[int(artist_id)].append(TrackRef(int(track_id), title, duration_ms))
    # Plays only for artists with tracks (artist-level data such as HetRec's has none).
    plays = catalogue.track_plays(sorted(found)) if found else {}
    return {
        a: sorted(ts, key=lambda t: (-plays.get(t.track_id or 0, 0), t.track_id))[:per_artist]
        for a, ts in found.items()
    }


def interleave(per_artist: Sequence[Sequence[Candidate]]) -> list[Candidate]:
    """First picks of every artist in rank order, then second picks, and so on."""
    out: list[Candidate] = []
    depth = max((len(p) for p in per_artist), default=0)
    for i in range(depth):
        out.extend(p[i] for p in per_artist if len(p) > i)
    return out


def with_tracks(
    catalogue: Catalogue, tally: Tally, picks: Sequence[Pick], kind: str, per_artist: int
) -> list[Candidate]:
    """One candidate per offered track (or one artist-level entry) of each pick; tracks a
    curator rejected for the listener are left out, and so is an artist with none left.
    With the `playable` term on, only playable tracks are offered."""
    filtering = tally.profile.playable is not None
    ids = [p.artist_id for p in picks]
    tracks = top_tracks(catalogue, ids, None if filtering else per_artist)
    grouped = []
    for pick in picks:
        ranked = tracks.get(pick.artist_id) or [ARTIST_LEVEL]
        if filtering:
            ranked = [o for o in ranked if tally.playable(o.track_id)][:per_artist]
        options = [
            option for option in ranked if not tally.rejected(pick.artist_id, option.track_id)
        ]
        if not options:
            continue
        grouped.append(
            [
                Candidate(
                    artist_id=pick.artist_id,
                    artist=catalogue.names[pick.artist_id],
                    track_id=option.track_id,
                    title=option.title,
                    duration_ms=option.duration_ms,
                    kind=kind,
                    reason=pick.reason,
                    score=pick.score,
                )
                for option in options
            ]
        )
    return interleave(grouped)
