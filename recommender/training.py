"""Train a model and the artist graph together, save them, load the newest one.

`train` is the one way to train (what `tastemaker train` runs); `load_model` is what every
playlist starts from. Both return a `TrainedModel`, whose `recommend` and `similar` are the
library's verbs. A model row marked stale (its data was forgotten) is refused until `train`
runs again.

Training runs in stages, each reported to `progress` with what it cost: reading the usable
listening, the aggregates (`recommender.aggregates`: co-listening pairs, tag profiles, top
tracks), fitting the model (per epoch) and building the graph (side by side), saving. Before
any of that it estimates the memory the store needs (`estimate_memory`) and refuses, at once,
a store that would not fit the memory budget, naming the budget and the way out.

Loading maps the bundle (`recommender.bundle`): nothing is read until a query needs it, and a
listener is found by binary search over their names, so loading costs milliseconds whatever
the community's size.
"""

from __future__ import annotations

import bisect
import json
import os
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp

from recommender import aggregates as local_engine
from recommender.aggregates import Aggregates, TopTracks, usable_stamp
from recommender.bundle import Bound, Check, Offsets, read_bundle, write_bundle
from recommender.errors import (
    BadArgument,
    BundleError,
    ModelConfigError,
    ModelMissing,
    ModelNotSaved,
    ModelStale,
    NothingToTrain,
    TooBigForMemory,
    UnknownListener,
    UnknownModel,
)
from recommender.generation import check_generation, data_generation
from recommender.graph import ArtistGraph, GraphParams, Neighbour
from recommender.graph.build import co_listening_spec
from recommender.graph.io import graph_arrays, graph_from
from recommender.graph.records import TextList, check_positions
from recommender.interactions import Interactions, load_interactions
from recommender.listens import track_plays as store_track_plays
from recommender.models import (
    DEFAULT_THREADS,
    EASEConfig,
    ModelConfig,
    Scorer,
    make_scorer,
    scorer_class,
)
from recommender.models.ease import gram_bytes
from recommender.store import Store, utc_now

DEFAULT_MODEL = "tastemaker"
Progress = Callable[[str], None]
MEMORY_BUDGET_ENV = "TASTEMAKER_MEMORY_GB"
_HINT = "run `tastemaker train`"


@dataclass(frozen=True)
class Recommendation:
    """One artist `recommend` proposes, with the model's score for it (higher is better)."""

    artist_id: int
    name: str
    score: float


