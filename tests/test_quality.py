from __future__ import annotations

import math
import re

from hypothesis import given
from hypothesis import strategies as st

from playlists.quality import (
    intra_list_diversity,
    kl_calibration,
    playlist_quality,
    popularity_lift,
)
from playlists.report import render_report
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


def test_bias_figures_of_the_hand_built_playlist(store: Store) -> None:
    pid = world_with_playlist(store)
    q = playlist_quality(store, pid)
    # Listeners per artist: Rancid 2, Cock Sparrer 2 (ana's own), Cockney Rejects 2, the
    # unexpected pick 2: the playlist is exactly as well known as ana's own artists.
    assert q.popularity_lift == 0.0
    assert (q.own_median_listeners, q.unexpected_median_listeners) == (2.0, 2.0)
    # Plays per artist 5, 3, 2, 3, 1, 2 (16): the head (3.2 plays) is Rancid alone; the two new
    # picks (Cockney Rejects, the unexpected one) are both in the long tail.
    assert (q.head_artists, q.new_picks, q.long_tail_new_share) == (1, 2, 1.0)
    # p = (street punk 8/9, hardcore 1/9), q = (street punk .6875, hardcore .125, ska .1875).
    tags = [t for t, _, _ in q.tag_chart]
    assert tags == ["street punk", "ska", "hardcore"]
    assert [round(r, 4) for _, r, _ in q.tag_chart] == [round(8 / 9, 4), 0.0, round(1 / 9, 4)]
    assert [round(m, 4) for _, _, m in q.tag_chart] == [0.6875, 0.1875, 0.125]


def test_popularity_lift_by_hand() -> None:
    assert popularity_lift([4, 2], [1, 2]) == 1.0
    assert popularity_lift([1, 1], [2, 2]) == -0.5
    assert popularity_lift([], [2]) is None and popularity_lift([1], []) is None


def test_the_page_draws_the_tag_mix_inline_without_script(store: Store) -> None:
    pid = world_with_playlist(store)
    with store.transaction() as conn:  # a tag name that must be escaped inside the chart
        conn.execute("UPDATE tags SET name = '<b>ska</b>' WHERE name = 'ska'")
    page = render_report(store, pid)
    chart = page[page.index("<svg") : page.index("</svg>")]
    assert "<script" not in page and "<b>ska" not in chart and "&lt;b&gt;ska" in chart
    # Bars are share x 150 px: street punk's recent bar 8/9 x 150.
    widths = re.findall(r'class="recent" x="120" y="\d+" width="([\d.]+)"', chart)
    assert [float(w) for w in widths] == [round(8 / 9 * 150, 1), 0.0, round(1 / 9 * 150, 1)]
    assert 'data-key="popularity_lift" value="0.0"' in page
