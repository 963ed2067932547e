"""Signing in from where the reader was: why the ticket form asks for an account (and the
other ways to reach support), and where each kind of user lands afterwards."""

from __future__ import annotations

from html import unescape

import pytest

PASSWORD = "correct horse 1"


def sign_in(client, email: str, next_target: str | None = None):
    data = {"email": email, "password": PASSWORD}
    if next_target is not None:
        data["next"] = next_target
    return client.post("/login", data=data)


# -- "Contact support" while signed out -----------------------------------------------------

def test_the_ticket_form_says_why_it_needs_an_account_and_offers_email_and_phone(make_app):
    app = make_app(SUPPORT_EMAIL="help@paving.test", SUPPORT_PHONE="(555) 010-2030")
    client = app.test_client()
    client.get("/search", query_string={"q": "export totals"})
    response = client.get("/tickets/new")
    assert response.status_code == 302
    page = unescape(client.get(response.headers["Location"]).get_data(as_text=True))
    assert "belongs to a customer organisation" in page
    assert 'href="mailto:help@paving.test"' in page
    assert "(555) 010-2030" in page and 'href="tel:(555)010-2030"' in page
    assert "Please sign in to continue." not in page


def test_the_notice_stays_when_the_password_was_wrong(client, make_user):
    user = make_user(org="Acme Paving")
    page = client.post("/login", data={"email": user.email, "password": "wrong password",
                                       "next": "/tickets/new"}).get_data(as_text=True)
    assert "belongs to a customer organisation" in unescape(page)


def test_other_pages_keep_the_plain_sign_in_request(client):
    response = client.get("/tickets/")
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Please sign in to continue." in page
    assert "customer organisation" not in page


# -- where sign-in lands --------------------------------------------------------------------

@pytest.mark.parametrize(("role", "landing"), [
    ("agent", "/tickets/queue"),
    ("editor", "/feedback/health"),
    ("customer", "/"),
    ("admin", "/admin/"),
])
def test_each_role_lands_on_its_own_start_page(client, make_user, role, landing):
    user = make_user(role=role, org="Acme Paving" if role == "customer" else None)
    assert sign_in(client, user.email).headers["Location"] == landing
    client.post("/logout")
    # "Sign in" in the header of the home page sends next=/: that is no place to return to.
    assert sign_in(client, user.email, "/").headers["Location"] == landing


@pytest.mark.parametrize("role", ["agent", "editor", "customer", "admin"])
def test_a_page_the_reader_came_from_wins(client, make_user, role):
    user = make_user(role=role)
    response = sign_in(client, user.email, "/articles/locked-account")
    assert response.headers["Location"] == "/articles/locked-account"


def test_another_site_as_next_is_ignored_and_the_role_decides(client, make_user):
    agent = make_user(role="agent")
    response = sign_in(client, agent.email, "https://evil.example/queue")
    assert response.headers["Location"] == "/tickets/queue"