@dataclass(eq=False)
class TrainedModel:
    """What a playlist needs from training: scores, artist vectors and the graph."""

    model_id: str
    artist_ids: np.ndarray  # store artist ids, column order of every score vector
    listener_names: Sequence[str]  # row order of `history`
    listener_order: np.ndarray  # rows sorted by listener name (binary search)
    scorer: Scorer[Any]
    history: sp.csr_matrix  # the weights each listener was trained on (EASE scores from it)
    graph: ArtistGraph
    fingerprint: str
    params: dict[str, Any]
    now: int | None
    created_at: str
    path: Path | None = None
    model_name: str = DEFAULT_MODEL
    notes: tuple[str, ...] = ()  # what training left out and why
    stages: dict[str, float] = field(default_factory=dict)  # seconds per training stage
    top_tracks: TopTracks | None = None
    # The store's usable-listens stamp when the top tracks were counted (None: not known, e.g.
    # counted by another engine or by an older tastemaker); see `track_plays`.
    tracks_stamp: str | None = None

    @property
    def config(self) -> ModelConfig:
        """The typed settings the model was trained with (`params` as a dataclass)."""
        config: ModelConfig = self.scorer.config
        return config

    @cached_property
    def listeners(self) -> list[str]:
        """Every listener the model knows, in row order (decoded once, on first use)."""
        return list(self.listener_names)

    @property
    def item_vectors(self) -> np.ndarray | None:
        """Artist embeddings (identity + tag features folded in), one row per artist; None for
        a model without artist vectors (most-popular, item-knn, EASE)."""
        return self.scorer.artist_vectors()

    def has_listener(self, listener: str) -> bool:
        return self._find(listener) is not None

    def scores(self, listener: str) -> np.ndarray:
        """One score per artist (aligned with artist_ids) for a listener the model knows."""
        row = self._row(listener)
        self._heard(row)  # checks the row's columns before any model reads them
        scores: np.ndarray = self.scorer.score_rows(self.history, np.array([row]))
        return scores.reshape(-1)

    def column(self, artist_id: int) -> int:
        """The position of an artist in every score vector (UnknownArtist when not there)."""
        return self.graph.position(artist_id)  # the graph has the model's artists, in order

    def recommend(
        self, listener: str, n: int = 10, exclude_heard: bool = True
    ) -> list[Recommendation]:
        """The listener's `n` best-scored artists, best first (ties: the lower column).

        With `exclude_heard` the artists the model was trained on for them are left out, so
        fewer than `n` come back for a listener who has heard nearly everything. Pure: nothing
        is written.
        """
        count = _count(n)
        row = self._row(listener)
        scores = self.scores(listener).astype(np.float64)
        if exclude_heard:
            scores[self._heard(row)] = -np.inf
        order = np.argsort(-scores, kind="stable")
        names = self.graph.names
        return [
            Recommendation(int(self.artist_ids[j]), names[j], float(scores[j]))
            for j in order[:count]
            if np.isfinite(scores[j])
        ]

    def similar(self, artist_id: int, n: int = 10) -> list[Neighbour]:
        """Up to `n` artists whose audiences overlap with this one's, strongest first, each
        with the numbers behind it; never a look-alike. Pure: nothing is written."""
        return self.graph.similar(artist_id, k=_count(n))

    def tracks_of(self, artist_id: int, n: int | None = None) -> list[int]:
        """The artist's most played track ids (everyone's usable plays at training time)."""
        if self.top_tracks is None:
            return []
        found = self.top_tracks.of(self.column(artist_id), n)
        return [int(t) for t in found]

    def track_plays(self, store: Store, artist_ids: Sequence[int]) -> dict[int, int]:
        """Plays per track of these artists over everyone's usable listens, exactly as
        `recommender.listens.track_plays` reads them from the store, which it does unless the
        bundle's counts still hold: the store's usable-listens stamp is checked on every call,
        so an opt-out, an ignored source, a forget or an import since training sends the read
        to the store at once. Reading the counts from the bundle saves reading every listen of
        every candidate artist (millions of rows at Last.fm-1K's size)."""
        tracks = self.top_tracks
        if tracks is None or self.tracks_stamp is None or usable_stamp(store) != self.tracks_stamp:
            return store_track_plays(store, artist_ids)
        found: dict[int, int] = {}
        for artist_id in artist_ids:
            position = self.graph.locate(int(artist_id))
            if position is None:  # imported after training (the stamp would say so too)
                return store_track_plays(store, artist_ids)
            found.update(tracks.plays_of(position))
        return found

    def _heard(self, row: int) -> np.ndarray:
        start, end = int(self.history.indptr[row]), int(self.history.indptr[row + 1])
        heard: np.ndarray = self.history.indices[start:end]
        try:
            check_positions(heard, len(self.artist_ids), "listening history")
        except BundleError as exc:
            raise BundleError(f"the model at {self.path}: {exc}") from None
        return heard

    def _find(self, listener: str) -> int | None:
        names, order = self.listener_names, self.listener_order
        if not isinstance(listener, str) or not len(order):
            return None
        at = bisect.bisect_left(range(len(order)), listener, key=lambda i: names[int(order[i])])
        if at < len(order):
            row = int(order[at])
            if 0 <= row < len(names) and names[row] == listener:
                return row
        return None

    def _row(self, listener: str) -> int:
        row = self._find(listener)
        if row is None:
            raise UnknownListener(
                f"the model has no listener {listener!r}: import their history and run "
                "`tastemaker train` (or they opted out of personalisation)"
            )
        return row


