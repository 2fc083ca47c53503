from __future__ import annotations

import dataclasses
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from recommender.errors import GraphFileError, UnknownArtist
from recommender.graph import ArtistGraph
from tests.demo_fixtures import scene_of_artist, truth


def _planted(graph: ArtistGraph, artist_id: int) -> str | None:
    return scene_of_artist().get(graph.name(artist_id))


def test_scenes_recover_the_planted_scenes(demo_graph: ArtistGraph) -> None:
    planted = scene_of_artist()
    assert len(demo_graph.scenes) == len(truth()["scenes"])
    for scene in demo_graph.scenes:
        members = [
            demo_graph.names[p]
            for p in range(len(demo_graph.names))
            if demo_graph.scene_labels[p] == scene.id
        ]
        most, count = Counter(planted.get(m) for m in members).most_common(1)[0]
        # Each community is one planted scene (a bridge artist may sit with its guest scene).
        assert most is not None and count >= len(members) - 1


def test_planted_lookalike_scenes_are_detected_and_nothing_else(demo_graph: ArtistGraph) -> None:
    found = set()
    for a, b in demo_graph.scene_lookalikes:
        slugs = [
            Counter(_planted(demo_graph, x) for x in demo_graph.scene(s).top_artists).most_common(
                1
            )[0][0]
            for s in (a, b)
        ]
        found.add(tuple(sorted(slugs)))
    expected = {tuple(sorted(pair[:2])) for pair in truth()["lookalike_pairs"]}
    assert found == expected


def test_street_punk_and_metalcore_never_neighbours(demo_graph: ArtistGraph) -> None:
    for artist_id in demo_graph.artist_ids:
        mine = _planted(demo_graph, int(artist_id))
        for neighbour in demo_graph.similar(int(artist_id), k=50):
            theirs = _planted(demo_graph, neighbour.artist_id)
            assert {mine, theirs} != {"street-punk", "metalcore"}
            assert {mine, theirs} != {"midwest-emo", "emo-rap"}
            assert not demo_graph.is_lookalike(int(artist_id), neighbour.artist_id)


def test_similar_reason_carries_the_numbers(demo_graph: ArtistGraph) -> None:
    artist = int(demo_graph.artist_ids[0])
    first = demo_graph.similar(artist, k=1)[0]
    assert first.reason.startswith(f"{first.shared_listeners} listeners play both")
    assert first.shared_listeners == demo_graph.shared_listeners(artist, first.artist_id) >= 2


def test_bridges_join_the_planted_scene_pairs(demo_graph: ArtistGraph) -> None:
    ids = {name: int(a) for a, name in zip(demo_graph.artist_ids, demo_graph.names, strict=True)}
    scenes = truth()["scenes"]
    for bridge in truth()["bridges"]:
        guest = bridge["scenes"][1]
        home_artists = [ids[n] for n in scenes[guest]["artists"] if n != bridge["artist"]]
        target = ids[scenes[bridge["scenes"][0]]["artists"][0]]
        found = demo_graph.bridge(home_artists, target)
        assert found is not None
        assert ids[bridge["artist"]] in found.path
        assert all(n >= 2 for n in found.shared)


@settings(max_examples=25, deadline=None)
@given(st.integers(min_value=0, max_value=311), st.integers(min_value=1, max_value=40))
def test_similar_never_returns_itself_or_a_lookalike(
    demo_graph: ArtistGraph, pos: int, k: int
) -> None:
    artist = int(demo_graph.artist_ids[pos])
    result = demo_graph.similar(artist, k=k)
    assert len(result) <= k
    assert all(n.artist_id != artist for n in result)
    assert not any(demo_graph.is_lookalike(artist, n.artist_id) for n in result)
    scores = [n.score for n in result]
    assert scores == sorted(scores, reverse=True)


def test_save_and_load_round_trip(demo_graph: ArtistGraph, tmp_path: Path) -> None:
    loaded = ArtistGraph.load(demo_graph.save(tmp_path / "g"))
    artist = int(demo_graph.artist_ids[5])
    assert loaded.similar(artist) == demo_graph.similar(artist)
    assert loaded.scene_lookalikes == demo_graph.scene_lookalikes
    assert np.array_equal(loaded.scene_labels, demo_graph.scene_labels)


