"""The graph as bundle arrays and back: flat `.npy` arrays plus one small JSON document.

`graph_arrays` gives every array (prefixed `graph_`), the range each index array must stay
in, and the document (scenes and settings); `graph_from` rebuilds the graph from a bundle's
memory maps without copying them, after the cheap checks (sizes, offsets, labels). networkx is
never imported here: it only runs while the graph is built.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from recommender.bundle import Bound, Check, Offsets, read_bundle, write_bundle
from recommender.errors import BundleError, GraphFileError
from recommender.graph.records import (
    Audience,
    Edges,
    GraphData,
    GraphParams,
    Scene,
    TagLists,
    TextList,
    check_offsets,
)

GRAPH_FORMAT = 3
DOCUMENT = "graph"
_HINT = "run `tastemaker train`"


def graph_arrays(
    data: GraphData,
) -> tuple[dict[str, np.ndarray], dict[str, Check], dict[str, Any]]:
    """(arrays, their checks, the JSON document) that hold the graph in a bundle."""
    n = len(data.artist_ids)
    e = data.edges
    arrays = {
        "artist_ids": data.artist_ids,
        "names_blob": data.names.blob,
        "names_offsets": data.names.offsets,
        "tags_blob": data.top_tags.vocabulary.blob,
        "tags_offsets": data.top_tags.vocabulary.offsets,
        "listener_counts": data.listener_counts,
        "top_tags_indptr": data.top_tags.indptr,
        "top_tags": data.top_tags.ids,
        "reason_tags_indptr": data.reason_tags.indptr,
        "reason_tags": data.reason_tags.ids,
        "audience_indptr": data.audience.indptr,
        "audience": data.audience.listeners,
        "edges_indptr": e.indptr,
        "edges_low": e.low,
        "edges_high": e.high,
        "edges_weight": e.weight,
        "edges_shared": e.shared,
        "edges_tags": e.tags,
        "adjacency_indptr": e.adjacency_indptr,
        "adjacency_edge": e.adjacency_edge,
        "adjacency_other": e.adjacency_other,
        "scene_labels": data.scene_labels,
        "lookalikes": data.lookalike_array,
        "scene_lookalikes": data.scene_lookalike_array,
    }
    n_tags = len(data.top_tags.vocabulary)
    checks: dict[str, Check] = {
        "names_offsets": Offsets("names_blob"),
        "tags_offsets": Offsets("tags_blob"),
        "top_tags_indptr": Offsets("top_tags"),
        "top_tags": Bound(n_tags),
        "reason_tags_indptr": Offsets("reason_tags"),
        "reason_tags": Bound(n_tags),
        "audience_indptr": Offsets("audience"),
        "audience": Bound(data.audience.n_listeners),
        "edges_indptr": Offsets("edges_low"),
        "edges_low": Bound(n),
        "edges_high": Bound(n),
        "edges_shared": Bound(data.audience.n_listeners + 1),
        "adjacency_indptr": Offsets("adjacency_edge"),
        "adjacency_edge": Bound(e.count),
        "adjacency_other": Bound(n),
        "scene_labels": Bound(len(data.scene_list), low=-1),
        "lookalikes": Bound(n),
        "scene_lookalikes": Bound(len(data.scene_list)),
        "listener_counts": Bound(data.audience.n_listeners + 1),
    }
    document = {
        "format": GRAPH_FORMAT,
        "listeners": data.audience.n_listeners,
        "scenes": [s.__dict__ for s in data.scene_list],
        "params": data.params.as_dict(),
    }
    return (
        {f"graph_{k}": v for k, v in arrays.items()},
        {
            f"graph_{k}": Offsets(f"graph_{v.target}") if isinstance(v, Offsets) else v
            for k, v in checks.items()
        },
        document,
    )


def graph_from(arrays: Mapping[str, np.ndarray], document: Any) -> GraphData:
    """The graph held by a bundle's arrays and document; GraphFileError when inconsistent."""
    if not isinstance(document, dict) or document.get("format") != GRAPH_FORMAT:
        raise GraphFileError(f"the bundle holds an unknown graph format: {_HINT}")
    try:
        return _from_parts(
            {k[6:]: v for k, v in arrays.items() if k.startswith("graph_")}, document
        )
    except GraphFileError:
        raise
    except (KeyError, TypeError, ValueError, IndexError) as exc:
        raise GraphFileError(f"the artist graph is inconsistent ({exc}): {_HINT}") from None