def _count(n: int) -> int:
    if isinstance(n, bool) or not isinstance(n, int | np.integer) or n < 1:
        raise BadArgument(f"n must be a whole number of at least 1, not {n!r}")
    return int(n)


def models_dir_for(store: Store, models_dir: Path | None) -> Path:
    """Where bundles go: `models_dir`, else a `models/` folder beside the store file."""
    if models_dir is not None:
        return Path(models_dir)
    if store.path is None:
        raise ModelMissing("an in-memory store has no models folder: pass models_dir")
    return store.path.parent / "models"


def _threads(num_threads: int | None, deterministic: bool) -> int:
    if deterministic:
        if num_threads not in (None, 1):
            raise BadArgument(
                "a deterministic train runs on one thread: leave num_threads out or pass 1"
            )
        return 1
    return DEFAULT_THREADS if num_threads is None else num_threads


# -- the memory budget -----------------------------------------------------------------------


@dataclass(frozen=True)
class MemoryEstimate:
    """What a train of this store is expected to need at its peak, and from what."""

    listeners: int
    artists: int
    listens: int
    tag_rows: int
    bytes: int

    def describe(self) -> str:
        return (
            f"{self.listeners:,} listeners x {self.artists:,} artists, "
            f"{self.listens:,} listen rows: about {self.bytes / 1e9:.1f} GB"
        )


def default_memory_budget() -> int:
    """$TASTEMAKER_MEMORY_GB, else three quarters of this machine's memory (bytes)."""
    configured = os.environ.get(MEMORY_BUDGET_ENV)
    if configured:
        try:
            value = float(configured)
        except ValueError:
            value = -1.0
        if not value > 0:
            raise BadArgument(
                f"{MEMORY_BUDGET_ENV}={configured!r} is not a size: give gigabytes, e.g. 12"
            )
        return int(value * 1e9)
    try:
        total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        total = 8 * 10**9
    return int(0.75 * total)


def estimate_memory(store: Store, config: ModelConfig) -> MemoryEstimate:
    """The peak memory of training `config` on this store, from row counts alone.

    Calibrated on HetRec (0.85 GB measured) and the generated 1 M-row world (1.9 GB), with
    room to spare: about 250 bytes per listen row while the listening is read, 400 per
    listener-artist pair (the matrices, LightFM's copies, the audiences and the co-listening
    blocks), 80 per artist-tag row, 12 per LightFM component per listener, artist and tag (the
    vectors and the optimiser's two copies), 4 KB per artist (mostly the networkx graph the
    community search runs on), and EASE's N x N Gram matrix.
    """

    def count(sql: str) -> int:
        return int(store.conn.execute(sql).fetchone()[0])

    listeners = count("SELECT count(*) FROM listeners")
    artists = count("SELECT count(*) FROM artists")
    listens = count("SELECT count(*) FROM listens")
    tag_rows = count("SELECT count(*) FROM artist_tags")
    tags = count("SELECT count(*) FROM tags")
    pairs = min(listens, listeners * artists)
    components = int(getattr(config, "no_components", 0))
    needed = 500 * 10**6 + 250 * listens + 400 * pairs + 80 * tag_rows
    needed += 12 * components * (listeners + artists + tags) + 4000 * artists
    ease = _ease_config(config)
    if ease is not None:
        needed += gram_bytes(ease, artists)
    return MemoryEstimate(listeners, artists, listens, tag_rows, int(needed))


def _ease_config(config: ModelConfig) -> EASEConfig | None:
    if isinstance(config, EASEConfig):
        return config
    ease = getattr(config, "ease", None)
    share = getattr(config, "ease_share", 1.0)
    return ease if isinstance(ease, EASEConfig) and share > 0 else None


