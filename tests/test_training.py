"""Training, the saved bundle and loading: planted answers, round trips, refusals."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from playlists.cli import main
from recommender.errors import (
    BadArgument,
    ModelConfigError,
    ModelMissing,
    ModelStale,
    NothingToTrain,
    TooBigForMemory,
    TooLittleData,
    UnknownListener,
    UnknownModel,
)
from recommender.ingest import Artist, Listen
from recommender.ingest.writer import import_records
from recommender.interactions import load_interactions
from recommender.models import HybridConfig, HybridModel, TastemakerBlend, TastemakerConfig
from recommender.store import Store
from recommender.training import TrainedModel, load_model, mark_models_stale, train
from tests.synthetic import COLD, DAY, LISTENERS, NOW, SCENES, fill_planted, set_terms

# Small and quick: the planted world needs no big model.
FAST = TastemakerConfig(no_components=8, epochs=15, learning_rate=0.05, ease_share=0.1)


def _column(model: TrainedModel, store: Store, name: str) -> int:
    row = store.conn.execute("SELECT id FROM artists WHERE name = ?", (name,)).fetchone()
    return model.column(int(row[0]))


@pytest.fixture
def planted(file_store: Store) -> Store:
    return fill_planted(file_store)


@pytest.fixture
def trained(planted: Store) -> TrainedModel:
    return train(planted, FAST, deterministic=True)  # one thread: the same model every run


def test_fit_returns_self_with_learned_attributes(planted: Store) -> None:
    interactions = load_interactions(planted)
    scorer = TastemakerBlend(FAST)
    assert scorer.fit(interactions) is scorer
    assert scorer.hybrid_.item_vectors_.shape == (len(interactions.artists), 8)
    hybrid = HybridModel(HybridConfig(no_components=4, epochs=2))
    assert hybrid.fit(interactions) is hybrid


def test_scores_one_finite_value_per_artist_keyed_by_listener_name(
    trained: TrainedModel, planted: Store
) -> None:
    scores = trained.scores("p00")
    assert scores.shape == (len(trained.artist_ids),)
    assert np.all(np.isfinite(scores))
    assert sorted(trained.listeners) == sorted(LISTENERS["punk"] + LISTENERS["folk"])
    vectors = trained.item_vectors
    assert vectors is not None and vectors.shape[0] == len(trained.artist_ids)
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
    model = train(planted, FAST)
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
    model = train(file_store, FAST)
    scores = model.scores("drifter")
    folk = np.mean([scores[_column(model, file_store, a)] for a in SCENES["folk"][4:]])
    punk = np.mean([scores[_column(model, file_store, a)] for a in SCENES["punk"][4:]])
    assert folk > punk


def test_missing_and_stale_models_are_refused(planted: Store) -> None:
    with pytest.raises(ModelMissing, match="tastemaker train"):
        load_model(planted)
    train(planted, FAST)
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
        train(store, FAST)
    model = train(store, FAST, models_dir=tmp_path)
    assert model.path is not None and model.path.parent == tmp_path
    np.testing.assert_allclose(load_model(store).scores("p01"), model.scores("p01"), rtol=1e-6)


def test_a_store_too_thin_for_ease_trains_the_blend_without_it(file_store: Store) -> None:
    # One listener, three artists: no artist has the two listeners EASE learns from.
    thin = [Listen(artist=a, listener="me", plays=3) for a in ("a", "b", "c")]
    import_records(file_store, "synthetic", Path("thin"), [Artist(name="d"), *thin])
    with pytest.raises(TooLittleData, match="import more listening"):
        train(file_store, model="ease")
    model = train(file_store, FAST)
    assert model.notes and "EASE share was left out" in model.notes[0]
    assert [r.name for r in model.recommend("me", n=5)] == ["d"]
    assert load_model(file_store).notes == model.notes
    assert file_store.path is not None
    db = str(file_store.path)
    printed = CliRunner().invoke(main, ["--db", db, "train"])
    assert printed.exit_code == 0 and "note: the EASE share was left out" in printed.output
    refused = CliRunner().invoke(main, ["--db", db, "train", "--model", "ease"])
    assert refused.exit_code == 1 and refused.output.startswith("Error: EASE needs artists")
    assert "Traceback" not in refused.output


def test_train_takes_a_model_by_name_and_checks_its_settings(planted: Store) -> None:
    model = train(planted, model="item-knn")
    assert (model.model_name, model.params) == ("item-knn", {"k": 400})
    assert model.item_vectors is None  # only the LightFM models place artists in a space
    assert load_model(planted).model_name == "item-knn"
    with pytest.raises(UnknownModel, match="choose one of ease, hybrid, item-knn"):
        train(planted, model="deep-thought")
    with pytest.raises(ModelConfigError, match="takes a TastemakerConfig"):
        train(planted, HybridConfig())
    with pytest.raises(ModelConfigError, match="epochs = 0 is out of range"):
        TastemakerConfig(epochs=0)
    with pytest.raises(ModelConfigError, match="ease_share"):
        TastemakerConfig(ease_share=1.5)
    with pytest.raises(BadArgument, match="one thread"):
        train(planted, FAST, deterministic=True, num_threads=2)


def test_deterministic_training_gives_the_same_bundle_bytes(planted: Store) -> None:
    first = train(planted, FAST, deterministic=True)
    again = train(planted, FAST, deterministic=True)
    assert first.path is not None and again.path is not None
    arrays = sorted(p.name for p in first.path.glob("*.npy"))
    assert arrays == sorted(p.name for p in again.path.glob("*.npy"))
    assert "item_vectors.npy" in arrays and "graph_edges_weight.npy" in arrays
    for name in [*arrays, "graph.json"]:
        assert (first.path / name).read_bytes() == (again.path / name).read_bytes(), name
    manifest = json.loads((first.path / "manifest.json").read_text("utf-8"))
    assert (manifest["model"], manifest["num_threads"]) == ("tastemaker", 1)
    assert planted.path is not None
    args = ["--db", str(planted.path), "train", "--deterministic", "--model", "ease", "--json"]
    printed = CliRunner().invoke(main, args)
    assert printed.exit_code == 0, printed.output
    assert json.loads(printed.output)["model"] == "ease"
    assert load_model(planted).model_name == "ease"


def test_training_reports_each_stage_and_epoch(planted: Store) -> None:
    lines: list[str] = []
    model = train(planted, FAST, progress=lines.append)
    epochs = [line for line in lines if line.startswith("LightFM epoch")]
    assert len(epochs) == FAST.epochs and epochs[-1].startswith(f"LightFM epoch {FAST.epochs}/")
    for stage in ("read listening", "aggregates", "model", "graph", "save"):
        assert any(line.startswith(f"train: {stage} ") for line in lines), stage
        assert model.stages[stage] >= 0
    assert load_model(planted).stages == model.stages
    assert planted.path is not None
    printed = CliRunner().invoke(main, ["--db", str(planted.path), "train", "--json"])
    assert printed.exit_code == 0
    summary = json.loads(printed.output)  # nothing but JSON on stdout, no progress lines
    assert set(summary["stages"]) == {"read listening", "aggregates", "model", "graph", "save"}
    text = CliRunner().invoke(main, ["--db", str(planted.path), "train"])
    assert "stages: read listening" in text.output


def test_epoch_by_epoch_fitting_gives_the_numbers_of_one_fit(planted: Store) -> None:
    from lightfm import LightFM

    from recommender.features import item_features

    interactions = load_interactions(planted)
    config = HybridConfig(no_components=4, epochs=3)
    ours = HybridModel(config, num_threads=1).fit(interactions)
    coo = interactions.weights.tocoo()
    ones = coo.copy()
    ones.data = np.ones_like(ones.data, dtype=np.float32)
    features = item_features(interactions, top_tags=config.top_tags, min_artists=5)
    reference = LightFM(
        no_components=4,
        loss="warp",
        learning_rate=config.learning_rate,
        item_alpha=config.item_alpha,
        user_alpha=config.user_alpha,
        max_sampled=config.max_sampled,
        random_state=np.random.RandomState(config.random_state),
    ).fit(ones, item_features=features, sample_weight=coo.astype(np.float32), epochs=3)
    np.testing.assert_array_equal(ours.user_vectors_, reference.user_embeddings)


def test_the_epoch_count_follows_the_data_size(planted: Store) -> None:
    interactions = load_interactions(planted)
    pairs = interactions.weights.nnz
    lines: list[str] = []
    capped = HybridConfig(no_components=4, epochs=8, epoch_pairs=6 * pairs + 1)
    model = HybridModel(capped, num_threads=1, progress=lines.append).fit(interactions)
    assert len(lines) == 6 and lines[-1].startswith("LightFM epoch 6/6")
    assert model.notes_ and "ran 6 of 8 epochs" in model.notes_[0]
    floor = HybridConfig(no_components=4, epochs=8, epoch_pairs=1)
    lines.clear()
    HybridModel(floor, num_threads=1, progress=lines.append).fit(interactions)
    assert len(lines) == 5  # never fewer than five
    lines.clear()
    assert (
        not HybridModel(HybridConfig(no_components=4, epochs=3), progress=lines.append)
        .fit(interactions)
        .notes_
    )
    assert len(lines) == 3


def test_a_store_too_big_for_the_memory_budget_fails_at_once(planted: Store) -> None:
    with pytest.raises(TooBigForMemory, match="memory budget of 0.1 GB.*Spark"):
        train(planted, FAST, memory_budget=10**8)
    assert planted.path is not None
    db = str(planted.path)
    printed = CliRunner().invoke(main, ["--db", db, "train", "--memory-budget", "0.1"])
    assert printed.exit_code == 1 and printed.output.startswith("Error: training this store")
    assert "Traceback" not in printed.output
    assert planted.conn.execute("SELECT count(*) FROM models").fetchone()[0] == 0


def test_manifest_records_versions_fingerprint_and_checksums(trained: TrainedModel) -> None:
    assert trained.path is not None
    manifest = json.loads((trained.path / "manifest.json").read_text("utf-8"))
    assert manifest["format"] == 2
    assert manifest["data_fingerprint"] == trained.fingerprint
    assert {"lightfm-next", "numpy"} <= set(manifest["libraries"])
    on_disk = {p.name for p in trained.path.iterdir()} - {"manifest.json", ".verified"}
    assert set(manifest["files"]) == on_disk
    assert not list(trained.path.parent.glob(".*.partial"))