def _from_parts(a: Mapping[str, np.ndarray], document: dict[str, Any]) -> GraphData:
    ids = a["artist_ids"]
    n = len(ids)
    scenes = [Scene(**s) for s in document["scenes"]]
    labels = a["scene_labels"]
    shapes_ok = (
        ids.ndim == 1
        and np.issubdtype(ids.dtype, np.integer)
        and (n < 2 or bool(np.all(np.diff(ids) > 0)))
        and labels.shape == (n,)
        and a["listener_counts"].shape == (n,)
        and a["lookalikes"].ndim == 2
        and a["lookalikes"].shape[1] == 2
        and a["scene_lookalikes"].ndim == 2
        and a["scene_lookalikes"].shape[1] == 2
    )
    if not shapes_ok:
        raise GraphFileError(f"the artist graph's arrays do not fit together: {_HINT}")
    if labels.size and (int(labels.min()) < -1 or int(labels.max()) >= len(scenes)):
        raise GraphFileError(f"the artist graph's scene labels are out of range: {_HINT}")
    for name in ("names_offsets", "top_tags_indptr", "reason_tags_indptr", "audience_indptr"):
        if len(a[name]) != n + 1:
            raise GraphFileError(f"the artist graph's {name} does not cover its artists: {_HINT}")
    for pairs, limit in ((a["lookalikes"], n), (a["scene_lookalikes"], len(scenes))):
        if pairs.size and (int(pairs.min()) < 0 or int(pairs.max()) >= limit):
            raise GraphFileError(f"the artist graph's look-alikes are out of range: {_HINT}")
    check_offsets(a["edges_indptr"], len(a["edges_low"]), "edges")
    vocabulary = TextList(a["tags_blob"], a["tags_offsets"])
    listeners = int(document["listeners"])
    return GraphData(
        artist_ids=ids,
        names=TextList(a["names_blob"], a["names_offsets"]),
        listener_counts=a["listener_counts"],
        top_tags=TagLists(a["top_tags_indptr"], a["top_tags"], vocabulary),
        reason_tags=TagLists(a["reason_tags_indptr"], a["reason_tags"], vocabulary),
        audience=Audience(a["audience_indptr"], a["audience"], listeners),
        edges=Edges(
            indptr=a["edges_indptr"],
            low=a["edges_low"],
            high=a["edges_high"],
            weight=a["edges_weight"],
            shared=a["edges_shared"],
            tags=a["edges_tags"],
            adjacency_indptr=a["adjacency_indptr"],
            adjacency_edge=a["adjacency_edge"],
            adjacency_other=a["adjacency_other"],
        ),
        scene_labels=labels,
        scene_list=scenes,
        lookalike_array=a["lookalikes"],
        scene_lookalike_array=a["scene_lookalikes"],
        params=GraphParams(**document["params"]),
    )


def save_graph(data: GraphData, folder: Path) -> Path:
    """The graph alone as a bundle folder (for benchmarks and tests; training saves the graph
    inside the model's bundle)."""
    arrays, checks, document = graph_arrays(data)
    path, _ = write_bundle(folder, arrays, {DOCUMENT: document}, {"kind": "graph"}, checks)
    return path


def load_graph(folder: Path) -> GraphData:
    """Read a graph written by `save_graph`; anything torn, tampered or foreign is refused."""
    try:
        bundle = read_bundle(folder)
    except GraphFileError:
        raise
    except BundleError as exc:
        raise GraphFileError(str(exc)) from None
    if DOCUMENT not in bundle.documents:
        raise GraphFileError(f"{folder} holds no artist graph: {_HINT}")
    return graph_from(bundle.arrays, bundle.documents[DOCUMENT])
