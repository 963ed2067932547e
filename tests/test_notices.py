"""Maintenance and incident notices: the off-hours rule, banners that appear and expire on
time, dismissal, the status page, and admin access."""

from __future__ import annotations

import html
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from portal.config import load_settings
from portal.extensions import db
from portal.models import Notice, NoticeKind
from portal.notices import rules
from portal.web import format_datetime

ET = ZoneInfo("America/New_York")


class Clock:
    """A clock the test moves by hand; the app reads it through the CLOCK setting."""

    def __init__(self, at: datetime):
        self.at = at

    def __call__(self) -> datetime:
        return self.at

    def set(self, *args) -> None:
        self.at = datetime(*args, tzinfo=ET)


@pytest.fixture
def clock() -> Clock:
    return Clock(datetime(2026, 12, 1, 12, 0, tzinfo=ET))  # Tuesday, Dec 1, 2026, noon ET


@pytest.fixture
def app(make_app, clock):
    return make_app(CLOCK=clock)


@pytest.fixture
def admin(app, client, make_user, login):
    user = make_user(email="admin@bitumio.com", role="admin", name="Ada Admin")
    login(user.email)
    return user


def schedule(client, start: str, end: str, title: str = "Database upgrade"):
    return client.post("/admin/notices/new/maintenance", data={
        "title": title, "description": "Sign-in and reports are unavailable.",
        "starts_at": start, "ends_at": end})


def add_notice(app, kind: NoticeKind, starts: datetime, ends: datetime | None,
               title: str) -> int:
    with app.app_context():
        notice = Notice(kind=kind, title=title, description="", starts_at=starts, ends_at=ends,
                        revision=1, created_at=starts - timedelta(days=5),
                        updated_at=starts - timedelta(days=5))
        db.session.add(notice)
        db.session.commit()
        return notice.id


def banner_of(client, path: str = "/") -> str:
    page = client.get(path).get_data(as_text=True)
    start = page.find('<section class="service-banners"')
    return page[start:page.find("</section>", start)] if start >= 0 else ""


# -- the off-hours rule ---------------------------------------------------------------------

def test_a_monday_morning_window_is_refused_with_the_reason(client, admin):
    response = schedule(client, "2026-12-07T10:00", "2026-12-07T11:00")
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "only run in off-hours" in page
    assert "weekends (any time), or weekdays from midnight to 8:00 AM ET" in page
    assert "Monday, Dec 7, 2026 at 10:00 AM ET" in page
    assert "unscheduled" in page  # points to the emergency route
    assert 'value="Database upgrade"' in page  # what the admin typed is kept
    assert 'value="2026-12-07T10:00"' in page
    with client.application.app_context():
        assert db.session.query(Notice).count() == 0


@pytest.mark.parametrize("start, end", [
    ("2026-12-05T02:00", "2026-12-05T06:00"),  # Saturday 02:00
    ("2026-12-08T01:00", "2026-12-08T06:00"),  # Tuesday 01:00-06:00
    ("2026-12-06T22:00", "2026-12-07T08:00"),  # Sunday night into Monday's early hours
    ("2026-12-04T00:00", "2026-12-04T08:00"),  # a full weekday night window
    ("2026-12-04T22:00", "2026-12-05T04:00"),  # Friday night into Saturday (off-hours too)
])
def test_off_hours_windows_are_accepted(client, admin, start, end):
    response = schedule(client, start, end)
    assert response.status_code == 303, response.get_data(as_text=True)
    with client.application.app_context():
        notice = db.session.query(Notice).one()
        assert notice.starts_at.astimezone(ET).strftime("%Y-%m-%dT%H:%M") == start
        assert notice.ends_at.astimezone(ET).strftime("%Y-%m-%dT%H:%M") == end


