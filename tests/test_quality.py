from __future__ import annotations

import math

from hypothesis import given
from hypothesis import strategies as st

from playlists.quality import intra_list_diversity, kl_calibration, playlist_quality
from recommender.store import Store
from tests.review_fixtures import world_with_playlist

mixes = st.dictionaries(st.sampled_from("abcdef"), st.floats(0.01, 10), min_size=1).map(
    lambda d: {k: v / sum(d.values()) for k, v in d.items()}
)


def test_label_of_the_hand_built_playlist(store: Store) -> None:
    pid = world_with_playlist(store)
    q = playlist_quality(store, pid)
    assert (q.entries, q.unexpected_requested, q.unexpected_delivered) == (4, 1, 1)
    assert q.unexpected_share == 0.25 and q.surprise_requested == 0.25
    # Every artist here has exactly 2 of the 4 listeners with listens: 1 bit each.
    assert (q.popularity_min, q.popularity_median, q.popularity_max) == (2, 2.0, 2)
    assert q.store_listeners == 4 and q.novelty_bits == 1.0
    # Worked by hand: p = ana's mix (street punk 8/9, hardcore 1/9); q = the four artists'
    # normalised tags averaged (street punk .6875, hardcore .125, ska .1875).
    assert math.isclose(q.calibration_kl or 0, 0.2128, abs_tol=5e-4)
    assert q.diversity_pairs == 6 and q.diversity is not None and 0.3 < q.diversity < 0.7


def test_a_playlist_that_mirrors_the_listener_is_calibrated() -> None:
    mix = {"street punk": 0.7, "ska": 0.3}
    assert kl_calibration(mix, mix) == 0.0
    assert kl_calibration(mix, {"ska": 1.0}) > kl_calibration(mix, {"street punk": 1.0}) > 0


@given(mixes, mixes)
def test_calibration_is_finite_and_never_negative(p: dict[str, float], q: dict[str, float]) -> None:
    value = kl_calibration(p, q)
    assert math.isfinite(value) and value >= -1e-12


def test_diversity_is_zero_for_alike_entries_and_one_for_disjoint_tags() -> None:
    tags = {1: {"a": 2.0}, 2: {"a": 5.0}, 3: {"b": 1.0}, 4: {}}
    assert intra_list_diversity([1, 2], tags) == (0.0, 1)
    assert intra_list_diversity([1, 3, 4], tags) == (1.0, 1)
    assert intra_list_diversity([4], tags) == (None, 0)


def test_calibration_reads_only_the_listens_the_listener_lets_us_use(store: Store) -> None:
    """Regression: the curator page's calibration read listens from a source the listener
    ignores (and an opted-out listener's); it now reads the usable listens the build read."""
    from recommender.terms_storage import update_terms

    pid = world_with_playlist(store)
    before = playlist_quality(store, pid).calibration_kl
    ana = store.listener_id("ana")
    with store.transaction() as conn:
        conn.execute(
            "INSERT INTO listens (listener_id, artist_id, listened_at, plays, source, dedupe)"
            " VALUES (?, 5, ?, 40, 'spotify', 'extra')",
            (ana, 1_700_000_000 + 56 * 86_400),
        )
    with_spotify = playlist_quality(store, pid).calibration_kl
    assert with_spotify is not None and before is not None
    assert not math.isclose(with_spotify, before)
    update_terms(store, "ana", ignore_sources=["spotify"])
    assert playlist_quality(store, pid).calibration_kl == before
    update_terms(store, "ana", personalise=False)
    assert playlist_quality(store, pid).calibration_kl is None
