"""Property-based tests of the deadline rules over years of instants, DST and holidays."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from hypothesis import example, given, settings
from hypothesis import strategies as st

from portal.calendar import policy_from_settings
from portal.config import load_settings

POLICY = policy_from_settings(load_settings("/nonexistent-instance", {"SECRET_KEY": "x"}))

# Any instant from 2024 to 2030, at minute resolution with some seconds, as UTC.
instants = st.datetimes(
    min_value=datetime(2024, 1, 1), max_value=datetime(2030, 12, 31),
).map(lambda naive: naive.replace(tzinfo=UTC))
severities = st.sampled_from([1, 2, 3])
hours = st.floats(min_value=0.0, max_value=80.0, allow_nan=False).map(
    lambda h: timedelta(minutes=round(h * 60)))


def inside_hours(calendar, moment: datetime) -> bool:
    """Within a business day's hours, closing time included (a deadline may be 8:00 PM)."""
    local = moment.astimezone(calendar.zone)
    opens, closes = calendar.window(local.date())
    return calendar.is_business_day(local.date()) and opens <= local <= closes


@settings(max_examples=400, deadline=None)
@given(instants, severities)
def test_every_deadline_falls_inside_the_applicable_hours(filed, severity):
    calendar = POLICY.calendar_for(severity)
    first = POLICY.first_response(severity, filed)
    assert inside_hours(calendar, first.due)
    assert first.due > filed
    follow_ups = [POLICY.next_update(severity, first.due), POLICY.substantive(severity, first.due)]
    for later in filter(None, follow_ups):
        assert inside_hours(POLICY.calendar_for(severity), later.due)
        assert later.due > first.due


@settings(max_examples=400, deadline=None)
@given(instants, instants, severities)
def test_a_later_filing_never_gives_an_earlier_deadline(a, b, severity):
    early, late = sorted([a, b])
    assert POLICY.first_response(severity, early).due <= POLICY.first_response(severity, late).due


@settings(max_examples=300, deadline=None)
@given(instants, severities)
def test_the_deadline_is_exactly_the_target_in_business_time(filed, severity):
    calendar = POLICY.calendar_for(severity)
    due = POLICY.first_response(severity, filed).due
    target = POLICY.targets[severity].first_response.duration(calendar)
    assert calendar.business_time_between(filed, due) == target
    # ...and no earlier instant would do: one minute before, the target is not yet reached.
    assert calendar.business_time_between(filed, due - timedelta(minutes=1)) < target


@settings(max_examples=300, deadline=None)
@given(instants, hours, hours)
# Found in CI: 60 h ending exactly at Monday 20:00, then adding nothing, jumped to Tuesday.
@example(datetime(2024, 1, 1, tzinfo=UTC), timedelta(hours=60), timedelta(0))
def test_adding_business_time_in_two_steps_equals_one_step(start, first, second):
    calendar = POLICY.business
    if first == timedelta(0):
        return  # zero hours from a closed instant stays put rather than jumping to opening
    via = calendar.add_business_hours(calendar.add_business_hours(start, first), second)
    assert via == calendar.add_business_hours(start, first + second)


@settings(max_examples=300, deadline=None)
@given(instants, severities)
def test_the_explanation_names_the_filing_and_the_due_time(filed, severity):
    deadline = POLICY.first_response(severity, filed)
    assert deadline.explanation.startswith("Filed ")
    assert deadline.explanation.endswith(" ET.")
    assert f"at {deadline.due.hour % 12 or 12}:{deadline.due.minute:02d}" in (
        deadline.explanation.rsplit("Due ", 1)[1])


# -- the explanation's numbers (issue 11, items 18 and 19) ----------------------------------

DAY = r"(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday), (\w{3}) (\d{1,2})"
CLOCK = r"(\d{1,2}):(\d{2}) ([AP]M)"
DURATION = r"(?:(\d+) hours?)?(?: ?(\d+) minutes?)?"
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
kinds = st.sampled_from(["first_response", "next_update", "substantive"])


def minutes_of(hours_text: str | None, minutes_text: str | None) -> int:
    return int(hours_text or 0) * 60 + int(minutes_text or 0)


