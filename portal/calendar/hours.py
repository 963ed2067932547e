"""Business hours and holidays: when the support team is at work, and how much of that
time lies between two moments. Pure functions, no Flask."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

import holidays as holidays_package

from portal.calendar.words import describe_days, format_clock

DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
MAX_DAYS_WALKED = 3700  # ten years: a calendar with no open day fails loudly, never loops


def parse_days(names: Iterable[str | int]) -> frozenset[int]:
    """Day names ('mon', 'Tuesday') or numbers (0 = Monday) -> weekday numbers; ValueError
    for an unknown name. What BUSINESS_DAYS and SEVERITY1_DAYS are read with."""
    return _weekday_numbers(names)


def _weekday_numbers(names: Iterable[str | int]) -> frozenset[int]:
    days = set()
    for name in names:
        if isinstance(name, int):
            days.add(name)
            continue
        key = str(name).strip().lower()[:3]
        if key not in DAY_NAMES:
            raise ValueError(f"unknown day of the week: {name!r}")
        days.add(DAY_NAMES.index(key))
    return frozenset(days)


def parse_hours(text: str) -> tuple[time, time]:
    """'08:00-20:00' -> (08:00, 20:00). Opening must come before closing on the same day."""
    match = re.fullmatch(r"\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*", text)
    if not match:
        raise ValueError(f"business hours must look like 08:00-20:00, not {text!r}")
    h1, m1, h2, m2 = (int(part) for part in match.groups())
    opens = time(h1, m1)
    closes = time(23, 59, 59, 999999) if (h2, m2) == (24, 0) else time(h2, m2)
    if opens >= closes:
        raise ValueError(f"business hours must open before they close: {text!r}")
    return opens, closes


def check_holidays(country: str, subdiv: str | None = None) -> None:
    """ValueError unless the `holidays` package has a calendar for this country code (and
    subdivision), as BusinessCalendar asks for it."""
    try:
        holidays_package.country_holidays(country, subdiv=subdiv or None)
    except NotImplementedError as error:
        raise ValueError(str(error)) from None


def holiday_subdivisions(country: str) -> tuple[str, ...]:
    """The subdivision codes the `holidays` package knows for a country code."""
    check_holidays(country)
    return tuple(holidays_package.country_holidays(country).subdivisions)


@lru_cache(maxsize=64)
def _holidays_for_year(country: str, subdiv: str | None, year: int) -> dict[date, str]:
    table = holidays_package.country_holidays(country, subdiv=subdiv, years=year, observed=True)
    return {day: name for day, name in table.items() if day.year == year}


@dataclass(frozen=True)
class Segment:
    """Business time counted on one day (local wall times)."""

    day: date
    start: datetime
    end: datetime

    @property
    def duration(self) -> timedelta:
        return self.end - self.start


@dataclass
class Walk:
    """How an amount of business time was laid on the calendar; used to explain it."""

    start: datetime
    amount: timedelta
    end: datetime
    segments: list[Segment] = field(default_factory=list)
    skipped: list[tuple[date, str]] = field(default_factory=list)  # closed days and why


class BusinessCalendar:
    """Opening hours on given weekdays in one time zone, minus holidays and closed dates.

    Every datetime going in must be time-zone aware; every datetime coming out is in
    the calendar's zone. Daylight saving is handled by working on each day's own
    opening and closing instants, never by adding hours to wall-clock times.
    """

    def __init__(
        self,
        zone: str | ZoneInfo = "America/New_York",
        opens: time = time(8),
        closes: time = time(20),
        days: Iterable[str | int] = ("mon", "tue", "wed", "thu", "fri"),
        holiday_country: str | None = "US",
        holiday_subdiv: str | None = None,
        closed_dates: Iterable[date] = (),
        zone_label: str = "ET",
    ):
        self.zone = zone if isinstance(zone, ZoneInfo) else ZoneInfo(zone)
        if opens >= closes:
            raise ValueError("business hours must open before they close")
        self.opens, self.closes = opens, closes
        self.days = _weekday_numbers(days)
        if not self.days:
            raise ValueError("a business calendar needs at least one open day")
        self.holiday_country = holiday_country or None
        self.holiday_subdiv = holiday_subdiv or None
        self.closed_dates = frozenset(closed_dates)
        self.zone_label = zone_label

    # -- days -------------------------------------------------------------------------------

    @property
    def day_length(self) -> timedelta:
        """Wall-clock length of a business day (12 hours for 08:00-20:00)."""
        return datetime.combine(date.min, self.closes) - datetime.combine(date.min, self.opens)

    def holiday_name(self, day: date) -> str | None:
        if day in self.closed_dates:
            return "closed"
        if self.holiday_country is None:
            return None
        return _holidays_for_year(self.holiday_country, self.holiday_subdiv, day.year).get(day)

    def closed_reason(self, day: date) -> str | None:
        """Why this day has no business hours ('Saturday', 'Thanksgiving Day'), or None."""
        if day.weekday() not in self.days:
            return day.strftime("%A")
        return self.holiday_name(day)

    def is_business_day(self, day: date) -> bool:
        return self.closed_reason(day) is None

    def window(self, day: date) -> tuple[datetime, datetime]:
        """The day's opening and closing instants, as aware datetimes in the zone."""
        opens = datetime.combine(day, self.opens, tzinfo=self.zone)
        closes = datetime.combine(day, self.closes, tzinfo=self.zone)
        # Round-trip through UTC so a wall time in a DST gap becomes a real instant.
        return (opens.astimezone(UTC).astimezone(self.zone),
                closes.astimezone(UTC).astimezone(self.zone))

    # -- instants ---------------------------------------------------------------------------

    def local(self, at: datetime) -> datetime:
        if at.tzinfo is None or at.utcoffset() is None:
            raise ValueError("business calendar times must be time-zone aware")
        return at.astimezone(self.zone)

    def is_open(self, at: datetime) -> bool:
        """True when `at` falls inside business hours (opening included, closing excluded)."""
        at = self.local(at)
        if not self.is_business_day(at.date()):
            return False
        opens, closes = self.window(at.date())
        return opens <= at < closes

    def next_open(self, at: datetime) -> datetime:
        """`at` itself when open, otherwise the next opening instant."""
        at = self.local(at)
        day = at.date()
        for _ in range(MAX_DAYS_WALKED):
            if self.is_business_day(day):
                opens, closes = self.window(day)
                if at < closes:
                    return max(at, opens)
            day += timedelta(days=1)
        raise ValueError("no business hours within ten years")

    def next_close(self, at: datetime) -> datetime:
        """The closing instant of the business day that is open at, or opens next after, `at`."""
        opened = self.next_open(at)
        return self.window(opened.date())[1]

    # -- arithmetic -------------------------------------------------------------------------

    def walk(self, start: datetime, amount: timedelta) -> Walk:
        """Lay `amount` of business time from `start`, keeping each day's share."""
        start = self.local(start)
        if amount < timedelta(0):
            raise ValueError("business time to add must not be negative")
        result = Walk(start=start, amount=amount, end=start)
        remaining = amount
        day = start.date()
        for _ in range(MAX_DAYS_WALKED):
            reason = self.closed_reason(day)
            if reason is not None:
                result.skipped.append((day, reason))
                day += timedelta(days=1)
                continue
            opens, closes = self.window(day)
            begin = max(start, opens)
            # `<=`: time that runs out exactly at closing ends there (adding nothing to a
            # 20:00 deadline keeps 20:00) instead of jumping to the next opening.
            if begin <= closes:
                if remaining <= closes - begin:
                    end = (begin.astimezone(UTC) + remaining).astimezone(self.zone)
                    if remaining:
                        result.segments.append(Segment(day, begin, end))
                    result.end = end
                    return result
                if begin < closes:
                    result.segments.append(Segment(day, begin, closes))
                    remaining -= closes - begin
            day += timedelta(days=1)
        raise ValueError("no business hours within ten years")

    def add_business_hours(self, start: datetime, hours: float | timedelta) -> datetime:
        """The instant when `hours` of business time have passed since `start`."""
        amount = hours if isinstance(hours, timedelta) else timedelta(hours=hours)
        return self.walk(start, amount).end

    def add_business_days(self, start: datetime, days: float) -> datetime:
        """`days` full business days from `start`: one day is one day_length of open hours."""
        return self.walk(start, self.day_length * days).end

    def business_time_between(self, start: datetime, end: datetime) -> timedelta:
        """Open time between two instants (zero when end is not after start)."""
        start, end = self.local(start), self.local(end)
        total = timedelta(0)
        day = start.date()
        while day <= end.date():
            if self.is_business_day(day):
                opens, closes = self.window(day)
                begin, finish = max(start, opens), min(end, closes)
                if finish > begin:
                    total += finish.astimezone(UTC) - begin.astimezone(UTC)
            day += timedelta(days=1)
        return total

    # -- words ------------------------------------------------------------------------------

    def describe_hours(self) -> str:
        """'8:00 AM-8:00 PM ET, Monday-Friday, excluding US federal holidays'."""
        days = describe_days(self.days)
        text = f"{format_clock(self.opens)}–{format_clock(self.closes)} {self.zone_label}, {days}"
        if self.holiday_country == "US":
            text += ", excluding US federal holidays"
        elif self.holiday_country:
            text += f", excluding public holidays ({self.holiday_country})"
        return text


