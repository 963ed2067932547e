"""Notices, status and contact pages in a real browser, with screenshots to look at."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from portal.extensions import db
from portal.models import Notice, NoticeKind, NoticeUpdate, TrainingSession

ET = ZoneInfo("America/New_York")
NOW = datetime(2026, 12, 3, 10, 30, tzinfo=ET)  # a Thursday morning, support open


@pytest.fixture
def app(make_app):
    app = make_app(CLOCK=lambda: NOW)
    with app.app_context():
        incident = Notice(kind=NoticeKind.INCIDENT, title="Load tickets arrive late",
                          description="Tickets from some asphalt plants reach Bitumio up to "
                                      "20 minutes late. Nothing is lost.",
                          starts_at=datetime(2026, 12, 3, 9, 40, tzinfo=ET), ends_at=None,
                          revision=2, created_at=datetime(2026, 12, 3, 9, 45, tzinfo=ET),
                          updated_at=datetime(2026, 12, 3, 10, 10, tzinfo=ET))
        incident.updates.append(NoticeUpdate(
            body="We found the cause in the plant connector and are deploying a fix.",
            created_at=datetime(2026, 12, 3, 10, 10, tzinfo=ET)))
        maintenance = Notice(kind=NoticeKind.MAINTENANCE, title="Database upgrade",
                             description="Sign-in, reports and the API are unavailable. The "
                                         "Field app keeps working offline.",
                             starts_at=datetime(2026, 12, 5, 2, 0, tzinfo=ET),
                             ends_at=datetime(2026, 12, 5, 5, 0, tzinfo=ET), revision=1,
                             created_at=datetime(2026, 11, 30, 9, tzinfo=ET),
                             updated_at=datetime(2026, 11, 30, 9, tzinfo=ET))
        past = Notice(kind=NoticeKind.MAINTENANCE, title="Search index rebuild",
                      description="", starts_at=datetime(2026, 11, 28, 1, 0, tzinfo=ET),
                      ends_at=datetime(2026, 11, 28, 2, 0, tzinfo=ET), revision=1,
                      created_at=datetime(2026, 11, 25, 9, tzinfo=ET),
                      updated_at=datetime(2026, 11, 25, 9, tzinfo=ET))
        db.session.add_all([incident, maintenance, past])
        db.session.add(TrainingSession(
            title="Bitumio basics", description="A tour for new users.",
            starts_at=datetime(2026, 12, 10, 14, tzinfo=ET), duration_minutes=60,
            capacity=12, seats_taken=0, joining_details="https://meet.example/basics",
            revision=0))
        db.session.commit()
    return app


@pytest.fixture
def pacific_page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900},
                                  timezone_id="America/Los_Angeles")
    yield context.new_page()
    context.close()


def test_banner_shows_on_every_page_in_both_time_zones_and_can_be_dismissed(
        serve, app, pacific_page, screenshot):
    server = serve(app)
    page = pacific_page
    page.goto(server.url + "/")
    banners = page.locator(".service-banner")
    assert banners.count() == 2
    incident, maintenance = banners.nth(0), banners.nth(1)
    assert "Service incident: Load tickets arrive late" in incident.inner_text()
    assert "Scheduled maintenance: Database upgrade" in maintenance.inner_text()
    assert "Saturday, Dec 5, 2026, 2:00 AM–5:00 AM ET" in maintenance.inner_text()
    local = maintenance.locator(".js-local-time")
    local.wait_for(state="visible")
    assert "Your time: Fri, Dec 4, 11:00 PM" in local.inner_text()
    assert "PST" in local.inner_text()
    screenshot(page, "notices-banner", full_page=False)

    page.goto(server.url + "/search?q=load+tickets")
    first_banner = page.locator(".service-banner").first.inner_text()
    assert "Known issue: Load tickets arrive late" in first_banner

    page.get_by_role("button", name="Dismiss notice: Database upgrade").click()
    page.wait_for_load_state()
    assert "/search?q=load+tickets" in page.url
    assert page.locator(".service-banner").count() == 1
    page.goto(server.url + "/articles/reset-your-password")
    assert page.locator(".service-banner").count() == 1


def test_banner_works_without_javascript(serve, app, page_without_js):
    server = serve(app)
    page = page_without_js
    page.goto(server.url + "/")
    assert page.locator(".service-banner").count() == 2
    page.get_by_role("button", name="Dismiss notice: Load tickets arrive late").click()
    page.wait_for_load_state()
    assert page.locator(".service-banner").count() == 1


def test_status_page(serve, app, pacific_page, screenshot):
    server = serve(app)
    page = pacific_page
    page.goto(server.url + "/status")
    assert "We are working on a problem" in page.locator(".status-headline").inner_text()
    assert page.get_by_role("heading", name="Happening now").is_visible()
    assert "Search index rebuild" in page.locator("#history-title + article").inner_text()
    assert "Support is open now, until 8:00 PM ET" in page.locator(".support-status").inner_text()
    screenshot(page, "notices-status")


def test_contact_page(serve, app, page, screenshot):
    server = serve(app)
    page.goto(server.url + "/contact")
    assert page.get_by_role("heading", level=1).inner_text() == "Contact support"
    assert page.locator(".support-status").inner_text().startswith("Support is open now")
    assert page.locator(".severity-table tbody tr").count() == 3
    assert "Within 2 hours" in page.locator("#severity-1").inner_text()
    screenshot(page, "contact")


def test_admin_sees_the_refusal_for_a_business_hours_window(serve, app, make_user, page,
                                                          screenshot):
    make_user(email="admin@bitumio.com", role="admin", name="Ada Admin")
    server = serve(app)
    page.goto(server.url + "/login")
    page.get_by_label("Email").fill("admin@bitumio.com")
    page.get_by_label("Password").fill("correct horse 1")
    page.get_by_role("button", name="Sign in").click()
    page.goto(server.url + "/admin/notices/new/maintenance")
    page.get_by_label("Title").fill("Storage upgrade")
    page.get_by_label("Starts").fill("2026-12-07T10:00")
    page.get_by_label("Ends").fill("2026-12-07T11:00")
    page.get_by_role("button", name="Schedule maintenance").click()
    assert page.locator(".flash-error").inner_text().startswith(
        "This window starts on Monday, Dec 7, 2026 at 10:00 AM ET, which is within business "
        "hours (8:00 AM–8:00 PM ET, Monday–Friday, excluding US federal holidays). Scheduled "
        "maintenance may only run in off-hours:")
    screenshot(page, "notices-admin-refused")
    page.goto(server.url + "/admin/notices")
    screenshot(page, "notices-admin-list")


def test_training_list(serve, app, page, screenshot):
    server = serve(app)
    page.goto(server.url + "/training/")
    assert "12 seats left of 12" in page.locator(".training-item").inner_text()
    screenshot(page, "training-list", full_page=False)


def sign_in(page, server, email: str) -> None:
    page.goto(server.url + "/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill("correct horse 1")
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state()


def test_enrolling_in_a_session(serve, app, make_user, page, screenshot):
    make_user(email="cara@acme.example", name="Cara Foreman", org="Acme")
    server = serve(app)
    sign_in(page, server, "cara@acme.example")
    page.goto(server.url + "/training/")
    page.get_by_role("button", name="Enroll").click()
    page.wait_for_load_state()
    assert "You are enrolled" in page.locator(".flash-success").inner_text()
    assert "https://meet.example/basics" in page.locator(".joining").inner_text()
    assert page.get_by_role("link", name="Add to my calendar (.ics)").is_visible()
    screenshot(page, "training-enrolled")


def test_ticket_form_shows_support_hours_and_the_known_issue(serve, app, make_user, page,
                                                            screenshot):
    make_user(email="cara@acme.example", name="Cara Foreman", org="Acme")
    server = serve(app)
    sign_in(page, server, "cara@acme.example")
    page.goto(server.url + "/search?q=load+tickets")
    page.goto(server.url + "/tickets/new")
    first_banner = page.locator(".service-banner").first.inner_text()
    assert "Known issue: Load tickets arrive late" in first_banner
    assert page.locator(".support-status").inner_text() == "Support is open now, until 8:00 PM ET"
    screenshot(page, "tickets-new-with-notice", full_page=False)


def test_agent_reviews_held_mail(serve, app, make_user, page, screenshot):
    from portal.mailin import service as mailin

    make_user(email="sam@bitumio.com", name="Sam Agent", role="agent")
    with app.app_context():
        raw = (b"From: Bob Stranger <bob@unknown.example>\r\nTo: support@bitumio.com\r\n"
               b"Subject: Can Bitumio read our scale tickets?\r\nMessage-ID: <b1@unknown>\r\n"
               b"\r\nWe run two asphalt plants and would like to connect them.\r\n")
        mailin.ingest(raw, NOW)
        db.session.commit()
    server = serve(app)
    sign_in(page, server, "sam@bitumio.com")
    page.goto(server.url + "/mail/review/")
    assert "bob@unknown.example" in page.locator("table").first.inner_text()
    screenshot(page, "mail-review", full_page=False)