def test_a_torn_graph_file_is_refused(demo_graph: ArtistGraph, tmp_path: Path) -> None:
    folder = demo_graph.save(tmp_path / "g")
    data = (folder / "graph_edges_low.npy").read_bytes()
    (folder / "graph_edges_low.npy").write_bytes(data[: len(data) // 2])
    with pytest.raises(GraphFileError, match="tastemaker train"):
        ArtistGraph.load(folder)


def test_shared_listeners_match_the_store(demo_graph: ArtistGraph, demo_store_path: Path) -> None:
    from recommender.store import Store

    with Store.open(demo_store_path) as opened:
        rows = opened.conn.execute(
            """SELECT a.artist_id, b.artist_id, COUNT(DISTINCT a.listener_id)
               FROM (SELECT DISTINCT listener_id, artist_id FROM listens) a
               JOIN (SELECT DISTINCT listener_id, artist_id FROM listens) b
                 ON a.listener_id = b.listener_id AND a.artist_id < b.artist_id
               WHERE a.artist_id IN (SELECT id FROM artists ORDER BY id LIMIT 12)
               GROUP BY a.artist_id, b.artist_id"""
        ).fetchall()
    assert len(rows) > 50
    for a, b, n in rows:
        assert demo_graph.shared_listeners(a, b) == n
    first = int(demo_graph.artist_ids[0])
    for neighbour in demo_graph.similar(first, k=10):
        assert neighbour.shared_listeners == demo_graph.shared_listeners(first, neighbour.artist_id)


def test_a_tampered_edge_is_refused_where_it_is_read(demo_graph: ArtistGraph) -> None:
    """A co-listening weight above 1 cannot come from `build`: the bridge search refuses it
    (a bundle's checksums catch the edit first: tests/test_bundle.py)."""
    weights = demo_graph.edges.weight.copy()
    weights[0] = 7.5
    edges = dataclasses.replace(demo_graph.edges, weight=weights)
    broken = ArtistGraph.from_data(dataclasses.replace(demo_graph, edges=edges))
    with pytest.raises(GraphFileError, match="edge weights"):
        broken.bridge([int(demo_graph.artist_ids[0])], int(demo_graph.artist_ids[1]))


def test_lookalike_artists_have_no_edge_and_are_symmetric(demo_graph: ArtistGraph) -> None:
    assert demo_graph.lookalike_pairs, "the demo world plants look-alike artists"
    for i, j in demo_graph.lookalike_pairs:
        a, b = int(demo_graph.artist_ids[i]), int(demo_graph.artist_ids[j])
        assert b in demo_graph.lookalikes(a) and a in demo_graph.lookalikes(b)
        assert demo_graph.is_lookalike(a, b) and demo_graph.is_lookalike(b, a)
        assert demo_graph.neighbours_weight(a, b) == 0.0
        assert {_planted(demo_graph, a), _planted(demo_graph, b)} in (
            {"street-punk", "metalcore"},
            {"midwest-emo", "emo-rap"},
        )


@settings(max_examples=25, deadline=None)
@given(st.integers(min_value=0, max_value=311))
def test_lookalikes_agree_with_is_lookalike(demo_graph: ArtistGraph, pos: int) -> None:
    artist = int(demo_graph.artist_ids[pos])
    listed = set(demo_graph.lookalikes(artist))
    for other in demo_graph.artist_ids[::7]:
        assert (int(other) in listed) == demo_graph.is_lookalike(artist, int(other))


def test_reasons_never_cite_the_tag_that_makes_lookalikes_look_alike(
    demo_graph: ArtistGraph,
) -> None:
    for artist_id in demo_graph.artist_ids[::5]:
        for neighbour in demo_graph.similar(int(artist_id), k=5):
            assert "hardcore" not in neighbour.shared_tags and "emo" not in neighbour.shared_tags
            assert "hardcore" not in neighbour.reason.split("; ", 1)[-1].split(", ")


def test_an_unknown_artist_is_the_librarys_error(demo_graph: ArtistGraph) -> None:
    missing = int(demo_graph.artist_ids.max()) + 1
    for query in (demo_graph.similar, demo_graph.scene_of, demo_graph.name):
        with pytest.raises(UnknownArtist, match="tastemaker train"):
            query(missing)


def test_row_dots_are_the_same_in_chunks_of_any_size() -> None:
    """The pairs are cut into chunks by the entries their rows hold; a chunk of one pair, a
    chunk of everything and the dense dot products agree exactly."""
    import scipy.sparse as sp

    from recommender.graph.lookalikes import row_dots

    rng = np.random.default_rng(7)
    dense = rng.random((40, 30)) * (rng.random((40, 30)) < 0.3)
    dense[5] = 0.0  # an empty row
    matrix = sp.csr_matrix(dense)
    a, b = rng.integers(0, 40, 500), rng.integers(0, 40, 500)
    whole = row_dots(matrix, a, b, budget=10**9)
    np.testing.assert_allclose(whole, (dense[a] * dense[b]).sum(axis=1), rtol=1e-12)
    for budget in (1, 7, 100):
        np.testing.assert_array_equal(row_dots(matrix, a, b, budget=budget), whole)
    assert len(row_dots(matrix, a[:0], b[:0])) == 0
