"""One contract every model passes (implicit's test-mixin style), through the library's verbs.

Each registered model gets a five-line class below naming it and a quick configuration; the
mixin trains it (deterministically) on a checkerboard where the right answers are known and
checks: the withheld artist comes first, heard artists are left out, unknown listeners and
artists are the library's errors, scores are finite and the same for the same seed, a saved
model scores exactly as the one in memory, and nothing is written by `recommend`/`similar`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from typing import Any, ClassVar

import numpy as np
import pytest

from recommender.bundle import read_bundle
from recommender.errors import (
    BadArgument,
    ModelConfigError,
    NotFitted,
    UnknownArtist,
    UnknownListener,
)
from recommender.interactions import load_interactions
from recommender.models import (
    EASEConfig,
    HybridConfig,
    KNNConfig,
    ModelConfig,
    TastemakerConfig,
    make_scorer,
    model_names,
    scorer_class,
)
from recommender.store import Store
from recommender.training import TrainedModel, load_model, train
from tests.synthetic import BLOCKS, block_artist, fill_checkerboard, withheld


def _artist_id(store: Store, name: str) -> int:
    row = store.conn.execute("SELECT id FROM artists WHERE name = ?", (name,)).fetchone()
    return int(row[0])


def _heard(store: Store, listener: str) -> set[int]:
    rows = store.conn.execute(
        "SELECT DISTINCT l.artist_id FROM listens l JOIN listeners p ON p.id = l.listener_id"
        " WHERE p.name = ?",
        (listener,),
    )
    return {int(r[0]) for r in rows}


class ScorerContract:
    """The tests every model passes; a subclass sets `model` (and a quick `config`)."""

    model: ClassVar[str]
    config: ClassVar[ModelConfig | None] = None

    @pytest.fixture(scope="class")
    @classmethod
    def world(cls, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Store, Any]]:
        with Store.open(tmp_path_factory.mktemp(cls.model) / "t.db") as store:
            fill_checkerboard(store)
            yield store, train(store, cls.config, model=cls.model, deterministic=True)

    # -- scikit-learn conventions ----------------------------------------------------------

    def test_is_registered_and_stores_only_its_settings(self) -> None:
        scorer = make_scorer(self.model, self.config)
        assert scorer_class(self.model).name == self.model
        assert set(vars(scorer)) == {"config", "num_threads"}
        config = scorer.config
        assert type(config).from_dict(config.as_dict()) == config

    def test_fit_returns_self_and_learns_only_underscore_attributes(
        self, world: tuple[Store, TrainedModel]
    ) -> None:
        store, _ = world
        scorer = make_scorer(self.model, self.config, num_threads=1)
        before = set(vars(scorer))
        assert scorer.fit(load_interactions(store)) is scorer
        learned = set(vars(scorer)) - before
        assert learned and all(name.endswith("_") or name.startswith("_") for name in learned)

    def test_bad_settings_are_the_librarys_error(self) -> None:
        config_class = scorer_class(self.model).config_class
        with pytest.raises(ModelConfigError, match="unknown"):
            config_class.from_dict({"no_such_setting": 1})
        for setting in dataclasses.fields(config_class):  # type: ignore[arg-type]
            with pytest.raises(ModelConfigError, match=setting.name):
                config_class(**{setting.name: "lots"})
        with pytest.raises(ModelConfigError, match="takes a"):
            make_scorer(self.model, _Elsewhere())

    def test_score_rows_refuses_bad_input(self, world: tuple[Store, TrainedModel]) -> None:
        _, model = world
        with pytest.raises(NotFitted, match="fit or load"):
            make_scorer(self.model, self.config).score_rows(model.history, np.array([0]))
        with pytest.raises(BadArgument, match="rows"):
            model.scorer.score_rows(model.history, np.array([len(model.listeners)]))
        with pytest.raises(BadArgument, match="columns"):
            model.scorer.score_rows(model.history[:, :-1], np.array([0]))

    # -- the verbs -------------------------------------------------------------------------

    def test_withheld_artist_comes_first(self, world: tuple[Store, TrainedModel]) -> None:
        store, model = world
        if scorer_class(self.model).personal:
            for block in range(BLOCKS):
                listener, artist = withheld(block)
                first = model.recommend(listener, n=1)[0]
                assert (first.artist_id, first.name) == (_artist_id(store, artist), artist)
        else:
            # Not personal (most-popular): it cannot find one listener's gap, and it must
            # instead give every listener the same list.
            lists = {
                tuple(r.artist_id for r in model.recommend(name, n=5, exclude_heard=False))
                for name in model.listeners
            }
            assert len(lists) == 1

    def test_heard_artists_are_left_out(self, world: tuple[Store, TrainedModel]) -> None:
        store, model = world
        everyone = len(model.artist_ids)
        for listener in model.listeners:
            heard = _heard(store, listener)
            found = {r.artist_id for r in model.recommend(listener, n=everyone)}
            assert found == set(map(int, model.artist_ids)) - heard
            kept = model.recommend(listener, n=everyone, exclude_heard=False)
            assert len(kept) == everyone and heard <= {r.artist_id for r in kept}
            scores = [r.score for r in kept]
            assert scores == sorted(scores, reverse=True)

    def test_unknown_listeners_and_artists_are_the_librarys_errors(
        self, world: tuple[Store, TrainedModel]
    ) -> None:
        _, model = world
        with pytest.raises(UnknownListener, match="tastemaker train"):
            model.recommend("nobody", n=3)
        with pytest.raises(UnknownListener):
            model.scores("nobody")
        with pytest.raises(UnknownArtist):
            model.similar(10**9, n=3)
        with pytest.raises(UnknownArtist):
            model.column(10**9)
        wrong: tuple[Any, ...] = (0, -1, 2.5, True)
        for bad in wrong:
            with pytest.raises(BadArgument, match="n must be"):
                model.recommend(model.listeners[0], n=bad)
            with pytest.raises(BadArgument, match="n must be"):
                model.similar(int(model.artist_ids[0]), n=bad)

    def test_similar_never_returns_the_artist_itself(
        self, world: tuple[Store, TrainedModel]
    ) -> None:
        store, model = world
        artist = _artist_id(store, block_artist(0, 0))
        found = model.similar(artist, n=3)
        assert 0 < len(found) <= 3 and artist not in {n.artist_id for n in found}

    def test_scores_are_finite_and_the_same_for_the_same_seed(
        self, world: tuple[Store, TrainedModel]
    ) -> None:
        store, model = world
        again = train(store, self.config, model=self.model, deterministic=True)
        for listener in model.listeners:
            scores = model.scores(listener)
            assert scores.shape == (len(model.artist_ids),) and np.all(np.isfinite(scores))
            np.testing.assert_array_equal(again.scores(listener), scores)
        assert model.path is not None and again.path is not None
        _, first, _ = read_bundle(model.path)
        _, second, _ = read_bundle(again.path)
        assert set(first) == set(second)
        for name, values in first.items():
            np.testing.assert_array_equal(second[name], values, err_msg=name)

    def test_a_saved_model_scores_like_the_one_in_memory(
        self, world: tuple[Store, TrainedModel]
    ) -> None:
        store, model = world
        loaded = load_model(store, model_id=model.model_id)
        assert (loaded.model_name, loaded.params) == (self.model, model.params)
        assert loaded.config == model.config
        for listener in model.listeners:
            np.testing.assert_allclose(loaded.scores(listener), model.scores(listener), rtol=1e-6)
            assert loaded.recommend(listener, n=5) == model.recommend(listener, n=5)

    def test_recommend_and_similar_write_nothing(self, world: tuple[Store, TrainedModel]) -> None:
        store, model = world
        before = store.conn.total_changes
        model.recommend(model.listeners[0], n=5)
        model.similar(int(model.artist_ids[0]), n=5)
        assert store.conn.total_changes == before


@dataclasses.dataclass(frozen=True)
class _Elsewhere(ModelConfig):
    """Settings that belong to no model."""


class TestMostPopular(ScorerContract):
    model = "most-popular"


class TestItemKNN(ScorerContract):
    model = "item-knn"
    config = KNNConfig(k=20)


class TestEASE(ScorerContract):
    model = "ease"
    config = EASEConfig(l2=5.0)


class TestHybrid(ScorerContract):
    model = "hybrid"
    config = HybridConfig(no_components=8, epochs=30, learning_rate=0.05, min_tag_artists=1)


class TestTastemaker(ScorerContract):
    model = "tastemaker"
    config = TastemakerConfig(no_components=8, epochs=30, learning_rate=0.05, min_tag_artists=1)


def test_every_registered_model_has_a_contract_class() -> None:
    assert {c.model for c in ScorerContract.__subclasses__()} == set(model_names())

