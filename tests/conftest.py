"""Shared fixtures: an in-memory store, and the real HetRec folder when it is present."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from recommender.store import Store

HETREC = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "hetrec2011-lastfm-2k"


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
