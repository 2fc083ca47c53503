"""Candidate stages: what each kind of pick may be, each with its reason attached.

- familiar: the listener's own artists, strongest recent listening first (plays decayed by the
  listener's half-life back from the model's reference time), their own most-played tracks,
  skipping tracks played in the last `no_repeat_days`.
- discovery: artists new to the listener that the model scores well INSIDE the listener's
  scenes; `because_of` = the listener's artists with the most listeners in common.
- unexpected: artists new to the listener OUTSIDE their scenes (and outside the look-alikes of
  their scenes), in the top `UNEXPECTED_TOP_FRACTION` of the model's scores for them among
  unheard artists, and reached through a real co-listening bridge in the artist graph.
- non-personalised (no history, opted out, or unknown to the model): popular artists of a
  scene (discovery) and bridged popular artists of other scenes (unexpected); nothing from the
  listener's history is read.

Look-alike scenes (same tags, disjoint audiences) never stand in for the listener's own: an
artist in a look-alike of a home scene is never familiar or discovery, and never evidence.

Curator verdicts (`playlists.review.blocked_for`): a track rejected for this listener is never
a candidate; a rejected "A explains B" link is never evidence: a discovery keeps only its
other `because_of` artists and a bridge is looked for again from other starts, and the
candidate is dropped when no explanation remains.
"""

from __future__ import annotations

import weakref
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from playlists import reasons
from playlists.model import DISCOVERY, FAMILIAR, UNEXPECTED, Candidate
from playlists.review import Blocks
from recommender.errors import TastemakerError
from recommender.interactions import decay
from recommender.listens import artist_listeners, own_listens, track_plays, usable_version
from recommender.store import Store

DAY = 86_400
UNEXPECTED_TOP_FRACTION = 0.5  # "still scored well": top half of the unheard artists
HOME_SCENE_SHARE = 0.15  # a scene is home when it holds this share of recent listening
HOME_MIN_ARTISTS = 3  # ...across this many of its artists: one bridge artist is not a home
BRIDGE_MAX_STEPS = 3  # as ArtistGraph.bridge: longer chains explain nothing
ANCHORS = 15  # the listener's strongest artists used as evidence and bridge starts


class GraphView(Protocol):
    """The parts of `recommender.graph.ArtistGraph` the candidate stages use."""

    @property
    def scenes(self) -> Sequence[Any]: ...

    def scene_of(self, artist_id: int) -> int | None: ...

    def is_lookalike(self, a: int, b: int) -> bool: ...

    def shared_listeners(self, a: int, b: int) -> int: ...

    def bridge(self, from_artists: Iterable[int], to_artist: int) -> Any | None: ...


@dataclass(frozen=True)
class TrackHistory:
    track_id: int
    title: str
    duration_ms: int | None
    plays: int
    last_played_at: int | None


@dataclass(frozen=True)
class ArtistHistory:
    """One artist in the listener's history: the numbers a familiar reason quotes."""

    artist_id: int
    artist: str
    plays: int
    first_played_at: int | None
    last_played_at: int | None
    recency_weight: float
    tracks: tuple[TrackHistory, ...]


