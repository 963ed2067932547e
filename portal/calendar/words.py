"""Times, days and durations in the plain words the support pages use."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

ALL_DAYS = frozenset(range(7))


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
    """'Friday, Jul 3, 2026 at 7:30 PM ET'; in the hour repeated when clocks fall back,
    the zone's own abbreviation instead of `label` ('Sunday, Nov 1, 2026 at 1:30 AM EST')."""
    return f"{format_day(value)}, {value.year} at {format_clock(value)} {zone_label(value, label)}"


def is_repeated(value: datetime) -> bool:
    """True for a wall time that happens twice in its zone (1:30 AM on the night clocks fall
    back), where the time alone does not say which of the two instants is meant."""
    if value.tzinfo is None:
        return False
    other = value.replace(fold=1 - value.fold)
    return other.utcoffset() != value.utcoffset() and _exists(value) and _exists(other)


def _exists(value: datetime) -> bool:
    back = value.astimezone(UTC).astimezone(value.tzinfo)
    return back.replace(tzinfo=None) == value.replace(tzinfo=None)


def zone_label(value: datetime, label: str) -> str:
    """`label` ('ET'), or the zone's abbreviation ('EDT', 'EST') for a repeated wall time."""
    return (value.tzname() or label) if is_repeated(value) else label


def clock_with_zone(value: datetime) -> str:
    """format_clock, plus the zone abbreviation only where the wall time is repeated."""
    text = format_clock(value)
    return f"{text} {value.tzname()}" if is_repeated(value) else text


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
