"""Pure rules for notices: off-hours maintenance windows, notice phases, time wording."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from portal.calendar import describe_days, format_clock, format_moment, parse_hours

DAY_KEYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
UPCOMING, ONGOING, ENDED = "upcoming", "ongoing", "ended"


def _instant(day: date, at: time, zone: ZoneInfo) -> datetime:
    """A wall time on a day as a real instant (a time in a DST gap moves forward)."""
    return datetime.combine(day, at, tzinfo=zone).astimezone(UTC).astimezone(zone)


def _day_numbers(names: Iterable[str]) -> frozenset[int]:
    numbers = set()
    for name in names:
        key = str(name).strip().lower()[:3]
        if key not in DAY_KEYS:
            raise ValueError(f"unknown day of the week: {name!r}")
        numbers.add(DAY_KEYS.index(key))
    return frozenset(numbers)


@dataclass(frozen=True)
class OffHours:
    """When scheduled maintenance may run: any time on `anytime_days`, and on the other
    days between `weekday_from` and `weekday_until`, all in one time zone."""

    zone: ZoneInfo
    anytime_days: frozenset[int]
    weekday_from: time
    weekday_until: time
    label: str = "ET"

    @classmethod
    def from_settings(cls, settings: Mapping[str, Any]) -> OffHours:
        opens, closes = parse_hours(settings["MAINTENANCE_WEEKDAY_HOURS"])
        return cls(ZoneInfo(settings["BUSINESS_TIMEZONE"]),
                   _day_numbers(settings["MAINTENANCE_ANYTIME_DAYS"]), opens, closes,
                   settings["BUSINESS_TIMEZONE_LABEL"])

    def stretch_end(self, at: datetime) -> datetime | None:
        """The end of the off-hours stretch of this day that holds `at`; None when `at`
        falls in working hours."""
        local = at.astimezone(self.zone)
        day = local.date()
        if day.weekday() in self.anytime_days:
            return _instant(day + timedelta(days=1), time(0), self.zone)
        opens = _instant(day, self.weekday_from, self.zone)
        closes = _instant(day, self.weekday_until, self.zone)
        if self.weekday_until == time(23, 59, 59, 999999):
            closes = _instant(day + timedelta(days=1), time(0), self.zone)
        return closes if opens <= local < closes else None

    def first_conflict(self, start: datetime, end: datetime) -> datetime | None:
        """The first instant of [start, end) outside off-hours, or None when all of it
        is allowed. Walks stretch by stretch, so windows may run across midnight."""
        cursor = start
        for _ in range(400):  # a window of over a year is refused by the caller long before
            until = self.stretch_end(cursor)
            if until is None:
                return cursor.astimezone(self.zone)
            if until >= end:
                return None
            cursor = until
        return cursor.astimezone(self.zone)

    def describe(self) -> str:
        """'weekends (any time), or weekdays from midnight to 8:00 AM ET'."""
        if self.anytime_days == frozenset({5, 6}):
            anytime = "weekends (any time)"
        elif self.anytime_days:
            anytime = f"{describe_days(self.anytime_days)} (any time)"
        else:
            anytime = ""
        start = "midnight" if self.weekday_from == time(0) else format_clock(self.weekday_from)
        other = "weekdays" if self.anytime_days == frozenset({5, 6}) else "other days"
        weekday = f"{other} from {start} to {format_clock(self.weekday_until)} {self.label}"
        return f"{anytime}, or {weekday}" if anytime else weekday


def phase(kind_is_maintenance: bool, starts_at: datetime, ends_at: datetime | None,
          now: datetime) -> str:
    """UPCOMING before the start, ONGOING until the end (an incident with no end is
    ongoing), ENDED afterwards."""
    if now < starts_at:
        return UPCOMING
    if ends_at is None:
        return ENDED if kind_is_maintenance else ONGOING
    return ONGOING if now < ends_at else ENDED


def wall_time(naive: datetime, zone: ZoneInfo) -> datetime:
    """A wall-clock time typed in `zone` as an aware instant. Raises ValueError for a time
    that does not exist (skipped when clocks spring forward); an hour that happens twice
    (clocks fall back) means its first occurrence."""
    aware = naive.replace(tzinfo=zone, fold=0)
    back = aware.astimezone(UTC).astimezone(zone)
    if back.replace(tzinfo=None) != naive:
        raise ValueError(f"{format_clock(naive)} does not exist on {naive:%A, %b} {naive.day} "
                         f"in this time zone: clocks move forward that night.")
    return aware


def format_range(start: datetime, end: datetime | None, zone: ZoneInfo, label: str) -> str:
    """'Saturday, Dec 5, 2026, 2:00 AM–6:00 AM ET', or across days, or 'since ...'."""
    start = start.astimezone(zone)
    if end is None:
        return f"since {format_moment(start, label)}"
    end = end.astimezone(zone)
    if start.date() == end.date() or (end - start <= timedelta(days=1)
                                      and end.time() == time(0) and end.date() == start.date()
                                      + timedelta(days=1)):
        until = "midnight" if end.date() != start.date() else format_clock(end)
        return (f"{start:%A, %b} {start.day}, {start.year}, {format_clock(start)}–"
                f"{until} {label}")
    return f"{format_moment(start, label)} – {format_moment(end, label)}"
