"""Pure rules for notices: off-hours maintenance windows, notice phases, time wording.

Scheduled maintenance may run in business off-hours. The policy names two examples,
weekends and weekdays from midnight to 8:00 AM Eastern: these are the suggested windows
(OffHours, from the MAINTENANCE_* settings). MaintenancePolicy decides what is allowed:
with MAINTENANCE_POLICY "off-hours" (the default) any time the business calendar is closed
(evenings, nights, weekends, holidays, closed dates), with "suggested" only the suggested
windows."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from portal.calendar import (
    BusinessCalendar,
    calendar_from_settings,
    describe_days,
    format_clock,
    format_day,
    format_moment,
    parse_hours,
)
from portal.calendar.words import zone_label

DAY_KEYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
UPCOMING, ONGOING, ENDED = "upcoming", "ongoing", "ended"
OFF_HOURS, SUGGESTED = "off-hours", "suggested"  # MAINTENANCE_POLICY values
MAINTENANCE_POLICIES = (OFF_HOURS, SUGGESTED)
PICK_ANOTHER = ("Pick another time, or, for an emergency, post an unscheduled notice "
                "instead.")


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


def check_policy_name(value: object) -> str:
    """The MAINTENANCE_POLICY setting, normalised; ValueError for an unknown one."""
    mode = str(value or OFF_HOURS).strip().lower()
    if mode not in MAINTENANCE_POLICIES:
        raise ValueError(f"PORTAL_MAINTENANCE_POLICY must be 'off-hours' or 'suggested', "
                         f"not {mode!r}")
    return mode


@dataclass(frozen=True)
class Verdict:
    """Whether a maintenance window may be scheduled, and what to tell the admin: the
    reason for a refusal, or a note on an allowed window outside the suggested ones."""

    allowed: bool
    message: str = ""


@dataclass(frozen=True)
class MaintenancePolicy:
    """What scheduled maintenance may use: with OFF_HOURS any time outside business hours
    (on `business`), with SUGGESTED only the `suggested` windows."""

    mode: str
    business: BusinessCalendar
    suggested: OffHours

    @classmethod
    def from_settings(cls, settings: Mapping[str, Any]) -> MaintenancePolicy:
        mode = check_policy_name(settings.get("MAINTENANCE_POLICY"))
        return cls(mode, calendar_from_settings(settings), OffHours.from_settings(settings))

    @property
    def label(self) -> str:
        return self.suggested.label

    def first_conflict(self, start: datetime, end: datetime) -> datetime | None:
        """The first instant of [start, end) that the policy does not allow, or None."""
        if self.mode == SUGGESTED:
            return self.suggested.first_conflict(start, end)
        return self.first_business_instant(start, end)

    def first_business_instant(self, start: datetime, end: datetime) -> datetime | None:
        """The first instant of [start, end) within business hours, or None."""
        cursor = self.business.local(start)
        try:
            opens = self.business.next_open(cursor)
        except ValueError:  # no business hours within ten years: nothing to collide with
            return None
        return opens if opens.astimezone(UTC) < end.astimezone(UTC) else None

    def judge(self, start: datetime, end: datetime) -> Verdict:
        """Refused with the real reason, or allowed (with a note when the window lies outside
        the suggested windows)."""
        conflict = self.first_conflict(start, end)
        suggested = self.suggested.describe()
        if conflict is None:
            outside = self.suggested.first_conflict(start, end)
            if outside is None:
                return Verdict(True)
            return Verdict(True, f"Note: this window is outside business hours"
                                 f"{self._closed_day(outside)}, so it is allowed, but it is "
                                 f"not in the suggested windows: {suggested}.")
        starts = conflict.astimezone(UTC) == start.astimezone(UTC)
        when = "starts" if starts else "would still be running"
        moment = format_moment(conflict, self.label)
        if self.business.is_open(conflict):
            rule = ("any time outside business hours; the suggested windows are "
                    if self.mode == OFF_HOURS else "")
            return Verdict(False, f"This window {when} on {moment}, which is within business "
                                  f"hours ({self.business.describe_hours()}). Scheduled "
                                  f"maintenance may only run in off-hours: {rule}{suggested}. "
                                  f"{PICK_ANOTHER}")
        return Verdict(False, f"This window {when} on {moment}. That is outside business "
                              f"hours{self._closed_day(conflict)}, but this site allows "
                              f"scheduled maintenance only in these windows: {suggested}. "
                              f"{PICK_ANOTHER}")

    def _closed_day(self, at: datetime) -> str:
        """' (Thursday, Nov 26 is Thanksgiving Day)' when `at` falls on a holiday or a closed
        date of an otherwise open weekday, else ''."""
        day = self.business.local(at).date()
        if day.weekday() not in self.business.days:
            return ""
        reason = self.business.holiday_name(day)
        if reason is None:
            return ""
        what = "a day we are closed" if reason == "closed" else reason
        return f" ({format_day(day)} is {what})"

    def describe(self) -> str:
        """When maintenance may run, for readers: 'any time outside business hours (...);
        preferably weekends (any time), or weekdays from midnight to 8:00 AM ET'."""
        if self.mode == SUGGESTED:
            return self.suggested.describe()
        return (f"any time outside business hours ({self.business.describe_hours()}); "
                f"preferably {self.suggested.describe()}")

    def rule_for_admins(self) -> str:
        """The sentence at the top of the maintenance form."""
        if self.mode == SUGGESTED:
            return (f"Scheduled maintenance may only run in off-hours: "
                    f"{self.suggested.describe()}. A window outside these hours is refused.")
        return (f"Scheduled maintenance may run any time outside business hours "
                f"({self.business.describe_hours()}); a window that touches business hours "
                f"is refused. Suggested windows: {self.suggested.describe()}.")


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
        begin = format_clock(start)
        if zone_label(start, label) != label or zone_label(end, label) != label:
            # The hour repeated when clocks fall back: say which one, at each end.
            begin, until = (f"{begin} {zone_label(start, label)}",
                            f"{until} {zone_label(end, label)}")
            return f"{start:%A, %b} {start.day}, {start.year}, {begin}–{until}"
        return f"{start:%A, %b} {start.day}, {start.year}, {begin}–{until} {label}"
    return f"{format_moment(start, label)} – {format_moment(end, label)}"
