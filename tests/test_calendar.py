"""Business calendar and response deadlines: the exact cases the policy is judged by."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from portal.calendar import (
    BusinessCalendar,
    Target,
    calendar_from_settings,
    format_moment,
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


# -- explanations that add up, for times with seconds (issue 11, items 18-21) ----------------


def test_minutes_add_up_when_the_filing_time_has_seconds():
    # Filed 7:09:30 PM: the clock showed 7:09, so 51 minutes count until 8:00 PM, not 50.
    deadline = POLICY.first_response(1, et(2026, 11, 21, 19, 9, 30))
    assert deadline.due == et(2026, 11, 22, 9, 9, 30)  # the due time itself is unchanged
    assert deadline.explanation == (
        "Filed Saturday, Nov 21, 2026 at 7:09 PM ET. Severity 1: first response within "
        "2 hours, counted 8:00 AM–8:00 PM ET, every day. 51 minutes counted Saturday, Nov 21 "
        "(until 8:00 PM); the remaining 1 hour 9 minutes from Sunday, Nov 22 at 8:00 AM. "
        "Due Sunday, Nov 22, 2026 at 9:09 AM ET.")


def test_minutes_add_up_across_the_spring_forward_weekend():
    deadline = POLICY.first_response(2, et(2026, 3, 6, 19, 20, 45))
    assert deadline.due == et(2026, 3, 9, 19, 20, 45)
    assert deadline.explanation == (
        "Filed Friday, Mar 6, 2026 at 7:20 PM ET. Severity 2: first response within 1 business "
        "day (12 business hours), counted 8:00 AM–8:00 PM ET, Monday–Friday, excluding US "
        "federal holidays. 40 minutes counted Friday, Mar 6 (until 8:00 PM); the remaining "
        "11 hours 20 minutes from Monday, Mar 9 at 8:00 AM. Saturday, Mar 7 and Sunday, Mar 8 "
        "are not business days. Monday, Mar 9 is not a holiday. "
        "Due Monday, Mar 9, 2026 at 7:20 PM ET.")


def test_filed_one_second_before_closing_counts_one_minute_not_zero():
    deadline = POLICY.first_response(2, et(2026, 11, 20, 19, 59, 59))  # a Friday
    assert deadline.due == et(2026, 11, 23, 19, 59, 59)
    assert deadline.explanation == (
        "Filed Friday, Nov 20, 2026 at 7:59 PM ET. Severity 2: first response within 1 business "
        "day (12 business hours), counted 8:00 AM–8:00 PM ET, Monday–Friday, excluding US "
        "federal holidays. 1 minute counted Friday, Nov 20 (until 8:00 PM); the remaining "
        "11 hours 59 minutes from Monday, Nov 23 at 8:00 AM. Saturday, Nov 21 and Sunday, "
        "Nov 22 are not business days. Monday, Nov 23 is not a holiday. "
        "Due Monday, Nov 23, 2026 at 7:59 PM ET.")


def test_seconds_left_for_the_next_morning_are_not_called_zero_minutes():
    # Filed 6:00:30 PM: 1 h 59 min 30 s count on Saturday, the last 30 seconds at 8:00 AM.
    deadline = POLICY.first_response(1, et(2026, 11, 21, 18, 0, 30))
    assert deadline.due == et(2026, 11, 22, 8, 0, 30)
    assert deadline.explanation == (
        "Filed Saturday, Nov 21, 2026 at 6:00 PM ET. Severity 1: first response within "
        "2 hours, counted 8:00 AM–8:00 PM ET, every day. 2 hours counted Saturday, Nov 21 "
        "(until 8:00 PM); the remaining seconds from Sunday, Nov 22 at 8:00 AM. "
        "Due Sunday, Nov 22, 2026 at 8:00 AM ET.")


def test_severity_1_on_a_federal_holiday_says_the_holiday_does_not_stop_its_clock():
    deadline = POLICY.first_response(1, et(2026, 11, 26, 9, 0, 40))  # Thanksgiving
    assert deadline.due == et(2026, 11, 26, 11, 0, 40)
    assert deadline.explanation == (
        "Filed Thursday, Nov 26, 2026 at 9:00 AM ET. Severity 1: first response within "
        "2 hours, counted 8:00 AM–8:00 PM ET, every day. All 2 hours counted Thursday, Nov 26 "
        "(9:00 AM–11:00 AM). Thursday, Nov 26 is a holiday (Thanksgiving Day), but holidays "
        "do not stop the Severity 1 clock. Due Thursday, Nov 26, 2026 at 11:00 AM ET.")
    evening = POLICY.first_response(1, et(2026, 11, 25, 19, 30, 10))
    assert evening.explanation == (
        "Filed Wednesday, Nov 25, 2026 at 7:30 PM ET. Severity 1: first response within "
        "2 hours, counted 8:00 AM–8:00 PM ET, every day. 30 minutes counted Wednesday, Nov 25 "
        "(until 8:00 PM); the remaining 1 hour 30 minutes from Thursday, Nov 26 at 8:00 AM. "
        "Thursday, Nov 26 is a holiday (Thanksgiving Day), but holidays do not stop the "
        "Severity 1 clock. Due Thursday, Nov 26, 2026 at 9:30 AM ET.")
    # A business day before the holiday says nothing about holidays.
    assert "holiday" not in POLICY.first_response(1, et(2026, 11, 25, 9, 0, 40)).explanation
    # Configured to skip holidays, the Severity 1 clock jumps over Thanksgiving instead.
    strict = policy_from_settings(SETTINGS | {"SEVERITY1_SKIPS_HOLIDAYS": True})
    skipped = strict.first_response(1, et(2026, 11, 25, 19, 30, 10)).explanation
    assert "Thursday, Nov 26 is a holiday (Thanksgiving Day)." in skipped
    assert "does not stop" not in skipped and "do not stop" not in skipped


def test_a_closed_date_on_the_severity_1_clock_is_named_too():
    shut = policy_from_settings(SETTINGS | {"BUSINESS_CLOSED_DATES": ["2026-12-24"]})
    text = shut.first_response(1, et(2026, 12, 24, 10, 0, 5)).explanation
    assert ("Thursday, Dec 24 is a day we are closed, but that does not stop the Severity 1 "
            "clock.") in text


@pytest.mark.parametrize(("filed", "shown"), [
    (datetime(2026, 11, 1, 4, 59, 59, tzinfo=UTC), "Sunday, Nov 1, 2026 at 12:59 AM ET"),
    (datetime(2026, 11, 1, 5, 0, 0, tzinfo=UTC), "Sunday, Nov 1, 2026 at 1:00 AM EDT"),
    (datetime(2026, 11, 1, 5, 30, 20, tzinfo=UTC), "Sunday, Nov 1, 2026 at 1:30 AM EDT"),
    (datetime(2026, 11, 1, 5, 59, 59, tzinfo=UTC), "Sunday, Nov 1, 2026 at 1:59 AM EDT"),
    (datetime(2026, 11, 1, 6, 30, 20, tzinfo=UTC), "Sunday, Nov 1, 2026 at 1:30 AM EST"),
    (datetime(2026, 11, 1, 7, 0, 0, tzinfo=UTC), "Sunday, Nov 1, 2026 at 2:00 AM ET"),
    # Spring forward: no wall time happens twice, so plain ET.
    (datetime(2026, 3, 8, 6, 59, 59, tzinfo=UTC), "Sunday, Mar 8, 2026 at 1:59 AM ET"),
    (datetime(2026, 3, 8, 7, 0, 0, tzinfo=UTC), "Sunday, Mar 8, 2026 at 3:00 AM ET"),
])
def test_the_repeated_hour_names_daylight_or_standard_time(filed, shown):
    deadline = POLICY.first_response(1, filed)
    assert deadline.explanation.startswith(f"Filed {shown}. ")
    assert deadline.explanation.endswith(f"Due {format_moment(deadline.due, 'ET')}.")


def test_the_fall_back_night_explained_for_the_severity_1_clock():
    deadline = POLICY.first_response(1, datetime(2026, 11, 1, 6, 30, 20, tzinfo=UTC))
    assert deadline.explanation == (
        "Filed Sunday, Nov 1, 2026 at 1:30 AM EST. Severity 1: first response within 2 hours, "
        "counted 8:00 AM–8:00 PM ET, every day. That was outside these hours, so the clock "
        "started Sunday, Nov 1 at 8:00 AM. All 2 hours counted Sunday, Nov 1 "
        "(8:00 AM–10:00 AM). Due Sunday, Nov 1, 2026 at 10:00 AM ET.")
    update = POLICY.next_update(1, datetime(2026, 11, 1, 6, 45, 0, tzinfo=UTC))
    assert update.explanation.startswith("Last update sent Sunday, Nov 1, 2026 at 1:45 AM EST.")


def test_a_round_the_clock_window_counts_the_repeated_hour_in_real_time():
    # Open 24 hours: from 12:30:15 AM EDT, two real hours end at 1:30:15 AM EST.
    always = policy_from_settings(SETTINGS | {"BUSINESS_HOURS": "00:00-24:00"})
    deadline = always.first_response(1, datetime(2026, 11, 1, 4, 30, 15, tzinfo=UTC))
    # (compared in UTC: Python never calls a repeated wall time equal to another zone's)
    assert deadline.due.astimezone(UTC) == datetime(2026, 11, 1, 6, 30, 15, tzinfo=UTC)
    assert "All 2 hours counted Sunday, Nov 1 (12:30 AM–1:30 AM EST)." in deadline.explanation
    assert deadline.explanation.endswith("Due Sunday, Nov 1, 2026 at 1:30 AM EST.")