def check_memory(
    store: Store, config: ModelConfig, budget: int | None, *, engine: str = "local"
) -> MemoryEstimate:
    """The estimate, or TooBigForMemory (before any work) when it exceeds `budget` bytes.

    `engine` is where the aggregates will be computed ("local" or "spark"); it changes only
    the way out the error names: with Spark the aggregation already runs elsewhere, but the
    model is still fitted in this process, over the collected matrix.
    """
    estimate = estimate_memory(store, config)
    limit = default_memory_budget() if budget is None else int(budget)
    if estimate.bytes > limit:
        if engine == "spark":
            way_out = (
                "the Spark engine computes the aggregates, but the model is fitted here, on"
                " the driver: run `train --engine spark` on a machine with more memory (README:"
                " Scale)"
            )
        else:
            way_out = (
                "compute the aggregates with the Spark engine on a bigger machine or cluster"
                " (README: Scale)"
            )
        raise TooBigForMemory(
            f"training this store needs {estimate.describe()}, more than the memory budget of "
            f"{limit / 1e9:.1f} GB: {way_out}, or raise the budget with --memory-budget GB "
            f"(or {MEMORY_BUDGET_ENV}) if this machine really has that much to spare"
        )
    return estimate


# -- training --------------------------------------------------------------------------------


class _Stages:
    """Times each stage and reports it; safe to call from the graph's thread."""

    def __init__(self, progress: Progress | None) -> None:
        self.progress = progress
        self.seconds: dict[str, float] = {}
        self._lock = threading.Lock()

    def say(self, line: str) -> None:
        if self.progress is not None:
            with self._lock:
                self.progress(line)

    def done(self, name: str, started: float, detail: str = "") -> None:
        took = time.perf_counter() - started
        self.seconds[name] = round(took, 2)
        self.say(f"train: {name} {took:.1f} s" + (f" ({detail})" if detail else ""))


def _graph_job(
    aggregates: Aggregates | None,
    interactions: Any,
    tracks: TopTracks | None,
    params: GraphParams,
    stages: _Stages,
) -> tuple[Aggregates, ArtistGraph]:
    """The aggregates (unless another engine gave them) and the graph, on a worker thread:
    it must not touch the store (SQLite connections stay on their own thread)."""
    started = time.perf_counter()
    if aggregates is None:
        spec = co_listening_spec(params)
        aggregates = local_engine.from_interactions(interactions, spec, tracks)
        pairs = aggregates.co_listening
        stages.done("aggregates", started, f"{len(pairs.rows):,} co-listening pairs kept")
    started = time.perf_counter()
    graph = ArtistGraph.from_aggregates(aggregates, params)
    stages.done("graph", started, f"{graph.edge_count:,} edges, {len(graph.scenes)} scenes")
    return aggregates, graph


def train(
    store: Store,
    config: ModelConfig | None = None,
    *,
    model: str = DEFAULT_MODEL,
    models_dir: Path | None = None,
    num_threads: int | None = None,
    deterministic: bool = False,
    progress: Progress | None = None,
    memory_budget: int | None = None,
    aggregates: Aggregates | None = None,
    checked: MemoryEstimate | None = None,
) -> TrainedModel:
    """Train `model` (a registered name) with `config` (its defaults when None) on everything
    the store may use, build the artist graph, save the bundle and record it.

    `deterministic=True` fits the model on one thread, so the same store gives the same bundle
    numbers (LightFM's parallel updates race on two threads); LightFM then uses one core and
    its fit takes about 1.7x as long (README: Training). `progress` receives one line per
    stage and per epoch. `memory_budget` (bytes; default `default_memory_budget()`) is checked
    before any work, unless the caller checked it already and passes that `check_memory`
    result as `checked` (each estimate counts the store's rows). `aggregates` computed by
    another engine replace the local ones (they must describe this store's listening).
    """
    threads = _threads(num_threads, deterministic)
    stages = _Stages(progress)
    scorer = make_scorer(model, config, num_threads=threads, progress=stages.say)
    folder = models_dir_for(store, models_dir)
    estimate = checked or check_memory(store, scorer.config, memory_budget)
    stages.say(f"train: {estimate.describe()} of {model} + graph, within the budget")
    generation = data_generation(store)  # before any data is read: see recommender.generation
    started = time.perf_counter()
    tracks: TopTracks | None = None
    stamp: str | None = None  # of the listening the local top tracks are counted from
    if aggregates is not None:
        interactions = aggregates.interactions
    else:
        stamp = usable_stamp(store)  # before reading too: a change meanwhile makes it differ
        interactions = load_interactions(store)
        tracks = local_engine.top_tracks(store, interactions)
        stages.done(
            "read listening",
            started,
            f"{interactions.weights.nnz:,} listener-artist pairs, {len(tracks.track_ids):,} tracks",
        )
    if interactions.weights.nnz == 0:
        raise NothingToTrain("there are no listens to train on: import some history first")
    params = GraphParams(seed=scorer.config.seed)
    with ThreadPoolExecutor(max_workers=1) as pool:
        # The graph's community search is pure Python while LightFM and the EASE solve release
        # the interpreter lock, so the two share the cores. The graph is seeded and depends on
        # nothing the model does, so this changes no number.
        graph_job = pool.submit(_graph_job, aggregates, interactions, tracks, params, stages)
        fit_started = time.perf_counter()
        try:
            scorer.fit(interactions)
        except BaseException:
            graph_job.cancel()
            raise
        stages.done("model", fit_started, f"{model}, {threads} thread(s)")
        done_aggregates, graph = graph_job.result()
    return _save(
        store,
        folder,
        scorer,
        interactions,
        done_aggregates,
        graph,
        model,
        threads,
        stages,
        generation,
        stamp,
    )


