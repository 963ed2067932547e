"""Business calendar and response deadlines: the exact cases the policy is judged by."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from portal.calendar import (
    BusinessCalendar,
    Target,
    calendar_from_settings,
    parse_hours,
    policy_from_settings,
)
from portal.config import load_settings

ET = ZoneInfo("America/New_York")
SETTINGS = load_settings("/nonexistent-instance", {"SECRET_KEY": "x"})
POLICY = policy_from_settings(SETTINGS)
CAL = POLICY.business


def et(*args: int) -> datetime:
    return datetime(*args, tzinfo=ET)


def first_due(severity: int, filed: datetime) -> datetime:
    return POLICY.first_response(severity, filed).due


# -- the calendar itself -------------------------------------------------------------------


def test_settings_give_eight_to_eight_eastern_weekdays():
    assert CAL.zone == ET
    assert (CAL.opens, CAL.closes) == (time(8), time(20))
    assert CAL.day_length == timedelta(hours=12)
    assert CAL.describe_hours() == (
        "8:00 AM–8:00 PM ET, Monday–Friday, excluding US federal holidays")


@pytest.mark.parametrize(("day", "name"), [
    (date(2026, 7, 3), "Independence Day (observed)"),
    (date(2026, 11, 26), "Thanksgiving Day"),
    (date(2027, 12, 31), "New Year's Day (observed)"),
    (date(2027, 6, 18), "Juneteenth National Independence Day (observed)"),
])
def test_federal_holidays_include_observed_days(day, name):
    assert CAL.holiday_name(day) == name
    assert not CAL.is_business_day(day)


def test_ordinary_days_are_business_days():
    assert CAL.is_business_day(date(2026, 11, 27))  # day after Thanksgiving is not federal
    assert CAL.is_business_day(date(2026, 7, 6))
    assert not CAL.is_business_day(date(2026, 7, 4))  # Saturday
    assert CAL.closed_reason(date(2026, 7, 5)) == "Sunday"


def test_is_open_includes_opening_and_excludes_closing():
    assert not CAL.is_open(et(2026, 11, 24, 7, 59, 59))
    assert CAL.is_open(et(2026, 11, 24, 8, 0))
    assert CAL.is_open(et(2026, 11, 24, 19, 59, 59))
    assert not CAL.is_open(et(2026, 11, 24, 20, 0))
    assert not CAL.is_open(et(2026, 11, 26, 12, 0))  # Thanksgiving
    # The same instant given in UTC or Pacific is judged in Eastern.
    assert CAL.is_open(datetime(2026, 11, 24, 13, 0, tzinfo=UTC))  # 8:00 AM EST
    assert CAL.is_open(datetime(2026, 11, 24, 5, 0, tzinfo=ZoneInfo("America/Los_Angeles")))


def test_next_open_skips_nights_weekends_and_holidays():
    assert CAL.next_open(et(2026, 11, 24, 12, 0)) == et(2026, 11, 24, 12, 0)
    assert CAL.next_open(et(2026, 11, 24, 21, 0)) == et(2026, 11, 25, 8, 0)
    assert CAL.next_open(et(2026, 11, 25, 20, 0)) == et(2026, 11, 27, 8, 0)  # Thanksgiving
    assert CAL.next_open(et(2026, 7, 2, 20, 30)) == et(2026, 7, 6, 8, 0)  # Jul 3 observed
    assert CAL.next_close(et(2026, 7, 2, 20, 30)) == et(2026, 7, 6, 20, 0)


def test_naive_datetimes_are_refused():
    with pytest.raises(ValueError, match="aware"):
        CAL.is_open(datetime(2026, 11, 24, 12, 0))


def test_bad_settings_are_refused():
    with pytest.raises(ValueError):
        parse_hours("20:00-08:00")
    with pytest.raises(ValueError):
        Target.parse("soon")
    with pytest.raises(ValueError):
        BusinessCalendar(days=[])
    with pytest.raises(ValueError, match="day of the week"):
        BusinessCalendar(days=["funday"])


def test_add_business_days_counts_twelve_open_hours_per_day():
    assert CAL.add_business_days(et(2026, 11, 24, 10, 0), 1) == et(2026, 11, 25, 10, 0)
    assert CAL.add_business_days(et(2026, 11, 24, 10, 0), 3) == et(2026, 11, 30, 10, 0)
    assert CAL.business_time_between(et(2026, 11, 24, 10, 0), et(2026, 11, 30, 10, 0)) == (
        timedelta(hours=36))


def test_settings_can_move_hours_zone_and_closed_dates():
    settings = SETTINGS | {"BUSINESS_HOURS": "09:00-17:00", "BUSINESS_TIMEZONE": "Europe/Paris",
                           "BUSINESS_CLOSED_DATES": ["2026-11-24"], "BUSINESS_HOLIDAYS": ""}
    paris = calendar_from_settings(settings)
    assert paris.day_length == timedelta(hours=8)
    assert paris.closed_reason(date(2026, 11, 24)) == "closed"
    assert paris.is_business_day(date(2026, 11, 26))  # no US holidays any more
    start = datetime(2026, 11, 23, 16, 0, tzinfo=ZoneInfo("Europe/Paris"))
    assert paris.add_business_days(start, 1) == datetime(
        2026, 11, 25, 16, 0, tzinfo=ZoneInfo("Europe/Paris"))


# -- the acceptance cases ------------------------------------------------------------------


def test_friday_1959_gets_one_minute_friday_and_the_rest_monday():
    filed = et(2026, 11, 20, 19, 59)  # a Friday
    assert first_due(2, filed) == et(2026, 11, 23, 19, 59)
    assert first_due(3, filed) == et(2026, 11, 23, 19, 59)
    deadline = POLICY.first_response(2, filed)
    assert "1 minute counted Friday, Nov 20 (until 8:00 PM)" in deadline.explanation
    assert "the remaining 11 hours 59 minutes from Monday, Nov 23 at 8:00 AM" in (
        deadline.explanation)
    # Severity 1 counts 8 AM-8 PM every day: 1 minute Friday, 1 h 59 min Saturday morning.
    assert first_due(1, filed) == et(2026, 11, 21, 9, 59)


def test_friday_1930_is_due_monday_1930_with_the_explanation_from_the_issue():
    deadline = POLICY.first_response(2, et(2026, 11, 27, 19, 30))
    assert deadline.due == et(2026, 11, 30, 19, 30)
    text = deadline.explanation
    assert text.startswith("Filed Friday, Nov 27, 2026 at 7:30 PM ET.")
    assert "30 minutes counted Friday, Nov 27 (until 8:00 PM)" in text
    assert "from Monday, Nov 30 at 8:00 AM" in text
    assert "Monday, Nov 30 is not a holiday." in text
    assert text.endswith("Due Monday, Nov 30, 2026 at 7:30 PM ET.")


@pytest.mark.parametrize("filed", [
    et(2026, 11, 20, 20, 0),   # Friday at closing
    et(2026, 11, 21, 3, 0),    # Saturday night
    et(2026, 11, 21, 12, 0),   # Saturday noon
    et(2026, 11, 22, 23, 59),  # Sunday night
    et(2026, 11, 23, 7, 0),    # Monday before opening
])
def test_weekend_filing_is_due_at_the_end_of_monday(filed):
    deadline = POLICY.first_response(2, filed)
    assert deadline.due == et(2026, 11, 23, 20, 0)
    assert "the clock started Monday, Nov 23 at 8:00 AM" in deadline.explanation


def test_thanksgiving_is_skipped():
    deadline = POLICY.first_response(2, et(2026, 11, 25, 15, 0))
    assert deadline.due == et(2026, 11, 27, 15, 0)
    assert "Thursday, Nov 26 is a holiday (Thanksgiving Day)." in deadline.explanation
    # Filed on Thanksgiving itself: the clock starts Friday morning.
    assert first_due(3, et(2026, 11, 26, 10, 0)) == et(2026, 11, 27, 20, 0)


def test_observed_independence_day_july_3_2026_is_skipped():
    deadline = POLICY.first_response(2, et(2026, 7, 2, 10, 0))
    assert deadline.due == et(2026, 7, 6, 10, 0)
    assert "Friday, Jul 3 is a holiday (Independence Day (observed))." in deadline.explanation
    assert first_due(2, et(2026, 7, 3, 9, 0)) == et(2026, 7, 6, 20, 0)


def test_spring_forward_weekend_keeps_wall_clock_deadlines():
    # DST starts Sunday Mar 8 2026 at 2:00 AM: Friday is EST (UTC-5), Monday EDT (UTC-4).
    filed = et(2026, 3, 6, 14, 0)
    due = first_due(2, filed)
    assert due == et(2026, 3, 9, 14, 0)
    assert due.utcoffset() == timedelta(hours=-4)
    assert due.astimezone(UTC) == datetime(2026, 3, 9, 18, 0, tzinfo=UTC)
    # Severity 1 on the switch day itself counts Sunday's (shortened) day from 8 AM EDT.
    assert first_due(1, et(2026, 3, 8, 1, 30)) == et(2026, 3, 8, 10, 0)
    assert first_due(1, et(2026, 3, 7, 19, 0)) == et(2026, 3, 8, 9, 0)
    assert first_due(1, et(2026, 3, 7, 19, 0)).astimezone(UTC) == datetime(
        2026, 3, 8, 13, 0, tzinfo=UTC)


def test_fall_back_weekend_keeps_wall_clock_deadlines():
    # DST ends Sunday Nov 1 2026 at 2:00 AM: Friday is EDT (UTC-4), Monday EST (UTC-5).
    due = first_due(2, et(2026, 10, 30, 14, 0))
    assert due == et(2026, 11, 2, 14, 0)
    assert due.utcoffset() == timedelta(hours=-5)
    assert due.astimezone(UTC) == datetime(2026, 11, 2, 19, 0, tzinfo=UTC)
    # Filed in the repeated hour (1:30 AM happens twice): either way, Sunday 10 AM EST.
    first = datetime(2026, 11, 1, 5, 30, tzinfo=UTC)   # 1:30 AM EDT
    second = datetime(2026, 11, 1, 6, 30, tzinfo=UTC)  # 1:30 AM EST
    assert first_due(1, first) == first_due(1, second) == et(2026, 11, 1, 10, 0)
    assert first_due(1, et(2026, 10, 31, 19, 0)) == et(2026, 11, 1, 9, 0)


def test_severity_1_at_1930_on_a_saturday_is_due_sunday_0930():
    deadline = POLICY.first_response(1, et(2026, 11, 21, 19, 30))
    assert deadline.due == et(2026, 11, 22, 9, 30)
    assert "30 minutes counted Saturday, Nov 21 (until 8:00 PM)" in deadline.explanation
    assert "the remaining 1 hour 30 minutes from Sunday, Nov 22 at 8:00 AM" in (
        deadline.explanation)
    assert "every day" in deadline.explanation


def test_severity_1_counts_holidays_unless_configured_not_to():
    assert first_due(1, et(2026, 11, 26, 9, 0)) == et(2026, 11, 26, 11, 0)
    strict = policy_from_settings(SETTINGS | {"SEVERITY1_DAYS": ["mon", "tue", "wed", "thu",
                                                                 "fri"],
                                              "SEVERITY1_SKIPS_HOLIDAYS": True})
    assert strict.first_response(1, et(2026, 11, 26, 9, 0)).due == et(2026, 11, 27, 10, 0)
    assert strict.first_response(1, et(2026, 11, 21, 19, 30)).due == et(2026, 11, 23, 10, 0)


def test_severity_1_hourly_updates_run_in_the_same_window():
    assert POLICY.next_update(1, et(2026, 11, 24, 10, 15)).due == et(2026, 11, 24, 11, 15)
    late = POLICY.next_update(1, et(2026, 11, 24, 19, 45))
    assert late.due == et(2026, 11, 25, 8, 45)
    assert late.explanation.startswith("Last update sent Tuesday, Nov 24, 2026 at 7:45 PM ET.")
    assert POLICY.next_update(2, et(2026, 11, 24, 10, 15)) is None


def test_severity_3_substantive_answer_counts_from_the_first_response():
    deadline = POLICY.substantive(3, et(2026, 11, 24, 9, 0))
    assert deadline.due == et(2026, 11, 30, 9, 0)  # Tue 11 + Wed 12 + Fri 12 + Mon 1
    assert "Thursday, Nov 26 is a holiday (Thanksgiving Day)." in deadline.explanation
    assert POLICY.substantive(2, et(2026, 11, 24, 9, 0)) is None


def test_targets_come_from_settings():
    quick = policy_from_settings(SETTINGS | {"SEVERITY2_FIRST_RESPONSE": "4h"})
    assert quick.first_response(2, et(2026, 11, 24, 10, 0)).due == et(2026, 11, 24, 14, 0)
    assert POLICY.summary(1) == ("First response within 2 hours, counted 8:00 AM–8:00 PM ET, "
                                 "every day; then a progress update every hour until resolved.")
    assert POLICY.summary(3).endswith(
        "then a substantive answer within 3 business days of that first response.")
