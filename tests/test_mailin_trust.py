"""Mail is trusted for its proof, not its From: header (security review finding 1).

A forged `From: <an agent>` with `Subject: Re: [#1]` used to become a public agent reply
that met the first-response deadline and mailed the customer.
"""

from __future__ import annotations

from email import message_from_bytes

import pytest
from sqlalchemy import select

from portal.extensions import db
from portal.models import IncomingMail, MailOutcome, MessageKind, OutboxMessage, Ticket
from tests.test_mailin import NOW, ingest, read, records, reply_to, sent_mail, to_reply_address

AGENT_REPLY = b"""From: Sam Agent <agent@bitumio.com>
To: Bitumio Support <support@bitumio.com>
Subject: Re: [#1] Field report export shows wrong totals
Message-ID: <forged-1@evil.test>
Content-Type: text/plain; charset=utf-8

We fixed it, please send us your password to confirm.
"""


@pytest.fixture
def app(make_app, tmp_path, make_user):
    app = make_app(CLOCK=lambda: NOW, MAILIN_DIR=str(tmp_path / "mailin"),
                   SITE_URL="https://help.bitumio.com")
    make_user(email="alice@acme.example", name="Alice Paver", org="Acme")
    make_user(email="agent@bitumio.com", name="Sam Agent", role="agent")
    make_user(email="otto@other.example", name="Otto Other", org="Other Co")
    ingest(app, read("new_ticket.eml"))  # ticket #1, Alice's
    return app


def public_messages(app) -> list[tuple[str, str]]:
    with app.app_context():
        ticket = db.session.get(Ticket, 1)
        return [(m.author.email, m.body) for m in ticket.messages if m.kind == MessageKind.PUBLIC]


def first_response_met(app) -> bool:
    with app.app_context():
        return db.session.get(Ticket, 1).first_response_at is not None


def mail_to_alice(app) -> list[str]:
    with app.app_context():
        return [m.subject for m in db.session.scalars(
            select(OutboxMessage).where(OutboxMessage.recipient == "alice@acme.example"))]


def with_results(raw: bytes, *headers: bytes) -> bytes:
    return b"".join(h + b"\n" for h in headers) + raw


def test_a_forged_agent_reply_is_held_and_never_reaches_the_customer(app):
    result = ingest(app, AGENT_REPLY)
    assert "held for review: mentions ticket #1, but nothing proves agent@bitumio.com" in (
        result.output)
    assert public_messages(app) == []
    assert not first_response_met(app)
    assert mail_to_alice(app) == ["[#1] We received your ticket: Field report export shows "
                                  "wrong totals"]  # the confirmation only


def test_a_forged_customer_reply_is_held_for_review(app):
    result = ingest(app, read("reply.eml"))  # From: alice, to the plain support address
    assert "held for review" in result.output
    assert public_messages(app) == []


def test_ticket_mail_carries_a_reply_address_for_that_ticket_and_recipient(app):
    reply_address = reply_to(app).decode()
    assert reply_address.startswith("support+t1.") and reply_address.endswith("@bitumio.com")
    assert message_from_bytes(sent_mail(app)[-1])["To"] == "alice@acme.example"


def test_a_reply_to_the_reply_address_joins_the_ticket_even_without_a_number(app):
    raw = to_reply_address(app, read("reply.eml").replace(b"Re: [#1] New reply: ", b"Re: "))
    result = ingest(app, raw)
    assert "reply added to ticket #1" in result.output
    assert public_messages(app)[0][0] == "alice@acme.example"


def test_the_customers_reply_address_does_not_let_someone_else_post(app):
    stolen = AGENT_REPLY.replace(b"To: Bitumio Support <support@bitumio.com>",
                                 b"To: " + reply_to(app))
    result = ingest(app, stolen)
    assert "held for review" in result.output
    assert public_messages(app) == [] and not first_response_met(app)


@pytest.mark.parametrize("change", [
    lambda address: address.replace(b"support+t1.", b"support+t2."),  # another ticket
    lambda address: address[:12] + (b"a" if address[12:13] != b"a" else b"b") + address[13:],
    lambda address: address.replace(b"@bitumio.com", b"@evil.test"),
])
def test_a_tampered_reply_address_proves_nothing(app, change):
    raw = read("reply.eml").replace(b"To: Bitumio Support <support@bitumio.com>",
                                    b"To: " + change(reply_to(app)))
    assert "held for review" in ingest(app, raw).output
    assert public_messages(app) == []


