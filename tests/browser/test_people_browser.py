"""Running the help desk in Chromium: an admin attaches a self-registered customer, an
admin suspends an organisation, a reader resets a forgotten password from the mail, and
a cookie copied before signing out is worthless afterwards."""

from __future__ import annotations

import re

from sqlalchemy import select

from portal.accounts.service import create_user
from portal.extensions import db
from portal.models import Organisation, OutboxMessage, Ticket

PASSWORD = "correct horse 1"


def add_user(app, email: str, role: str = "customer", org: str | None = None,
             name: str = "") -> None:
    with app.app_context():
        create_user(email, name or email.split("@")[0].title(), PASSWORD, role, org)
        db.session.commit()


def sign_in(page, base: str, email: str, password: str = PASSWORD) -> None:
    page.goto(base + "/login")
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(lambda url: "/login" not in url)


def test_a_cookie_replayed_after_sign_out_is_treated_as_signed_out(serve, browser, page):
    server = serve()
    add_user(server.app, "casey@acme.test", org="Acme Paving", name="Casey Customer")
    sign_in(page, server.url, "casey@acme.test")
    page.goto(server.url + "/tickets/")
    assert page.get_by_role("heading", level=1).inner_text().strip() != "Sign in"
    copied = [c for c in page.context.cookies() if c["name"] == "session"]
    assert copied

    page.get_by_text("Casey Customer").click()  # the account menu
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_load_state()
    assert page.get_by_role("link", name="Sign in").count()

    other = browser.new_context()
    try:
        replay = other.new_page()
        other.add_cookies(copied)
        replay.goto(server.url + "/tickets/")
        assert "/login" in replay.url
        assert replay.get_by_role("heading", level=1).inner_text().strip() == "Sign in"
        replay.goto(server.url + "/")
        assert replay.get_by_role("link", name="Sign in").count()
        assert not replay.get_by_role("button", name="Sign out").count()
    finally:
        other.close()


def test_an_admin_suspends_an_organisation_and_its_members_cannot_file(serve, browser, page,
                                                                      screenshot):
    server = serve()
    add_user(server.app, "ada@bitumio.test", role="admin", name="Ada Admin")
    add_user(server.app, "casey@acme.test", org="Acme Paving", name="Casey Customer")

    sign_in(page, server.url, "ada@bitumio.test")
    page.goto(server.url + "/admin/organisations")
    page.get_by_role("link", name="Acme Paving").click()
    page.get_by_label("Reason").fill("The support plan renewal is overdue.")
    page.get_by_label("Whom to contact").fill("Jordan in Accounts, accounts@bitumio.test")
    page.get_by_role("button", name="Suspend support").click()
    page.wait_for_load_state()
    assert page.get_by_role("button", name="Resume support").is_visible()
    screenshot(page, "people-org-suspended-1280")

    member = browser.new_context(viewport={"width": 390, "height": 844})
    try:
        phone = member.new_page()
        sign_in(phone, server.url, "casey@acme.test")
        phone.goto(server.url + "/search?q=password")
        phone.goto(server.url + "/tickets/new")
        text = phone.locator("main").inner_text()
        assert "Support for Acme Paving is suspended" in text
        assert "The support plan renewal is overdue" in text
        assert "Jordan in Accounts, accounts@bitumio.test" in text
        assert phone.get_by_label("Subject").count() == 0  # no form to fill in
        screenshot(phone, "people-org-suspended-member-390")
    finally:
        member.close()


def _latest_link(app, recipient: str, path: str) -> str:
    """The link to `path` in the newest mail to `recipient` in the outbox."""
    with app.app_context():
        body = db.session.scalars(
            select(OutboxMessage.body).where(OutboxMessage.recipient == recipient)
            .order_by(OutboxMessage.id.desc())).first()
    assert body, f"no mail to {recipient}"
    found = re.search(r"https?://\S+" + re.escape(path) + r"\S+", body)
    assert found, body
    return found.group(0)


def test_an_admin_attaches_a_self_registered_customer_who_can_then_file(serve, browser, page,
                                                                       screenshot):
    server = serve()
    add_user(server.app, "ada@bitumio.test", role="admin", name="Ada Admin")
    with server.app.app_context():
        db.session.add(Organisation(name="Acme Paving"))
        db.session.commit()

    # Casey registers, confirms the address from the mail, and cannot file yet.
    page.goto(server.url + "/register")
    page.get_by_label("Your name").fill("Casey Newcomer")
    page.get_by_label("Email address").fill("casey@gmail.test")
    page.get_by_label("Password", exact=True).fill("a long new password")
    page.get_by_label("Repeat the password").fill("a long new password")
    page.get_by_role("button", name="Create account").click()
    page.get_by_role("heading", name="Check your email").wait_for()
    page.goto(_latest_link(server.app, "casey@gmail.test", "/verify/"))
    sign_in(page, server.url, "casey@gmail.test", "a long new password")
    page.goto(server.url + "/search?q=password")
    page.goto(server.url + "/tickets/new")
    assert "not linked to a customer organisation" in page.locator("main").inner_text()

    admin = browser.new_context(viewport={"width": 390, "height": 844})
    try:
        phone = admin.new_page()
        sign_in(phone, server.url, "ada@bitumio.test")
        phone.goto(server.url + "/admin/")
        phone.get_by_role("link", name=re.compile("customers in no organisation")).click()
        phone.get_by_role("link", name="Casey Newcomer").click()
        phone.get_by_label("Attach to an organisation").select_option(label="Acme Paving")
        phone.get_by_role("button", name="Attach", exact=True).click()
        phone.wait_for_load_state()
        assert "Acme Paving" in phone.locator("main").inner_text()
        screenshot(phone, "people-user-attached-390")
    finally:
        admin.close()

    page.goto(server.url + "/tickets/new")
    page.get_by_label("Subject").fill("Exports are slow")
    page.get_by_label("What happened?").fill("The March export takes ten minutes.")
    page.get_by_role("button", name="Submit ticket").click()
    page.wait_for_url(re.compile(r".*/tickets/\d+.*"))
    with server.app.app_context():
        ticket = db.session.scalars(select(Ticket)).one()
        assert ticket.organisation.name == "Acme Paving"


def test_a_reader_resets_a_forgotten_password_and_the_link_works_once(serve, browser, page,
                                                                      screenshot):
    server = serve()
    add_user(server.app, "casey@acme.test", org="Acme Paving", name="Casey Customer")
    page.goto(server.url + "/login")
    page.get_by_role("link", name="Forgot your password?").click()
    page.get_by_label("Email address").fill("casey@acme.test")
    page.get_by_role("button", name="Mail me a link").click()
    page.get_by_role("heading", name="Check your email").wait_for()

    link = _latest_link(server.app, "casey@acme.test", "/reset/")
    page.goto(link)
    page.get_by_label("New password").fill("a brand new password")
    page.get_by_label("Repeat the password").fill("a brand new password")
    screenshot(page, "people-reset-form-1280")
    page.get_by_role("button", name="Set the new password").click()
    page.wait_for_url(lambda url: "/reset/" not in url)
    assert page.locator("form[action='/logout']").count() == 1  # signed in (account menu)

    again = browser.new_context()
    try:
        second = again.new_page()
        second.goto(link)
        assert "already been used" in second.locator("main").inner_text()
        assert second.get_by_label("New password").count() == 0
        sign_in(second, server.url, "casey@acme.test", "a brand new password")
    finally:
        again.close()
