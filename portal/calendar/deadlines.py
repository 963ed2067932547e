"""Response deadlines by severity, counted on the business calendar, with an explanation
in plain words of how each one was counted. Pure functions, no Flask."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import Any

from portal.calendar.hours import (
    BusinessCalendar,
    Walk,
    calendar_from_settings,
    severity1_calendar_from_settings,
)
from portal.calendar.words import clock_with_zone, format_day, format_duration, format_moment

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
        text = explain(calendar, walk, started_words, rule,
                       holidays=self.business if calendar is not self.business else None,
                       clock_name=f"the Severity {severity} clock")
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


def explain(calendar: BusinessCalendar, walk: Walk, started_words: str, rule: str,
            holidays: BusinessCalendar | None = None, clock_name: str = "") -> str:
    """Plain words: when the clock started, what each day counted, what was skipped, due.

    Every clock time is shown as a clock shows it, seconds cut off, and every duration is
    the real time between the clock times shown, so the parts add up to the target exactly
    and the due time is the one computed (filed 7:09:30 PM: '51 minutes counted ... until
    8:00 PM; the remaining 1 hour 9 minutes from ... 8:00 AM. Due ... 9:09 AM'). Only the
    last day can be left with less than a shown minute ('the remaining seconds from ...').

    `holidays`, when given, is the business calendar whose holidays and closed dates this
    clock (`clock_name`, e.g. 'the Severity 1 clock') keeps counting through; each counted
    day that is one of them is named.
    """
    label = calendar.zone_label
    sentences = [f"{started_words} {format_moment(_shown(walk.start), label)}.", rule]
    segments = walk.segments
    if segments and segments[0].start > walk.start:
        sentences.append(f"That was outside these hours, so the clock started "
                         f"{format_day(segments[0].day)} at "
                         f"{clock_with_zone(_shown(segments[0].start))}.")
    parts = [(s.day, _shown(s.start), _shown(s.end)) for s in segments]
    seconds_left = len(parts) > 1 and parts[-1][1] == parts[-1][2]
    if len(parts) == 1:
        day, start, end = parts[0]
        sentences.append(f"All {_duration(start, end)} counted {format_day(day)} "
                         f"({clock_with_zone(start)}–{clock_with_zone(end)}).")
    elif parts:
        (first_day, first_start, first_end), (last_day, last_start, last_end) = (parts[0],
                                                                                 parts[-1])
        words = [f"{_duration(first_start, first_end)} counted {format_day(first_day)} "
                 f"(until {clock_with_zone(first_end)})"]
        words += [f"{_duration(start, end)} on {format_day(day)}"
                  for day, start, end in parts[1:-1]]
        remaining = "seconds" if seconds_left else _duration(last_start, last_end)
        words.append(f"the remaining {remaining} from {format_day(last_day)} at "
                     f"{clock_with_zone(last_start)}")
        sentences.append(_capitalise("; ".join(words)) + ".")
    closed = [d for d, reason in walk.skipped if reason == d.strftime("%A")]
    skipped_holidays = [(d, reason) for d, reason in walk.skipped if reason != d.strftime("%A")]
    if closed:
        verb = "is not a business day" if len(closed) == 1 else "are not business days"
        sentences.append(f"{_join([format_day(d) for d in closed])} {verb}.")
    for day, reason in skipped_holidays:
        what = "a day we are closed" if reason == "closed" else f"a holiday ({reason})"
        sentences.append(f"{format_day(day)} is {what}.")
    if holidays is not None:
        for day in dict.fromkeys(day for day, _, _ in parts):
            reason = holidays.holiday_name(day)
            if reason is None or calendar.holiday_name(day) is not None:
                continue
            if reason == "closed":
                sentences.append(f"{format_day(day)} is a day we are closed, but that does "
                                 f"not stop {clock_name}.")
            else:
                sentences.append(f"{format_day(day)} is a holiday ({reason}), but holidays "
                                 f"do not stop {clock_name}.")
    if segments and calendar.holiday_country:
        sentences.append(f"{format_day(segments[-1].day)} is not a holiday.")
    sentences.append(f"Due {format_moment(_shown(walk.end), label)}.")
    return " ".join(sentences)


def _shown(at: datetime) -> datetime:
    """An instant as a clock shows it: seconds cut off. A day that closes at 24:00 closes
    at 23:59:59.999999 in the calendar; that shows as the next midnight."""
    if at.time() == time.max:
        return (at.astimezone(UTC) + timedelta(microseconds=1)).astimezone(at.tzinfo)
    return at.replace(second=0, microsecond=0)


def _duration(start: datetime, end: datetime) -> str:
    """The real time between two shown instants, in words (an hour repeated when clocks
    fall back counts twice, one skipped when they spring forward not at all)."""
    return format_duration(end.astimezone(UTC) - start.astimezone(UTC))


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
