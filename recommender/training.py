"""Train a model and the artist graph together, save them, load the newest one.

`train` is the one way to train (what `tastemaker train` runs); `load_model` is what every
playlist starts from. Both return a `TrainedModel`, whose `recommend` and `similar` are the
library's verbs. A model row marked stale (its data was forgotten) is refused until `train`
runs again.
"""

from __future__ import annotations

import json
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp

from recommender.bundle import read_bundle, write_bundle
from recommender.errors import (
    BadArgument,
    BundleError,
    ModelConfigError,
    ModelMissing,
    ModelStale,
    NothingToTrain,
    UnknownListener,
    UnknownModel,
)
from recommender.generation import check_generation, data_generation
from recommender.graph import ArtistGraph, Neighbour
from recommender.interactions import Interactions, load_interactions
from recommender.models import DEFAULT_THREADS, ModelConfig, Scorer, make_scorer, scorer_class
from recommender.store import Store, utc_now

DEFAULT_MODEL = "tastemaker"


@dataclass(frozen=True)
class Recommendation:
    """One artist `recommend` proposes, with the model's score for it (higher is better)."""

    artist_id: int
    name: str
    score: float


@dataclass
class TrainedModel:
    """What a playlist needs from training: scores, artist vectors and the graph."""

    model_id: str
    artist_ids: np.ndarray  # store artist ids, column order of every score vector
    listeners: list[str]
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
    _listener_row: dict[str, int] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        self._listener_row = {name: i for i, name in enumerate(self.listeners)}

    @property
    def config(self) -> ModelConfig:
        """The typed settings the model was trained with (`params` as a dataclass)."""
        config: ModelConfig = self.scorer.config
        return config

    @property
    def item_vectors(self) -> np.ndarray | None:
        """Artist embeddings (identity + tag features folded in), one row per artist; None for
        a model without artist vectors (most-popular, item-knn, EASE)."""
        return self.scorer.artist_vectors()

    def has_listener(self, listener: str) -> bool:
        return listener in self._listener_row

    def scores(self, listener: str) -> np.ndarray:
        """One score per artist (aligned with artist_ids) for a listener the model knows."""
        scores: np.ndarray = self.scorer.score_rows(self.history, np.array([self._row(listener)]))
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
            heard = self.history.indices[self.history.indptr[row] : self.history.indptr[row + 1]]
            scores[heard] = -np.inf
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

    def _row(self, listener: str) -> int:
        row = self._listener_row.get(listener)
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


def _fit_with_graph(
    scorer: Scorer[Any], interactions: Interactions
) -> tuple[Scorer[Any], ArtistGraph]:
    """Fit the scorer and build the graph on the same interactions.

    The graph's community search is pure Python while LightFM and the EASE solve release the
    interpreter lock, so the two run side by side and share the cores. The graph is seeded and
    depends on nothing the model does, so this changes no number.
    """
    with ThreadPoolExecutor(max_workers=1) as pool:
        graph_job = pool.submit(ArtistGraph.build, interactions, scorer.config.seed)
        scorer.fit(interactions)
        graph = graph_job.result()
    return scorer, graph


