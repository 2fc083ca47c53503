"""What a playlist knows before any stage runs, built once per request.

- `ModelView` and `GraphView`: the parts of the trained model and of the artist graph the
  stages use (`recommender.training.TrainedModel`, `recommender.graph.ArtistGraph`).
- `Catalogue`: what every listener shares: the graph, artist and scene names, popularity.
- `ListenerProfile`: this listener's usable history per artist and track, home scenes, the
  look-alike scenes to avoid, exclusions resolved to artist ids, curator blocks, the model's
  scores for them, and the steering (seed artist, tag).

Steering by a seed artist: its scene becomes a home scene (`seed_scene` when it was not one
already), also for an artist the listener never played (`seed_is_new`); a seed in no scene is
said in the notes.

Personalised or not: a profile is personalised when the listener lets us use their listening,
the model knows them and some of their listens are usable; otherwise nothing of their history
is read and the profile says why (`notes`). Home scenes of a personalised profile are where the
listener's recent listening is (plus the seed artist's scene); of a non-personalised one, the
seed's scene, else the scene most popular among artists with the steering tag, else the
biggest scene.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Protocol

import numpy as np

from playlists.errors import PlaylistError
from playlists.lazy import LazySequence
from playlists.moment import Moment, Peak
from playlists.offers import Rest, rested_artists
from playlists.reasons import SceneRef
from playlists.request import PlaylistRequest
from playlists.review import Blocks, blocked_for
from recommender.catalog import artist_ids_named, artists_tagged, resolve_artist, resolve_tag
from recommender.errors import TastemakerError
from recommender.feedback import ListenerFeedback, listener_feedback
from recommender.interactions import decay
from recommender.library import PlayableSet, playable_tracks
from recommender.listens import (
    OwnListenArrays,
    artist_listeners,
    newest_listen,
    own_listen_arrays,
    track_plays,
)
from recommender.store import Store

HOME_SCENE_SHARE = 0.15  # a scene is home when it holds this share of recent listening
HOME_MIN_ARTISTS = 3  # ...across this many of its artists: one bridge artist is not a home
# With a moment (--context, --at), the model's scores are blended half and half with a query-time
# fold-in of the listener's moment-weighted history through the model's artist vectors.
MOMENT_FOLD_IN = 0.5


# What the stages need from the graph and the model ------------------------------------------


class SceneView(Protocol):
    @property
    def id(self) -> int: ...

    @property
    def name(self) -> str: ...

    @property
    def tags(self) -> Sequence[str]: ...


class BridgeView(Protocol):
    @property
    def path(self) -> Sequence[int]: ...


class BridgeIndexView(Protocol):
    """Every bridge from one set of start artists (one search, its work shared)."""

    def bridge(self, to_artist: int) -> BridgeView | None: ...

    def bridges(self, to_artists: Sequence[int]) -> Sequence[BridgeView | None]: ...


class GraphView(Protocol):
    """The parts of `recommender.graph.ArtistGraph` the candidate stages use."""

    @property
    def scenes(self) -> Sequence[SceneView]: ...

    @property
    def artist_ids(self) -> np.ndarray: ...

    @property
    def scene_labels(self) -> np.ndarray: ...  # scene per entry of artist_ids, -1 for none

    @property
    def listener_counts(self) -> np.ndarray: ...  # listeners per entry of artist_ids

    def scene_of(self, artist_id: int) -> int | None: ...

    def is_lookalike(self, a: int, b: int) -> bool: ...

    def lookalike_scenes(self, scene_id: int) -> Sequence[int]: ...

    def shared_listeners(self, a: int, b: int) -> int: ...

    def listeners_of(self, artist_id: int) -> int: ...  # distinct listeners at train time

    def shared_counts(self, anchors: Sequence[int]) -> Callable[[int], np.ndarray]: ...

    def bridge(self, from_artists: Iterable[int], to_artist: int) -> BridgeView | None: ...

    def bridges_from(self, from_artists: Iterable[int], max_steps: int = 3) -> BridgeIndexView: ...


class TrackPlaysView(Protocol):
    """Plays per track over everyone's usable listens (`TrainedModel.track_plays`)."""

    def track_plays(self, store: Store, artist_ids: Sequence[int]) -> Mapping[int, int]: ...