def test_the_envelope_recipient_from_the_mta_is_proof_too(app):
    address = reply_to(app).decode()
    result = app.test_cli_runner().invoke(
        args=["tickets", "ingest-email", "--recipient", address], input=read("reply.eml"))
    assert "reply added to ticket #1" in result.output


def test_a_trusted_relays_dmarc_pass_lets_an_agent_answer_by_mail(app):
    app.config["MAILIN_TRUSTED_RELAYS"] = ["mx.bitumio.com"]
    raw = with_results(AGENT_REPLY, b"Authentication-Results: mx.bitumio.com; spf=pass "
                       b"smtp.mailfrom=bitumio.com; dmarc=pass (p=reject) header.from=bitumio.com",
                       b"Received: from mail.bitumio.com by mx.bitumio.com; Tue, 1 Dec 2026")
    result = ingest(app, raw)
    assert "reply added to ticket #1" in result.output
    assert public_messages(app)[0][0] == "agent@bitumio.com"
    assert first_response_met(app)


@pytest.mark.parametrize("headers, why", [
    ([b"Authentication-Results: mx.evil.test; dmarc=pass header.from=bitumio.com"],
     "an authserv-id we do not trust"),
    ([b"Authentication-Results: mx.bitumio.com; dmarc=fail header.from=bitumio.com"],
     "a failed check"),
    ([b"Authentication-Results: mx.bitumio.com; dkim=pass header.d=evil.test"],
     "a DKIM pass for another domain"),
    ([b"Authentication-Results: mx.bitumio.com; dmarc=pass header.from=evil.test"],
     "a DMARC pass for another domain"),
    ([b"Received: from evil.test by mx.bitumio.com; Tue, 1 Dec 2026",
      b"Received: from laptop by evil.test; Tue, 1 Dec 2026",
      b"Authentication-Results: mx.bitumio.com; dmarc=pass header.from=bitumio.com"],
     "a header the sender planted below our relay's Received header"),
    ([b"Authentication-Results: mx.bitumio.com; dmarc=pass header.from=bitumio.com; ("],
     "a header that does not parse"),
])
def test_relay_results_that_prove_nothing_leave_agent_mail_held(app, headers, why):
    app.config["MAILIN_TRUSTED_RELAYS"] = ["mx.bitumio.com"]
    result = ingest(app, with_results(AGENT_REPLY, *headers))
    assert "held for review" in result.output, why
    assert public_messages(app) == [] and not first_response_met(app)


def test_an_aligned_dkim_signature_is_proof(app):
    app.config["MAILIN_TRUSTED_RELAYS"] = ["mx.bitumio.com"]
    raw = with_results(read("reply.eml"), b"Authentication-Results: mx.bitumio.com; "
                       b"dkim=pass header.i=@mail.acme.example header.s=s1 header.b=abc")
    raw = raw.replace(b"alice@acme.example", b"alice@mail.acme.example")
    with app.app_context():  # Alice writes from the mail.acme.example subdomain this time
        from portal.models import User

        db.session.scalars(select(User).where(User.email == "alice@acme.example")).one(
        ).email = "alice@mail.acme.example"
        db.session.commit()
    assert "reply added to ticket #1" in ingest(app, raw).output


def test_with_a_trusted_relay_a_new_ticket_needs_its_pass(app):
    app.config["MAILIN_TRUSTED_RELAYS"] = ["mx.bitumio.com"]
    unverified = read("new_ticket.eml").replace(b"Message-ID: <", b"Message-ID: <again-")
    result = ingest(app, unverified)
    assert "held for review: the trusted relay did not confirm" in result.output
    verified = with_results(unverified.replace(b"<again-", b"<verified-"),
                            b"Authentication-Results: mx.bitumio.com; dmarc=pass "
                            b"header.from=acme.example")
    assert "new ticket #2" in ingest(app, verified).output


def test_an_agent_adds_a_held_reply_to_its_ticket_after_checking_it(app, client, login):
    ingest(app, read("reply.eml"))
    with app.app_context():
        held = db.session.scalars(select(IncomingMail).where(
            IncomingMail.outcome == MailOutcome.HELD)).one()
    login("agent@bitumio.com")
    page = client.get(f"/mail/review/{held.id}").get_data(as_text=True)
    assert "Add to ticket #1" in page and "Add as their reply" in page
    response = client.post(f"/mail/review/{held.id}/add-reply")
    assert response.status_code == 303 and response.location.endswith("/tickets/1")
    assert public_messages(app)[0][0] == "alice@acme.example"
    assert records(app)[-1][0] == MailOutcome.FILED.value
    again = client.post(f"/mail/review/{held.id}/add-reply")
    assert again.status_code == 303 and len(public_messages(app)) == 1  # only once

