"""Train the tastemaker model and the artist graph together, save them, load the newest one.

`train` is what `tastemaker train` runs; `load_model` is what every playlist starts from. A
model row marked stale (its data was forgotten) is refused until `train` runs again.
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

from recommender.blend import DEFAULT_PARAMS, TastemakerScorer
from recommender.bundle import read_bundle, write_bundle
from recommender.errors import (
    BundleError,
    ModelMissing,
    ModelStale,
    NothingToTrain,
    UnknownListener,
)
from recommender.graph import ArtistGraph
from recommender.interactions import Interactions, load_interactions
from recommender.store import Store, utc_now


@dataclass
class TrainedModel:
    """What a playlist needs from training: scores, artist vectors and the graph."""

    model_id: str
    artist_ids: np.ndarray  # store artist ids, column order of every score vector
    listeners: list[str]
    scorer: TastemakerScorer
    history: sp.csr_matrix  # the weights each listener was trained on (EASE scores from it)
    graph: ArtistGraph
    fingerprint: str
    params: dict[str, Any]
    now: int | None
    created_at: str
    path: Path | None = None
    _listener_row: dict[str, int] = field(default_factory=dict, repr=False)
    _artist_col: dict[int, int] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        self._listener_row = {name: i for i, name in enumerate(self.listeners)}
        self._artist_col = {int(a): j for j, a in enumerate(self.artist_ids)}

    @property
    def item_vectors(self) -> np.ndarray:
        """Artist embeddings (identity + tag features folded in), one row per artist."""
        return self.scorer.hybrid_.item_vectors_

    def has_listener(self, listener: str) -> bool:
        return listener in self._listener_row

    def scores(self, listener: str) -> np.ndarray:
        """One score per artist (aligned with artist_ids) for a listener the model knows."""
        row = self._listener_row.get(listener)
        if row is None:
            raise UnknownListener(
                f"the model has no listener {listener!r}: import their history and run "
                "`tastemaker train` (or they opted out of personalisation)"
            )
        return self.scorer.score_rows(self.history, np.array([row]))[0]

    def column(self, artist_id: int) -> int:
        return self._artist_col[int(artist_id)]


def models_dir_for(store: Store, models_dir: Path | None) -> Path:
    """Where bundles go: `models_dir`, else a `models/` folder beside the store file."""
    if models_dir is not None:
        return Path(models_dir)
    if store.path is None:
        raise ModelMissing("an in-memory store has no models folder: pass models_dir")
    return store.path.parent / "models"


def fit(
    interactions: Interactions, params: dict[str, Any] | None = None, num_threads: int = 2
) -> tuple[TastemakerScorer, ArtistGraph]:
    """Fit the scorer and build the graph on already-loaded interactions.

    The graph's community search is pure Python while LightFM and the EASE solve release the
    interpreter lock, so the two run side by side and share the cores.
    """
    merged = {**DEFAULT_PARAMS, **(params or {})}
    with ThreadPoolExecutor(max_workers=1) as pool:
        graph_job = pool.submit(ArtistGraph.build, interactions, int(merged["random_state"]))
        scorer = TastemakerScorer(num_threads=num_threads, **merged).fit(interactions)
        graph = graph_job.result()
    return scorer, graph


def train(
    store: Store,
    models_dir: Path | None = None,
    params: dict[str, Any] | None = None,
    num_threads: int = 2,
) -> TrainedModel:
    """Train on everything the store may use, save the bundle, record it; return the model."""
    started = time.perf_counter()
    folder = models_dir_for(store, models_dir)
    interactions = load_interactions(store)
    if interactions.weights.nnz == 0:
        raise NothingToTrain("there are no listens to train on: import some history first")
    merged = {**DEFAULT_PARAMS, **(params or {})}
    scorer, graph = fit(interactions, merged, num_threads=num_threads)
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
    manifest = {
        "model_id": model_id,
        "created_at": created,
        "data_fingerprint": interactions.fingerprint,
        "now": interactions.now,
        "params": merged,
        "graph_params": graph.params.as_dict(),
        "train_seconds": round(time.perf_counter() - started, 3),
    }
    folder.mkdir(parents=True, exist_ok=True)
    path = write_bundle(
        folder / model_id,
        arrays,
        {"listeners": interactions.listeners},
        manifest,
        extra_writer=graph.save,
    )
    with store.transaction() as conn:
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
        params=merged,
        now=interactions.now,
        created_at=created,
        path=path,
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
    try:
        artist_ids = arrays["artist_ids"]
        history = sp.csr_matrix(
            (arrays["history_data"], arrays["history_indices"], arrays["history_indptr"]),
            shape=(len(listeners), len(artist_ids)),
        )
        scorer = TastemakerScorer.from_arrays(manifest["params"], arrays, len(artist_ids))
    except (KeyError, ValueError, TypeError) as exc:
        raise BundleError(f"the bundle at {path} is incomplete ({exc}): {hint}") from exc
    problem = scorer.check_shapes(len(listeners), len(artist_ids))
    if problem is not None:
        raise BundleError(f"the bundle at {path} is inconsistent ({problem}): {hint}")
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
        fingerprint=manifest["data_fingerprint"],
        params=manifest["params"],
        now=manifest.get("now"),
        created_at=manifest["created_at"],
        path=path,
    )


def mark_models_stale(store: Store, reason: str) -> int:
    """Mark every model stale (call inside the transaction that changed the data)."""
    cur = store.conn.execute(
        "UPDATE models SET stale = 1, stale_reason = ? WHERE stale = 0", (reason,)
    )
    return cur.rowcount