class ModelView(TrackPlaysView, Protocol):
    """The parts of `recommender.training.TrainedModel` a playlist uses."""

    @property
    def model_id(self) -> str: ...

    @property
    def artist_ids(self) -> np.ndarray: ...  # column order of every score vector

    @property
    def listeners(self) -> Sequence[str]: ...

    def has_listener(self, listener: str) -> bool: ...  # without reading every name

    @property
    def graph(self) -> GraphView: ...

    @property
    def now(self) -> int | None: ...  # the reference time of the training data

    @property
    def item_vectors(self) -> np.ndarray | None: ...  # one row per artist, like artist_ids

    def scores(self, listener: str) -> np.ndarray: ...


# The catalogue -----------------------------------------------------------------------------


def scene_label(scene: SceneView) -> str:
    """A readable scene name: its own name if the graph gives one, else its leading tags."""
    if scene.name:
        return str(scene.name)
    tags = [str(t) for t in scene.tags][:2]
    return " / ".join(tags) if tags else f"scene {scene.id}"


class ArtistNames(Mapping[int, str]):
    """Artist names by id, read from the store when first asked for: a playlist names a few
    dozen artists, so reading all of them (160,000 at Last.fm-360K's size) costs more than
    the rest of the playlist."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self._known: dict[int, str | None] = {}

    def __getitem__(self, artist_id: int) -> str:
        if artist_id not in self._known:
            row = self._store.conn.execute(
                "SELECT name FROM artists WHERE id = ?", (int(artist_id),)
            ).fetchone()
            self._known[artist_id] = None if row is None else str(row[0])
        name = self._known[artist_id]
        if name is None:
            raise KeyError(artist_id)
        return name

    def __iter__(self) -> Iterator[int]:
        return (int(a) for (a,) in self._store.conn.execute("SELECT id FROM artists ORDER BY id"))

    def __len__(self) -> int:
        return int(self._store.conn.execute("SELECT count(*) FROM artists").fetchone()[0])


class GraphAudiences(Mapping[int, int]):
    """The graph's listeners per artist as a mapping (`Catalogue.audiences`)."""

    def __init__(self, graph: GraphView) -> None:
        self._graph = graph

    def __getitem__(self, artist_id: int) -> int:
        try:
            return int(self._graph.listeners_of(artist_id))
        except TastemakerError:
            raise KeyError(artist_id) from None

    def __iter__(self) -> Iterator[int]:
        return (int(a) for a in self._graph.artist_ids)

    def __len__(self) -> int:
        return len(self._graph.artist_ids)


