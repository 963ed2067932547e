""""Your account": change the display name and the password, see where the account is
signed in, and sign out everywhere else."""

from __future__ import annotations

import re

from sqlalchemy import select

from portal.extensions import db
from portal.models import OutboxMessage

PASSWORD = "correct horse 1"
NEW_PASSWORD = "a brand new secret"


def sign_in(client, email: str, password: str = PASSWORD, browser: str = "Firefox/130"):
    return client.post("/login", data={"email": email, "password": password},
                       headers={"User-Agent": browser})


def page(client, browser: str = "Firefox/130") -> str:
    return client.get("/account", headers={"User-Agent": browser}).get_data(as_text=True)


def signed_in_as(client, name: str, browser: str = "Firefox/130") -> bool:
    return name in client.get("/", headers={"User-Agent": browser}).get_data(as_text=True)


def change_password(client, current: str, new: str, confirm: str | None = None):
    return client.post("/account/password", data={
        "current_password": current, "password": new, "confirm": confirm or new},
        headers={"User-Agent": "Firefox/130"})


def test_the_account_page_needs_sign_in_and_is_in_the_account_menu(client, make_user):
    response = client.get("/account")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    user = make_user(name="Mia Menu")
    sign_in(client, user.email)
    home = client.get("/", headers={"User-Agent": "Firefox/130"}).get_data(as_text=True)
    assert 'href="/account"' in home and "Your account" in home
    assert user.email in page(client)


def test_changing_the_display_name(client, make_user):
    user = make_user(name="Old Name")
    sign_in(client, user.email)
    blank = client.post("/account/name", data={"name": "  "},
                        headers={"User-Agent": "Firefox/130"})
    assert blank.status_code == 200 and "Enter your name" in blank.get_data(as_text=True)
    done = client.post("/account/name", data={"name": "  New Name "},
                       headers={"User-Agent": "Firefox/130"})
    assert done.status_code == 302
    assert signed_in_as(client, "New Name")


def test_changing_the_password_signs_out_other_browsers_and_keeps_this_one(app, make_user):
    user = make_user(name="Pia Password")
    here, there = app.test_client(), app.test_client()
    sign_in(here, user.email)
    sign_in(there, user.email, browser="Chrome/128 (Android)")

    wrong = change_password(here, "not my password", NEW_PASSWORD)
    assert wrong.status_code == 200
    assert "current password is not right" in wrong.get_data(as_text=True)
    assert signed_in_as(there, "Pia Password", browser="Chrome/128 (Android)")
    mismatch = change_password(here, PASSWORD, NEW_PASSWORD, "something different")
    assert "do not match" in mismatch.get_data(as_text=True)
    short = change_password(here, PASSWORD, "short")
    assert "at least 10 characters" in short.get_data(as_text=True)

    done = change_password(here, PASSWORD, NEW_PASSWORD)
    assert done.status_code == 302
    assert signed_in_as(here, "Pia Password")
    assert not signed_in_as(there, "Pia Password", browser="Chrome/128 (Android)")
    assert sign_in(app.test_client(), user.email, PASSWORD).status_code == 200
    assert sign_in(app.test_client(), user.email, NEW_PASSWORD).status_code == 302
    with app.app_context():
        notice = db.session.scalars(select(OutboxMessage).where(
            OutboxMessage.recipient == user.email)).all()[-1]
        assert "password was changed" in notice.subject.lower()


def test_sessions_are_listed_and_can_be_ended_everywhere_else(app, make_user):
    user = make_user(name="Sid Sessions")
    here, phone = app.test_client(), app.test_client()
    sign_in(here, user.email, browser="Mozilla/5.0 (Windows NT 10.0) Firefox/130.0")
    sign_in(phone, user.email, browser="Mozilla/5.0 (Linux; Android 14) Chrome/128.0")

    assert signed_in_as(phone, "Sid Sessions", browser="Mozilla/5.0 (Linux; Android 14) "
                                                       "Chrome/128.0")
    listing = page(here, browser="Mozilla/5.0 (Windows NT 10.0) Firefox/130.0")
    assert "Firefox on Windows" in listing and "Chrome on Android" in listing
    assert len(re.findall("This browser", listing)) == 1

    ended = here.post("/account/sessions/end-others",
                      headers={"User-Agent": "Mozilla/5.0 (Windows NT 10.0) Firefox/130.0"})
    assert ended.status_code == 302
    assert signed_in_as(here, "Sid Sessions", browser="Mozilla/5.0 (Windows NT 10.0) Firefox/130.0")
    assert not signed_in_as(phone, "Sid Sessions", browser="Mozilla/5.0 (Linux; Android 14) "
                                                           "Chrome/128.0")
    after = page(here, browser="Mozilla/5.0 (Windows NT 10.0) Firefox/130.0")
    assert "Chrome on Android" not in after and "Firefox on Windows" in after