def train(
    store: Store,
    config: ModelConfig | None = None,
    *,
    model: str = DEFAULT_MODEL,
    models_dir: Path | None = None,
    num_threads: int | None = None,
    deterministic: bool = False,
) -> TrainedModel:
    """Train `model` (a registered name) with `config` (its defaults when None) on everything
    the store may use, build the artist graph, save the bundle and record it.

    `deterministic=True` fits the model on one thread, so the same store gives the same numbers
    in the bundle (LightFM's parallel updates race on two threads); LightFM then uses one core.
    """
    threads = _threads(num_threads, deterministic)
    scorer = make_scorer(model, config, num_threads=threads)
    started = time.perf_counter()
    folder = models_dir_for(store, models_dir)
    generation = data_generation(store)  # before any data is read: see recommender.generation
    interactions = load_interactions(store)
    if interactions.weights.nnz == 0:
        raise NothingToTrain("there are no listens to train on: import some history first")
    scorer, graph = _fit_with_graph(scorer, interactions)
    created = utc_now()
    model_id = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ") + "-" + interactions.fingerprint[:8]
    history = sp.csr_matrix(interactions.weights, dtype=np.float32)
    arrays: dict[str, np.ndarray] = {
        "artist_ids": np.asarray(interactions.artists, dtype=np.int64),
        "history_indptr": history.indptr.astype(np.int64),
        "history_indices": history.indices.astype(np.int64),
        "history_data": history.data,
        **scorer.to_arrays(),
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
        "graph_params": graph.params.as_dict(),
        "train_seconds": round(time.perf_counter() - started, 3),
    }
    check_generation(store, generation)  # a forget ran while fitting: write nothing
    folder.mkdir(parents=True, exist_ok=True)
    try:
        path = write_bundle(
            folder / model_id,
            arrays,
            {"listeners": interactions.listeners},
            manifest,
            extra_writer=graph.save,
        )
    except OSError:
        check_generation(store, generation)  # a forget removed the half-written folder
        raise
    with store.transaction() as conn:
        check_generation(store, generation, discard=path)
        conn.execute(
            "INSERT INTO models (id, path, created_at, data_fingerprint, params)"
            " VALUES (?, ?, ?, ?, ?)",
            (model_id, str(path), created, interactions.fingerprint, json.dumps(manifest)),
        )
    return TrainedModel(
        model_id=model_id,
        artist_ids=arrays["artist_ids"],
        listeners=interactions.listeners,
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


def load_model(
    store: Store, models_dir: Path | None = None, model_id: str | None = None
) -> TrainedModel:
    """The newest model (or `model_id`); refuses a stale, torn or tampered one.

    The bundle is found where its row says, or in `models_dir` when given (a moved store).
    """
    query = "SELECT id, path, stale, stale_reason FROM models"
    args: tuple[str, ...] = ()
    if model_id is not None:
        query += " WHERE id = ?"
        args = (model_id,)
    row = store.conn.execute(query + " ORDER BY created_at DESC, id DESC LIMIT 1", args).fetchone()
    if row is None:
        raise ModelMissing("no trained model yet: run `tastemaker train`")
    found_id, recorded_path, stale, reason = row
    if stale:
        raise ModelStale(
            f"model {found_id} was trained on data that has changed "
            f"({reason or 'data forgotten'}): run `tastemaker train`"
        )
    path = Path(models_dir) / found_id if models_dir is not None else Path(recorded_path)
    manifest, arrays, mappings = read_bundle(path)
    hint = "run `tastemaker train`"
    if manifest.get("model_id") != found_id:
        raise BundleError(f"the bundle at {path} is not model {found_id}: {hint}")
    listeners = mappings.get("listeners")
    if not isinstance(listeners, list) or not all(isinstance(n, str) for n in listeners):
        raise BundleError(f"the listener list in {path} is not a list of names: {hint}")
    notes = manifest.get("notes", [])
    if not isinstance(notes, list) or not all(isinstance(n, str) for n in notes):
        raise BundleError(f"the notes in {path} are not a list of sentences: {hint}")
    try:
        # Bundles written before the model contract hold the tastemaker blend.
        name = manifest.get("model", DEFAULT_MODEL)
        cls = scorer_class(name)
        config = cls.config_class.from_dict(manifest["params"])
        artist_ids = _ids(arrays["artist_ids"])
        history = sp.csr_matrix(
            (arrays["history_data"], arrays["history_indices"], arrays["history_indptr"]),
            shape=(len(listeners), len(artist_ids)),
        )
        history.check_format(full_check=True)
        scorer = cls.from_arrays(config, arrays, len(listeners), len(artist_ids), tuple(notes))
        fingerprint, created_at = str(manifest["data_fingerprint"]), str(manifest["created_at"])
        now = manifest.get("now")
        if now is not None and (isinstance(now, bool) or not isinstance(now, int)):
            raise BundleError("its reference time is not a whole number")
    except (UnknownModel, ModelConfigError, BundleError) as exc:
        raise BundleError(f"the bundle at {path} is inconsistent ({exc}): {hint}") from exc
    except (KeyError, ValueError, TypeError, IndexError) as exc:
        raise BundleError(f"the bundle at {path} is incomplete ({exc}): {hint}") from exc
    graph = ArtistGraph.load(path)
    if not np.array_equal(graph.artist_ids, artist_ids):
        raise BundleError(f"the graph in {path} covers other artists than the model: {hint}")
    return TrainedModel(
        model_id=found_id,
        artist_ids=artist_ids,
        listeners=listeners,
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
    )


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