@dataclass(frozen=True, eq=False)
class Catalogue:
    """What every listener's playlist shares: the graph and the names of artists and scenes.

    Artists imported after the model was trained are unknown to the graph: they have no scene,
    share no listeners and look like nobody.
    """

    store: Store
    graph: GraphView
    names: Mapping[int, str]
    scene_names: Mapping[int, str]
    plays: TrackPlaysView | None = None  # None: every count read from the store
    # Scenes already looked up: every stage asks for the scenes of the listener's artists.
    _scenes: dict[int, int | None] = field(default_factory=dict, repr=False)

    @classmethod
    def of(cls, store: Store, graph: GraphView, plays: TrackPlaysView | None = None) -> Catalogue:
        """The catalogue over `graph`; `plays` (the model) answers `track_plays`."""
        scene_names = {int(s.id): scene_label(s) for s in graph.scenes}
        return cls(store, graph, ArtistNames(store), scene_names, plays)

    def track_plays(self, artist_ids: Sequence[int]) -> Mapping[int, int]:
        """Plays per track of these artists over everyone's usable listens, as the store holds
        them now (the model's counts are used only while they are exactly that)."""
        if self.plays is None:
            return track_plays(self.store, artist_ids)
        return self.plays.track_plays(self.store, artist_ids)

    def scene_of(self, artist_id: int) -> int | None:
        key = int(artist_id)
        if key not in self._scenes:
            try:
                self._scenes[key] = self.graph.scene_of(key)
            except TastemakerError:
                self._scenes[key] = None
        return self._scenes[key]

    def _graph_positions(
        self, artist_ids: Sequence[int] | np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """Each artist's position in the graph and whether the graph has it, from one binary
        search (the graph's ids ascend): a listener's history holds thousands of artists."""
        known = np.asarray(self.graph.artist_ids, dtype=np.int64)
        wanted = np.asarray(artist_ids, dtype=np.int64)
        if not len(known):
            return np.zeros(len(wanted), dtype=np.int64), np.zeros(len(wanted), dtype=bool)
        at = np.searchsorted(known, wanted).clip(max=len(known) - 1)
        return at, known[at] == wanted

    def scenes_of(self, artist_ids: Sequence[int]) -> list[int | None]:
        """`scene_of` for many artists at once."""
        at, found = self._graph_positions(artist_ids)
        labels = np.asarray(self.graph.scene_labels, dtype=np.int64)[at] if found.any() else at
        scenes = [
            int(label) if has and label >= 0 else None
            for label, has in zip(labels.tolist(), found.tolist(), strict=True)
        ]
        self._scenes.update(zip((int(a) for a in artist_ids), scenes, strict=True))
        return scenes

    def shared(self, a: int, b: int) -> int:
        try:
            return int(self.graph.shared_listeners(a, b))
        except TastemakerError:
            return 0

    @property
    def audiences(self) -> Mapping[int, int]:
        """Distinct listeners per artist at train time (the graph's: the snapshot its shared
        counts come from), read per artist asked for; 0 for an artist the graph lacks."""
        return GraphAudiences(self.graph)

    def shared_counter(self, anchors: Sequence[int]) -> Callable[[int], dict[int, int]]:
        """{anchor: shared listeners with an artist} for many artists against the same anchors
        (the numbers of `shared`; 0 for an anchor or artist the graph does not know)."""
        known = [a for a in dict.fromkeys(anchors) if self._in_graph(a)]
        count = self.graph.shared_counts(known)

        def shared_with(artist_id: int) -> dict[int, int]:
            found = dict.fromkeys(anchors, 0)
            if self._in_graph(artist_id):
                found.update(zip(known, (int(n) for n in count(artist_id)), strict=True))
            return found

        return shared_with

    def _in_graph(self, artist_id: int) -> bool:
        try:
            self.graph.listeners_of(artist_id)
        except TastemakerError:
            return False
        return True

    def lookalike(self, a: int, b: int) -> bool:
        try:
            return bool(self.graph.is_lookalike(a, b))
        except TastemakerError:
            return False

    def scene_ref(self, scene_id: int | None) -> SceneRef:
        if scene_id is None:
            return SceneRef(None, None)
        return SceneRef(int(scene_id), self.scene_names.get(int(scene_id)))

    def lookalike_scenes(self, home: Iterable[int]) -> frozenset[int]:
        """Scenes that look like a home scene but whose audiences do not meet."""
        home = set(home)
        return frozenset(int(s) for h in home for s in self.graph.lookalike_scenes(h)) - home

    def scene_columns(self, artist_ids: np.ndarray) -> np.ndarray:
        """Scene per entry of `artist_ids` (-1 for none), read straight from the graph when the
        two are aligned."""
        if np.array_equal(np.asarray(self.graph.artist_ids), artist_ids):
            return np.asarray(self.graph.scene_labels, dtype=np.int64)
        return np.array(
            [-1 if (s := self.scene_of(int(a))) is None else s for a in artist_ids],
            dtype=np.int64,
        )

    def audience_columns(self, artist_ids: Sequence[int] | np.ndarray) -> np.ndarray:
        """The graph's listeners per entry of `artist_ids` (0 for an artist it lacks), read
        straight from the graph when the two are aligned."""
        if np.array_equal(np.asarray(self.graph.artist_ids), artist_ids):
            return np.asarray(self.graph.listener_counts, dtype=np.int64)
        at, found = self._graph_positions(artist_ids)
        if not found.any():
            return np.zeros(len(at), dtype=np.int64)
        counts = np.asarray(self.graph.listener_counts, dtype=np.int64)[at]
        return np.where(found, counts, 0)

    @cached_property
    def popularity(self) -> Mapping[int, int]:
        """Distinct listeners per artist, over the listens their listeners let us use."""
        return artist_listeners(self.store)


# The listener's history --------------------------------------------------------------------


class TrackDetails:
    """Title and duration by track id, read from the store when first asked for: a listener's
    history holds thousands of tracks, and a playlist names a few dozen of them."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self._known: dict[int, tuple[str | None, int | None]] = {}

    def __call__(self, track_id: int) -> tuple[str | None, int | None]:
        if track_id not in self._known:
            row = self._store.conn.execute(
                "SELECT title, duration_ms FROM tracks WHERE id = ?", (int(track_id),)
            ).fetchone()
            title, duration = (None, None) if row is None else row
            self._known[track_id] = (title, None if duration is None else int(duration))
        return self._known[track_id]


@dataclass(frozen=True)
class TrackHistory:
    """One of the listener's tracks: their plays of it, and its title and duration (read
    when asked for)."""

    track_id: int
    plays: int
    last_played_at: int | None
    details: TrackDetails = field(compare=False, repr=False)

    @property
    def title(self) -> str | None:
        return self.details(self.track_id)[0]

    @property
    def duration_ms(self) -> int | None:
        return self.details(self.track_id)[1]


@dataclass(frozen=True)
class ArtistHistory:
    """One artist in the listener's history: the numbers a familiar reason quotes."""

    artist_id: int
    artist: str
    plays: int
    first_played_at: int | None
    last_played_at: int | None
    recency_weight: float
    tracks: Sequence[TrackHistory]  # most played first
    moment_weight: float | None = None  # plays faded and weighed by the moment (None: none)
    peak: Peak | None = None  # the part of the week it is played most, with a moment

    @property
    def weight(self) -> float:
        """What familiar picks rank by: the moment's weight when there is one."""
        return self.recency_weight if self.moment_weight is None else self.moment_weight


