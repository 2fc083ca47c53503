"""Shared fixtures: an in-memory store, and the real HetRec folder when it is present."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from recommender.store import Store

HETREC_ENV = "TASTEMAKER_HETREC"


def _find_hetrec() -> Path:
    """$TASTEMAKER_HETREC, else shared/data/hetrec2011-lastfm-2k in a folder above the checkout."""
    if os.environ.get(HETREC_ENV):
        return Path(os.environ[HETREC_ENV])
    for parent in Path(__file__).resolve().parents[1:]:
        candidate = parent / "shared" / "data" / "hetrec2011-lastfm-2k"
        if candidate.is_dir():
            return candidate
    return Path("../shared/data/hetrec2011-lastfm-2k")


HETREC = _find_hetrec()


@pytest.fixture
def store() -> Iterator[Store]:
    """A fresh in-memory store (like sqlite-utils' fresh_db)."""
    with Store.open(":memory:") as fresh:
        yield fresh


@pytest.fixture
def file_store(tmp_path: Path) -> Iterator[Store]:
    """A fresh on-disk store (WAL), for tests that need a real file."""
    with Store.open(tmp_path / "tastemaker.db") as fresh:
        yield fresh


@pytest.fixture(scope="session")
def hetrec_dir() -> Path:
    """The real HetRec 2011 Last.fm 2k folder; tests using it skip cleanly when it is absent."""
    if not (HETREC / "user_artists.dat").is_file():
        pytest.skip(f"real HetRec data not found at {HETREC}")
    return HETREC


@pytest.fixture(scope="session")
def demo_store_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An on-disk store holding the imported demo world (built once per test session)."""
    from recommender.resources import demo_dir
    from recommender.sources import import_path

    path = tmp_path_factory.mktemp("demo") / "tastemaker.db"
    with Store.open(path) as fresh:
        import_path(fresh, "demo", demo_dir())
    return path


@pytest.fixture(scope="session")
def demo_interactions(demo_store_path: Path):  # type: ignore[no-untyped-def]
    from recommender.interactions import load_interactions

    with Store.open(demo_store_path) as opened:
        return load_interactions(opened)


@pytest.fixture(scope="session")
def demo_graph(demo_interactions):  # type: ignore[no-untyped-def]
    from recommender.graph import ArtistGraph

    return ArtistGraph.build(demo_interactions, seed=42)


@pytest.fixture(scope="session")
def playable_world(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    """The trained demo world with a music folder of real files (tests/playable_world.py)."""
    from tests.playable_world import make_world

    return make_world(tmp_path_factory.mktemp("playable"))


@pytest.fixture(scope="session")
def spark():  # type: ignore[no-untyped-def]
    """One local Spark session for the whole run (2 cores, 4 shuffle partitions); the Spark
    tests skip, naming what to install, only when pyspark or Java 17+ is missing."""
    from recommender.errors import SparkUnavailable
    from recommender.spark.session import check_spark, spark_session

    try:
        check_spark()
    except SparkUnavailable as exc:
        pytest.skip(str(exc))
    session = spark_session("local[2]", shuffle_partitions=4)
    yield session
    session.stop()