# -- settings -------------------------------------------------------------------------------

def calendar_from_settings(settings: Mapping[str, Any]) -> BusinessCalendar:
    """The support team's business calendar, from the BUSINESS_* settings."""
    opens, closes = parse_hours(settings["BUSINESS_HOURS"])
    return BusinessCalendar(
        zone=settings["BUSINESS_TIMEZONE"],
        opens=opens,
        closes=closes,
        days=settings["BUSINESS_DAYS"],
        holiday_country=settings["BUSINESS_HOLIDAYS"] or None,
        holiday_subdiv=settings.get("BUSINESS_HOLIDAYS_SUBDIV") or None,
        closed_dates=[date.fromisoformat(str(d)) for d in settings["BUSINESS_CLOSED_DATES"]],
        zone_label=settings["BUSINESS_TIMEZONE_LABEL"],
    )


def severity1_calendar_from_settings(settings: Mapping[str, Any]) -> BusinessCalendar:
    """The Severity 1 clock: the same hours, on SEVERITY1_DAYS, holidays only if configured."""
    base = calendar_from_settings(settings)
    return BusinessCalendar(
        zone=base.zone,
        opens=base.opens,
        closes=base.closes,
        days=settings["SEVERITY1_DAYS"],
        holiday_country=base.holiday_country if settings["SEVERITY1_SKIPS_HOLIDAYS"] else None,
        holiday_subdiv=base.holiday_subdiv,
        closed_dates=base.closed_dates if settings["SEVERITY1_SKIPS_HOLIDAYS"] else (),
        zone_label=base.zone_label,
    )
