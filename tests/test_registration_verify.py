"""Registration confirms the address before anything depends on it: the same "check your
email" answer for a new and a taken address, no sign-in until the link is opened, and an
organisation's email domain adopts a customer only once the address is confirmed."""

from __future__ import annotations

import re

from sqlalchemy import select

from portal.accounts.passwords import verify_password
from portal.extensions import db
from portal.models import AuditEvent, Organisation, OrganisationDomain, OutboxMessage, User

PASSWORD = "correct horse 1"
TOKEN_INPUT = re.compile(r'<input[^>]*name="csrf_token"[^>]*>')


def register(client, email: str, name: str = "Nina New", password: str = PASSWORD,
             ip: str = "203.0.113.10"):
    return client.post("/register", data={"name": name, "email": email, "password": password,
                                          "confirm": password},
                       environ_base={"REMOTE_ADDR": ip})


def mails_to(app, address: str) -> list[OutboxMessage]:
    with app.app_context():
        messages = list(db.session.scalars(select(OutboxMessage).where(
            OutboxMessage.recipient == address).order_by(OutboxMessage.id)))
        db.session.expunge_all()
        return messages


def verify_path(message: OutboxMessage) -> str:
    return re.search(r"https?://[^/\s]+(/verify/[\w-]+)", message.body).group(1)


def account(app, email: str) -> User | None:
    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == email))
        if user is not None:
            db.session.refresh(user)
            user.organisation  # noqa: B018 - load it before the session closes
            db.session.expunge_all()
        return user


def sign_in(client, email: str, password: str = PASSWORD):
    return client.post("/login", data={"email": email, "password": password})


def signed_in_as(client, name: str) -> bool:
    return name in client.get("/").get_data(as_text=True)


def claim_domain(app, org_name: str, domain: str) -> None:
    with app.app_context():
        org = Organisation(name=org_name)
        org.domains.append(OrganisationDomain(domain=domain))
        db.session.add(org)
        db.session.commit()


def test_registering_mails_a_link_and_does_not_sign_in(app, client):
    response = register(client, "Nina@Example.com")
    assert response.status_code == 200
    assert "Check your email" in response.get_data(as_text=True)
    assert not signed_in_as(client, "Nina New")
    user = account(app, "nina@example.com")
    assert user is not None and user.email_verified_at is None and user.role.value == "customer"
    [mail] = mails_to(app, "nina@example.com")
    assert "/verify/" in mail.body and "expires in 3 days" in mail.body


def test_a_taken_address_gets_the_same_answer_and_its_owner_gets_mail(make_app, make_user):
    app = make_app(WTF_CSRF_ENABLED=True)
    owner = make_user(name="Otto Owner")

    def attempt(email: str):
        browser = app.test_client()
        form = browser.get("/register").get_data(as_text=True)
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', form).group(1)
        return browser.post("/register", data={
            "name": "Mallory", "email": email, "password": "attacker's pass",
            "confirm": "attacker's pass", "csrf_token": token})

    taken, fresh = attempt(owner.email.upper()), attempt("fresh@example.com")
    assert taken.status_code == fresh.status_code == 200
    taken_page = TOKEN_INPUT.sub("", taken.get_data(as_text=True))
    assert taken_page == TOKEN_INPUT.sub("", fresh.get_data(as_text=True))
    assert "already exists" not in taken_page

    def cookie_names(response):
        return sorted(c.split("=", 1)[0] for c in response.headers.getlist("Set-Cookie"))

    assert cookie_names(taken) == cookie_names(fresh)

    [note] = mails_to(app, owner.email)
    assert "already have an account" in note.body
    assert "/login" in note.body and "/forgot" in note.body and "/verify/" not in note.body
    # The owner's account is untouched: same name, same password.
    kept = account(app, owner.email)
    assert kept.name == "Otto Owner" and verify_password(kept.password_hash, PASSWORD)