@pytest.mark.parametrize("start, end, conflict", [
    ("2026-12-07T07:00", "2026-12-07T09:00", "Monday, Dec 7, 2026 at 8:00 AM ET"),
    ("2026-12-04T19:00", "2026-12-04T21:00", "Friday, Dec 4, 2026 at 7:00 PM ET"),
    ("2026-12-04T22:00", "2026-12-07T08:30", "Monday, Dec 7, 2026 at 8:00 AM ET"),
    ("2026-12-08T08:00", "2026-12-08T08:30", "Tuesday, Dec 8, 2026 at 8:00 AM ET"),
])
def test_windows_reaching_into_working_hours_are_refused(client, admin, start, end, conflict):
    page = schedule(client, start, end).get_data(as_text=True)
    assert conflict in page


def test_off_hours_follow_eastern_time_across_daylight_saving(client, admin, clock):
    clock.set(2026, 3, 1, 12, 0)
    # Monday after clocks sprang forward (Mar 8, 2026): 00:00-08:00 EDT is fine, 08:00 is not.
    assert schedule(client, "2026-03-09T00:00", "2026-03-09T08:00").status_code == 303
    assert schedule(client, "2026-03-09T07:30", "2026-03-09T08:01").status_code == 422
    clock.set(2026, 10, 25, 12, 0)
    # Monday after clocks fell back (Nov 1, 2026).
    assert schedule(client, "2026-11-02T00:00", "2026-11-02T08:00").status_code == 303
    # 2:30 AM did not exist on Mar 8, 2026: say so instead of guessing.
    clock.set(2026, 3, 1, 12, 0)
    page = schedule(client, "2026-03-08T02:30", "2026-03-08T04:00").get_data(as_text=True)
    assert "2:30 AM does not exist on Sunday, Mar 8" in page


def test_bad_windows_are_explained(client, admin):
    assert "must end after it starts" in schedule(
        client, "2026-12-05T04:00", "2026-12-05T02:00").get_data(as_text=True)
    assert "already over" in schedule(
        client, "2026-11-28T02:00", "2026-11-28T04:00").get_data(as_text=True)
    response = schedule(client, "not a date", "2026-12-05T02:00")
    assert response.status_code == 422
    assert "Enter the date and time" in response.get_data(as_text=True)


def test_emergencies_are_posted_as_incidents_at_any_hour(client, admin, clock):
    clock.set(2026, 12, 7, 10, 15)  # Monday morning, mid business hours
    response = client.post("/admin/notices/new/incident", data={
        "title": "Reports fail to load", "description": "We are investigating.",
        "starts_at": "2026-12-07T10:05"})
    assert response.status_code == 303
    assert "Service incident:" in banner_of(client)


# -- any time outside business hours, the policy's examples suggested (issue 11, item 22) ----

SUGGESTED = "weekends (any time), or weekdays from midnight to 8:00 AM ET"
BUSINESS_HOURS = "8:00 AM–8:00 PM ET, Monday–Friday, excluding US federal holidays"
PICK = "Pick another time, or, for an emergency, post an unscheduled notice instead."


def flashes(client) -> str:
    """The admin list, where the messages of the last action are shown."""
    return html.unescape(client.get("/admin/notices").get_data(as_text=True))


def refusal(response) -> str:
    assert response.status_code == 422
    return html.unescape(response.get_data(as_text=True))


def test_a_weekday_evening_window_is_allowed_with_a_note(client, admin):
    response = schedule(client, "2026-12-08T21:00", "2026-12-08T23:00")  # Tuesday 21:00-23:00
    assert response.status_code == 303
    page = flashes(client)
    assert "Scheduled maintenance “Database upgrade” published: Tuesday, Dec 8, 2026, " \
           "9:00 PM–11:00 PM ET." in page
    assert ("Note: this window is outside business hours, so it is allowed, but it is not in "
            f"the suggested windows: {SUGGESTED}.") in page


