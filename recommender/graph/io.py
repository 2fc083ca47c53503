"""Saving and loading the graph without pickle: arrays in `graph.npz`, text in `graph.json`.

Loading checks every shape, range and index before anything is built from the files, so a
torn, tampered or foreign graph is refused with GraphFileError ("run `tastemaker train`").
"""

from __future__ import annotations

import io
import json
import math
import zipfile
from pathlib import Path
from typing import Any

import networkx as nx
import numpy as np
import scipy.sparse as sp

from recommender.errors import GraphFileError
from recommender.graph.records import GraphData, GraphParams, Scene

GRAPH_FORMAT = 2


def save_graph(data: GraphData, folder: Path) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    edges = np.array(
        [(a, b, d["weight"], d["shared"], d["tags"]) for a, b, d in data.graph.edges(data=True)],
        dtype=np.float64,
    ).reshape(-1, 5)
    pairs = np.array(sorted(data.lookalike_pairs), dtype=np.int64).reshape(-1, 2)
    scene_pairs = np.array(sorted(data.scene_lookalikes), dtype=np.int64).reshape(-1, 2)
    arrays = folder / "graph.npz"
    np.savez(
        arrays,
        artist_ids=data.artist_ids,
        listener_counts=data.listener_counts,
        scene_labels=data.scene_labels.astype(np.int64),
        edges=edges,
        lookalike_pairs=pairs,
        scene_lookalikes=scene_pairs,
        audience_indptr=data.audience.indptr.astype(np.int64),
        audience_indices=data.audience.indices.astype(np.int64),
        audience_shape=np.array(data.audience.shape, dtype=np.int64),
    )
    meta = folder / "graph.json"
    meta.write_text(
        json.dumps(
            {
                "format": GRAPH_FORMAT,
                "names": data.names,
                "top_tags": data.top_tags,
                "reason_tags": data.reason_tags,
                "scenes": [s.__dict__ for s in data.scene_list],
                "params": data.params.as_dict(),
            },
            ensure_ascii=False,
        ),
        encoding="utf-8",
    )
    return [arrays, meta]


def load_graph(folder: Path) -> GraphData:
    """Read a graph written by `save_graph`; anything torn, tampered or foreign is refused."""
    try:
        meta = json.loads((folder / "graph.json").read_text(encoding="utf-8"))
        raw = io.BytesIO((folder / "graph.npz").read_bytes())
        with np.load(raw, allow_pickle=False) as data:
            arrays = {key: data[key] for key in data.files}
    except (OSError, ValueError, KeyError, zipfile.BadZipFile) as exc:
        raise GraphFileError(
            f"the artist graph in {folder} cannot be read ({exc}): run `tastemaker train`"
        ) from exc
    if not isinstance(meta, dict) or meta.get("format") != GRAPH_FORMAT:
        raise GraphFileError(f"{folder} holds an unknown graph format: run `tastemaker train`")
    try:
        return _from_parts(meta, arrays)
    except (KeyError, TypeError, ValueError, IndexError) as exc:
        raise GraphFileError(
            f"the artist graph in {folder} is inconsistent ({exc}): run `tastemaker train`"
        ) from exc


def _from_parts(meta: dict[str, Any], arrays: dict[str, np.ndarray]) -> GraphData:
    n = len(arrays["artist_ids"])
    edges = arrays["edges"]
    n_listeners, n_artists = (int(v) for v in arrays["audience_shape"])
    checks = {
        "names": len(meta["names"]) == n,
        "tags": len(meta["top_tags"]) == n and len(meta["reason_tags"]) == n,
        "scene labels": arrays["scene_labels"].shape == (n,),
        "listener counts": arrays["listener_counts"].shape == (n,),
        "edges shape": edges.ndim == 2 and edges.shape[1] == 5,
        "finite edges": bool(np.all(np.isfinite(edges))),
        "edge ends": bool(np.all((edges[:, :2] >= 0) & (edges[:, :2] < n))),
        "edge weights": bool(np.all((edges[:, 2] > 0) & (edges[:, 2] <= 1))),
        "audience": n_artists == n and len(arrays["audience_indptr"]) == n + 1,
        "look-alikes": bool(np.all(arrays["lookalike_pairs"] < n)),
        "scenes": bool(np.all(arrays["scene_labels"] < len(meta["scenes"]))),
    }
    broken = [name for name, ok in checks.items() if not ok]
    if broken:
        raise ValueError(f"bad {', '.join(broken)}")
    audience = sp.csc_matrix(
        (
            np.ones(len(arrays["audience_indices"]), dtype=np.int8),
            arrays["audience_indices"],
            arrays["audience_indptr"],
        ),
        shape=(n_listeners, n_artists),
    )
    audience.check_format(full_check=True)
    graph = nx.Graph()
    graph.add_nodes_from(range(n))
    graph.add_edges_from(
        (int(a), int(b), {"weight": w, "shared": int(s), "tags": t, "cost": -math.log(w)})
        for a, b, w, s, t in edges.tolist()
    )
    return GraphData(
        artist_ids=arrays["artist_ids"].astype(np.int64),
        names=[str(name) for name in meta["names"]],
        listener_counts=arrays["listener_counts"].astype(np.int64),
        top_tags=meta["top_tags"],
        reason_tags=meta["reason_tags"],
        audience=audience,
        graph=graph,
        scene_labels=arrays["scene_labels"].astype(np.int64),
        scene_list=[Scene(**s) for s in meta["scenes"]],
        lookalike_pairs={(int(a), int(b)) for a, b in arrays["lookalike_pairs"]},
        scene_lookalikes={(int(a), int(b)) for a, b in arrays["scene_lookalikes"]},
        params=GraphParams(**meta["params"]),
    )
