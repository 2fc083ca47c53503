"""Reasons: one evidence class per reason kind, each rendering its own sentence.

A candidate stage measures the numbers that choose a track and puts them in an evidence object;
the object only arranges them (`to_dict`) and formats the sentence (`text`), so a reason can
never say more than what made the decision. Every number is re-derivable from the store.

The clock: "N days ago" is counted from the model's reference time (the newest listen in the
store, `recommender.interactions`), never from the wall clock, so the same store gives the same
sentence on any day. That reference time is stored in the evidence as `as_of` (ISO 8601 UTC)
next to the absolute timestamps.

Evidence keys (stored as `playlist_tracks.reason` = {"kind", "text", "evidence"}):

familiar (`FamiliarEvidence`)
    artist, artist_id; plays (sum of `listens.plays` for this listener and artist, over the
    sources the listener lets us use); first_played_at, last_played_at (ISO UTC, null for
    timestamp-less data); track_plays (plays of the chosen track, null for artist-level data);
    track_last_played_at (ISO UTC or null); recency_weight (plays decayed by the listener's
    half-life, counted back from as_of); half_life_days; as_of.
    Only when the listener's feedback or a moment is behind the pick (`recommender.feedback`,
    every number a count or time from the `feedback` table):
    loved: {at (ISO UTC), scope ("track": this track was loved; "artist": the artist was),
    feedback_id} when a love in force put the pick first; track_skips (skip rows for this
    track) and artist_skips (artist-level skip rows) when non-zero; moment: {context, hour,
    weekend, time_zone, at (the moment asked for, see `playlists.moment`), weight (the
    artist's plays faded and weighed by the moment's kernel), and when the artist's peak part
    of the week is this moment's: peak ("weekday mornings"), peak_plays (the artist's timed
    plays in that part of the week, in the listener's time zone), timed_plays}.
discovery (`DiscoveryEvidence`)
    artist, artist_id; because_of: [{artist, artist_id, shared_listeners}] (the listener's own
    artists with the most distinct listeners in common with this one); scene: {id, name};
    model_score (the model's score for this listener and artist; for a playlist made for a
    moment, blended with the moment's fold-in, `playlists.profile.moment_scores`); model_rank
    (1 = the model's top artist for this listener, over the whole catalogue).
unexpected (`UnexpectedEvidence`)
    artist, artist_id; home_scene, target_scene: {id, name}; bridge: [{artist, artist_id}]
    from one of the listener's artists to this one, each step a co-listening edge;
    bridge_shared_listeners: distinct listeners shared by each consecutive pair of the bridge;
    model_score, model_rank.
non-personalised (playlist `personalised` is false; kinds discovery/unexpected)
    `PopularEvidence` (discovery): artist, artist_id; listeners (distinct listeners of the
    artist in the store); scene: {id, name}; personalised: false.
    `PopularUnexpectedEvidence` (unexpected): artist, artist_id; home_scene, target_scene,
    bridge, bridge_shared_listeners as above; listeners; personalised: false.

A new kind brings its own evidence class (a subclass of `Evidence`); see the README's
"Developer guide: adding a candidate kind".
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any, ClassVar

from playlists.errors import UnknownKind
from playlists.model import DISCOVERY, FAMILIAR, UNEXPECTED, Reason

DAY = 86_400


@lru_cache(maxsize=65_536)  # a playlist's reasons quote the same few thousand times many times
def iso(ts: int | None) -> str | None:
    """Unix seconds as ISO 8601 UTC (None stays None)."""
    if ts is None:
        return None
    return datetime.fromtimestamp(int(ts), UTC).isoformat(timespec="seconds")


@lru_cache(maxsize=65_536)
def unix(text: str | None) -> int | None:
    if text is None:
        return None
    return int(datetime.fromisoformat(text).timestamp())


# Pieces of evidence ------------------------------------------------------------------------


@dataclass(frozen=True)
class SceneRef:
    """A scene as a reason names it: its id and readable name (both None for no scene)."""

    id: int | None
    name: str | None

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> SceneRef:
        data = data or {}
        scene_id = data.get("id")
        return cls(None if scene_id is None else int(scene_id), data.get("name"))

    def label(self) -> str:
        if self.name:
            return self.name
        if self.id is not None:
            return f"scene {self.id}"
        return "an unnamed scene"


@dataclass(frozen=True)
class HeardWith:
    """One of the listener's artists that explains a discovery, with the listeners they share."""

    artist: str
    artist_id: int
    shared_listeners: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "artist": self.artist,
            "artist_id": int(self.artist_id),
            "shared_listeners": int(self.shared_listeners),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> HeardWith:
        return cls(str(data["artist"]), int(data["artist_id"]), int(data["shared_listeners"]))


