"""Tier 2 tickets in Debian's Chromium: search first, suggestions while typing, filing,
the confirmation with its due time, the viewer's own time zone, and the agent queue."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from portal.accounts.service import create_user
from portal.extensions import db
from portal.models import SuggestionClick, Ticket

PASSWORD = "correct horse 1"


def add_user(app, email: str, role: str = "customer", org: str | None = None,
             name: str = "") -> None:
    with app.app_context():
        create_user(email, name or email.split("@")[0].title(), PASSWORD, role, org)
        db.session.commit()


def sign_in(page, base: str, email: str) -> None:
    page.goto(base + "/login")
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(lambda url: "/login" not in url)  # agents land on the queue


@pytest.fixture
def pacific_page(browser):
    """A reader in California: times must show in Eastern and in their own zone."""
    context = browser.new_context(viewport={"width": 1280, "height": 900},
                                  timezone_id="America/Los_Angeles")
    yield context.new_page()
    context.close()


def search_then_open_the_form(page, base: str) -> None:
    page.get_by_role("searchbox", name="Search the help center").fill("password")
    page.keyboard.press("Enter")
    page.wait_for_url("**/search?q=*")
    page.goto(base + "/articles/reset-your-password")  # the reader opens an article
    page.get_by_role("link", name="Still need help? Submit a ticket").click()
    page.wait_for_url(base + "/tickets/new")


def test_search_still_need_help_suggestions_file_and_confirmation(serve, pacific_page,
                                                                  screenshot):
    page = pacific_page
    server = serve()
    add_user(server.app, "casey@acme.test", org="Acme Paving", name="Casey Customer")
    sign_in(page, server.url, "casey@acme.test")

    # Before any search, "Contact support" explains and lands on the search page.
    page.get_by_role("link", name="Contact support").click()
    page.wait_for_url("**/search")
    assert "Please search the help center first" in page.locator(".flashes").inner_text()

    search_then_open_the_form(page, server.url)
    page.get_by_label("Subject").press_sequentially("reset my password", delay=30)
    suggestions = page.locator("#ticket-suggestions li a")
    suggestions.first.wait_for(timeout=5000)  # needs GET /api/search (issue 3)
    assert suggestions.count() >= 1
    assert "password" in page.locator("#ticket-suggestions").inner_text().lower()
    page.get_by_label("What happened?").fill(
        "The reset email never arrives. I checked **spam** too.")
    page.get_by_label(re.compile("Severity 2")).check()
    screenshot(page, "tickets-1-form-with-suggestions")

    # Opening a suggestion (new tab) is recorded; the form stays as typed.
    with page.context.expect_page() as opened:
        suggestions.first.click()
    opened.value.wait_for_load_state()
    assert "/articles/" in opened.value.url
    opened.value.close()
    assert page.get_by_label("Subject").input_value() == "reset my password"

    page.get_by_role("button", name="Submit ticket").click()
    page.wait_for_url(re.compile(r".*/tickets/\d+$"))
    with server.app.app_context():
        ticket = db.session.scalar(select(Ticket))
        number = f"#{ticket.id}"
        assert db.session.scalar(select(SuggestionClick)).ticket_id == ticket.id
    confirmation = page.locator(".flash-success").inner_text()
    assert f"Ticket {number} filed. We will reply by" in confirmation
    assert re.search(r"\d{4} at \d{1,2}:\d\d [AP]M ET\.", confirmation)
    due = page.locator(".deadline-due")
    assert "First response due" in due.inner_text()
    assert re.search(r"\((.+) (PST|PDT) your time\)", due.inner_text())
    page.get_by_text("How we counted this").click()
    assert "Severity 2: first response within 1 business day" in page.locator(
        ".deadline-why").inner_text()
    screenshot(page, "tickets-2-ticket-page")


def test_the_form_works_when_suggestions_are_unavailable(serve, page):
    server = serve()
    add_user(server.app, "casey@acme.test", org="Acme Paving")
    page.route("**/api/search**", lambda route: route.abort())
    sign_in(page, server.url, "casey@acme.test")
    search_then_open_the_form(page, server.url)
    page.get_by_label("Subject").fill("Exports are slow")
    page.get_by_text("Suggestions are not available right now").wait_for()
    page.get_by_label("What happened?").fill("Takes ten minutes.")
    page.get_by_role("button", name="Submit ticket").click()
    page.wait_for_url(re.compile(r".*/tickets/\d+$"))
    assert "filed" in page.locator(".flash-success").inner_text()


def test_the_agent_queue_and_a_reply(serve, page, screenshot):
    server = serve()
    add_user(server.app, "casey@acme.test", org="Acme Paving", name="Casey Customer")
    add_user(server.app, "alex@bitumio.test", role="agent", name="Alex Agent")
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from portal.models import User
    from portal.tickets import service

    et = ZoneInfo("America/New_York")
    with server.app.app_context():
        casey = db.session.scalar(select(User).where(User.email == "casey@acme.test"))
        for when, severity, subject in [
            (datetime(2026, 11, 24, 9, 0, tzinfo=et), 1, "Nobody can sign in"),
            (datetime(2026, 11, 23, 15, 0, tzinfo=et), 2, "Export totals 10% high"),
            (None, 3, "How do I add a mix design?"),
            (None, 2, "Plant tickets load slowly"),
        ]:
            service.file_ticket(casey, service.NewTicket(subject, "Details.", severity,
                                                         f"k-{subject}"),
                                link=lambda t: "http://x", now=when)
        db.session.commit()
    sign_in(page, server.url, "alex@bitumio.test")
    page.get_by_role("link", name="Agent queue").click()
    page.wait_for_url("**/tickets/queue")
    rows = page.locator(".queue-table tbody tr")
    assert rows.count() == 4
    # Sev 1 filed Tue 9:00 is due 11:00; Sev 2 filed Mon 15:00 is due Tue 15:00; then today's.
    assert "Nobody can sign in" in rows.nth(0).inner_text()
    assert "Export totals" in rows.nth(1).inner_text()
    assert "Overdue" in rows.nth(0).inner_text() and "Overdue" in rows.nth(1).inner_text()
    assert "Overdue" not in rows.nth(2).inner_text()
    screenshot(page, "tickets-3-agent-queue")

    page.get_by_role("link", name="Nobody can sign in").click()
    page.get_by_role("button", name="Assign to me").click()
    page.get_by_label("Your reply").fill("We are on it; next update within the hour.")
    page.get_by_role("button", name="Send").click()
    page.wait_for_url(re.compile(r".*/tickets/\d+#conversation$"))
    assert "Progress update due" in page.locator(".deadline-due").inner_text()
    assert "missed" in page.locator(".deadline-results").inner_text()
    screenshot(page, "tickets-4-agent-ticket")


def test_a_suspended_organisation_sees_why_and_whom_to_contact(serve, page, screenshot):
    from portal.models import Organisation

    server = serve()
    add_user(server.app, "casey@acme.test", org="Acme Paving")
    with server.app.app_context():
        org = db.session.scalar(select(Organisation))
        org.support_suspended, org.suspension_reason = True, "Invoices overdue since October"
        db.session.commit()
    sign_in(page, server.url, "casey@acme.test")
    page.goto(server.url + "/search?q=password")
    page.get_by_role("link", name="Contact support").click()
    alert = page.get_by_role("alert")
    assert "Support for Acme Paving is suspended" in alert.inner_text()
    assert "support@bitumio.com" in alert.inner_text()
    assert page.get_by_label("Subject").count() == 0
    screenshot(page, "tickets-5-suspended")


def test_a_reply_with_a_file_over_the_limit_is_stopped_before_sending(serve, page, tmp_path):
    server = serve(ATTACHMENT_MAX_BYTES=1024)
    add_user(server.app, "casey@acme.test", org="Acme Paving", name="Casey Customer")
    from portal.models import User
    from portal.tickets import service

    with server.app.app_context():
        casey = db.session.scalar(select(User).where(User.email == "casey@acme.test"))
        ticket, _ = service.file_ticket(casey, service.NewTicket("Export", "Details.", 3, "k1"),
                                        link=lambda t: "http://x")
        db.session.commit()
        ticket_id = ticket.id
    big = tmp_path / "trace.log"
    big.write_bytes(b"x" * 4096)
    sign_in(page, server.url, "casey@acme.test")
    page.goto(f"{server.url}/tickets/{ticket_id}")
    page.get_by_label("Your reply").fill("Here is the trace you asked for.")
    page.locator("form[data-max-bytes] input[type=file]").set_input_files(str(big))
    error = page.locator("[data-attachments-error]")
    assert "“trace.log” is larger than" in error.inner_text()
    page.get_by_role("button", name="Send reply").click()
    assert page.url.endswith(f"/tickets/{ticket_id}")  # not sent: nothing to lose
    assert page.get_by_label("Your reply").input_value() == "Here is the trace you asked for."


def test_a_corrected_field_loses_its_error_and_a_refused_file_is_named_beside_its_field(
        serve, page, tmp_path, screenshot):
    server = serve()
    add_user(server.app, "casey@acme.test", org="Acme Paving")
    sign_in(page, server.url, "casey@acme.test")
    search_then_open_the_form(page, server.url)
    page.get_by_label("Phone number (optional)").fill("call me")
    page.get_by_role("button", name="Submit ticket").click()  # three fields refused
    page.wait_for_load_state()
    subject_error = page.locator("#subject-error")
    description_error = page.locator("#description-error")
    assert subject_error.inner_text() == "Give your ticket a short subject."
    assert description_error.is_visible()

    page.get_by_label("Subject").fill("Exports are slow")
    assert subject_error.count() == 0 or not subject_error.is_visible()
    assert page.get_by_label("Subject").get_attribute("aria-invalid") is None
    assert description_error.is_visible()  # not corrected yet: its error stays
    page.get_by_label("What happened?").fill("   ")  # blank is not a correction
    assert description_error.is_visible()
    page.get_by_label("What happened?").fill("Takes ten minutes.")
    assert description_error.count() == 0 or not description_error.is_visible()
    phone_error = page.locator("#phone-error")
    page.get_by_label("Phone number (optional)").fill("call me later")  # still not a number
    assert phone_error.is_visible()
    page.get_by_label("Phone number (optional)").fill("+1 (801) 555-0100")
    assert phone_error.count() == 0 or not phone_error.is_visible()

    program = tmp_path / "setup.exe"
    program.write_bytes(b"MZ\x90\x00 not a screenshot")
    page.get_by_label("Attachments (optional)").set_input_files(str(program))
    page.get_by_role("button", name="Submit ticket").click()
    page.wait_for_load_state()
    error = page.locator("#attachments-error")
    assert "“setup.exe” is not a file type we accept" in error.inner_text()
    assert page.locator(".flashes").count() == 0
    assert page.get_by_label("Subject").input_value() == "Exports are slow"
    screenshot(page, "tickets-6-refused-attachment")
    log = tmp_path / "trace.log"
    log.write_text("line 1\n")
    page.get_by_label("Attachments (optional)").set_input_files(str(log))
    assert not error.is_visible()
    page.get_by_role("button", name="Submit ticket").click()
    page.wait_for_url(re.compile(r".*/tickets/\d+$"))
