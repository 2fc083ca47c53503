"""Reasons: structured evidence for each track, and the one sentence rendered from it.

The candidate stage measures the numbers that choose a track and hands them here; this module
only arranges them into evidence and formats the sentence, so a reason can never say more than
what made the decision. Every number is re-derivable from the store with SQL.

The clock: "N days ago" is counted from the model's reference time (the newest listen in the
store, `recommender.interactions`), never from the wall clock, so the same store gives the same
sentence on any day. That reference time is stored in the evidence as `as_of` (ISO 8601 UTC)
next to the absolute timestamps.

Evidence keys (stored as `playlist_tracks.reason` = {"kind", "text", "evidence"}):

familiar
    artist, artist_id; plays (sum of `listens.plays` for this listener and artist, over the
    sources the listener lets us use); first_played_at, last_played_at (ISO UTC, null for
    timestamp-less data); track_plays (plays of the chosen track, null for artist-level data);
    track_last_played_at (ISO UTC or null); recency_weight (plays decayed by the listener's
    half-life, counted back from as_of); half_life_days; as_of.
discovery
    artist, artist_id; because_of: [{artist, artist_id, shared_listeners}] (the listener's own
    artists with the most distinct listeners in common with this one); scene: {id, name};
    model_score (the model's score for this listener and artist); model_rank (1 = the model's
    top artist for this listener, over the whole catalogue).
unexpected
    artist, artist_id; home_scene, target_scene: {id, name}; bridge: [{artist, artist_id}]
    from one of the listener's artists to this one, each step a co-listening edge;
    bridge_shared_listeners: distinct listeners shared by each consecutive pair of the bridge;
    model_score, model_rank.
non-personalised (playlist `personalised` is false; kinds discovery/unexpected)
    artist, artist_id; listeners (distinct listeners of the artist in the store); scene:
    {id, name}; personalised: false; for unexpected also home_scene, target_scene, bridge,
    bridge_shared_listeners as above.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from playlists.model import DISCOVERY, FAMILIAR, UNEXPECTED, Reason

DAY = 86_400


def iso(ts: int | None) -> str | None:
    """Unix seconds as ISO 8601 UTC (None stays None)."""
    if ts is None:
        return None
    return datetime.fromtimestamp(int(ts), UTC).isoformat(timespec="seconds")


def unix(text: str | None) -> int | None:
    if text is None:
        return None
    return int(datetime.fromisoformat(text).timestamp())


def scene_ref(scene_id: int | None, name: str | None) -> dict[str, Any]:
    return {"id": scene_id, "name": name}


def familiar_reason(
    *,
    artist: str,
    artist_id: int,
    plays: int,
    first_played_at: int | None,
    last_played_at: int | None,
    track_plays: int | None,
    track_last_played_at: int | None,
    recency_weight: float,
    half_life_days: float,
    as_of: int | None,
) -> Reason:
    evidence = {
        "artist": artist,
        "artist_id": artist_id,
        "plays": int(plays),
        "first_played_at": iso(first_played_at),
        "last_played_at": iso(last_played_at),
        "track_plays": None if track_plays is None else int(track_plays),
        "track_last_played_at": iso(track_last_played_at),
        "recency_weight": round(float(recency_weight), 4),
        "half_life_days": float(half_life_days),
        "as_of": iso(as_of),
    }
    return Reason(FAMILIAR, render(FAMILIAR, evidence), evidence)


def discovery_reason(
    *,
    artist: str,
    artist_id: int,
    because_of: Sequence[tuple[str, int, int]],
    scene: dict[str, Any],
    model_score: float,
    model_rank: int,
) -> Reason:
    evidence = {
        "artist": artist,
        "artist_id": artist_id,
        "because_of": [
            {"artist": name, "artist_id": int(aid), "shared_listeners": int(shared)}
            for name, aid, shared in because_of
        ],
        "scene": scene,
        "model_score": round(float(model_score), 4),
        "model_rank": int(model_rank),
    }
    return Reason(DISCOVERY, render(DISCOVERY, evidence), evidence)


def unexpected_reason(
    *,
    artist: str,
    artist_id: int,
    home_scene: dict[str, Any],
    target_scene: dict[str, Any],
    bridge: Sequence[tuple[str, int]],
    bridge_shared_listeners: Sequence[int],
    model_score: float | None,
    model_rank: int | None,
    listeners: int | None = None,
) -> Reason:
    evidence: dict[str, Any] = {
        "artist": artist,
        "artist_id": artist_id,
        "home_scene": home_scene,
        "target_scene": target_scene,
        "bridge": [{"artist": name, "artist_id": int(aid)} for name, aid in bridge],
        "bridge_shared_listeners": [int(n) for n in bridge_shared_listeners],
    }
    if listeners is None:
        evidence["model_score"] = None if model_score is None else round(float(model_score), 4)
        evidence["model_rank"] = None if model_rank is None else int(model_rank)
    else:
        evidence["listeners"] = int(listeners)
        evidence["personalised"] = False
    return Reason(UNEXPECTED, render(UNEXPECTED, evidence), evidence)


def popular_reason(*, artist: str, artist_id: int, listeners: int, scene: dict[str, Any]) -> Reason:
    """A non-personalised pick: chosen from the graph and popularity, nothing from history."""
    evidence = {
        "artist": artist,
        "artist_id": artist_id,
        "listeners": int(listeners),
        "scene": scene,
        "personalised": False,
    }
    return Reason(DISCOVERY, render(DISCOVERY, evidence), evidence)


# Rendering: formats evidence, never computes anything new ---------------------------------


def _ago(then: str | None, as_of: str | None) -> str:
    if then is None or as_of is None:
        return ""
    days = (unix(as_of) or 0) - (unix(then) or 0)
    days //= DAY
    if days <= 0:
        return ", last played today"
    if days == 1:
        return ", last played yesterday"
    return f", last {days} days ago"


def _names(names: Sequence[str]) -> str:
    if len(names) <= 1:
        return "".join(names)
    return ", ".join(names[:-1]) + " and " + names[-1]


def _scene_name(scene: Any) -> str:
    if isinstance(scene, dict) and scene.get("name"):
        return str(scene["name"])
    if isinstance(scene, dict) and scene.get("id") is not None:
        return f"scene {scene['id']}"
    return "an unnamed scene"


def render(kind: str, evidence: dict[str, Any]) -> str:
    """The sentence for `evidence` of `kind`."""
    artist = evidence["artist"]
    if evidence.get("personalised") is False:
        listeners = evidence["listeners"]
        if kind == UNEXPECTED:
            via = [step["artist"] for step in evidence["bridge"]][:-1]
            return (
                f"Not personalised: {listeners} listeners play {artist}, a step from "
                f"{_scene_name(evidence['home_scene'])} into "
                f"{_scene_name(evidence['target_scene'])} by way of {_names(via)} "
                f"({_counts(evidence)} shared listeners per step)"
            )
        return (
            f"Not personalised: {listeners} listeners play {artist}, "
            f"from {_scene_name(evidence['scene'])}"
        )
    if kind == FAMILIAR:
        plays = evidence["plays"]
        times = "once" if plays == 1 else f"{plays} times"
        text = f"You played {artist} {times}" + _ago(
            evidence.get("last_played_at"), evidence.get("as_of")
        )
        if evidence.get("track_plays"):
            track_plays = evidence["track_plays"]
            text += f" (this track {'once' if track_plays == 1 else f'{track_plays} times'})"
        return text
    if kind == DISCOVERY:
        because = evidence["because_of"]
        names = [b["artist"] for b in because]
        counts = [str(b["shared_listeners"]) for b in because]
        return (
            f"Listeners who play {_names(names)} also play {artist} "
            f"({_names(counts)} shared listeners), in your {_scene_name(evidence['scene'])}"
        )
    if kind == UNEXPECTED:
        home = _scene_name(evidence["home_scene"])
        target = _scene_name(evidence["target_scene"])
        path = [step["artist"] for step in evidence["bridge"]]
        if len(path) <= 2:
            start = path[0] if path else "your artists"
            return (
                f"A step outside your {home} into {target}: {artist} shares "
                f"{_counts(evidence)} listeners with {start}, one of yours"
            )
        return (
            f"A step outside your {home}: {target} listeners bridge to {artist} through "
            f"{_names(path[1:-1])} from your {path[0]} ({_counts(evidence)} shared listeners "
            "per step)"
        )
    raise ValueError(f"unknown reason kind {kind!r}")


def _counts(evidence: dict[str, Any]) -> str:
    return " -> ".join(str(n) for n in evidence["bridge_shared_listeners"])
