"""Training, the saved bundle and loading: planted answers, round trips, refusals."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from recommender.blend import TastemakerScorer
from recommender.bundle import read_bundle, write_bundle
from recommender.errors import (
    BundleError,
    ModelMissing,
    ModelStale,
    NothingToTrain,
    UnknownListener,
)
from recommender.hybrid import HybridModel
from recommender.ingest import Listen
from recommender.interactions import load_interactions
from recommender.store import Store
from recommender.training import TrainedModel, load_model, mark_models_stale, train
from tests.synthetic import COLD, DAY, LISTENERS, NOW, SCENES, fill_planted, set_terms

# Small and quick: the planted world needs no big model.
FAST = {"no_components": 8, "epochs": 15, "learning_rate": 0.05, "ease_share": 0.1}


def _column(model: TrainedModel, store: Store, name: str) -> int:
    row = store.conn.execute("SELECT id FROM artists WHERE name = ?", (name,)).fetchone()
    return model.column(int(row[0]))


@pytest.fixture
def planted(file_store: Store) -> Store:
    return fill_planted(file_store)


@pytest.fixture
def trained(planted: Store) -> TrainedModel:
    return train(planted, params=FAST)


def test_fit_returns_self_with_learned_attributes(planted: Store) -> None:
    interactions = load_interactions(planted)
    scorer = TastemakerScorer(**FAST)
    assert scorer.fit(interactions) is scorer
    assert scorer.hybrid_.item_vectors_.shape == (len(interactions.artists), 8)
    hybrid = HybridModel(no_components=4, epochs=2)
    from recommender.features import item_features

    assert hybrid.fit(interactions.weights, item_features(interactions)) is hybrid


def test_scores_one_finite_value_per_artist_keyed_by_listener_name(
    trained: TrainedModel, planted: Store
) -> None:
    scores = trained.scores("p00")
    assert scores.shape == (len(trained.artist_ids),)
    assert np.all(np.isfinite(scores))
    assert sorted(trained.listeners) == sorted(LISTENERS["punk"] + LISTENERS["folk"])
    assert trained.item_vectors.shape[0] == len(trained.artist_ids)
    with pytest.raises(UnknownListener, match="tastemaker train"):
        trained.scores("nobody")


def test_planted_scenes_rank_above_the_other_scene(trained: TrainedModel, planted: Store) -> None:
    for scene, other in (("punk", "folk"), ("folk", "punk")):
        for listener in LISTENERS[scene][:5]:
            scores = trained.scores(listener)
            own = [scores[_column(trained, planted, a)] for a in SCENES[scene]]
            foreign = [scores[_column(trained, planted, a)] for a in SCENES[other]]
            assert min(own) > max(foreign)


def test_cold_artists_are_scored_through_their_tags(trained: TrainedModel, planted: Store) -> None:
    wins = 0
    for scene, other in (("punk", "folk"), ("folk", "punk")):
        for listener in LISTENERS[scene]:
            scores = trained.scores(listener)
            own = scores[_column(trained, planted, COLD[scene])]
            wins += own > scores[_column(trained, planted, COLD[other])]
    assert wins >= 36  # of 40 listeners


def test_round_trip_gives_equal_scores(trained: TrainedModel, planted: Store) -> None:
    loaded = load_model(planted)
    assert loaded.model_id == trained.model_id
    np.testing.assert_array_equal(loaded.artist_ids, trained.artist_ids)
    assert loaded.listeners == trained.listeners
    for listener in ("p03", "f11"):
        np.testing.assert_allclose(loaded.scores(listener), trained.scores(listener), rtol=1e-6)
    assert loaded.graph.scenes  # the graph travels in the same bundle
    assert loaded.fingerprint == trained.fingerprint
    row = planted.conn.execute("SELECT data_fingerprint FROM models").fetchone()
    assert row[0] == trained.fingerprint


def test_opted_out_listener_is_not_in_the_model(planted: Store) -> None:
    set_terms(planted, "p05", personalise=0)
    model = train(planted, params=FAST)
    with pytest.raises(UnknownListener):
        model.scores("p05")
    assert model.scores("p06").shape == (len(model.artist_ids),)


def test_recent_interest_outranks_an_old_one(file_store: Store) -> None:
    # "drifter" played punk heavily two years ago and folk as heavily last week.
    old, recent = NOW - 700 * DAY, NOW - 7 * DAY
    extra = [
        Listen(artist=a, listener="drifter", plays=1, listened_at=old + i)
        for a in SCENES["punk"][:4]
        for i in range(20)
    ] + [
        Listen(artist=a, listener="drifter", plays=1, listened_at=recent + i)
        for a in SCENES["folk"][:4]
        for i in range(20)
    ]
    fill_planted(file_store, extra)
    model = train(file_store, params=FAST)
    scores = model.scores("drifter")
    folk = np.mean([scores[_column(model, file_store, a)] for a in SCENES["folk"][4:]])
    punk = np.mean([scores[_column(model, file_store, a)] for a in SCENES["punk"][4:]])
    assert folk > punk


def test_missing_and_stale_models_are_refused(planted: Store) -> None:
    with pytest.raises(ModelMissing, match="tastemaker train"):
        load_model(planted)
    train(planted, params=FAST)
    with planted.transaction():
        mark_models_stale(planted, "listens forgotten")
    with pytest.raises(ModelStale, match="tastemaker train"):
        load_model(planted)


def test_nothing_to_train_on(file_store: Store) -> None:
    with pytest.raises(NothingToTrain):
        train(file_store)


def test_in_memory_store_needs_a_models_dir(store: Store, tmp_path: Path) -> None:
    fill_planted(store)
    with pytest.raises(ModelMissing, match="models_dir"):
        train(store, params=FAST)
    model = train(store, models_dir=tmp_path, params=FAST)
    assert model.path is not None and model.path.parent == tmp_path
    np.testing.assert_allclose(load_model(store).scores("p01"), model.scores("p01"), rtol=1e-6)


# -- the bundle ------------------------------------------------------------------------------


def _rewrite_manifest(folder: Path, name: str) -> None:
    """Make the manifest agree with a file changed on purpose (so only content checks remain)."""
    import hashlib

    manifest = json.loads((folder / "manifest.json").read_text("utf-8"))
    manifest["files"][name] = hashlib.sha256((folder / name).read_bytes()).hexdigest()
    (folder / "manifest.json").write_text(json.dumps(manifest), "utf-8")


def test_tampered_bundle_fails_its_checksum(trained: TrainedModel, planted: Store) -> None:
    assert trained.path is not None
    target = trained.path / "arrays.npz"
    data = bytearray(target.read_bytes())
    data[len(data) // 2] ^= 0xFF
    target.write_bytes(bytes(data))
    with pytest.raises(BundleError, match="checksum"):
        load_model(planted)


def test_torn_bundle_is_refused(trained: TrainedModel, planted: Store) -> None:
    assert trained.path is not None
    (trained.path / "mappings.json").unlink()
    with pytest.raises(BundleError, match="missing mappings.json"):
        load_model(planted)


def test_foreign_folder_is_refused(tmp_path: Path) -> None:
    (tmp_path / "manifest.json").write_text('{"format": "something else"}', "utf-8")
    with pytest.raises(BundleError, match="not a tastemaker model bundle"):
        read_bundle(tmp_path)
    shutil.rmtree(tmp_path)
    with pytest.raises(BundleError, match="no readable manifest"):
        read_bundle(tmp_path)


def test_object_arrays_are_never_unpickled(trained: TrainedModel, planted: Store) -> None:
    assert trained.path is not None
    # A file that would run code through pickle: saved with allow_pickle (the default).
    np.savez(trained.path / "arrays.npz", artist_ids=np.array([object()], dtype=object))
    _rewrite_manifest(trained.path, "arrays.npz")
    with pytest.raises(BundleError, match="cannot be read"):
        load_model(planted)


def test_non_finite_arrays_are_refused_on_save_and_on_load(
    trained: TrainedModel, planted: Store, tmp_path: Path
) -> None:
    bad = {"item_vectors": np.array([[1.0, np.nan]], dtype=np.float32)}
    with pytest.raises(BundleError, match="diverged"):
        write_bundle(tmp_path / "b", bad, {}, {})
    assert not (tmp_path / "b").exists()
    assert trained.path is not None
    _, arrays, _ = read_bundle(trained.path)
    arrays["item_bias"] = arrays["item_bias"].copy()
    arrays["item_bias"][0] = np.inf
    np.savez(trained.path / "arrays.npz", allow_pickle=False, **arrays)
    _rewrite_manifest(trained.path, "arrays.npz")
    with pytest.raises(BundleError, match="non-finite"):
        load_model(planted)


def test_wrong_shapes_are_refused(trained: TrainedModel, planted: Store) -> None:
    assert trained.path is not None
    _, arrays, _ = read_bundle(trained.path)
    arrays["user_vectors"] = arrays["user_vectors"][:-1]
    np.savez(trained.path / "arrays.npz", allow_pickle=False, **arrays)
    _rewrite_manifest(trained.path, "arrays.npz")
    with pytest.raises(BundleError, match="wrong dtype or shape"):
        load_model(planted)


def test_manifest_records_versions_fingerprint_and_checksums(trained: TrainedModel) -> None:
    assert trained.path is not None
    manifest = json.loads((trained.path / "manifest.json").read_text("utf-8"))
    assert manifest["format"] == 1
    assert manifest["data_fingerprint"] == trained.fingerprint
    assert {"lightfm-next", "numpy"} <= set(manifest["libraries"])
    on_disk = {p.name for p in trained.path.iterdir()} - {"manifest.json"}
    assert set(manifest["files"]) == on_disk
    assert not list(trained.path.parent.glob(".*.partial"))
