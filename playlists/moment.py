"""The moment a playlist is for: `--context now|morning|afternoon|evening|night|weekday|weekend`
or `--at DATETIME`, in the listener's time zone (the `time_zone` term, UTC by default).

The kernel. Each timed listen is weighed by how close its local hour and kind of day are to the
moment's:

    weight = exp(-d² / (2 · HOUR_WIDTH²)) × (1 if the same kind of day, else OTHER_DAY_WEIGHT)

where d is the distance in hours around the clock (at most 12) between the listen's local time
of day and the moment's hour. `morning` (08:00), `afternoon` (14:00), `evening` (20:00) and
`night` (23:30) set the hour only; `weekday` and `weekend` set the kind of day only; `now` and
`--at` set both, from that instant. A listen three hours away counts 0.61, six hours away 0.14,
twelve hours away 0.0003. Listens without a time (HetRec play counts) count 1: they say nothing
about the moment. These weights multiply the listener's half-life fading, for familiar picks and
for the model side (see `playlists.profile`).

Parts of the day, for what reasons claim: morning 05:00-12:00, afternoon 12:00-17:00, evening
17:00-22:00, night 22:00-05:00, each on weekdays (Monday to Friday) or the weekend. An artist's
*peak* is the part of the week holding most of its timed plays, claimed only when it holds at
least PEAK_LIFT times the share an even spread over the week's hours would give it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from typing import Any

import numpy as np

from playlists.errors import InvalidPlaylistRequest
from recommender.terms import time_zone as zone

CONTEXTS = ("now", "morning", "afternoon", "evening", "night", "weekday", "weekend")
CONTEXT_HOURS = {"morning": 8.0, "afternoon": 14.0, "evening": 20.0, "night": 23.5}
HOUR_WIDTH = 3.0  # hours: the kernel's standard deviation around the moment's hour
OTHER_DAY_WEIGHT = 0.25  # a listen on a weekend for a weekday moment, or the other way round
PEAK_LIFT = 2.0
# (name, first hour, end hour) with the end past midnight for the night.
PARTS = (("morning", 5, 12), ("afternoon", 12, 17), ("evening", 17, 22), ("night", 22, 29))
_OFFSET_STEP = 900  # UTC offsets are looked up once per quarter hour of listens


def _offset(ts: int, tz: tzinfo) -> int:
    """Seconds the zone's clock is ahead of UTC at that instant."""
    offset = datetime.fromtimestamp(ts, UTC).astimezone(tz).utcoffset()
    return 0 if offset is None else int(offset.total_seconds())


def part_of(hour: float) -> str:
    """The part of the day a local hour (0 to 24) falls in."""
    for name, first, end in PARTS:
        if first <= hour < end or first <= hour + 24 < end:
            return name
    return "night"


def _part_hours(name: str) -> int:
    first, end = next((f, e) for n, f, e in PARTS if n == name)
    return end - first


@dataclass(frozen=True)
class Peak:
    """The part of the week an artist is played in most, and the plays behind the claim."""

    weekend: bool
    part: str
    plays: int  # the artist's timed plays in that part of the week
    timed_plays: int  # all the artist's timed plays

    @property
    def label(self) -> str:
        return f"{'weekend' if self.weekend else 'weekday'} {self.part}s"


