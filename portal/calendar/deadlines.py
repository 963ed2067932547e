"""Response deadlines by severity, counted on the business calendar, with an explanation
in plain words of how each one was counted. Pure functions, no Flask."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from portal.calendar.hours import (
    BusinessCalendar,
    Walk,
    calendar_from_settings,
    severity1_calendar_from_settings,
)
from portal.calendar.words import format_clock, format_day, format_duration, format_moment

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
