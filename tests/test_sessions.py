"""Signed-in sessions live on the server: signing out, and what ends a user's sessions,
make a copied cookie worthless."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from portal.accounts import sessions
from portal.extensions import db
from portal.models import User, UserSession

PASSWORD = "correct horse 1"


def _signed_in(client) -> bool:
    return "Sign out" in client.get("/").get_data(as_text=True)


def _sign_in(client, email: str) -> None:
    response = client.post("/login", data={"email": email, "password": PASSWORD})
    assert response.status_code == 302, response.get_data(as_text=True)[:500]


def test_a_cookie_replayed_after_sign_out_is_signed_out(app, client, make_user):
    make_user(email="casey@acme.test", org="Acme Paving")
    _sign_in(client, "casey@acme.test")
    copied = client.get_cookie("session").value
    assert _signed_in(client)
    client.post("/logout")
    thief = app.test_client()
    thief.set_cookie("session", copied)
    assert not _signed_in(thief)
    assert thief.get("/tickets/").status_code == 302  # asked to sign in


def test_signing_out_ends_only_this_browsers_session(app, make_user):
    make_user(email="casey@acme.test", org="Acme Paving")
    laptop, phone = app.test_client(), app.test_client()
    _sign_in(laptop, "casey@acme.test")
    _sign_in(phone, "casey@acme.test")
    laptop.post("/logout")
    assert not _signed_in(laptop)
    assert _signed_in(phone)


def test_ending_every_session_of_a_user_signs_out_every_browser(app, make_user):
    user = make_user(email="casey@acme.test", org="Acme Paving")
    laptop, phone = app.test_client(), app.test_client()
    _sign_in(laptop, "casey@acme.test")
    _sign_in(phone, "casey@acme.test")
    with app.app_context():
        assert sessions.end_all(user.id) == 2
        db.session.commit()
    assert not _signed_in(laptop) and not _signed_in(phone)


def test_sign_in_records_the_session_and_when(app, client, make_user):
    user = make_user(email="casey@acme.test", org="Acme Paving")
    client.post("/login", data={"email": "casey@acme.test", "password": PASSWORD},
                headers={"User-Agent": "Mozilla/5.0 (Windows NT 10.0; Win64; x64) "
                         "AppleWebKit/537.36 (KHTML, like Gecko) Firefox/120.0"})
    with app.app_context():
        row = db.session.scalars(select(UserSession)).one()
        assert row.user_id == user.id and row.browser == "Firefox on Windows"
        assert db.session.get(User, user.id).last_login_at is not None


def test_the_cookie_holds_no_session_secret_the_server_keeps(app, client, make_user):
    make_user(email="casey@acme.test", org="Acme Paving")
    _sign_in(client, "casey@acme.test")
    with client.session_transaction() as session:
        raw = session[sessions.SESSION_KEY]
    with app.app_context():  # only a hash is stored: a database leak gives no cookies
        stored = db.session.scalar(select(UserSession.id))
        assert stored != raw and len(stored) == 64
        assert db.session.scalar(select(func.count()).select_from(UserSession)) == 1


def test_a_session_from_before_server_sessions_counts_as_signed_out(app, client, make_user):
    user = make_user(email="casey@acme.test", org="Acme Paving")
    with client.session_transaction() as session:  # an old cookie: a user id, no session id
        session["_user_id"] = str(user.id)
        session["_fresh"] = True
    assert not _signed_in(client)


def test_browser_labels():
    assert sessions.browser_label("") == "Unknown browser"
    assert sessions.browser_label(
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 "
        "(KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1") == "Safari on iPhone"
    assert sessions.browser_label(
        "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/120.0.0.0 Safari/537.36") == "Chrome on Linux"


def test_a_session_unused_for_the_idle_limit_has_ended(app, client, make_user):
    make_user(email="casey@acme.test", org="Acme Paving")
    _sign_in(client, "casey@acme.test")
    assert _signed_in(client)
    with app.app_context():
        row = db.session.scalars(select(UserSession)).one()
        row.last_seen_at -= timedelta(days=app.config["SESSION_IDLE_DAYS"] + 1)
        db.session.commit()
    assert not _signed_in(client)