@dataclass(frozen=True)
class Step:
    """One artist on a bridge."""

    artist: str
    artist_id: int

    def to_dict(self) -> dict[str, Any]:
        return {"artist": self.artist, "artist_id": int(self.artist_id)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Step:
        return cls(str(data["artist"]), int(data["artist_id"]))


# The evidence classes ----------------------------------------------------------------------


class Evidence(ABC):
    """The numbers behind one pick of one kind; renders the sentence a listener reads."""

    kind: ClassVar[str]

    @abstractmethod
    def to_dict(self) -> dict[str, Any]:
        """The stored evidence (JSON-ready, keys as documented above)."""

    @abstractmethod
    def text(self) -> str:
        """The sentence, formatted from the evidence alone."""

    def reason(self) -> Reason:
        return Reason(self.kind, self.text(), self.to_dict())


@dataclass(frozen=True)
class FamiliarEvidence(Evidence):
    """The listener's own artist: their plays of it and of the chosen track."""

    kind: ClassVar[str] = FAMILIAR

    artist: str
    artist_id: int
    plays: int
    first_played_at: str | None
    last_played_at: str | None
    track_plays: int | None
    track_last_played_at: str | None
    recency_weight: float
    half_life_days: float
    as_of: str | None
    loved: Mapping[str, Any] | None = None
    track_skips: int = 0
    artist_skips: int = 0
    moment: Mapping[str, Any] | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "recency_weight", round(float(self.recency_weight), 4))

    def to_dict(self) -> dict[str, Any]:
        return {**self._listening(), **self._told()}

    def _told(self) -> dict[str, Any]:
        """The optional keys: feedback and the moment, only when they are behind the pick."""
        out: dict[str, Any] = {}
        if self.loved is not None:
            out["loved"] = dict(self.loved)
        if self.track_skips:
            out["track_skips"] = int(self.track_skips)
        if self.artist_skips:
            out["artist_skips"] = int(self.artist_skips)
        if self.moment is not None:
            out["moment"] = dict(self.moment)
        return out

    def _listening(self) -> dict[str, Any]:
        return {
            "artist": self.artist,
            "artist_id": int(self.artist_id),
            "plays": int(self.plays),
            "first_played_at": self.first_played_at,
            "last_played_at": self.last_played_at,
            "track_plays": None if self.track_plays is None else int(self.track_plays),
            "track_last_played_at": self.track_last_played_at,
            "recency_weight": self.recency_weight,
            "half_life_days": float(self.half_life_days),
            "as_of": self.as_of,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> FamiliarEvidence:
        track_plays = data.get("track_plays")
        return cls(
            artist=str(data["artist"]),
            artist_id=int(data["artist_id"]),
            plays=int(data["plays"]),
            first_played_at=data.get("first_played_at"),
            last_played_at=data.get("last_played_at"),
            track_plays=None if track_plays is None else int(track_plays),
            track_last_played_at=data.get("track_last_played_at"),
            recency_weight=float(data["recency_weight"]),
            half_life_days=float(data["half_life_days"]),
            as_of=data.get("as_of"),
            loved=data.get("loved"),
            track_skips=int(data.get("track_skips") or 0),
            artist_skips=int(data.get("artist_skips") or 0),
            moment=data.get("moment"),
        )

    def text(self) -> str:
        text = f"You played {self.artist} {_times(self.plays)}"
        text += _ago(self.last_played_at, self.as_of)
        if self.track_plays:
            text += f" (this track {_times(self.track_plays)})"
        if self.loved is not None:
            what = "this" if self.loved.get("scope") == "track" else self.artist
            at = self.loved.get("at")
            text += f"; you loved {what}" + (f" on {str(at)[:10]}" if at else "")
        if self.track_skips:
            text += f"; you skipped it {_times(self.track_skips)}"
        if self.artist_skips:
            text += f"; you skipped {self.artist} {_times(self.artist_skips)}"
        if self.moment is not None and self.moment.get("peak"):
            text += f"; you play {self.artist} most on {self.moment['peak']}"
        return text


@dataclass(frozen=True)
class DiscoveryEvidence(Evidence):
    """A new artist in the listener's scenes, heard with their own artists, scored by the model."""

    kind: ClassVar[str] = DISCOVERY

    artist: str
    artist_id: int
    because_of: tuple[HeardWith, ...]
    scene: SceneRef
    model_score: float
    model_rank: int

    def __post_init__(self) -> None:
        object.__setattr__(self, "model_score", round(float(self.model_score), 4))

    def to_dict(self) -> dict[str, Any]:
        return {
            "artist": self.artist,
            "artist_id": int(self.artist_id),
            "because_of": [b.to_dict() for b in self.because_of],
            "scene": self.scene.to_dict(),
            "model_score": self.model_score,
            "model_rank": int(self.model_rank),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> DiscoveryEvidence:
        return cls(
            artist=str(data["artist"]),
            artist_id=int(data["artist_id"]),
            because_of=tuple(HeardWith.from_dict(b) for b in data["because_of"]),
            scene=SceneRef.from_dict(data.get("scene")),
            model_score=float(data["model_score"]),
            model_rank=int(data["model_rank"]),
        )

    def text(self) -> str:
        names = [b.artist for b in self.because_of]
        counts = [str(b.shared_listeners) for b in self.because_of]
        return (
            f"Listeners who play {_names(names)} also play {self.artist} "
            f"({_names(counts)} shared listeners), in your {self.scene.label()}"
        )


@dataclass(frozen=True)
class Route:
    """How an unexpected pick is reached: the scenes left and entered, and the bridge from one
    of the listener's (or the starting scene's) artists, each step a co-listening edge."""

    home_scene: SceneRef
    target_scene: SceneRef
    bridge: tuple[Step, ...]
    bridge_shared_listeners: tuple[int, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "home_scene": self.home_scene.to_dict(),
            "target_scene": self.target_scene.to_dict(),
            "bridge": [s.to_dict() for s in self.bridge],
            "bridge_shared_listeners": [int(n) for n in self.bridge_shared_listeners],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Route:
        return cls(
            home_scene=SceneRef.from_dict(data.get("home_scene")),
            target_scene=SceneRef.from_dict(data.get("target_scene")),
            bridge=tuple(Step.from_dict(s) for s in data["bridge"]),
            bridge_shared_listeners=tuple(int(n) for n in data["bridge_shared_listeners"]),
        )

    def counts(self) -> str:
        return " -> ".join(str(n) for n in self.bridge_shared_listeners)


@dataclass(frozen=True)
class UnexpectedEvidence(Evidence):
    """A new artist outside the listener's scenes, reached by a bridge, scored by the model."""

    kind: ClassVar[str] = UNEXPECTED

    artist: str
    artist_id: int
    route: Route
    model_score: float | None
    model_rank: int | None

    def __post_init__(self) -> None:
        if self.model_score is not None:
            object.__setattr__(self, "model_score", round(float(self.model_score), 4))

    def to_dict(self) -> dict[str, Any]:
        return {
            "artist": self.artist,
            "artist_id": int(self.artist_id),
            **self.route.to_dict(),
            "model_score": self.model_score,
            "model_rank": None if self.model_rank is None else int(self.model_rank),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> UnexpectedEvidence:
        score, rank = data.get("model_score"), data.get("model_rank")
        return cls(
            artist=str(data["artist"]),
            artist_id=int(data["artist_id"]),
            route=Route.from_dict(data),
            model_score=None if score is None else float(score),
            model_rank=None if rank is None else int(rank),
        )

    def text(self) -> str:
        home, target = self.route.home_scene.label(), self.route.target_scene.label()
        path = [step.artist for step in self.route.bridge]
        counts = self.route.counts()
        if len(path) <= 2:
            start = path[0] if path else "your artists"
            return (
                f"A step outside your {home} into {target}: {self.artist} shares "
                f"{counts} listeners with {start}, one of yours"
            )
        return (
            f"A step outside your {home}: {target} listeners bridge to {self.artist} through "
            f"{_names(path[1:-1])} from your {path[0]} ({counts} shared listeners "
            "per step)"
        )


@dataclass(frozen=True)
class PopularEvidence(Evidence):
    """A non-personalised pick from the starting scene: popularity alone, nothing from history."""

    kind: ClassVar[str] = DISCOVERY

    artist: str
    artist_id: int
    listeners: int
    scene: SceneRef

    def to_dict(self) -> dict[str, Any]:
        return {
            "artist": self.artist,
            "artist_id": int(self.artist_id),
            "listeners": int(self.listeners),
            "scene": self.scene.to_dict(),
            "personalised": False,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> PopularEvidence:
        return cls(
            artist=str(data["artist"]),
            artist_id=int(data["artist_id"]),
            listeners=int(data["listeners"]),
            scene=SceneRef.from_dict(data.get("scene")),
        )

    def text(self) -> str:
        return (
            f"Not personalised: {self.listeners} listeners play {self.artist}, "
            f"from {self.scene.label()}"
        )


@dataclass(frozen=True)
class PopularUnexpectedEvidence(Evidence):
    """A non-personalised pick from another scene, reached by a bridge from the starting one."""

    kind: ClassVar[str] = UNEXPECTED

    artist: str
    artist_id: int
    route: Route
    listeners: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "artist": self.artist,
            "artist_id": int(self.artist_id),
            **self.route.to_dict(),
            "listeners": int(self.listeners),
            "personalised": False,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> PopularUnexpectedEvidence:
        return cls(
            artist=str(data["artist"]),
            artist_id=int(data["artist_id"]),
            route=Route.from_dict(data),
            listeners=int(data["listeners"]),
        )

    def text(self) -> str:
        via = [step.artist for step in self.route.bridge][:-1]
        return (
            f"Not personalised: {self.listeners} listeners play {self.artist}, a step from "
            f"{self.route.home_scene.label()} into {self.route.target_scene.label()} by way "
            f"of {_names(via)} ({self.route.counts()} shared listeners per step)"
        )


def evidence_from(kind: str, data: Mapping[str, Any]) -> Evidence:
    """The evidence object of a stored reason of a built-in kind."""
    if data.get("personalised") is False:
        if kind == UNEXPECTED:
            return PopularUnexpectedEvidence.from_dict(data)
        return PopularEvidence.from_dict(data)
    if kind == FAMILIAR:
        return FamiliarEvidence.from_dict(data)
    if kind == DISCOVERY:
        return DiscoveryEvidence.from_dict(data)
    if kind == UNEXPECTED:
        return UnexpectedEvidence.from_dict(data)
    raise UnknownKind(
        f"no built-in reason kind {kind!r}: a stage's own kind renders with its evidence class"
    )


def render(kind: str, evidence: Mapping[str, Any]) -> str:
    """The sentence for stored `evidence` of a built-in `kind`."""
    return evidence_from(kind, evidence).text()


# Formatting helpers: they format, never compute anything new -------------------------------


def _times(n: int) -> str:
    return "once" if n == 1 else f"{n} times"


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
