"""Business hours, holidays and response deadlines: pure functions, no Flask."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

import holidays as holidays_package

DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
ALL_DAYS = frozenset(range(7))
MAX_DAYS_WALKED = 3700  # ten years: a calendar with no open day fails loudly, never loops


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


def describe_days(days: frozenset[int]) -> str:
    if days == ALL_DAYS:
        return "every day"
    ordered = sorted(days)
    if ordered == list(range(ordered[0], ordered[-1] + 1)) and len(ordered) > 2:
        return f"{_FULL_DAY[ordered[0]]}–{_FULL_DAY[ordered[-1]]}"
    return ", ".join(_FULL_DAY[d] for d in ordered)


_FULL_DAY = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def format_clock(value: time | datetime) -> str:
    """'7:30 PM', '8:00 AM'."""
    hour = value.hour % 12 or 12
    return f"{hour}:{value.minute:02d} {'AM' if value.hour < 12 else 'PM'}"


def format_day(value: date) -> str:
    """'Friday, Jul 3'."""
    return f"{value:%A, %b} {value.day}"


def format_moment(value: datetime, label: str) -> str:
    """'Friday, Jul 3, 2026 at 7:30 PM ET'."""
    return f"{format_day(value)}, {value.year} at {format_clock(value)} {label}"


def format_duration(value: timedelta) -> str:
    """'2 hours', '11 hours 30 minutes', '1 minute'."""
    minutes = round(value.total_seconds() / 60)
    hours, minutes = divmod(minutes, 60)
    parts = []
    if hours:
        parts.append(f"{hours} hour{'s' if hours != 1 else ''}")
    if minutes or not hours:
        parts.append(f"{minutes} minute{'s' if minutes != 1 else ''}")
    return " ".join(parts)


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



# -- response deadlines ---------------------------------------------------------------------

FIRST_RESPONSE, UPDATE, SUBSTANTIVE = "first_response", "update", "substantive"
KIND_WORDS = {FIRST_RESPONSE: "first response", UPDATE: "progress update",
              SUBSTANTIVE: "substantive response"}


@dataclass(frozen=True)
class Target:
    """An amount of business time: '2h' (hours), '90m' (minutes) or '1d' (business days)."""

    amount: float
    unit: str  # "hours" or "days"

    @classmethod
    def parse(cls, text: str) -> Target | None:
        text = str(text).strip().lower()
        if not text:
            return None
        match = re.fullmatch(r"(\d+(?:\.\d+)?)\s*(m|min|h|hours?|d|days?)", text)
        if not match or float(match.group(1)) <= 0:
            raise ValueError(f"a response target looks like 2h, 90m or 1d, not {text!r}")
        amount, unit = float(match.group(1)), match.group(2)[0]
        if unit == "m":
            return cls(amount / 60, "hours")
        return cls(amount, "hours" if unit == "h" else "days")

    def duration(self, calendar: BusinessCalendar) -> timedelta:
        if self.unit == "days":
            return calendar.day_length * self.amount
        return timedelta(hours=self.amount)

    def words(self, calendar: BusinessCalendar) -> str:
        """'2 hours' or '1 business day (12 business hours)'."""
        if self.unit == "hours":
            return format_duration(self.duration(calendar))
        amount = f"{self.amount:g}"
        day_word = "business day" if self.amount == 1 else "business days"
        hours = format_duration(self.duration(calendar)).replace("hour", "business hour")
        return f"{amount} {day_word} ({hours})"


@dataclass(frozen=True)
class Deadline:
    kind: str  # FIRST_RESPONSE, UPDATE or SUBSTANTIVE
    severity: int
    starts: datetime  # when the clock started (filing, first reply, last update)
    due: datetime  # in the calendar's zone
    explanation: str


@dataclass(frozen=True)
class SeverityTargets:
    first_response: Target
    update_every: Target | None = None  # Severity 1: hourly progress updates
    substantive: Target | None = None  # Severity 3: counted from the first response


class ResponsePolicy:
    """Severity targets laid on the business calendar (and the Severity 1 clock)."""

    def __init__(self, business: BusinessCalendar, severity1: BusinessCalendar,
                 targets: Mapping[int, SeverityTargets]):
        self.business = business
        self.severity1 = severity1
        self.targets = dict(targets)

    @property
    def severities(self) -> list[int]:
        return sorted(self.targets)

    def calendar_for(self, severity: int) -> BusinessCalendar:
        return self.severity1 if severity == 1 else self.business

    def first_response(self, severity: int, filed_at: datetime) -> Deadline:
        return self._deadline(FIRST_RESPONSE, severity, filed_at, "Filed",
                              self.targets[severity].first_response)

    def next_update(self, severity: int, last_update_at: datetime) -> Deadline | None:
        target = self.targets[severity].update_every
        if target is None:
            return None
        return self._deadline(UPDATE, severity, last_update_at, "Last update sent", target)

    def substantive(self, severity: int, first_response_at: datetime) -> Deadline | None:
        target = self.targets[severity].substantive
        if target is None:
            return None
        return self._deadline(SUBSTANTIVE, severity, first_response_at, "First response sent",
                              target)

    def _deadline(self, kind: str, severity: int, starts: datetime, started_words: str,
                  target: Target) -> Deadline:
        calendar = self.calendar_for(severity)
        walk = calendar.walk(starts, target.duration(calendar))
        rule = (f"Severity {severity}: {KIND_WORDS[kind]} within {target.words(calendar)}, "
                f"counted {calendar.describe_hours()}.")
        text = explain(calendar, walk, started_words, rule)
        return Deadline(kind, severity, walk.start, walk.end, text)

    def summary(self, severity: int) -> str:
        """One sentence for forms and policy pages: what we promise for this severity."""
        targets = self.targets[severity]
        calendar = self.calendar_for(severity)
        text = f"First response within {targets.first_response.words(calendar)}"
        if severity == 1 or calendar is not self.business:
            text += f", counted {calendar.describe_hours()}"
        if targets.update_every is not None:
            text += (f"; then a progress update every "
                     f"{targets.update_every.words(calendar).removeprefix('1 ')} until resolved")
        if targets.substantive is not None:
            text += (f"; then a substantive answer within "
                     f"{targets.substantive.words(self.business).split(' (')[0]} "
                     f"of that first response")
        return text + "."


def explain(calendar: BusinessCalendar, walk: Walk, started_words: str, rule: str) -> str:
    """Plain words: when the clock started, what each day counted, what was skipped, due."""
    label = calendar.zone_label
    sentences = [f"{started_words} {format_moment(walk.start, label)}.", rule]
    segments = walk.segments
    if segments and segments[0].start > walk.start:
        sentences.append(f"That was outside these hours, so the clock started "
                         f"{format_day(segments[0].day)} at {format_clock(segments[0].start)}.")
    if len(segments) == 1:
        only = segments[0]
        sentences.append(f"All {format_duration(only.duration)} counted "
                         f"{format_day(only.day)} ({format_clock(only.start)}–"
                         f"{format_clock(only.end)}).")
    elif segments:
        first, last = segments[0], segments[-1]
        parts = [f"{format_duration(first.duration)} counted {format_day(first.day)} "
                 f"(until {format_clock(first.end)})"]
        parts += [f"{format_duration(s.duration)} on {format_day(s.day)}" for s in segments[1:-1]]
        parts.append(f"the remaining {format_duration(last.duration)} from "
                     f"{format_day(last.day)} at {format_clock(last.start)}")
        sentences.append(_capitalise("; ".join(parts)) + ".")
    closed = [d for d, reason in walk.skipped if reason == d.strftime("%A")]
    holidays = [(d, reason) for d, reason in walk.skipped if reason != d.strftime("%A")]
    if closed:
        verb = "is not a business day" if len(closed) == 1 else "are not business days"
        sentences.append(f"{_join([format_day(d) for d in closed])} {verb}.")
    for day, reason in holidays:
        what = "a day we are closed" if reason == "closed" else f"a holiday ({reason})"
        sentences.append(f"{format_day(day)} is {what}.")
    if segments and calendar.holiday_country:
        sentences.append(f"{format_day(segments[-1].day)} is not a holiday.")
    sentences.append(f"Due {format_moment(walk.end, label)}.")
    return " ".join(sentences)


def _capitalise(text: str) -> str:
    return text[:1].upper() + text[1:]


def _join(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def policy_from_settings(settings: Mapping[str, Any]) -> ResponsePolicy:
    """Severity targets from SEVERITY{n}_* settings on the configured calendars."""
    targets = {}
    for level in (1, 2, 3):
        first = Target.parse(settings[f"SEVERITY{level}_FIRST_RESPONSE"])
        if first is None:
            raise ValueError(f"SEVERITY{level}_FIRST_RESPONSE must be set")
        targets[level] = SeverityTargets(
            first_response=first,
            update_every=Target.parse(settings.get(f"SEVERITY{level}_UPDATE_EVERY", "")),
            substantive=Target.parse(settings.get(f"SEVERITY{level}_SUBSTANTIVE", "")),
        )
    return ResponsePolicy(calendar_from_settings(settings),
                          severity1_calendar_from_settings(settings), targets)
