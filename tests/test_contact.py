"""'Support is open now' on the business calendar, and the Contact page built from settings."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from portal.calendar import calendar_from_settings
from portal.config import load_settings
from portal.contact.service import support_status

ET = ZoneInfo("America/New_York")


@pytest.fixture(scope="module")
def calendar():
    return calendar_from_settings(load_settings("/nonexistent", {"SECRET_KEY": "x"}))


def status_at(calendar, *args, tz=ET):
    return support_status(calendar, datetime(*args, tzinfo=tz))


def test_friday_evening_right_before_and_at_closing(calendar):
    before = status_at(calendar, 2026, 12, 4, 19, 59)
    assert before.is_open and before.text == "Support is open now, until 8:00 PM ET"
    at = status_at(calendar, 2026, 12, 4, 20, 0)
    assert not at.is_open
    assert at.text == "Support is closed now; it reopens Monday 8:00 AM ET"
    assert at.reopens_at == datetime(2026, 12, 7, 8, 0, tzinfo=ET)


def test_weekend_and_early_morning(calendar):
    assert status_at(calendar, 2026, 12, 5, 11, 0).text == (
        "Support is closed for the weekend; it reopens Monday 8:00 AM ET")
    assert status_at(calendar, 2026, 12, 8, 7, 59).text == (
        "Support is closed now; it reopens today at 8:00 AM ET")
    assert status_at(calendar, 2026, 12, 8, 8, 0).is_open


def test_thanksgiving(calendar):
    day = status_at(calendar, 2026, 11, 26, 10, 0)
    assert not day.is_open
    assert day.text == ("Support is closed (US holiday: Thanksgiving Day); "
                        "it reopens Friday 8:00 AM ET")
    evening_before = status_at(calendar, 2026, 11, 25, 21, 0)
    assert evening_before.text == ("Support is closed now; it reopens Friday 8:00 AM ET "
                                   "(Thursday is a US holiday: Thanksgiving Day)")
    assert status_at(calendar, 2026, 11, 27, 8, 0).is_open


def test_across_the_spring_daylight_saving_switch(calendar):
    # Clocks sprang forward on Sunday, Mar 8, 2026: 8:00 AM ET is 13:00 UTC before, 12:00 after.
    assert status_at(calendar, 2026, 3, 6, 13, 0, tz=UTC).is_open  # Fri 8:00 EST
    assert not status_at(calendar, 2026, 3, 6, 12, 59, tz=UTC).is_open
    weekend = status_at(calendar, 2026, 3, 8, 12, 0, tz=UTC)
    assert weekend.reopens_at.astimezone(UTC) == datetime(2026, 3, 9, 12, 0, tzinfo=UTC)
    assert weekend.text.endswith("it reopens Monday 8:00 AM ET")
    assert not status_at(calendar, 2026, 3, 9, 11, 59, tz=UTC).is_open  # Mon 7:59 EDT
    monday = status_at(calendar, 2026, 3, 9, 12, 0, tz=UTC)  # Mon 8:00 EDT
    assert monday.is_open and monday.closes_at.astimezone(UTC) == datetime(2026, 3, 10, 0, 0,
                                                                           tzinfo=UTC)


def test_across_the_autumn_daylight_saving_switch(calendar):
    # Clocks fell back on Sunday, Nov 1, 2026: 8:00 PM ET is 00:00 UTC before, 01:00 after.
    assert status_at(calendar, 2026, 10, 30, 23, 59, tz=UTC).is_open  # Fri 7:59 PM EDT
    friday = status_at(calendar, 2026, 10, 31, 0, 0, tz=UTC)  # Fri 8:00 PM EDT
    assert not friday.is_open
    assert friday.reopens_at.astimezone(UTC) == datetime(2026, 11, 2, 13, 0, tzinfo=UTC)
    assert not status_at(calendar, 2026, 11, 2, 12, 59, tz=UTC).is_open  # Mon 7:59 EST
    assert status_at(calendar, 2026, 11, 2, 13, 0, tz=UTC).is_open
    assert status_at(calendar, 2026, 11, 3, 0, 59, tz=UTC).is_open  # Mon 7:59 PM EST
    assert not status_at(calendar, 2026, 11, 3, 1, 0, tz=UTC).is_open


# -- pages ----------------------------------------------------------------------------------

def test_contact_page_shows_channels_hours_and_severity_targets(make_app):
    app = make_app(CLOCK=lambda: datetime(2026, 12, 4, 19, 59, tzinfo=ET))
    page = app.test_client().get("/contact").get_data(as_text=True)
    assert "Support is open now, until 8:00 PM ET" in page
    assert 'href="mailto:support@bitumio.com"' in page
    assert 'href="tel:+18015131113"' in page and "(801) 513-1113" in page
    assert 'href="https://support.bitumio.com/support/home"' in page
    assert "8:00 AM–8:00 PM ET, Monday–Friday, excluding US federal holidays" in page
    assert "Within 2 hours" in page and "counted 8:00 AM–8:00 PM ET, every day" in page
    assert "A progress update every hour until it is resolved or worked around." in page
    assert page.count("Within 1 business day (12 business hours)") == 2
    assert "within 3 business days of the first response" in page
    assert "Critical: the service is down" in page
    assert '/articles/technical-support-policy"' in page


def test_contact_page_follows_the_settings(make_app):
    app = make_app(CLOCK=lambda: datetime(2026, 11, 26, 10, 0, tzinfo=ET),
                   SUPPORT_PHONE="+1 555 010 0199", SUPPORT_EMAIL="help@example.org",
                   SEVERITY1_FIRST_RESPONSE="4h", SEVERITY3_SUBSTANTIVE="5d",
                   BUSINESS_HOURS="09:00-17:00")
    page = app.test_client().get("/contact").get_data(as_text=True)
    assert "Support is closed (US holiday: Thanksgiving Day); it reopens Friday 9:00 AM ET" in page
    assert 'href="mailto:help@example.org"' in page and "+1 555 010 0199" in page
    assert "Within 4 hours" in page and "Within 2 hours" not in page
    assert "within 5 business days of the first response" in page
    assert "9:00 AM–5:00 PM ET" in page


def test_ticket_form_comes_after_a_search(make_app):
    app = make_app()
    client = app.test_client()
    page = client.get("/contact").get_data(as_text=True)
    assert "the ticket form opens once you have searched" in page
    assert 'action="/search"' in page
    client.get("/search?q=export")
    assert 'href="/tickets/new"' in client.get("/contact").get_data(as_text=True)


def test_ticket_form_header_shows_support_hours(make_app, make_user):
    app = make_app(CLOCK=lambda: datetime(2026, 11, 26, 10, 0, tzinfo=ET))
    make_user(email="cara@acme.example", org="Acme")
    client = app.test_client()
    client.post("/login", data={"email": "cara@acme.example", "password": "correct horse 1"})
    client.get("/search?q=export")
    page = client.get("/tickets/new").get_data(as_text=True)
    assert "Support is closed (US holiday: Thanksgiving Day); it reopens Friday 8:00 AM ET" in page
    assert "Support is closed" not in client.get("/").get_data(as_text=True)


def test_support_status_is_a_template_global(make_app):
    app = make_app(CLOCK=lambda: datetime(2026, 12, 4, 20, 0, tzinfo=ET))
    with app.test_request_context("/"):
        rendered = app.jinja_env.from_string("{{ support_status().text }}").render()
    assert rendered == "Support is closed now; it reopens Monday 8:00 AM ET"