def test_a_federal_holiday_window_is_allowed_with_a_note_naming_the_holiday(client, admin,
                                                                          clock):
    clock.set(2026, 11, 20, 12, 0)
    response = schedule(client, "2026-11-26T10:00", "2026-11-26T14:00")  # Thanksgiving
    assert response.status_code == 303
    assert ("Note: this window is outside business hours (Thursday, Nov 26 is Thanksgiving "
            "Day), so it is allowed, but it is not in the suggested windows: "
            f"{SUGGESTED}.") in flashes(client)


def test_a_window_in_a_suggested_window_gets_no_note(client, admin):
    assert schedule(client, "2026-12-05T02:00", "2026-12-05T06:00").status_code == 303
    assert "Note:" not in flashes(client)


def test_a_business_hours_window_is_refused_naming_business_hours(client, admin):
    page = refusal(schedule(client, "2026-12-08T14:00", "2026-12-08T15:00"))
    assert ("This window starts on Tuesday, Dec 8, 2026 at 2:00 PM ET, which is within "
            f"business hours ({BUSINESS_HOURS}). Scheduled maintenance may only run in "
            "off-hours: any time outside business hours; the suggested windows are "
            f"{SUGGESTED}. {PICK}") in page
    page = refusal(schedule(client, "2026-12-08T21:00", "2026-12-09T08:30"))
    assert ("This window would still be running on Wednesday, Dec 9, 2026 at 8:00 AM ET, which "
            f"is within business hours ({BUSINESS_HOURS}).") in page
    assert "during business hours" not in page


def test_the_maintenance_rule_is_shown_to_admins_and_readers(client, admin):
    page = html.unescape(client.get("/admin/notices/new/maintenance").get_data(as_text=True))
    assert ("Scheduled maintenance may run any time outside business hours "
            f"({BUSINESS_HOURS}); a window that touches business hours is refused. Suggested "
            f"windows: {SUGGESTED}.") in page
    status = html.unescape(client.get("/status").get_data(as_text=True))
    assert (f"any time outside business hours ({BUSINESS_HOURS}); preferably "
            f"{SUGGESTED}.") in status


@pytest.fixture
def suggested_only(make_app, clock, make_user):
    """An admin's client on a site that allows maintenance only in the suggested windows."""
    app = make_app(CLOCK=clock, MAINTENANCE_POLICY="suggested")
    make_user(email="admin@bitumio.com", role="admin", name="Ada Admin")
    client = app.test_client()
    client.post("/login", data={"email": "admin@bitumio.com", "password": "correct horse 1"})
    return client


def test_the_suggested_policy_keeps_to_the_policy_examples_and_says_why(suggested_only, clock):
    client = suggested_only
    page = refusal(schedule(client, "2026-12-08T21:00", "2026-12-08T23:00"))
    assert ("This window starts on Tuesday, Dec 8, 2026 at 9:00 PM ET. That is outside "
            "business hours, but this site allows scheduled maintenance only in these windows: "
            f"{SUGGESTED}. {PICK}") in page
    page = refusal(schedule(client, "2026-12-08T14:00", "2026-12-08T15:00"))
    assert ("This window starts on Tuesday, Dec 8, 2026 at 2:00 PM ET, which is within "
            f"business hours ({BUSINESS_HOURS}). Scheduled maintenance may only run in "
            f"off-hours: {SUGGESTED}. {PICK}") in page
    assert schedule(client, "2026-12-08T01:00", "2026-12-08T06:00").status_code == 303
    form = html.unescape(client.get("/admin/notices/new/maintenance").get_data(as_text=True))
    assert (f"Scheduled maintenance may only run in off-hours: {SUGGESTED}. A window outside "
            "these hours is refused.") in form
    clock.set(2026, 11, 20, 12, 0)
    page = refusal(schedule(client, "2026-11-26T10:00", "2026-11-26T14:00"))
    assert ("This window starts on Thursday, Nov 26, 2026 at 10:00 AM ET. That is outside "
            "business hours (Thursday, Nov 26 is Thanksgiving Day), but this site allows "
            f"scheduled maintenance only in these windows: {SUGGESTED}. {PICK}") in page


