"""Train the hybrid model and the artist graph together, save them, load the newest one.

`train` is what `tastemaker train` runs; `load_model` is what every playlist starts from. A
model row marked stale (its data was forgotten) is refused until `train` runs again.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from recommender.bundle import read_bundle, write_bundle
from recommender.errors import ModelMissing, ModelStale, UnknownListener
from recommender.features import item_features
from recommender.graph import ArtistGraph
from recommender.hybrid import HybridModel
from recommender.interactions import Interactions, load_interactions
from recommender.store import Store, utc_now

DEFAULT_PARAMS: dict[str, Any] = {
    "no_components": 64,
    "epochs": 40,
    "learning_rate": 0.05,
    "item_alpha": 1e-6,
    "user_alpha": 1e-6,
    "max_sampled": 30,
    "random_state": 42,
}


@dataclass
class TrainedModel:
    """What a playlist needs from training: scores, artist vectors and the graph."""

    model_id: str
    artist_ids: np.ndarray
    listeners: list[str]
    hybrid: HybridModel
    graph: ArtistGraph
    fingerprint: str
    params: dict[str, Any]
    now: int | None
    created_at: str
    path: Path | None = None

    def __post_init__(self) -> None:
        self._listener_row = {name: i for i, name in enumerate(self.listeners)}
        self._artist_col = {int(a): j for j, a in enumerate(self.artist_ids)}

    @property
    def item_vectors(self) -> np.ndarray:
        return self.hybrid.item_vectors_

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
        return self.hybrid.score_rows(np.array([row]))[0]

    def column(self, artist_id: int) -> int:
        return self._artist_col[int(artist_id)]


def models_dir_for(store: Store, models_dir: Path | None) -> Path:
    if models_dir is not None:
        return models_dir
    if store.path is None:
        raise ModelMissing("an in-memory store has no models folder: pass models_dir")
    return store.path.parent / "models"


def fit(
    interactions: Interactions, params: dict[str, Any] | None = None
) -> tuple[HybridModel, ArtistGraph]:
    """Fit the hybrid model and build the graph on already-loaded interactions."""
    merged = {**DEFAULT_PARAMS, **(params or {})}
    hybrid = HybridModel(**merged).fit(interactions.weights, item_features(interactions))
    graph = ArtistGraph.build(interactions, seed=int(merged["random_state"]))
    return hybrid, graph


def train(
    store: Store, models_dir: Path | None = None, params: dict[str, Any] | None = None
) -> TrainedModel:
    """Train on everything the store may use, save the bundle, record it; return the model."""
    started = time.perf_counter()
    interactions = load_interactions(store)
    merged = {**DEFAULT_PARAMS, **(params or {})}
    hybrid, graph = fit(interactions, merged)
    created = utc_now()
    model_id = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ") + "-" + interactions.fingerprint[:8]
    folder = models_dir_for(store, models_dir)
    folder.mkdir(parents=True, exist_ok=True)
    arrays: dict[str, np.ndarray] = {
        "artist_ids": np.asarray(interactions.artists, dtype=np.int64),
        "item_vectors": hybrid.item_vectors_,
        "item_bias": hybrid.item_bias_,
        "user_vectors": hybrid.user_vectors_,
        "user_bias": hybrid.user_bias_,
    }
    mappings = {"listeners": interactions.listeners}
    manifest = {
        "model_id": model_id,
        "created_at": created,
        "data_fingerprint": interactions.fingerprint,
        "now": interactions.now,
        "params": merged,
        "graph_params": graph.params.as_dict(),
        "train_seconds": round(time.perf_counter() - started, 3),
    }
    path = write_bundle(
        folder / model_id, arrays, mappings, manifest, extra_writer=lambda d: graph.save(d)
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
        hybrid=hybrid,
        graph=graph,
        fingerprint=interactions.fingerprint,
        params=merged,
        now=interactions.now,
        created_at=created,
        path=path,
    )


def load_model(store: Store, model_id: str | None = None) -> TrainedModel:
    """The newest model (or `model_id`); refuses a stale one."""
    query = "SELECT id, path, stale, stale_reason FROM models"
    args: tuple[str, ...] = ()
    if model_id is not None:
        query += " WHERE id = ?"
        args = (model_id,)
    row = store.conn.execute(query + " ORDER BY created_at DESC, id DESC LIMIT 1", args).fetchone()
    if row is None:
        raise ModelMissing("no trained model yet: run `tastemaker train`")
    found_id, path, stale, reason = row
    if stale:
        raise ModelStale(
            f"model {found_id} was trained on data that has changed "
            f"({reason or 'data forgotten'}): run `tastemaker train`"
        )
    manifest, arrays, mappings = read_bundle(Path(path))
    if manifest.get("model_id") != found_id:
        raise ModelStale(f"the bundle at {path} is not model {found_id}: run `tastemaker train`")
    graph = ArtistGraph.load(Path(path))
    n_items = len(arrays["artist_ids"])
    listeners = list(mappings["listeners"])
    if arrays["item_vectors"].shape[0] != n_items or arrays["user_vectors"].shape[0] != len(
        listeners
    ):
        raise ModelStale(f"the bundle at {path} is inconsistent: run `tastemaker train`")
    hybrid = HybridModel.from_arrays(
        {k: v for k, v in manifest["params"].items() if k in DEFAULT_PARAMS},
        arrays["item_vectors"],
        arrays["item_bias"],
        arrays["user_vectors"],
        arrays["user_bias"],
    )
    return TrainedModel(
        model_id=found_id,
        artist_ids=arrays["artist_ids"],
        listeners=listeners,
        hybrid=hybrid,
        graph=graph,
        fingerprint=manifest["data_fingerprint"],
        params=manifest["params"],
        now=manifest.get("now"),
        created_at=manifest["created_at"],
        path=Path(path),
    )


def mark_models_stale(store: Store, reason: str) -> int:
    """Mark every model stale (call inside the transaction that changed the data)."""
    cur = store.conn.execute(
        "UPDATE models SET stale = 1, stale_reason = ? WHERE stale = 0", (reason,)
    )
    return cur.rowcount


class TastemakerScorer:
    """The model playlists use, in the evaluation's scorer protocol."""

    def __init__(self, params: dict[str, Any] | None = None) -> None:
        self.params = params

    def fit(self, train: Interactions) -> TastemakerScorer:
        merged = {**DEFAULT_PARAMS, **(self.params or {})}
        self.hybrid_ = HybridModel(**merged).fit(train.weights, item_features(train))
        return self

    def score(self, rows: np.ndarray) -> np.ndarray:
        return self.hybrid_.score_rows(rows)