def _save(
    store: Store,
    folder: Path,
    scorer: Scorer[Any],
    interactions: Any,
    aggregates: Aggregates,
    graph: ArtistGraph,
    model: str,
    threads: int,
    stages: _Stages,
    generation: int,
    stamp: str | None,
) -> TrainedModel:
    started = time.perf_counter()
    created = utc_now()
    model_id = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ") + "-" + interactions.fingerprint[:8]
    history = sp.csr_matrix(interactions.weights, dtype=np.float32)
    history.sort_indices()
    names = TextList.of(interactions.listeners)
    order = np.array(
        sorted(range(len(interactions.listeners)), key=interactions.listeners.__getitem__),
        dtype=np.int64,
    )
    n_artists = len(interactions.artists)
    # One index type for offsets and columns, as scipy's sparse routines expect.
    index_dtype = np.int32 if max(history.nnz, n_artists) < 2**31 - 1 else np.int64
    tracks = aggregates.top_tracks
    g_arrays, g_checks, g_document = graph_arrays(graph)
    arrays: dict[str, np.ndarray] = {
        "artist_ids": np.asarray(interactions.artists, dtype=np.int64),
        "listener_names": names.blob,
        "listener_offsets": names.offsets,
        "listener_order": order,
        "history_indptr": history.indptr.astype(index_dtype),
        "history_indices": history.indices.astype(index_dtype),
        "history_data": history.data,
        "tracks_indptr": tracks.indptr,
        "tracks_ids": tracks.track_ids,
        "tracks_plays": tracks.plays,
        **scorer.to_arrays(),
        **g_arrays,
    }
    checks: dict[str, Check] = {
        "listener_offsets": Offsets("listener_names"),
        "listener_order": Bound(len(interactions.listeners)),
        "history_indptr": Offsets("history_indices"),
        "history_indices": Bound(n_artists),
        "tracks_indptr": Offsets("tracks_ids"),
        **g_checks,
    }
    params = scorer.config.as_dict()
    notes = (*scorer.notes_, *community_notes(interactions, graph))
    manifest = {
        "model_id": model_id,
        "model": model,
        "created_at": created,
        "data_fingerprint": interactions.fingerprint,
        "now": interactions.now,
        "params": params,
        "notes": list(notes),
        "num_threads": threads,
        "listeners": len(interactions.listeners),
        "artists": n_artists,
        "graph_params": graph.params.as_dict(),
        "stages": dict(stages.seconds),
        "tracks_stamp": stamp,
    }
    check_generation(store, generation)  # a forget ran while fitting: write nothing
    folder.mkdir(parents=True, exist_ok=True)
    try:
        path, digest = write_bundle(
            folder / model_id, arrays, {"graph": g_document}, manifest, checks
        )
    except ModelNotSaved:
        check_generation(store, generation)  # a forget removed the half-written folder
        raise
    stages.done("save", started, f"{_folder_mb(path):.1f} MB")
    record = {**manifest, "stages": dict(stages.seconds), "manifest_sha256": digest}
    with store.transaction() as conn:
        check_generation(store, generation, discard=path)
        conn.execute(
            "INSERT INTO models (id, path, created_at, data_fingerprint, params)"
            " VALUES (?, ?, ?, ?, ?)",
            (model_id, str(path), created, interactions.fingerprint, json.dumps(record)),
        )
    return TrainedModel(
        model_id=model_id,
        artist_ids=arrays["artist_ids"],
        listener_names=list(interactions.listeners),
        listener_order=order,
        scorer=scorer,
        history=history,
        graph=graph,
        fingerprint=interactions.fingerprint,
        params=params,
        now=interactions.now,
        created_at=created,
        path=path,
        model_name=model,
        notes=notes,
        stages=dict(stages.seconds),
        top_tracks=tracks,
        tracks_stamp=stamp,
    )