def test_an_unknown_maintenance_policy_is_refused(make_app):
    # load_settings refuses it too (tests/test_settings_validation.py); here, the rule's own
    # check of a value that got past it.
    settings = load_settings("/nonexistent-instance", {"SECRET_KEY": "x"}) | {
        "MAINTENANCE_POLICY": "whenever"}
    with pytest.raises(ValueError, match="PORTAL_MAINTENANCE_POLICY must be 'off-hours' or "
                                         "'suggested', not 'whenever'"):
        rules.MaintenancePolicy.from_settings(settings)
    with pytest.raises(ValueError, match="PORTAL_MAINTENANCE_POLICY"):
        make_app(MAINTENANCE_POLICY="weekends")  # at start, not on the admin's form


def test_windows_in_the_repeated_hour_say_daylight_or_standard_time():
    # Nov 1, 2026: 1:00-2:00 AM happens twice, first in EDT, then in EST.
    first, second = (datetime(2026, 11, 1, 5, 30, tzinfo=UTC),
                     datetime(2026, 11, 1, 6, 30, tzinfo=UTC))
    assert rules.format_range(first, second, ET, "ET") == (
        "Sunday, Nov 1, 2026, 1:30 AM EDT–1:30 AM EST")
    assert rules.format_range(datetime(2026, 11, 1, 4, 0, tzinfo=UTC), second, ET, "ET") == (
        "Sunday, Nov 1, 2026, 12:00 AM ET–1:30 AM EST")
    assert rules.format_range(datetime(2026, 11, 1, 2, 0, tzinfo=ET),
                              datetime(2026, 11, 1, 6, 0, tzinfo=ET), ET, "ET") == (
        "Sunday, Nov 1, 2026, 2:00 AM–6:00 AM ET")
    assert rules.format_range(first, None, ET, "ET") == "since Sunday, Nov 1, 2026 at 1:30 AM EDT"
    # Times on pages (notice updates, ticket messages) follow the same rule.
    assert format_datetime(first) == "Sun, Nov 1, 2026 at 1:30 AM EDT"
    assert format_datetime(second) == "Sun, Nov 1, 2026 at 1:30 AM EST"
    assert format_datetime(datetime(2026, 11, 1, 7, 30, tzinfo=UTC)) == (
        "Sun, Nov 1, 2026 at 2:30 AM ET")


# -- banners appear and expire on time ------------------------------------------------------

def test_maintenance_banner_shows_72_hours_ahead_and_ends_with_the_window(app, client, clock):
    add_notice(app, NoticeKind.MAINTENANCE, datetime(2026, 12, 5, 2, 0, tzinfo=ET),
               datetime(2026, 12, 5, 6, 0, tzinfo=ET), "Database upgrade")
    clock.set(2026, 12, 2, 1, 59)  # 72 hours and one minute before
    assert banner_of(client) == ""
    clock.set(2026, 12, 2, 2, 0)  # exactly 72 hours before
    banner = banner_of(client)
    assert "Scheduled maintenance:" in banner and "Database upgrade" in banner
    assert "Saturday, Dec 5, 2026, 2:00 AM–6:00 AM ET" in banner
    clock.set(2026, 12, 5, 2, 0)
    assert "Maintenance in progress:" in banner_of(client)
    clock.set(2026, 12, 5, 5, 59)
    assert "Maintenance in progress:" in banner_of(client)
    clock.set(2026, 12, 5, 6, 0)
    assert banner_of(client) == ""


