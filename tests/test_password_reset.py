""""Forgot your password?": a single-use link that expires, the same answer whether or not
the address has an account, limits per network and per address, and a new password that
signs the account out everywhere else."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import select, update

from portal.extensions import db
from portal.models import AccountToken, OutboxMessage, TokenPurpose, User
from portal.models.accounts import utcnow

PASSWORD = "correct horse 1"
NEW_PASSWORD = "a brand new secret"
TOKEN_INPUT = re.compile(r'<input[^>]*name="csrf_token"[^>]*>')


def mails_to(app, address: str) -> list[OutboxMessage]:
    with app.app_context():
        messages = list(db.session.scalars(select(OutboxMessage).where(
            OutboxMessage.recipient == address).order_by(OutboxMessage.id)))
        db.session.expunge_all()
        return messages


def reset_path(message: OutboxMessage) -> str:
    return re.search(r"https?://[^/\s]+(/reset/[\w-]+)", message.body).group(1)


def ask_for_reset(client, email: str, ip: str = "203.0.113.10"):
    return client.post("/forgot", data={"email": email}, environ_base={"REMOTE_ADDR": ip})


def choose(client, path: str, password: str = NEW_PASSWORD, confirm: str | None = None):
    return client.post(path, data={"password": password, "confirm": confirm or password})


def signed_in_as(client, name: str) -> bool:
    return name in client.get("/").get_data(as_text=True)


def sign_in(client, email: str, password: str = PASSWORD):
    return client.post("/login", data={"email": email, "password": password})


def test_the_sign_in_page_offers_forgot_your_password(client):
    page = client.get("/login").get_data(as_text=True)
    assert 'href="/forgot"' in page and "Forgot your password?" in page
    form = client.get("/forgot")
    assert form.status_code == 200 and 'name="email"' in form.get_data(as_text=True)


def test_the_answer_is_the_same_for_an_address_with_and_without_an_account(make_app, make_user):
    app = make_app(WTF_CSRF_ENABLED=True)
    owner = make_user(name="Olive Owner")

    def ask(email: str):
        browser = app.test_client()
        form = browser.get("/forgot").get_data(as_text=True)
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', form).group(1)
        return browser.post("/forgot", data={"email": email, "csrf_token": token})

    known, unknown = ask(owner.email), ask("nobody-here@example.com")
    assert known.status_code == unknown.status_code == 200
    known_page = TOKEN_INPUT.sub("", known.get_data(as_text=True))
    assert known_page == TOKEN_INPUT.sub("", unknown.get_data(as_text=True))
    assert "Check your email" in known_page

    def cookie_names(response):
        return sorted(c.split("=", 1)[0] for c in response.headers.getlist("Set-Cookie"))

    assert cookie_names(known) == cookie_names(unknown)

    # Both addresses got mail: the owner a link, the other a note that there is no account.
    [link_mail] = mails_to(app, owner.email)
    assert "/reset/" in link_mail.body and "expires in 1 hour" in link_mail.body
    [note] = mails_to(app, "nobody-here@example.com")
    assert "/reset/" not in note.body and "no account" in note.body


def test_a_deactivated_account_gets_the_no_account_note(app, client, make_user):
    user = make_user()
    with app.app_context():
        db.session.execute(update(User).where(User.id == user.id).values(active=False))
        db.session.commit()
    assert ask_for_reset(client, user.email).status_code == 200
    [note] = mails_to(app, user.email)
    assert "/reset/" not in note.body and "no account" in note.body


def test_a_reset_sets_the_password_signs_in_here_and_out_everywhere_else(app, make_user):
    user = make_user(name="Rita Reset")
    laptop = app.test_client()  # signed in before the reset; must be signed out after
    assert sign_in(laptop, user.email).status_code == 302
    assert signed_in_as(laptop, "Rita Reset")

    phone = app.test_client()
    assert ask_for_reset(phone, user.email.upper()).status_code == 200
    path = reset_path(mails_to(app, user.email)[-1])
    form = phone.get(path)
    assert form.status_code == 200 and "Choose a new password" in form.get_data(as_text=True)
    assert form.headers["Referrer-Policy"] == "no-referrer"  # the link's secret stays here

    done = choose(phone, path)
    assert done.status_code == 302 and done.headers["Location"] == "/"
    assert signed_in_as(phone, "Rita Reset")
    assert not signed_in_as(laptop, "Rita Reset")

    stranger = app.test_client()
    assert sign_in(stranger, user.email, PASSWORD).status_code == 200  # the old one is gone
    assert sign_in(stranger, user.email, NEW_PASSWORD).status_code == 302
    notice = mails_to(app, user.email)[-1]
    assert "password was changed" in notice.subject.lower()


def test_a_link_works_once(app, client, make_user):
    user = make_user()
    ask_for_reset(client, user.email)
    path = reset_path(mails_to(app, user.email)[-1])
    assert choose(client, path).status_code == 302
    client.post("/logout")
    for again in (client.get(path), choose(app.test_client(), path, "yet another secret")):
        assert again.status_code == 400
        page = again.get_data(as_text=True)
        assert "already been used" in page and 'href="/forgot"' in page
    assert sign_in(app.test_client(), user.email, "yet another secret").status_code == 200


def test_a_link_expires(make_app, make_user):
    app = make_app(RESET_LINK_MINUTES=30)
    user = make_user()
    client = app.test_client()
    ask_for_reset(client, user.email)
    message = mails_to(app, user.email)[-1]
    assert "expires in 30 minutes" in message.body
    with app.app_context():
        db.session.execute(update(AccountToken).values(
            expires_at=utcnow() - timedelta(seconds=1)))
        db.session.commit()
    path = reset_path(message)
    for response in (client.get(path), choose(client, path)):
        assert response.status_code == 400
        page = response.get_data(as_text=True)
        assert "has expired" in page and 'href="/forgot"' in page
    assert sign_in(app.test_client(), user.email).status_code == 302  # password unchanged


def test_an_earlier_link_stops_working_when_a_new_one_is_sent(app, client, make_user):
    user = make_user()
    ask_for_reset(client, user.email)
    ask_for_reset(client, user.email)
    first, second = mails_to(app, user.email)
    assert client.get(reset_path(first)).status_code == 400
    assert client.get(reset_path(second)).status_code == 200


def test_a_made_up_link_gets_a_clear_page(client):
    response = client.get("/reset/not-a-real-link")
    assert response.status_code == 400
    assert "not valid" in response.get_data(as_text=True)


def test_the_new_password_must_be_long_enough_and_typed_twice(app, client, make_user):
    user = make_user()
    ask_for_reset(client, user.email)
    path = reset_path(mails_to(app, user.email)[-1])
    short = choose(client, path, "short", "short")
    assert short.status_code == 200 and "at least 10 characters" in short.get_data(as_text=True)
    mismatch = choose(client, path, NEW_PASSWORD, "something else!")
    assert "do not match" in mismatch.get_data(as_text=True)
    assert choose(client, path).status_code == 302  # the link still works after the typos


def test_a_reset_confirms_an_unconfirmed_address(app, client):
    client.post("/register", data={"name": "Una Verified", "email": "una@example.com",
                                   "password": PASSWORD, "confirm": PASSWORD})
    ask_for_reset(client, "una@example.com")
    assert choose(client, reset_path(mails_to(app, "una@example.com")[-1])).status_code == 302
    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == "una@example.com"))
        assert user.email_verified_at is not None
    assert signed_in_as(client, "Una Verified")


def test_an_invitation_uses_the_same_page_to_choose_a_first_password(app, client, make_user):
    from portal.accounts import links

    user = make_user(name="Ivan Invited")
    with app.test_request_context():
        invited = db.session.get(User, user.id)
        message = links.send_link(invited, TokenPurpose.INVITE, inviter="Ada Admin")
        db.session.commit()
        path = reset_path(message)
    page = client.get(path).get_data(as_text=True)
    assert "Choose your password" in page
    assert choose(client, path).status_code == 302
    assert signed_in_as(client, "Ivan Invited")


def test_asking_is_limited_per_address(make_app, make_user):
    app = make_app(ACCOUNT_MAIL_ADDRESS_LIMIT="2 per hour")
    user = make_user()
    codes = [ask_for_reset(app.test_client(), user.email, ip=f"198.51.100.{n}").status_code
             for n in range(3)]
    assert codes == [200, 200, 429]
    refused = ask_for_reset(app.test_client(), user.email.upper(), ip="198.51.100.9")
    assert refused.status_code == 429
    page = refused.get_data(as_text=True)
    assert "Too many" in page and f'value="{user.email.upper()}"' in page  # kept as typed
    assert len(mails_to(app, user.email)) == 2
    # Unknown addresses are limited alike, and other addresses are not held up.
    assert [ask_for_reset(app.test_client(), "ghost@example.com").status_code
            for _ in range(3)] == [200, 200, 429]
    assert ask_for_reset(app.test_client(), "someone.else@example.com").status_code == 200


def test_asking_is_limited_per_network(make_app):
    app = make_app(ACCOUNT_MAIL_IP_LIMIT="3 per hour")
    client = app.test_client()
    codes = [ask_for_reset(client, f"person{n}@example.com").status_code for n in range(4)]
    assert codes == [200, 200, 200, 429]
    assert ask_for_reset(client, "person9@example.com", ip="192.0.2.1").status_code == 200


def test_a_form_error_does_not_use_up_the_allowance(make_app):
    app = make_app(ACCOUNT_MAIL_ADDRESS_LIMIT="1 per hour")
    client = app.test_client()
    bad = ask_for_reset(client, "not an address")
    assert bad.status_code == 200 and "valid email address" in bad.get_data(as_text=True)
    assert ask_for_reset(client, "not an address").status_code == 200
    assert ask_for_reset(client, "real@example.com").status_code == 200