def shown_clock(moment: datetime) -> str:
    """How a clock shows an instant: hours and minutes, seconds cut off."""
    return f"{moment.hour % 12 or 12}:{moment.minute:02d} {'AM' if moment.hour < 12 else 'PM'}"


def wall(calendar, near: datetime, month: str, day: str, clock: tuple[str, str, str]):
    """The instant a quoted 'Monday, Nov 23' + '8:00 AM' names (the year taken from `near`,
    within a few weeks of it). The repeated hour is never quoted inside business hours."""
    hour, minute, half = int(clock[0]), int(clock[1]), clock[2]
    hour = hour % 12 + (12 if half == "PM" else 0)
    for year in (near.year, near.year + 1, near.year - 1):
        candidate = datetime(year, MONTHS.index(month) + 1, int(day), hour, minute,
                             tzinfo=calendar.zone)
        if abs(candidate - near) < timedelta(days=60):
            return candidate
    raise AssertionError(f"no year fits {month} {day}")


def deadline_for(kind: str, severity: int, at: datetime):
    if kind == "first_response":
        return POLICY.first_response(severity, at)
    if kind == "next_update":
        return POLICY.next_update(1, at)
    return POLICY.substantive(3, at)


@settings(max_examples=500, deadline=None)
@given(instants, severities, kinds)
@example(datetime(2026, 11, 22, 0, 9, 30, tzinfo=UTC), 1, "first_response")  # the case
@example(datetime(2026, 11, 21, 0, 59, 59, tzinfo=UTC), 2, "first_response")  # 19:59:59 ET
@example(datetime(2026, 11, 21, 23, 0, 30, tzinfo=UTC), 1, "first_response")  # seconds left
def test_the_explanation_adds_up_to_the_target_with_the_clock_times_it_shows(at, severity,
                                                                            kind):
    deadline = deadline_for(kind, severity, at)
    calendar = POLICY.calendar_for(deadline.severity)
    target = {"first_response": POLICY.targets[deadline.severity].first_response,
              "next_update": POLICY.targets[1].update_every,
              "substantive": POLICY.targets[3].substantive}[kind].duration(calendar)
    text = deadline.explanation
    start, due = deadline.starts.astimezone(calendar.zone), deadline.due
    # The quoted clock times are the displayed (cut-off) ones of the start and the due time.
    assert f" at {shown_clock(start)} " in text.split(". ", 1)[0]
    assert text.endswith(f" at {shown_clock(due)} ET.")
    shown_start = start.replace(second=0, microsecond=0)
    shown_due = due.replace(second=0, microsecond=0)
    # The parts quoted for each day add up to the target, in whole minutes.
    single = re.search(rf"All {DURATION} counted {DAY} \({CLOCK}–{CLOCK}\)\.", text)
    if single:
        counted = minutes_of(*single.group(1, 2))
        begin = wall(calendar, due, *single.group(3, 4), single.group(5, 6, 7))
        end = wall(calendar, due, *single.group(3, 4), single.group(8, 9, 10))
        assert end == shown_due
        assert counted == (end - begin).total_seconds() // 60 == target.total_seconds() // 60
        return
    first = re.search(rf"\. {DURATION} counted {DAY} \(until {CLOCK}\);", text)
    assert first, text
    counted = minutes_of(*first.group(1, 2))
    until = wall(calendar, due, *first.group(3, 4), first.group(5, 6, 7))
    begin = max(shown_start, calendar.next_open(start).replace(second=0, microsecond=0))
    assert counted == calendar.business_time_between(begin, until).total_seconds() // 60
    assert counted > 0  # no "0 minutes counted"
    middle = re.findall(rf"; {DURATION} on {DAY}", text)
    counted += sum(minutes_of(h, m) for h, m, _, _ in middle)
    last = re.search(rf"; the remaining (?:seconds|{DURATION}) from {DAY} at {CLOCK}\. ", text)
    assert last, text
    opening = wall(calendar, due, *last.group(3, 4), last.group(5, 6, 7))
    remaining = minutes_of(*last.group(1, 2))
    assert remaining == (shown_due - opening).total_seconds() // 60
    assert "remaining 0 minutes" not in text
    assert counted + remaining == target.total_seconds() // 60