def test_incident_banner_until_resolved(app, client, admin, clock):
    clock.set(2026, 12, 7, 10, 0)
    notice_id = add_notice(app, NoticeKind.INCIDENT, datetime(2026, 12, 7, 9, 50, tzinfo=ET),
                           None, "Sign-in errors")
    assert "Sign-in errors" in banner_of(client, "/articles/reset-your-password")
    client.post(f"/admin/notices/{notice_id}/updates", data={"body": "Fix is rolling out."})
    assert "Latest update: Fix is rolling out." in banner_of(client)
    clock.set(2026, 12, 7, 10, 40)
    client.post(f"/admin/notices/{notice_id}/resolve", data={"body": "All clear."})
    assert banner_of(client) == ""
    with app.app_context():
        assert db.session.get(Notice, notice_id).ends_at == datetime(2026, 12, 7, 15, 40,
                                                                       tzinfo=UTC)


def test_banner_is_on_search_results_and_says_known_issue(app, client, clock):
    clock.set(2026, 12, 7, 10, 0)
    add_notice(app, NoticeKind.INCIDENT, datetime(2026, 12, 7, 9, 0, tzinfo=ET), None,
               "Load tickets delayed")
    banner = banner_of(client, "/search?q=load+tickets")
    assert "Known issue:" in banner and "Load tickets delayed" in banner
    assert "Service incident:" in banner_of(client, "/")


def test_banner_on_the_ticket_form_tells_customers_it_is_known(app, client, clock, make_user,
                                                              login):
    clock.set(2026, 12, 7, 10, 0)
    add_notice(app, NoticeKind.INCIDENT, datetime(2026, 12, 7, 9, 0, tzinfo=ET), None,
               "Load tickets delayed")
    make_user(email="cara@acme.example", org="Acme")
    login("cara@acme.example")
    client.get("/search?q=load+tickets")
    banner = banner_of(client, "/tickets/new")
    assert "Known issue:" in banner
    assert "you do not need to file a ticket about it" in banner


def test_dismissing_hides_one_notice_for_this_reader_until_it_changes(app, client, clock):
    clock.set(2026, 12, 3, 12, 0)
    upcoming = add_notice(app, NoticeKind.MAINTENANCE, datetime(2026, 12, 5, 2, tzinfo=ET),
                          datetime(2026, 12, 5, 6, tzinfo=ET), "Database upgrade")
    add_notice(app, NoticeKind.INCIDENT, datetime(2026, 12, 3, 11, tzinfo=ET), None,
               "Slow reports")
    response = client.post(f"/notices/{upcoming}/dismiss", data={"next": "/search?q=x"})
    assert response.status_code == 303 and response.location.endswith("/search?q=x")
    banner = banner_of(client)
    assert "Database upgrade" not in banner and "Slow reports" in banner
    assert "Database upgrade" in banner_of(app.test_client())  # other readers still see it
    clock.set(2026, 12, 5, 2, 0)  # it starts: the reader is told again
    assert "Maintenance in progress:" in banner_of(client)


def test_dismiss_refuses_other_sites_as_next(app, client):
    notice = add_notice(app, NoticeKind.INCIDENT, datetime(2026, 12, 1, 11, tzinfo=ET), None,
                        "X")
    response = client.post(f"/notices/{notice}/dismiss", data={"next": "https://evil.example/"})
    assert response.status_code == 303 and response.location == "/"


def test_dismiss_needs_a_csrf_token(make_app, clock):
    app = make_app(CLOCK=clock, WTF_CSRF_ENABLED=True)
    notice = add_notice(app, NoticeKind.INCIDENT, datetime(2026, 12, 1, 11, tzinfo=ET), None,
                        "Outage")
    client = app.test_client()
    client.post(f"/notices/{notice}/dismiss", data={"next": "/"})
    assert "Outage" in banner_of(client)


# -- the status page ------------------------------------------------------------------------