def listener_history(
    store: Store,
    listener_id: int,
    *,
    ignore_sources: Sequence[str],
    half_life_days: float,
    as_of: int | None,
    moment: Moment | None = None,
) -> dict[int, ArtistHistory]:
    """The listener's listens per artist and track, from the sources they let us use; plays
    fade with `half_life_days` counted back from `as_of`, and with a `moment` are also weighed
    by its kernel (`playlists.moment`). Artists come in the order of their first listen.

    Tallied with arrays, not per listen: a listener with years of history has tens of
    thousands of listens. The weights are summed in listen order, as a running total would."""
    listens = own_listen_arrays(store, listener_id, ignore_sources=ignore_sources)
    if not len(listens):
        return {}
    when = listens.listened_at
    plays = listens.plays.astype(float)
    weights = plays if as_of is None else plays * decay(as_of - when, np.array(half_life_days))
    artist_ids, first_row, artist_of = np.unique(
        listens.artist_ids, return_index=True, return_inverse=True
    )
    artist_of = artist_of.reshape(-1)
    n = len(artist_ids)
    # bincount adds in row order, so these are the running totals bit for bit.
    recency = np.bincount(artist_of, weights=weights, minlength=n)
    near = weights if moment is None else weights * moment.weights(when)
    at_moment = np.bincount(artist_of, weights=near, minlength=n)
    artist_plays = np.zeros(n, dtype=np.int64)
    np.add.at(artist_plays, artist_of, listens.plays)
    first, last = np.full(n, np.nan), np.full(n, np.nan)
    np.fmin.at(first, artist_of, when)  # fmin/fmax skip NaN (timestamp-less rows)
    np.fmax.at(last, artist_of, when)
    tracks = _track_histories(store, listens)
    times = _listen_times(listens, artist_of, n) if moment is not None else None
    names = dict(store.values_in("artists", "id", artist_ids.tolist(), select="id, name"))
    history: dict[int, ArtistHistory] = {}
    for j in np.argsort(first_row, kind="stable").tolist():
        artist_id = int(artist_ids[j])
        history[artist_id] = ArtistHistory(
            artist_id=artist_id,
            artist=names[artist_id],
            plays=int(artist_plays[j]),
            first_played_at=_whole(first[j]),
            last_played_at=_whole(last[j]),
            recency_weight=float(recency[j]),
            tracks=tracks.get(artist_id, ()),
            moment_weight=None if moment is None else float(at_moment[j]),
            peak=None if moment is None or times is None else moment.peak(times[j]),
        )
    return history


def _whole(ts: float) -> int | None:
    """A time from a float array as whole seconds (NaN, no timed listen: None)."""
    return None if math.isnan(ts) else int(ts)