def community_notes(interactions: Interactions, graph: ArtistGraph) -> tuple[str, ...]:
    """What the store's data cannot support yet, said at train time: collaborative picks need
    other listeners who share artists (the graph's scenes come from co-listening)."""
    listeners = len(interactions.listeners)
    if graph.scenes:
        return ()
    who = "one listener" if listeners == 1 else f"{listeners} listeners who share too few artists"
    return (
        f"the artist graph has no scenes (its edges need artists that listeners share, and this "
        f"store holds {who}): playlists will hold each listener's own music only; discovery "
        "and unexpected picks need a community in this store (a household, a club, HetRec or "
        "the demo world)",
    )


def _folder_mb(folder: Path) -> float:
    return sum(p.stat().st_size for p in folder.iterdir() if p.is_file()) / 1e6


# -- loading ---------------------------------------------------------------------------------


def load_model(
    store: Store, models_dir: Path | None = None, model_id: str | None = None
) -> TrainedModel:
    """The newest model (or `model_id`); refuses a stale, torn or tampered one.

    The bundle is found where its row says, or in `models_dir` when given (a moved store).
    """
    query = "SELECT id, path, stale, stale_reason, params FROM models"
    args: tuple[str, ...] = ()
    if model_id is not None:
        query += " WHERE id = ?"
        args = (model_id,)
    row = store.conn.execute(query + " ORDER BY created_at DESC, id DESC LIMIT 1", args).fetchone()
    if row is None:
        raise ModelMissing("no trained model yet: run `tastemaker train`")
    found_id, recorded_path, stale, reason, recorded = row
    if stale:
        raise ModelStale(
            f"model {found_id} was trained on data that has changed "
            f"({reason or 'data forgotten'}): run `tastemaker train`"
        )
    path = Path(models_dir) / found_id if models_dir is not None else Path(recorded_path)
    try:
        record = json.loads(recorded or "{}")
        digest = record.get("manifest_sha256")
    except (ValueError, AttributeError):
        record, digest = {}, None
    if not isinstance(digest, str):
        raise BundleError(f"model {found_id} was recorded by an older tastemaker: {_HINT}")
    bundle = read_bundle(path, manifest_sha256=digest)
    manifest, arrays = bundle.manifest, bundle.arrays
    if manifest.get("model_id") != found_id:
        raise BundleError(f"the bundle at {path} is not model {found_id}: {_HINT}")
    notes = manifest.get("notes", [])
    if not isinstance(notes, list) or not all(isinstance(n, str) for n in notes):
        raise BundleError(f"the notes in {path} are not a list of sentences: {_HINT}")
    try:
        name = manifest["model"]
        cls = scorer_class(name)
        config = cls.config_class.from_dict(manifest["params"])
        artist_ids = _ids(arrays["artist_ids"])
        listeners = TextList(arrays["listener_names"], arrays["listener_offsets"])
        order = arrays["listener_order"]
        if order.shape != (len(listeners),):
            raise BundleError("the listener order does not cover the listeners")
        history = _history(arrays, len(listeners), len(artist_ids))
        scorer = cls.from_arrays(config, arrays, len(listeners), len(artist_ids), tuple(notes))
        tracks = TopTracks(arrays["tracks_indptr"], arrays["tracks_ids"], arrays["tracks_plays"])
        if len(tracks.indptr) != len(artist_ids) + 1 or len(tracks.plays) != len(tracks.track_ids):
            raise BundleError("the track lists do not cover the artists")
        fingerprint, created_at = str(manifest["data_fingerprint"]), str(manifest["created_at"])
        now = manifest.get("now")
        if now is not None and (isinstance(now, bool) or not isinstance(now, int)):
            raise BundleError("its reference time is not a whole number")
        stamp = manifest.get("tracks_stamp")  # absent from bundles made before it existed
        if stamp is not None and not isinstance(stamp, str):
            raise BundleError("its usable-listens stamp is not text")
        # The record has the saving stage too (the manifest was written before it ended).
        costs = record.get("stages", manifest.get("stages", {}))
        stages = {str(k): float(v) for k, v in dict(costs).items()}
        graph = ArtistGraph.from_data(graph_from(arrays, bundle.documents.get("graph")))
    except (UnknownModel, ModelConfigError, BundleError) as exc:
        raise BundleError(f"the bundle at {path} is inconsistent ({exc}): {_HINT}") from None
    except (KeyError, ValueError, TypeError, IndexError) as exc:
        raise BundleError(f"the bundle at {path} is incomplete ({exc!r}): {_HINT}") from None
    if not np.array_equal(graph.artist_ids, artist_ids):
        raise BundleError(f"the graph in {path} covers other artists than the model: {_HINT}")
    return TrainedModel(
        model_id=found_id,
        artist_ids=artist_ids,
        listener_names=listeners,
        listener_order=order,
        scorer=scorer,
        history=history,
        graph=graph,
        fingerprint=fingerprint,
        params=config.as_dict(),
        now=now,
        created_at=created_at,
        path=path,
        model_name=name,
        notes=tuple(notes),
        stages=stages,
        top_tracks=tracks,
        tracks_stamp=stamp,
    )


