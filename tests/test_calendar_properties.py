"""Property-based tests of the deadline rules over years of instants, DST and holidays."""

from __future__ import annotations

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