def test_status_page_shows_current_upcoming_and_history(app, client, clock):
    clock.set(2026, 12, 7, 10, 0)
    add_notice(app, NoticeKind.INCIDENT, datetime(2026, 12, 7, 9, tzinfo=ET),
               datetime(2026, 12, 7, 11, tzinfo=ET), "Sign-in errors")
    add_notice(app, NoticeKind.MAINTENANCE, datetime(2026, 12, 12, 2, tzinfo=ET),
               datetime(2026, 12, 12, 4, tzinfo=ET), "Storage upgrade")
    add_notice(app, NoticeKind.MAINTENANCE, datetime(2026, 11, 28, 2, tzinfo=ET),
               datetime(2026, 11, 28, 3, tzinfo=ET), "Search index rebuild")
    page = client.get("/status").get_data(as_text=True)
    assert "We are working on a problem with the service." in page
    now, upcoming, past = (page.index("Happening now"), page.index("Upcoming maintenance"),
                           page.index("Past notices"))
    assert now < page.index("Sign-in errors", now) < upcoming  # (the banner names it too)
    assert upcoming < page.index("Storage upgrade", upcoming) < past
    assert past < page.index("Search index rebuild")
    assert "Support is open now, until 8:00 PM ET" in page
    data = client.get("/status.json").get_json()
    assert data["state"] == "incident"
    assert [n["title"] for n in data["upcoming"]] == ["Storage upgrade"]
    clock.set(2026, 12, 26, 12, 0)
    page = client.get("/status").get_data(as_text=True)
    assert "All systems are working normally." in page
    assert "Happening now" not in page and "No maintenance is scheduled." in page


def test_notice_admin_pages_are_for_admins_only(app, client, make_user, login):
    assert client.get("/admin/notices").status_code == 302  # to sign in
    make_user(email="agent@bitumio.com", role="agent")
    login("agent@bitumio.com")
    assert client.get("/admin/notices").status_code == 403
    assert schedule(client, "2026-12-05T02:00", "2026-12-05T06:00").status_code == 403


def test_admin_edits_and_deletes_a_notice(app, client, admin):
    schedule(client, "2026-12-05T02:00", "2026-12-05T04:00")
    with app.app_context():
        notice_id = db.session.query(Notice).one().id
    page = client.get(f"/admin/notices/{notice_id}/edit").get_data(as_text=True)
    assert 'value="2026-12-05T02:00"' in page  # shown in Eastern, as typed
    assert client.post(f"/admin/notices/{notice_id}/edit", data={
        "title": "Database upgrade", "starts_at": "2026-12-07T09:00",
        "ends_at": "2026-12-07T10:00"}).status_code == 422
    assert client.post(f"/admin/notices/{notice_id}/edit", data={
        "title": "Longer database upgrade", "starts_at": "2026-12-05T02:00",
        "ends_at": "2026-12-05T07:00"}).status_code == 303
    with app.app_context():
        notice = db.session.get(Notice, notice_id)
        assert (notice.title, notice.revision) == ("Longer database upgrade", 2)
    assert "Longer database upgrade" in client.get("/admin/notices").get_data(as_text=True)
    client.post(f"/admin/notices/{notice_id}/delete")
    with app.app_context():
        assert db.session.get(Notice, notice_id) is None


def test_a_notice_added_right_after_a_quiet_page_shows_on_the_next_page(app, client, clock):
    clock.set(2026, 12, 2, 10, 0)
    assert banner_of(client) == ""  # nothing announced: the worker remembers it briefly
    add_notice(app, NoticeKind.INCIDENT, datetime(2026, 12, 2, 9, 55, tzinfo=ET), None,
               "Sign-in is failing")
    assert "Sign-in is failing" in banner_of(client)


def test_remembering_a_quiet_banner_never_hides_maintenance_that_comes_due(app, client, clock):
    add_notice(app, NoticeKind.MAINTENANCE, datetime(2026, 12, 5, 2, 0, tzinfo=ET),
               datetime(2026, 12, 5, 6, 0, tzinfo=ET),
               "Database upgrade")
    clock.set(2026, 12, 2, 1, 59, 58)  # 72 h and 2 s before the window
    assert banner_of(client) == ""
    clock.set(2026, 12, 2, 2, 0)
    assert "Database upgrade" in banner_of(client)