def _history(arrays: Any, n_listeners: int, n_artists: int) -> sp.csr_matrix:
    """The training weights as a CSR matrix over the mapped arrays (no copy).

    The offsets were checked whole when the bundle was opened; a row's columns are checked
    when the row is read (`TrainedModel._heard`).
    """
    indptr, indices, data = (
        arrays["history_indptr"],
        arrays["history_indices"],
        arrays["history_data"],
    )
    if indptr.shape != (n_listeners + 1,) or indices.shape != data.shape:
        raise BundleError("the listening history does not cover the listeners")
    if not len(indptr) or int(indptr[0]) != 0 or int(indptr[-1]) != len(indices):
        raise BundleError("the listening history's offsets do not cover its data")
    if indptr.dtype != indices.dtype or indices.dtype not in (np.int32, np.int64):
        raise BundleError("the listening history's offsets and columns differ in type")
    history = sp.csr_matrix((n_listeners, n_artists), dtype=np.float32)
    # Set the parts directly: the constructor would check (and copy) every index.
    history.indptr, history.indices, history.data = indptr, indices, data
    history.has_sorted_indices = True
    return history


def _ids(values: np.ndarray) -> np.ndarray:
    if values.ndim != 1 or not np.issubdtype(values.dtype, np.integer):
        raise BundleError("the artist ids are not a list of whole numbers")
    return values


def mark_models_stale(store: Store, reason: str) -> int:
    """Mark every model stale (call inside the transaction that changed the data)."""
    cur = store.conn.execute(
        "UPDATE models SET stale = 1, stale_reason = ? WHERE stale = 0", (reason,)
    )
    return cur.rowcount