@dataclass
class Context:
    """Everything the stages share for one playlist request."""

    store: Store
    graph: GraphView
    names: dict[int, str]
    as_of: int | None
    half_life_days: float
    no_repeat_days: int
    artist_cap: int
    history: dict[int, ArtistHistory] = field(default_factory=dict)
    scores: np.ndarray | None = None  # aligned with `artist_ids`
    artist_ids: np.ndarray | None = None
    excluded_artists: set[int] = field(default_factory=set)
    excluded_by_tag: set[int] = field(default_factory=set)
    steer_tag_artists: set[int] | None = None
    seed_artist: int | None = None
    blocks: Blocks = field(default_factory=Blocks)
    links_avoided: set[tuple[int, int]] = field(default_factory=set)
    effects: Counter[str] = field(default_factory=Counter)
    _scene_names: dict[int, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for scene in self.graph.scenes:
            self._scene_names[int(scene.id)] = scene_label(scene)

    def scene_of(self, artist_id: int) -> int | None:
        """The artist's scene; None for an artist the graph does not know (imported later)."""
        try:
            return self.graph.scene_of(artist_id)
        except TastemakerError:
            return None

    def shared(self, a: int, b: int) -> int:
        try:
            return int(self.graph.shared_listeners(a, b))
        except TastemakerError:
            return 0

    def lookalike(self, a: int, b: int) -> bool:
        try:
            return bool(self.graph.is_lookalike(a, b))
        except TastemakerError:
            return False

    def scene(self, scene_id: int | None) -> dict[str, Any]:
        if scene_id is None:
            return reasons.scene_ref(None, None)
        return reasons.scene_ref(int(scene_id), self._scene_names.get(int(scene_id)))

    def allowed(self, artist_id: int) -> bool:
        """Not excluded by the listener's terms (and counted when it is)."""
        if artist_id in self.excluded_artists:
            self.effects["excluded_artists"] += 1
            return False
        if artist_id in self.excluded_by_tag:
            self.effects["excluded_tags"] += 1
            return False
        return True

    def rejected(self, artist_id: int, track_id: int | None) -> bool:
        """Rejected for this listener by a curator (and counted when it is)."""
        if self.blocks.blocks_entry(artist_id, track_id):
            self.effects["curator_rejected"] += 1
            return True
        return False

    def link_rejected(self, a: int, b: int) -> bool:
        """A curator rejected "a explains b" (remembered when it is)."""
        if self.blocks.blocks_link(a, b):
            self.links_avoided.add((min(a, b), max(a, b)))
            return True
        return False

    def steer(self, artist_ids: list[int]) -> list[int]:
        """With --tag, artists carrying the tag come first (order kept otherwise)."""
        if self.steer_tag_artists is None:
            return artist_ids
        tagged = self.steer_tag_artists
        return sorted(artist_ids, key=lambda a: a not in tagged)


def scene_label(scene: Any) -> str:
    """A readable scene name: its own name if the graph gives one, else its leading tags."""
    name = getattr(scene, "name", None)
    if name:
        return str(name)
    tags = [str(t) for t in getattr(scene, "tags", [])][:2]
    return " / ".join(tags) if tags else f"scene {scene.id}"


# History -----------------------------------------------------------------------------------


def listener_history(
    store: Store,
    listener_id: int,
    *,
    ignore_sources: Sequence[str],
    half_life_days: float,
    as_of: int | None,
) -> dict[int, ArtistHistory]:
    """The listener's listens per artist and track, from the sources they let us use."""
    rows = [
        (r.artist_id, r.artist, r.track_id, r.title, r.duration_ms, r.listened_at, r.plays)
        for r in own_listens(store, listener_id, ignore_sources=ignore_sources)
    ]
    if not rows:
        return {}
    when = np.array([np.nan if r[5] is None else float(r[5]) for r in rows])
    plays = np.array([float(r[6]) for r in rows])
    weights = plays if as_of is None else plays * decay(as_of - when, np.array(half_life_days))
    per_artist: dict[int, dict[str, Any]] = {}
    per_track: dict[tuple[int, int], list[Any]] = {}
    for (artist_id, name, track_id, title, duration, listened_at, n), w in zip(
        rows, weights, strict=True
    ):
        entry = per_artist.setdefault(
            artist_id, {"name": name, "plays": 0, "first": None, "last": None, "weight": 0.0}
        )
        entry["plays"] += int(n)
        entry["weight"] += float(w)
        if listened_at is not None:
            first, last = entry["first"], entry["last"]
            entry["first"] = listened_at if first is None else min(first, listened_at)
            entry["last"] = listened_at if last is None else max(last, listened_at)
        if track_id is not None:
            track = per_track.setdefault((artist_id, track_id), [title, duration, 0, None])
            track[2] += int(n)
            if listened_at is not None:
                track[3] = listened_at if track[3] is None else max(track[3], listened_at)
    tracks: dict[int, list[TrackHistory]] = defaultdict(list)
    for (artist_id, track_id), (title, duration, n, last) in per_track.items():
        tracks[artist_id].append(TrackHistory(track_id, title, duration, n, last))
    return {
        artist_id: ArtistHistory(
            artist_id=artist_id,
            artist=e["name"],
            plays=e["plays"],
            first_played_at=e["first"],
            last_played_at=e["last"],
            recency_weight=e["weight"],
            tracks=tuple(sorted(tracks[artist_id], key=lambda t: (-t.plays, t.track_id))),
        )
        for artist_id, e in per_artist.items()
    }


def strongest(ctx: Context) -> list[ArtistHistory]:
    """The listener's artists, strongest recent listening first."""
    return sorted(ctx.history.values(), key=lambda h: (-h.recency_weight, h.artist_id))


def home_scenes(ctx: Context) -> set[int]:
    """The listener's scenes: at least HOME_SCENE_SHARE of their recent listening, spread over
    at least HOME_MIN_ARTISTS of the scene's artists (else the single strongest scene).

    A bridge artist the listener loves does not make its whole scene theirs: that scene stays
    a place for unexpected picks, reached through that very artist.
    """
    weight: dict[int, float] = defaultdict(float)
    artists: Counter[int] = Counter()
    for h in ctx.history.values():
        scene = ctx.scene_of(h.artist_id)
        if scene is not None:
            weight[scene] += h.recency_weight
            artists[scene] += 1
    total = sum(weight.values())
    if not total:
        return set()
    home = {
        s
        for s, w in weight.items()
        if w >= HOME_SCENE_SHARE * total and artists[s] >= HOME_MIN_ARTISTS
    }
    return home or {max(weight, key=lambda s: weight[s])}


def lookalike_scenes(graph: GraphView, home: set[int], names: dict[int, str]) -> set[int]:
    """Scenes that look like a home scene but whose audiences do not meet."""
    own = getattr(graph, "lookalike_scenes", None)
    if callable(own):
        return {int(s) for h in home for s in own(h)} - home
    # A graph without scene-level look-alikes: compare the scenes' leading artists.
    by_id = {int(s.id): s for s in graph.scenes}
    ids_by_name = {v: k for k, v in names.items()}

    def leaders(scene: Any) -> list[int]:
        out = []
        for a in list(getattr(scene, "top_artists", []))[:3]:
            aid = a if isinstance(a, int | np.integer) else ids_by_name.get(str(a))
            if aid is not None:
                out.append(int(aid))
        return out

    found = set()
    for h in home:
        if h not in by_id:
            continue
        mine = leaders(by_id[h])
        for sid, scene in by_id.items():
            if sid in home:
                continue
            if any(graph.is_lookalike(a, b) for a in mine for b in leaders(scene)):
                found.add(sid)
    return found


def _recent_cutoff(ctx: Context) -> int | None:
    if ctx.as_of is None or ctx.no_repeat_days <= 0:
        return None
    return ctx.as_of - ctx.no_repeat_days * DAY


def _interleave(per_artist: list[list[Candidate]]) -> list[Candidate]:
    """First picks of every artist in rank order, then second picks, and so on."""
    out: list[Candidate] = []
    depth = max((len(p) for p in per_artist), default=0)
    for i in range(depth):
        out.extend(p[i] for p in per_artist if len(p) > i)
    return out


# Familiar ----------------------------------------------------------------------------------


def familiar_candidates(ctx: Context, avoid_scenes: set[int]) -> list[Candidate]:
    """The listener's own artists and tracks; artists in `avoid_scenes` are left out."""
    cutoff = _recent_cutoff(ctx)
    order = [h.artist_id for h in strongest(ctx)]
    if ctx.seed_artist in ctx.history:
        order.remove(ctx.seed_artist)
        order.insert(0, ctx.seed_artist)
    per_artist: list[list[Candidate]] = []
    for artist_id in ctx.steer(order):
        h = ctx.history[artist_id]
        if not ctx.allowed(artist_id):
            continue
        if ctx.scene_of(artist_id) in avoid_scenes:
            ctx.effects["lookalike_left_out"] += 1
            continue
        picks: list[Candidate] = []
        if not h.tracks and not ctx.rejected(artist_id, None):
            picks.append(_familiar(ctx, h, None))
        for track in h.tracks:
            if len(picks) >= ctx.artist_cap:
                break
            if ctx.rejected(artist_id, track.track_id):
                continue
            if cutoff is not None and track.last_played_at is not None:
                if track.last_played_at >= cutoff:
                    ctx.effects["excluded_tracks"] += 1
                    continue
            picks.append(_familiar(ctx, h, track))
        per_artist.append(picks)
    first = {ctx.seed_artist} | (ctx.steer_tag_artists or set())
    return _by_recent_weight(per_artist, first)


def _by_recent_weight(per_artist: list[list[Candidate]], first: set[int | None]) -> list[Candidate]:
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


def _familiar(ctx: Context, h: ArtistHistory, track: TrackHistory | None) -> Candidate:
    reason = reasons.familiar_reason(
        artist=h.artist,
        artist_id=h.artist_id,
        plays=h.plays,
        first_played_at=h.first_played_at,
        last_played_at=h.last_played_at,
        track_plays=None if track is None else track.plays,
        track_last_played_at=None if track is None else track.last_played_at,
        recency_weight=h.recency_weight,
        half_life_days=ctx.half_life_days,
        as_of=ctx.as_of,
    )
    return Candidate(
        artist_id=h.artist_id,
        artist=h.artist,
        track_id=None if track is None else track.track_id,
        title=None if track is None else track.title,
        duration_ms=None if track is None else track.duration_ms,
        kind=FAMILIAR,
        reason=reason,
        score=h.recency_weight,
    )


# Tracks of artists new to the listener -----------------------------------------------------


_TRACKS_CACHE: weakref.WeakKeyDictionary[Store, tuple[Any, dict[int, list[Any]]]] = (
    weakref.WeakKeyDictionary()
)


def _tracks_by_popularity(store: Store) -> dict[int, list[Any]]:
    """Every artist's tracks, most played first (by everyone), cached until listens change."""
    version = usable_version(store)
    cached = _TRACKS_CACHE.get(store)
    if cached is not None and cached[0] == version:
        return cached[1]
    plays = track_plays(store)
    found: dict[int, list[Any]] = defaultdict(list)
    for track_id, artist_id, title, duration in store.conn.execute(
        "SELECT id, artist_id, title, duration_ms FROM tracks"
    ):
        found[artist_id].append((track_id, title, duration))
    ranked = {a: sorted(ts, key=lambda t: (-plays.get(t[0], 0), t[0])) for a, ts in found.items()}
    _TRACKS_CACHE[store] = (version, ranked)
    return ranked


def top_tracks(store: Store, artist_ids: Sequence[int], per_artist: int) -> dict[int, list[Any]]:
    """Each artist's most played tracks over everyone's listens: [(track_id, title, ms)]."""
    ranked = _tracks_by_popularity(store)
    return {a: ranked[a][:per_artist] for a in artist_ids if a in ranked}


def _with_tracks(
    ctx: Context, picks: list[tuple[int, Any, float]], kind: str, per_artist: int
) -> list[Candidate]:
    """One candidate per track (or one artist-level entry) for each (artist, reason, score)."""
    tracks = top_tracks(ctx.store, [a for a, _, _ in picks], per_artist)
    grouped = []
    for artist_id, reason, score in picks:
        options = [
            option
            for option in tracks.get(artist_id) or [(None, None, None)]
            if not ctx.rejected(artist_id, option[0])
        ]
        if not options:
            continue
        grouped.append(
            [
                Candidate(artist_id, ctx.names[artist_id], t, title, ms, kind, reason, score)
                for t, title, ms in options
            ]
        )
    return _interleave(grouped)


# Discovery and unexpected (personalised) ---------------------------------------------------


def _scored(ctx: Context) -> tuple[np.ndarray, np.ndarray]:
    if ctx.scores is None or ctx.artist_ids is None:
        raise RuntimeError("personalised candidates need the model's scores for the listener")
    return ctx.scores, ctx.artist_ids


def scene_columns(ctx: Context, artist_ids: np.ndarray) -> np.ndarray:
    """Scene per model column (-1 for none), read straight from the graph when aligned."""
    ids = getattr(ctx.graph, "artist_ids", None)
    labels = getattr(ctx.graph, "scene_labels", None)
    if ids is not None and labels is not None and np.array_equal(np.asarray(ids), artist_ids):
        return np.asarray(labels, dtype=np.int64)
    return np.array(
        [-1 if (s := ctx.scene_of(int(a))) is None else s for a in artist_ids], dtype=np.int64
    )


def model_ranks(scores: np.ndarray) -> np.ndarray:
    """1 = the model's top artist for this listener (ties broken by column order)."""
    ranks = np.empty(len(scores), dtype=np.int64)
    ranks[np.argsort(-scores, kind="stable")] = np.arange(1, len(scores) + 1)
    return ranks


def discovery_candidates(
    ctx: Context, home: set[int], avoid_scenes: set[int], limit: int
) -> list[Candidate]:
    """New artists inside the listener's scenes, by model score, with who they are heard with."""
    scores, artist_ids = _scored(ctx)
    anchors = [h.artist_id for h in strongest(ctx)[:ANCHORS]]
    if ctx.seed_artist is not None and ctx.seed_artist not in anchors:
        anchors.insert(0, ctx.seed_artist)
    ranks = model_ranks(scores)
    scenes = scene_columns(ctx, artist_ids)
    inside = np.flatnonzero(
        np.isin(scenes, sorted(home))
        & ~np.isin(scenes, sorted(avoid_scenes))
        & ~np.isin(artist_ids, sorted(ctx.history))
    )
    columns = inside[np.argsort(-scores[inside], kind="stable")]
    ordered = [int(artist_ids[j]) for j in columns]
    column_of = {int(artist_ids[j]): int(j) for j in columns}
    picks: list[tuple[int, Any, float]] = []
    for artist_id in ctx.steer(ordered):
        if len(picks) >= limit:
            break
        if not ctx.allowed(artist_id):
            continue
        if any(ctx.lookalike(artist_id, a) for a in anchors[:5]):
            continue
        because = sorted(
            ((ctx.shared(a, artist_id), a) for a in anchors),
            key=lambda x: (-x[0], x[1]),
        )
        because = [(n, a) for n, a in because if n > 0 and not ctx.link_rejected(a, artist_id)]
        because = because[:2]
        if not because:
            continue
        j = column_of[artist_id]
        reason = reasons.discovery_reason(
            artist=ctx.names[artist_id],
            artist_id=artist_id,
            because_of=[(ctx.names[a], a, n) for n, a in because],
            scene=ctx.scene(ctx.scene_of(artist_id)),
            model_score=float(scores[j]),
            model_rank=int(ranks[j]),
        )
        picks.append((artist_id, reason, float(scores[j])))
    return _with_tracks(ctx, picks, DISCOVERY, ctx.artist_cap)


@dataclass(frozen=True)
class Bridged:
    """An artist outside the home scenes and the real path that reaches it."""

    artist_id: int
    path: tuple[int, ...]
    shared: tuple[int, ...]


class BridgeFinder:
    """Bridges from one set of start artists, all from one shortest-path search per playlist.

    Uses the graph's `bridges_from` (one multi-source search) when it has one, else asks
    `bridge` for each artist.
    """

    def __init__(self, graph: GraphView, starts: Sequence[int]) -> None:
        self.graph = graph
        self.starts = list(starts)
        index = getattr(graph, "bridges_from", None)
        self._index = index(self.starts, BRIDGE_MAX_STEPS) if callable(index) else None

    def path(self, artist_id: int) -> list[int] | None:
        if self._index is not None:
            found = self._index.bridge(artist_id)
        else:
            found = self.graph.bridge(self.starts, artist_id)
        return None if found is None else [int(a) for a in found.path]


def find_bridge(
    ctx: Context, finder: BridgeFinder, artist_id: int, avoid_scenes: set[int]
) -> Bridged | None:
    """A co-listening path from the start artists to this one, every step shared by listeners.

    A path through a link a curator rejected is not used: the search starts again without that
    path's first artist, until a clean path is found or no start is left.
    """
    found = finder.path(artist_id)
    if found is None:
        return None
    path = tuple(found)
    remaining = list(finder.starts)
    while any(ctx.link_rejected(a, b) for a, b in zip(path, path[1:], strict=False)):
        if not path or path[0] not in remaining:
            return None
        remaining.remove(path[0])
        again = ctx.graph.bridge(remaining, artist_id) if remaining else None
        if again is None:
            return None
        path = tuple(int(a) for a in again.path)
    if len(path) < 2 or path[0] not in finder.starts or path[-1] != artist_id:
        return None
    if any(ctx.scene_of(a) in avoid_scenes for a in path):
        return None  # a look-alike never explains anything
    steps = zip(path, path[1:], strict=False)
    shared = tuple(ctx.shared(a, b) for a, b in steps)
    if min(shared) <= 0:
        return None
    return Bridged(artist_id, path, shared)


def unexpected_candidates(
    ctx: Context, home: set[int], avoid_scenes: set[int], wanted: int
) -> tuple[list[Candidate], str]:
    """New artists outside the listener's scenes, scored well and reached through a bridge.

    Returns the candidates and a sentence saying how many qualified at each step (used when
    fewer than `wanted` are found).
    """
    scores, artist_ids = _scored(ctx)
    ranks = model_ranks(scores)
    starts = [h.artist_id for h in strongest(ctx) if ctx.scene_of(h.artist_id) in home]
    starts = starts[:ANCHORS]
    scenes = scene_columns(ctx, artist_ids)
    unheard = np.flatnonzero(~np.isin(artist_ids, sorted(ctx.history)))
    unheard = unheard[np.argsort(-scores[unheard], kind="stable")]
    top = unheard[: max(1, int(len(unheard) * UNEXPECTED_TOP_FRACTION))]
    outside = top[(scenes[top] >= 0) & ~np.isin(scenes[top], sorted(home | avoid_scenes))]
    order = ctx.steer([int(artist_ids[j]) for j in outside])
    column_of = {int(artist_ids[j]): int(j) for j in outside}

    def model_numbers(artist_id: int) -> tuple[float, dict[str, Any]]:
        j = column_of[artist_id]
        return float(scores[j]), {"model_score": float(scores[j]), "model_rank": int(ranks[j])}

    # Spare picks beyond `wanted` leave room for spreading over scenes.
    picks, reached = _bridged_picks(ctx, order, starts, avoid_scenes, 2 * wanted + 2, model_numbers)
    why = (
        f"{len(outside)} artists outside your scenes are in the model's top "
        f"{UNEXPECTED_TOP_FRACTION:.0%} for you and {reached} of them are reached through a "
        "co-listening bridge"
    )
    return _with_tracks(ctx, _spread_scenes(ctx, picks), UNEXPECTED, 1), why


def _bridged_picks(
    ctx: Context,
    order: Sequence[int],
    starts: Sequence[int],
    avoid_scenes: set[int],
    limit: int,
    numbers: Callable[[int], tuple[float, dict[str, Any]]],
) -> tuple[list[tuple[int, Any, float]], int]:
    """Up to `limit` artists from `order` reached through a co-listening bridge, each with its
    unexpected reason, and how many were reached. `numbers(artist)` gives the value a pick is
    ranked by and the reason's score fields (the model's, or plain popularity)."""
    picks: list[tuple[int, Any, float]] = []
    reached = 0
    finder = BridgeFinder(ctx.graph, starts)
    for artist_id in order:
        if len(picks) >= limit:
            break
        if not ctx.allowed(artist_id):
            continue
        bridged = find_bridge(ctx, finder, artist_id, avoid_scenes)
        if bridged is None:
            continue
        reached += 1
        value, score_fields = numbers(artist_id)
        reason = reasons.unexpected_reason(
            artist=ctx.names[artist_id],
            artist_id=artist_id,
            home_scene=ctx.scene(ctx.scene_of(bridged.path[0])),
            target_scene=ctx.scene(ctx.scene_of(artist_id)),
            bridge=[(ctx.names[a], a) for a in bridged.path],
            bridge_shared_listeners=bridged.shared,
            **score_fields,
        )
        picks.append((artist_id, reason, value))
    return picks, reached


def _spread_scenes(ctx: Context, picks: list[tuple[int, Any, float]]) -> list[Any]:
    """Round-robin over target scenes so the surprises do not all come from one place."""
    by_scene: dict[int | None, list[Any]] = defaultdict(list)
    for pick in picks:
        by_scene[ctx.scene_of(pick[0])].append(pick)
    queues = list(by_scene.values())
    out: list[Any] = []
    for i in range(max((len(q) for q in queues), default=0)):
        out.extend(q[i] for q in queues if len(q) > i)
    return out


# Non-personalised --------------------------------------------------------------------------


def popularity(store: Store) -> dict[int, int]:
    """Distinct listeners per artist, over the listens their listeners let us use."""
    return artist_listeners(store)


def popular_home(ctx: Context, listeners: dict[int, int]) -> set[int]:
    """Where a non-personalised playlist starts: the seed's scene, the tag's or the biggest."""
    if ctx.seed_artist is not None and ctx.scene_of(ctx.seed_artist) is not None:
        return {int(ctx.scene_of(ctx.seed_artist))}  # type: ignore[arg-type]
    weight: Counter[int] = Counter()
    for artist_id, n in listeners.items():
        if ctx.steer_tag_artists is not None and artist_id not in ctx.steer_tag_artists:
            continue
        scene = ctx.scene_of(artist_id)
        if scene is not None:
            weight[scene] += n
    return {s for s, _ in weight.most_common(1)}


def popular_candidates(
    ctx: Context, wanted_unexpected: int, limit: int
) -> tuple[list[Candidate], list[Candidate], str]:
    """Discovery and unexpected picks from the graph and popularity alone."""
    listeners = popularity(ctx.store)
    home = popular_home(ctx, listeners)
    avoid = lookalike_scenes(ctx.graph, home, ctx.names)
    ranked = ctx.steer(sorted(listeners, key=lambda a: (-listeners[a], a)))
    inside: list[tuple[int, Any, float]] = []
    for artist_id in ranked:
        if len(inside) >= limit:
            break
        if ctx.scene_of(artist_id) in home and ctx.allowed(artist_id):
            reason = reasons.popular_reason(
                artist=ctx.names[artist_id],
                artist_id=artist_id,
                listeners=listeners[artist_id],
                scene=ctx.scene(ctx.scene_of(artist_id)),
            )
            inside.append((artist_id, reason, float(listeners[artist_id])))
    starts = [a for a, _, _ in inside[:ANCHORS]]
    if ctx.seed_artist is not None and ctx.seed_artist not in starts:
        starts.insert(0, ctx.seed_artist)
    others = [
        a for a in ranked if (s := ctx.scene_of(a)) is not None and s not in home and s not in avoid
    ]
    top = others[: max(1, int(len(others) * UNEXPECTED_TOP_FRACTION))]

    def popularity_numbers(artist_id: int) -> tuple[float, dict[str, Any]]:
        n = listeners[artist_id]
        return float(n), {"model_score": None, "model_rank": None, "listeners": n}

    outside, reached = _bridged_picks(
        ctx, top, starts, avoid, 2 * wanted_unexpected + 2, popularity_numbers
    )
    why = (
        f"{len(top)} popular artists lie outside the starting scene and {reached} of them are "
        "reached through a co-listening bridge"
    )
    discovery = _with_tracks(ctx, inside, DISCOVERY, ctx.artist_cap)
    unexpected = _with_tracks(ctx, _spread_scenes(ctx, outside), UNEXPECTED, 1)
    return discovery, unexpected, why