def _track_histories(
    store: Store, listens: OwnListenArrays
) -> dict[int, Sequence[TrackHistory]]:
    """Each artist's tracks in these listens, most played first (ties: the lower track id).

    Counted with arrays; each artist's tracks are made when first read (`LazySequence`), and
    their titles when first shown (`TrackDetails`): familiar picks read an artist's first
    few, and a playlist names a few dozen."""
    on_track = listens.track_ids >= 0
    if not on_track.any():
        return {}
    artists, tracks = listens.artist_ids[on_track], listens.track_ids[on_track]
    # One int64 key per (artist, track): np.unique over rows of a 2-D array is ten times slower.
    span = int(tracks.max()) + 1
    keys, pair_of = np.unique(artists * span + tracks, return_inverse=True)
    pair_of = pair_of.reshape(-1)
    pairs = np.stack([keys // span, keys % span], axis=1)
    plays = np.zeros(len(pairs), dtype=np.int64)
    np.add.at(plays, pair_of, listens.plays[on_track])
    last = np.full(len(pairs), np.nan)
    np.fmax.at(last, pair_of, listens.listened_at[on_track])
    # Grouped by artist, each artist's most played first (ties: the lower track id).
    order = np.lexsort((pairs[:, 1], -plays, pairs[:, 0]))
    owner, track_ids = pairs[order, 0], pairs[order, 1]
    plays, last = plays[order], last[order]
    starts = np.flatnonzero(np.r_[True, owner[1:] != owner[:-1]])
    ends = np.r_[starts[1:], len(owner)]
    details = TrackDetails(store)

    def artist_tracks(start: int, end: int) -> Sequence[TrackHistory]:
        def track(i: int) -> TrackHistory:
            k = start + i
            return TrackHistory(int(track_ids[k]), int(plays[k]), _whole(float(last[k])), details)

        return LazySequence(end - start, track)

    return {
        a: artist_tracks(start, end)
        for a, start, end in zip(
            owner[starts].tolist(), starts.tolist(), ends.tolist(), strict=True
        )
    }


def _listen_times(listens: OwnListenArrays, artist_of: np.ndarray, n: int) -> list[np.ndarray]:
    """Per artist, the time of every timed play (a listen of N plays counts N times)."""
    timed = ~np.isnan(listens.listened_at)
    owner = np.repeat(artist_of[timed], listens.plays[timed])
    stamps = np.repeat(listens.listened_at[timed], listens.plays[timed])
    order = np.argsort(owner, kind="stable")
    bounds = np.searchsorted(owner[order], np.arange(n + 1))
    ordered = stamps[order]
    return [ordered[bounds[j] : bounds[j + 1]] for j in range(n)]


def home_scenes(catalogue: Catalogue, history: Iterable[ArtistHistory]) -> set[int]:
    """The listener's scenes: at least HOME_SCENE_SHARE of their recent listening, spread over
    at least HOME_MIN_ARTISTS of the scene's artists (else the single strongest scene).

    A bridge artist the listener loves does not make its whole scene theirs: that scene stays
    a place for unexpected picks, reached through that very artist.
    """
    weight: dict[int, float] = defaultdict(float)
    artists: Counter[int] = Counter()
    history = list(history)
    for h, scene in zip(history, catalogue.scenes_of([h.artist_id for h in history]), strict=True):
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


def popular_home(
    catalogue: Catalogue, seed_artist: int | None, steer_tag_artists: frozenset[int] | None
) -> set[int]:
    """Where a non-personalised playlist starts: the seed's scene, the tag's or the biggest."""
    if seed_artist is not None:
        seed_scene = catalogue.scene_of(seed_artist)
        if seed_scene is not None:
            return {seed_scene}
    weight: Counter[int] = Counter()
    for artist_id, n in catalogue.popularity.items():
        if steer_tag_artists is not None and artist_id not in steer_tag_artists:
            continue
        scene = catalogue.scene_of(artist_id)
        if scene is not None:
            weight[scene] += n
    return {s for s, _ in weight.most_common(1)}


# The profile -------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class ModelScores:
    """The model's score for the listener and every artist, and the rank it gives (1 = top)."""

    artist_ids: np.ndarray
    values: np.ndarray  # aligned with artist_ids

    @classmethod
    def of(cls, artist_ids: np.ndarray, scores: np.ndarray) -> ModelScores:
        ids = np.array(artist_ids)
        values = np.array(scores, dtype=float)
        for array in (ids, values):
            array.setflags(write=False)
        return cls(ids, values)

    def rank(self, column: int) -> int:
        """The place of this column's score among all (1 = top; ties by column order): two
        counts, so that a playlist asking for a few dozen ranks never sorts every artist."""
        value = self.values[column]
        higher = int(np.count_nonzero(self.values > value))
        tied_before = int(np.count_nonzero(self.values[:column] == value))
        return higher + tied_before + 1


@dataclass(frozen=True, eq=False)
class ListenerProfile:
    """Everything the stages know about the listener for one request (see the module doc)."""

    listener: str
    personalised: bool
    notes: tuple[str, ...]  # why a playlist is not personalised
    as_of: int | None  # the model's reference time: "N days ago" counts from here
    history: Mapping[int, ArtistHistory]
    home_scenes: frozenset[int]
    avoid_scenes: frozenset[int]  # look-alikes of the home scenes: never stand in for them
    excluded_artists: frozenset[int]
    excluded_by_tag: frozenset[int]
    steer_tag_artists: frozenset[int] | None  # artists carrying --tag (None: no tag)
    seed_artist: int | None
    blocks: Blocks
    model_scores: ModelScores | None  # None when not personalised
    feedback: ListenerFeedback = field(default_factory=ListenerFeedback)
    rested: Mapping[int, Rest] = field(default_factory=dict)  # `playlists.offers`
    moment: Moment | None = None
    seed_scene: int | None = None  # the home scene the seed artist added (None: none added)
    playable: PlayableSet | None = None  # the tracks the `playable` term allows (None: all)

    @property
    def seed_is_new(self) -> bool:
        """A seed artist the listener has never played (usably)."""
        return self.seed_artist is not None and self.seed_artist not in self.history

    @cached_property
    def strongest(self) -> tuple[ArtistHistory, ...]:
        """The listener's artists, strongest recent listening first (at the moment, if any)."""
        return tuple(sorted(self.history.values(), key=lambda h: (-h.weight, h.artist_id)))

    @cached_property
    def liked(self) -> tuple[ArtistHistory, ...]:
        """`strongest` without the artists the listener hates: what may explain a new pick."""
        hated = self.feedback.hated_artists
        return tuple(h for h in self.strongest if h.artist_id not in hated)

    @property
    def scores(self) -> ModelScores:
        """The model's scores (for personalised stages: a non-personalised profile has none)."""
        if self.model_scores is None:
            raise PlaylistError(
                "this stage needs the model's scores for the listener: register it as a "
                "personalised stage"
            )
        return self.model_scores

    def steer(self, artist_ids: Sequence[int]) -> list[int]:
        """With --tag, artists carrying the tag come first (order kept otherwise)."""
        if self.steer_tag_artists is None:
            return list(artist_ids)
        tagged = self.steer_tag_artists
        return sorted(artist_ids, key=lambda a: a not in tagged)

    def steered(self, artist_ids: np.ndarray) -> np.ndarray:
        """`steer` as a mask over `artist_ids`: True for the artists that come first (those
        carrying --tag; all of them without one)."""
        if self.steer_tag_artists is None:
            return np.ones(len(artist_ids), dtype=bool)
        tagged: np.ndarray = np.isin(artist_ids, sorted(self.steer_tag_artists))
        return tagged


def build_profile(
    store: Store, request: PlaylistRequest, model: ModelView, catalogue: Catalogue
) -> ListenerProfile:
    """The listener's profile for `request` (raises UnknownArtist / UnknownTag for steering)."""
    terms = request.terms
    seed = resolve_artist(store, request.seed_artist)[0] if request.seed_artist else None
    steer_tag = resolve_tag(store, request.tag) if request.tag else None
    # The model's reference time; a model trained on untimed listens has none, and then the
    # listener's own newest listen is one (an indexed read, where the whole store's newest
    # would scan every listen on each playlist).
    as_of = model.now
    if as_of is None and request.listener_id is not None:
        as_of = newest_listen(store, request.listener_id)
    excluded_artists = frozenset(artist_ids_named(store, terms.exclude_artists))
    excluded_by_tag = frozenset(artists_tagged(store, terms.exclude_tags))
    steer_tag_artists = None if steer_tag is None else frozenset(artists_tagged(store, [steer_tag]))
    blocks = blocked_for(store, request.listener)

    notes: list[str] = []
    history: dict[int, ArtistHistory] = {}
    personalised = bool(terms.personalise and request.listener_id is not None)
    if not terms.personalise:
        notes.append(
            "Not personalised: you turned personalisation off, so none of your "
            "listening was read; picks come from the artist graph and popularity."
        )
    elif request.listener_id is None:
        notes.append(
            "Not personalised: no listening history yet; picks come from the artist "
            "graph and popularity."
        )
    if personalised and not model.has_listener(request.listener):
        personalised = False
        notes.append(
            "Not personalised: the model was trained before your listening was "
            "imported; run `tastemaker train` for a personal playlist."
        )
    if personalised and request.listener_id is not None:
        history = listener_history(
            store,
            request.listener_id,
            ignore_sources=terms.ignore_sources,
            half_life_days=terms.half_life_days,
            as_of=as_of,
            moment=request.moment,
        )
        if not history:
            personalised = False
            notes.append(
                "Not personalised: none of your listens can be used (no history, or "
                "every source is ignored by your terms)."
            )

    feedback = listener_feedback(
        store,
        request.listener_id,
        ignore_sources=terms.ignore_sources,
        learn_from_skips=terms.learn_from_skips,
    )
    scores: ModelScores | None = None
    added_scene: int | None = None
    if personalised:
        raw = model.scores(request.listener)
        if request.moment is not None:
            raw = moment_scores(raw, model, history, feedback.hated_artists)
        scores = ModelScores.of(model.artist_ids, raw)
        home = home_scenes(catalogue, history.values())
        if seed is not None:
            # Unlike the catalogue's lookups this one raises for a seed the graph does not know
            # (imported after training): the message says to train again.
            seed_scene = catalogue.graph.scene_of(seed)
            if seed_scene is None:
                notes.append(
                    f"{catalogue.names.get(seed, 'The seed artist')} is in no scene of the "
                    "artist graph (too few listeners in common with other artists), so it "
                    "could not make its scene one of yours."
                )
            elif int(seed_scene) not in home:
                added_scene = int(seed_scene)
                home.add(added_scene)
    else:
        home = popular_home(catalogue, seed, steer_tag_artists)
    return ListenerProfile(
        listener=request.listener,
        personalised=personalised,
        notes=tuple(notes),
        as_of=as_of,
        history=history,
        home_scenes=frozenset(home),
        avoid_scenes=catalogue.lookalike_scenes(home),
        excluded_artists=excluded_artists,
        excluded_by_tag=excluded_by_tag,
        steer_tag_artists=steer_tag_artists,
        seed_artist=seed,
        blocks=blocks,
        model_scores=scores,
        feedback=feedback,
        rested=rested_artists(
            store,
            request.listener,
            request.listener_id,
            rest_after=terms.rest_after_offers,
            made_at=request.made_at,
            ignore_sources=terms.ignore_sources,
        ),
        moment=request.moment,
        seed_scene=added_scene,
        playable=playable_tracks(store, terms.playable),
    )


def _standard(scores: np.ndarray) -> np.ndarray:
    spread = float(scores.std())
    return np.asarray((scores - scores.mean()) / (spread if spread > 0 else 1.0))


def moment_scores(
    scores: np.ndarray,
    model: ModelView,
    history: Mapping[int, ArtistHistory],
    hated: frozenset[int],
) -> np.ndarray:
    """The model's scores for a moment: (1 - MOMENT_FOLD_IN) z(model) + MOMENT_FOLD_IN z(fold),
    where the fold-in scores every artist by its vector's dot product with the mean of the
    listener's artists' vectors, each weighted by log1p of its moment weight (hated artists
    left out). Without artist vectors (EASE, item-knn) the scores stay the model's own."""
    vectors = model.item_vectors
    if vectors is None:
        return scores
    column = {int(a): j for j, a in enumerate(np.asarray(model.artist_ids).tolist())}
    weights = np.zeros(len(column))
    for h in history.values():
        j = column.get(h.artist_id)
        if j is not None and h.artist_id not in hated:
            weights[j] = np.log1p(h.weight)
    if not weights.sum():
        return scores
    matrix = np.asarray(vectors, dtype=float)
    fold = matrix @ (weights @ matrix / weights.sum())
    own = np.asarray(scores, dtype=float)
    return np.asarray((1 - MOMENT_FOLD_IN) * _standard(own) + MOMENT_FOLD_IN * _standard(fold))