def test_an_unconfirmed_account_cannot_sign_in_and_can_ask_for_the_link_again(app, client):
    register(client, "una@example.com", name="Una Unconfirmed")
    wrong = sign_in(client, "una@example.com", "not the password")
    assert "do not match an account" in wrong.get_data(as_text=True)
    held = sign_in(client, "una@example.com")
    page = held.get_data(as_text=True)
    assert held.status_code == 403 and "Confirm your email address first" in page
    assert not signed_in_as(client, "Una Unconfirmed")

    ticket = re.search(r'name="ticket"[^>]*value="([^"]+)"', page).group(1)
    again = client.post("/verify/resend", data={"ticket": ticket})
    forged = client.post("/verify/resend", data={"ticket": ticket[:-4] + "AAAA"})
    assert again.status_code == forged.status_code == 200
    assert again.get_data(as_text=True) == forged.get_data(as_text=True)
    first, second = mails_to(app, "una@example.com")
    assert client.get(verify_path(first)).status_code == 400  # replaced by the new link
    assert client.get(verify_path(second)).status_code == 302


def test_confirming_the_address_lets_the_owner_sign_in(app, client):
    register(client, "vera@example.com", name="Vera Verified")
    response = client.get(verify_path(mails_to(app, "vera@example.com")[0]))
    assert response.status_code == 302
    assert response.headers["Location"] == "/login?email=vera@example.com"
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Your email address is confirmed" in page and 'value="vera@example.com"' in page
    assert account(app, "vera@example.com").email_verified_at is not None
    assert sign_in(client, "vera@example.com").status_code == 302
    assert signed_in_as(client, "Vera Verified")


def test_a_confirmation_link_works_once(app, client):
    register(client, "once@example.com")
    path = verify_path(mails_to(app, "once@example.com")[0])
    assert client.get(path).status_code == 302
    again = client.get(path)
    assert again.status_code == 400 and "already been used" in again.get_data(as_text=True)


def test_the_domain_adopts_a_customer_only_after_the_address_is_confirmed(app, client):
    claim_domain(app, "Acme Paving", "acme-paving.test")
    register(client, "Pat@Acme-Paving.test", name="Pat Paver")
    before = account(app, "pat@acme-paving.test")
    assert before.organisation is None  # an unconfirmed address proves nothing

    response = client.get(verify_path(mails_to(app, "pat@acme-paving.test")[0]))
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Acme Paving" in page
    after = account(app, "pat@acme-paving.test")
    assert after.organisation is not None and after.organisation.name == "Acme Paving"
    with app.app_context():
        event = db.session.scalar(select(AuditEvent).where(AuditEvent.target_id == after.id))
        assert event.action == "user.attach" and event.actor.startswith("automatic")
        assert event.after == {"organisation": "Acme Paving"}

    assert sign_in(client, "pat@acme-paving.test").status_code == 302


def test_an_unclaimed_domain_joins_nothing(app, client):
    claim_domain(app, "Acme Paving", "acme-paving.test")
    register(client, "sam@elsewhere.test")
    client.get(verify_path(mails_to(app, "sam@elsewhere.test")[0]))
    assert account(app, "sam@elsewhere.test").organisation is None


def test_registration_is_limited_per_address(make_app):
    app = make_app(ACCOUNT_MAIL_ADDRESS_LIMIT="2 per hour")
    codes = [register(app.test_client(), "busy@example.com", ip=f"198.51.100.{n}").status_code
             for n in range(3)]
    assert codes == [200, 200, 429]
    assert len(mails_to(app, "busy@example.com")) == 2


def test_registration_keeps_what_was_typed_on_errors(client):
    bad = client.post("/register", data={"name": "Eve New", "email": "eve@example.com",
                                         "password": "short", "confirm": "short"})
    html = bad.get_data(as_text=True)
    assert bad.status_code == 200 and 'value="Eve New"' in html and "at least 10" in html
    assert 'value="eve@example.com"' in html