@dataclass(frozen=True)
class Moment:
    """What a playlist is for: an hour of the day, a kind of day, or both (None: any)."""

    context: str  # one of CONTEXTS, or "at" for --at
    hour: float | None
    weekend: bool | None
    time_zone: str
    at: int | None = None  # the instant, for `now` and --at

    def local(self, timestamps: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(local hour of day as a fraction, weekend flag) of Unix seconds (NaN: no time)."""
        ts = np.nan_to_num(np.asarray(timestamps, dtype=float), nan=0.0).astype(np.int64)
        tz = zone(self.time_zone)
        steps, where = np.unique(ts // _OFFSET_STEP, return_inverse=True)
        offsets = np.array([_offset(int(s) * _OFFSET_STEP, tz) for s in steps], dtype=np.int64)
        local = ts + offsets[where.reshape(-1)]
        hours = (local % 86_400) / 3600.0
        weekday = (local // 86_400 + 3) % 7  # 1970-01-01 was a Thursday; Monday is 0
        return hours, weekday >= 5

    def weights(self, timestamps: np.ndarray) -> np.ndarray:
        """The kernel's weight for each listen (1 for a listen without a time)."""
        when = np.asarray(timestamps, dtype=float)
        out = np.ones(len(when))
        timed = ~np.isnan(when)
        if not timed.any():
            return out
        hours, weekend = self.local(when[timed])
        weight = np.ones(len(hours))
        if self.hour is not None:
            gap = np.abs(hours - self.hour)
            gap = np.minimum(gap, 24.0 - gap)
            weight *= np.exp(-(gap**2) / (2 * HOUR_WIDTH**2))
        if self.weekend is not None:
            weight *= np.where(weekend == self.weekend, 1.0, OTHER_DAY_WEIGHT)
        out[timed] = weight
        return out

    def peak(self, timestamps: np.ndarray) -> Peak | None:
        """The part of the week holding most of these plays, when it stands out (PEAK_LIFT)."""
        when = np.asarray(timestamps, dtype=float)
        when = when[~np.isnan(when)]
        if not len(when):
            return None
        hours, weekend = self.local(when)
        parts = np.array([part_of(float(h)) for h in hours])
        best: tuple[int, bool, str] = (-1, False, PARTS[0][0])
        for is_weekend in (False, True):
            for name, _, _ in PARTS:
                n = int(np.sum((weekend == is_weekend) & (parts == name)))
                if n > best[0]:
                    best = (n, is_weekend, name)
        n, is_weekend, name = best
        even = (2 if is_weekend else 5) * _part_hours(name) / 168.0
        if n / len(when) < PEAK_LIFT * even:
            return None
        return Peak(is_weekend, name, n, len(when))

    def matches(self, peak: Peak) -> bool:
        """Whether a peak is this moment's part of the week (as far as the moment says)."""
        if self.hour is not None and part_of(self.hour) != peak.part:
            return False
        return self.weekend is None or self.weekend == peak.weekend

    @property
    def label(self) -> str:
        """The context, or for `now` and --at the local date and time."""
        if self.at is None:
            return self.context
        local = datetime.fromtimestamp(self.at, zone(self.time_zone))
        return local.strftime("%A %Y-%m-%d %H:%M")

    def to_dict(self) -> dict[str, Any]:
        return {
            "context": self.context,
            "hour": None if self.hour is None else round(self.hour, 4),
            "weekend": self.weekend,
            "time_zone": self.time_zone,
            "at": None
            if self.at is None
            else datetime.fromtimestamp(self.at, UTC).isoformat(timespec="seconds"),
        }


def _parse_at(text: str, time_zone: str) -> int:
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise InvalidPlaylistRequest(
            f"--at {text!r} is not a date and time: use e.g. 2025-10-27T08:30 (your time zone) "
            "or 2025-10-27T07:30:00Z"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=zone(time_zone))
    return int(moment.timestamp())


def moment_for(context: str | None, at: str | None, time_zone: str, now: int) -> Moment | None:
    """The moment asked for (None when neither --context nor --at is given); `now` is the
    request's own time (Unix seconds), which `now` stands for."""
    if context is not None and at is not None:
        raise InvalidPlaylistRequest("give --context or --at, not both")
    if context is None and at is None:
        return None
    if context is not None and context not in CONTEXTS:
        raise InvalidPlaylistRequest(
            f"no context {context!r}: choose one of {', '.join(CONTEXTS)}, or give --at"
        )
    if context in CONTEXT_HOURS:
        return Moment(str(context), CONTEXT_HOURS[str(context)], None, time_zone)
    if context in ("weekday", "weekend"):
        return Moment(str(context), None, context == "weekend", time_zone)
    instant = now if at is None else _parse_at(at, time_zone)
    probe = Moment("at", None, None, time_zone)
    hours, weekend = probe.local(np.array([float(instant)]))
    hour = float(hours[0])
    return Moment(
        "now" if at is None else "at",
        math.floor(hour * 60) / 60,
        bool(weekend[0]),
        time_zone,
        instant,
    )
