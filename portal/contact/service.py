"""Whether support is open now, and the contact page's channels and severity table,
all from the same calendar and settings that compute ticket deadlines."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from portal.calendar import BusinessCalendar, ResponsePolicy, format_clock, format_day

WEEKEND = frozenset({5, 6})


@dataclass(frozen=True)
class SupportStatus:
    is_open: bool
    text: str  # "Support is open now, until 8:00 PM ET"
    closes_at: datetime | None  # while open
    reopens_at: datetime | None  # while closed
    reason: str | None  # "US holiday: Thanksgiving Day", "weekend", None


def _holiday_words(calendar: BusinessCalendar, name: str) -> str:
    if name == "closed":
        return "office closed"
    country = calendar.holiday_country or ""
    return f"{country} holiday: {name}".strip()


def _is_holiday(calendar: BusinessCalendar, day) -> bool:
    reason = calendar.closed_reason(day)
    return reason is not None and reason != day.strftime("%A")


def _day_words(calendar: BusinessCalendar, now: datetime, at: datetime) -> str:
    """'today at 8:00 AM ET', 'Friday 8:00 AM ET', or 'Monday, Jan 4 at 8:00 AM ET'."""
    clock = f"{format_clock(at)} {calendar.zone_label}"
    days_ahead = (at.date() - now.date()).days
    if days_ahead == 0:
        return f"today at {clock}"
    if days_ahead < 7:
        return f"{at:%A} {clock}"
    return f"{format_day(at.date())} at {clock}"


def support_status(calendar: BusinessCalendar, now: datetime) -> SupportStatus:
    """Open now and until when, or closed, why, and when support reopens."""
    local = calendar.local(now)
    if calendar.is_open(local):
        closes = calendar.next_close(local)
        return SupportStatus(True, f"Support is open now, until {format_clock(closes)} "
                                   f"{calendar.zone_label}", closes, None, None)
    reopens = calendar.next_open(local)
    today = local.date()
    reason = None
    if _is_holiday(calendar, today):
        reason = _holiday_words(calendar, calendar.closed_reason(today))
        head = f"Support is closed ({reason})"
    elif today.weekday() not in calendar.days and today.weekday() in WEEKEND and (
            WEEKEND.isdisjoint(calendar.days)):
        reason = "weekend"
        head = "Support is closed for the weekend"
    else:
        head = "Support is closed now"
    text = f"{head}; it reopens {_day_words(calendar, local, reopens)}"
    skipped = [today + timedelta(days=n) for n in range(1, (reopens.date() - today).days)]
    holidays = [d for d in skipped if _is_holiday(calendar, d)]
    if holidays and reason in (None, "weekend"):
        first = holidays[0]
        text += (f" ({first:%A} is a "
                 f"{_holiday_words(calendar, calendar.closed_reason(first))})")
    return SupportStatus(False, text, None, reopens, reason)


# -- the contact page -----------------------------------------------------------------------

@dataclass(frozen=True)
class SeverityRow:
    level: int
    definition: str
    first_response: str  # "Within 2 hours"
    counted: str  # "8:00 AM–8:00 PM ET, every day"
    after: str  # "" when no further target


def severity_rows(policy: ResponsePolicy, settings: Mapping[str, Any]) -> list[SeverityRow]:
    """The severity table, built from the SEVERITY{n}_* settings through the policy."""
    rows = []
    for level in policy.severities:
        targets = policy.targets[level]
        calendar = policy.calendar_for(level)
        first = targets.first_response.words(calendar)
        after = []
        if targets.update_every is not None:
            every = targets.update_every.words(calendar).removeprefix("1 ")
            after.append(f"A progress update every {every} until it is resolved or "
                         f"worked around.")
        if targets.substantive is not None:
            within = targets.substantive.words(policy.business).split(" (")[0]
            after.append(f"A substantive answer, or the question we need answered, within "
                         f"{within} of the first response.")
        rows.append(SeverityRow(level, settings[f"SEVERITY{level}_DEFINITION"],
                                f"Within {first}", calendar.describe_hours(), " ".join(after)))
    return rows


@dataclass(frozen=True)
class Channels:
    email: str
    phone: str
    phone_link: str  # tel:+18015131113
    site_url: str


def channels(settings: Mapping[str, Any]) -> Channels:
    phone = settings["SUPPORT_PHONE"]
    digits = "".join(ch for ch in phone if ch.isdigit())
    if len(digits) == 10:  # a North American number written without its country code
        digits = "1" + digits
    return Channels(settings["SUPPORT_EMAIL"], phone, f"tel:+{digits}" if digits else "",
                    settings["SUPPORT_SITE_URL"])
