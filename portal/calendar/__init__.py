"""Business hours, holidays and response deadlines: pure functions, no Flask.

    hours.py      the business calendar: open hours, days, holidays, business time
    deadlines.py  response targets by severity and the explanation of each deadline
    words.py      times, days and durations in plain words
"""

from portal.calendar.deadlines import (
    FIRST_RESPONSE,
    KIND_WORDS,
    SUBSTANTIVE,
    UPDATE,
    Deadline,
    ResponsePolicy,
    SeverityTargets,
    Target,
    explain,
    policy_from_settings,
)
from portal.calendar.hours import (
    DAY_NAMES,
    MAX_DAYS_WALKED,
    BusinessCalendar,
    Segment,
    Walk,
    calendar_from_settings,
    parse_hours,
    severity1_calendar_from_settings,
)
from portal.calendar.words import (
    ALL_DAYS,
    describe_days,
    format_clock,
    format_day,
    format_duration,
    format_moment,
)

__all__ = [
    "ALL_DAYS", "DAY_NAMES", "FIRST_RESPONSE", "KIND_WORDS", "MAX_DAYS_WALKED", "SUBSTANTIVE",
    "UPDATE", "BusinessCalendar", "Deadline", "ResponsePolicy", "Segment", "SeverityTargets",
    "Target", "Walk", "calendar_from_settings", "describe_days", "explain", "format_clock",
    "format_day", "format_duration", "format_moment", "parse_hours", "policy_from_settings",
    "severity1_calendar_from_settings",
]
