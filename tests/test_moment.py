"""The moment a playlist is for: the kernel, the listener's clock, and what reasons may claim."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from playlists.errors import InvalidPlaylistRequest
from playlists.moment import HOUR_WIDTH, OTHER_DAY_WEIGHT, Moment, moment_for, part_of
from recommender.errors import InvalidTerms

MONDAY = int(datetime(2025, 10, 27, tzinfo=UTC).timestamp())  # 00:00 UTC, a Monday
HOUR = 3600


def test_the_kernel_is_one_at_the_hour_and_falls_with_distance_around_the_clock() -> None:
    morning = moment_for("morning", None, "UTC", MONDAY)
    assert morning is not None and morning.hour == 8.0 and morning.weekend is None
    at = np.array([8, 11, 14, 20, 5], dtype=float) * HOUR + MONDAY
    w = morning.weights(at)
    assert w[0] == pytest.approx(1.0)
    assert w[1] == pytest.approx(np.exp(-9 / (2 * HOUR_WIDTH**2)))
    assert w[4] == pytest.approx(w[1])  # three hours before is as close as three after
    assert w[0] > w[1] > w[2] > w[3]
    night = moment_for("night", None, "UTC", MONDAY)
    assert night is not None
    # 23:30 and 01:00 are 1.5 hours apart across midnight, not 22.5.
    assert night.weights(np.array([MONDAY + 1 * HOUR]))[0] == pytest.approx(
        np.exp(-(1.5**2) / (2 * HOUR_WIDTH**2))
    )


def test_listens_without_a_time_say_nothing_about_the_moment() -> None:
    evening = moment_for("evening", None, "UTC", MONDAY)
    assert evening is not None
    assert evening.weights(np.array([np.nan, np.nan])).tolist() == [1.0, 1.0]


def test_weekday_and_weekend_weigh_the_other_kind_of_day_down() -> None:
    weekend = moment_for("weekend", None, "UTC", MONDAY)
    assert weekend is not None and weekend.hour is None
    saturday, monday = MONDAY + 5 * 86_400 + 10 * HOUR, MONDAY + 10 * HOUR
    assert weekend.weights(np.array([saturday, monday], dtype=float)).tolist() == [
        1.0,
        OTHER_DAY_WEIGHT,
    ]


def test_now_and_at_take_the_hour_and_day_in_the_listeners_time_zone() -> None:
    now = moment_for("now", None, "UTC", MONDAY + 7 * HOUR + 30 * 60)
    assert now is not None and (now.hour, now.weekend, now.at) == (7.5, False, MONDAY + 27000)
    # 08:30 in Berlin on that Monday is 07:30 UTC (CET, UTC+1 after the clocks went back).
    berlin = moment_for(None, "2025-10-27T08:30", "Europe/Berlin", 0)
    assert berlin is not None and berlin.at == MONDAY + 7 * HOUR + 30 * 60
    assert (berlin.hour, berlin.weekend) == (8.5, False)
    # A listen at 07:30 UTC is at 08:30 on a Berlin clock, the moment's own hour.
    assert berlin.weights(np.array([float(MONDAY + 27000)]))[0] == pytest.approx(1.0)
    offset = moment_for(None, "2025-10-27T07:30:00Z", "Europe/Berlin", 0)
    assert offset is not None and offset.at == berlin.at


def test_summer_time_moves_the_local_hour() -> None:
    july = int(datetime(2025, 7, 7, 6, 0, tzinfo=UTC).timestamp())  # a Monday, 08:00 in Berlin
    hours, weekend = Moment("at", None, None, "Europe/Berlin").local(np.array([float(july)]))
    assert hours.tolist() == [8.0] and weekend.tolist() == [False]


def test_bad_moments_are_clear_errors() -> None:
    with pytest.raises(InvalidPlaylistRequest, match="not both"):
        moment_for("morning", "2025-10-27T08:00", "UTC", 0)
    with pytest.raises(InvalidPlaylistRequest, match="choose one of"):
        moment_for("brunch", None, "UTC", 0)
    with pytest.raises(InvalidPlaylistRequest, match="2025-10-27T08:30"):
        moment_for(None, "tomorrow", "UTC", 0)
    with pytest.raises(InvalidTerms, match="IANA"):
        moment_for("now", None, "Mars/Olympus", 0)
    assert moment_for(None, None, "UTC", 0) is None


def test_a_peak_is_claimed_only_where_the_plays_really_gather() -> None:
    probe = Moment("morning", 8.0, None, "UTC")
    mornings = np.array([MONDAY + d * 86_400 + 9 * HOUR for d in range(5)], dtype=float)
    peak = probe.peak(mornings)
    assert peak is not None and peak.label == "weekday mornings"
    assert (peak.plays, peak.timed_plays) == (5, 5)
    assert probe.matches(peak)
    assert not Moment("evening", 20.0, None, "UTC").matches(peak)
    # Plays spread evenly over every hour of a week gather nowhere.
    even = np.arange(MONDAY, MONDAY + 7 * 86_400, HOUR, dtype=float)
    assert probe.peak(even) is None


@given(st.floats(min_value=0, max_value=23.99))
def test_every_hour_has_one_part_of_the_day(hour: float) -> None:
    assert part_of(hour) in {"morning", "afternoon", "evening", "night"}
    assert (part_of(hour) == "night") == (hour >= 22 or hour < 5)
