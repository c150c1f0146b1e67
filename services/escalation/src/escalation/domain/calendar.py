"""Business calendars: when a queue is open, and business time between instants.

Opening hours are in the queue's local time zone. Intervals are built per local date
and converted to UTC, so DST days count their real length (a 09:00-17:00 day is always
8 hours; a 00:00-24:00 day is 23 or 25 hours). Holidays close the whole local day.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from functools import lru_cache
from typing import Iterator
from zoneinfo import ZoneInfo

import holidays as holidays_lib

from .policy import WEEKDAYS, Queue

_MAX_DAYS = 3 * 366  # a queue never open in three years is a policy error, not a loop


def _utc(at: datetime, name: str) -> datetime:
    """`at` in UTC. Arithmetic on two datetimes sharing a zone is wall-clock arithmetic in
    Python (it ignores DST), so every calculation here runs in UTC."""
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError(f"{name}: {at!r} is a naive datetime; expected a time-zone-aware datetime")
    return at.astimezone(timezone.utc)


@lru_cache(maxsize=64)
def _holiday_set(country: str, subdivision: str | None, year: int) -> frozenset[date]:
    return frozenset(holidays_lib.country_holidays(country, subdiv=subdivision, years=year))


@dataclass(frozen=True)
class BusinessCalendar:
    """The opening hours of one queue."""

    queue: Queue

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.queue.timezone)

    def is_holiday(self, day: date) -> bool:
        h = self.queue.holidays
        return h is not None and day in _holiday_set(h.country, h.subdivision, day.year)

    def _local(self, day: date, minutes: int) -> datetime:
        base = datetime(day.year, day.month, day.day, tzinfo=self.tz)
        if minutes == 24 * 60:
            nxt = day + timedelta(days=1)
            return datetime(nxt.year, nxt.month, nxt.day, tzinfo=self.tz).astimezone(timezone.utc)
        # Nonexistent wall times (spring-forward gap) resolve with the pre-transition offset,
        # i.e. to an instant inside the gap's aftermath; ambiguous ones to the first occurrence.
        return base.replace(hour=minutes // 60, minute=minutes % 60).astimezone(timezone.utc)

    def day_intervals(self, day: date) -> list[tuple[datetime, datetime]]:
        """Open intervals (UTC) of one local date; empty on holidays and closed weekdays."""
        if self.queue.always_open:
            return [(self._local(day, 0), self._local(day, 24 * 60))]
        if self.is_holiday(day):
            return []
        out = []
        for iv in self.queue.hours.get(WEEKDAYS[day.weekday()], []):  # type: ignore[call-overload]
            s, e = iv.minutes()
            a, b = self._local(day, s), self._local(day, e)
            if a < b:
                out.append((a, b))
        return sorted(out)

    def intervals_from(self, at: datetime) -> Iterator[tuple[datetime, datetime]]:
        """Open intervals that end after `at`, in order, clipped to start no earlier than `at`."""
        at = _utc(at, "at")
        day = at.astimezone(self.tz).date() - timedelta(days=1)
        for _ in range(_MAX_DAYS):
            for a, b in self.day_intervals(day):
                if b > at:
                    yield max(a, at), b
            day += timedelta(days=1)
        raise ValueError(f"queue is never open within {_MAX_DAYS} days of {at.isoformat()}")

    def is_open(self, at: datetime) -> bool:
        at = _utc(at, "at")
        if self.queue.always_open:
            return True
        local_day = at.astimezone(self.tz).date()
        return any(a <= at < b for d in (local_day - timedelta(days=1), local_day) for a, b in self.day_intervals(d))

    def next_open(self, at: datetime) -> datetime:
        """`at` itself if open, else the next instant the queue opens."""
        for a, _ in self.intervals_from(at):
            return a
        raise AssertionError("unreachable")

    def next_close(self, at: datetime) -> datetime | None:
        """When the interval open at `at` ends (merging back-to-back intervals); None if always open or closed."""
        at = _utc(at, "at")
        if self.queue.always_open or not self.is_open(at):
            return None
        end = None
        for a, b in self.intervals_from(at):
            if end is not None and a > end:
                break
            end = b
        return end

    def elapsed(self, start: datetime, end: datetime) -> timedelta:
        """Open time between two instants (zero if `end` is not after `start`)."""
        start, end = _utc(start, "start"), _utc(end, "end")
        if end <= start:
            return timedelta(0)
        if self.queue.always_open:
            return end - start
        total = timedelta(0)
        for a, b in self.intervals_from(start):
            if a >= end:
                break
            total += min(b, end) - a
        return total

    def add(self, start: datetime, duration: timedelta) -> datetime:
        """The instant at which `duration` of open time has passed since `start`."""
        start = _utc(start, "start")
        if duration <= timedelta(0):
            return start
        if self.queue.always_open:
            return start + duration
        left = duration
        for a, b in self.intervals_from(start):
            if b - a >= left:
                return a + left
            left -= b - a
        raise AssertionError("unreachable")


class WallClock:
    """Calendar time: every instant counts (the `calendar` SLA basis)."""

    def elapsed(self, start: datetime, end: datetime) -> timedelta:
        return max(_utc(end, "end") - _utc(start, "start"), timedelta(0))

    def add(self, start: datetime, duration: timedelta) -> datetime:
        return _utc(start, "start") + duration

    def is_open(self, at: datetime) -> bool:
        return True
