"""The artist graph on the real HetRec data: the brief's look-alike pair stays apart.

Interactions are read straight from the .dat files (a few hundred ms) rather than through an
import, to keep the suite fast; the store path is measured by bench/graph_bench.py.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp

from recommender.graph import ArtistGraph
from recommender.interactions import Interactions

CASUALTIES, EARTH_CRISIS = 6997, 8930


def _table(path: Path) -> np.ndarray:
    return np.loadtxt(path, dtype=np.int64, skiprows=1, usecols=(0, 1, 2), ndmin=2)


def _hetrec_interactions(folder: Path) -> Interactions:
    plays = _table(folder / "user_artists.dat")
    tagged = _table(folder / "user_taggedartists.dat")
    lines = (folder / "artists.dat").read_text(encoding="utf-8", errors="replace").splitlines()
    names = {int(line.split("\t")[0]): line.split("\t")[1] for line in lines[1:]}
    artists = np.array(sorted(set(names) | set(plays[:, 1].tolist())), dtype=np.int64)
    column = {int(a): n for n, a in enumerate(artists)}
    users, rows = np.unique(plays[:, 0], return_inverse=True)
    cols = np.array([column[int(a)] for a in plays[:, 1]])
    matrix = sp.csr_matrix(
        (plays[:, 2].astype(np.float64), (rows, cols)), shape=(len(users), len(artists))
    )
    tagged = tagged[np.isin(tagged[:, 1], artists)]
    tag_ids, tag_cols = np.unique(tagged[:, 2], return_inverse=True)
    tag_rows = np.array([column[int(a)] for a in tagged[:, 1]])
    artist_tags = sp.csr_matrix(
        (np.ones(len(tagged)), (tag_rows, tag_cols)), shape=(len(artists), len(tag_ids))
    )
    tag_lines = (folder / "tags.dat").read_text(encoding="latin-1").splitlines()
    tag_names = {int(line.split("\t")[0]): line.split("\t")[1] for line in tag_lines[1:]}
    weights = matrix.copy()
    weights.data = np.log1p(weights.data)
    return Interactions(
        listeners=[str(u) for u in users],
        listener_ids=users,
        artists=artists,
        artist_names=[names.get(int(a), str(a)) for a in artists],
        plays=matrix,
        weights=weights,
        tags=[tag_names[int(t)] for t in tag_ids],
        artist_tags=artist_tags,
        now=None,
        fingerprint="hetrec-files",
    )


@pytest.mark.realdata
def test_the_casualties_and_earth_crisis_are_never_neighbours(hetrec_dir: Path) -> None:
    graph = ArtistGraph.build(_hetrec_interactions(hetrec_dir), seed=42)
    assert graph.shared_listeners(CASUALTIES, EARTH_CRISIS) == 0
    assert graph.listeners_of(CASUALTIES) == 4 and graph.listeners_of(EARTH_CRISIS) == 1
    assert EARTH_CRISIS not in {n.artist_id for n in graph.similar(CASUALTIES, k=200)}
    assert CASUALTIES not in {n.artist_id for n in graph.similar(EARTH_CRISIS, k=200)}
    # Earth Crisis has one listener, so no co-listening edge can lead to it.
    assert graph.bridge([CASUALTIES], EARTH_CRISIS) is None
    # Same-scene artists with a real shared audience are still found.
    metallica = graph.similar(int(graph.artist_ids[graph.names.index("Metallica")]), k=10)
    assert {"Megadeth", "Slayer", "Iron Maiden"} & {n.name for n in metallica}
    for n in metallica:
        assert n.reason.startswith(f"{n.shared_listeners} listeners play both")
