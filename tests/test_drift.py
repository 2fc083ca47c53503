"""Taste that moves on: with the default half-life, the new interest leads.

The demo world plants 30 listeners who played gym-workout for ten months and then mostly
trail-folk for the last two (`truth.json` -> drift_listeners).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from playlists import build_playlist
from playlists.model import FAMILIAR
from recommender.interactions import DEFAULT_HALF_LIFE_DAYS
from recommender.store import Store
from recommender.terms import Terms
from recommender.terms_storage import describe_terms
from tests.demo_fixtures import truth
from tests.fakes import FakeModel


def _scene_artists(slug: str) -> set[str]:
    return set(truth()["scenes"][slug]["artists"])


def test_decayed_listening_of_drifters_is_mostly_the_new_interest(demo_interactions) -> None:  # type: ignore[no-untyped-def]
    old, new = _scene_artists(truth()["drift"]["from"]), _scene_artists(truth()["drift"]["to"])
    names = np.array(demo_interactions.artist_names)
    in_new = np.isin(names, list(new))
    in_old = np.isin(names, list(old))
    shares = []
    for listener in truth()["drift_listeners"]:
        row = demo_interactions.plays[demo_interactions.listener_index[listener]].toarray()[0]
        shares.append(row[in_new].sum() / (row[in_new].sum() + row[in_old].sum()))
    # Ten months of the old scene against two of the new: only the fading makes the new lead.
    assert min(shares) > 0.7, sorted(shares)[:5]


@pytest.fixture(scope="module")
def drift_shares(demo_store_path: Path, demo_graph) -> list[float]:  # type: ignore[no-untyped-def]
    new = _scene_artists(truth()["drift"]["to"])
    shares = []
    with Store.open(demo_store_path) as store:
        model = FakeModel(store, demo_graph)
        for listener in truth()["drift_listeners"]:
            playlist = build_playlist(store, listener, model=model, save=False)
            familiar = [t for t in playlist.tracks if t.kind == FAMILIAR]
            assert familiar
            shares.append(float(np.mean([t.reason.evidence["artist"] in new for t in familiar])))
    return shares


def test_drifting_listeners_get_familiar_picks_from_the_new_interest(
    drift_shares: list[float],
) -> None:
    assert Terms().half_life_days == DEFAULT_HALF_LIFE_DAYS
    # Across the 30 drifters, at least 70% of familiar picks are trail-folk ...
    assert np.mean(drift_shares) >= 0.70, sorted(drift_shares)
    # ... and for every one of them the new interest is the majority.
    assert min(drift_shares) > 0.5, sorted(drift_shares)


def test_the_half_life_shows_in_terms_show(demo_store_path: Path) -> None:
    with Store.open(demo_store_path) as store:
        report = describe_terms(store, truth()["drift_listeners"][0])
    row = next(r for r in report.rows if r.name == "half_life_days")
    assert (row.value, row.is_default) == (DEFAULT_HALF_LIFE_DAYS, True)
