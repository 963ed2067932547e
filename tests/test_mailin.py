"""Email to tickets: `flask tickets ingest-email` with real RFC 822 files (tests/data/mail)."""

from __future__ import annotations

import logging
import shutil
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from portal.extensions import db
from portal.models import (
    IncomingMail,
    MailOutcome,
    MessageKind,
    OutboxMessage,
    Ticket,
    TicketAttachment,
    TicketStatus,
)

MAIL = Path(__file__).parent / "data" / "mail"
ET = ZoneInfo("America/New_York")
NOW = datetime(2026, 12, 1, 9, 15, tzinfo=ET)


@pytest.fixture
def app(make_app, tmp_path, make_user):
    app = make_app(CLOCK=lambda: NOW, ATTACHMENT_MAX_BYTES=4096,
                   MAILIN_DIR=str(tmp_path / "mailin"), SITE_URL="https://help.bitumio.com")
    make_user(email="alice@acme.example", name="Alice Paver", org="Acme")
    make_user(email="agent@bitumio.com", name="Sam Agent", role="agent")
    make_user(email="otto@other.example", name="Otto Other", org="Other Co")
    return app


def ingest(app, raw: bytes):
    result = app.test_cli_runner().invoke(args=["tickets", "ingest-email"], input=raw)
    return result


def read(name: str) -> bytes:
    return (MAIL / name).read_bytes()


def tickets(app) -> list[Ticket]:
    with app.app_context():
        found = list(db.session.scalars(select(Ticket).order_by(Ticket.id)))
        for ticket in found:
            db.session.expunge(ticket)
        return found


def records(app) -> list[tuple[str, str, str]]:
    with app.app_context():
        return [(r.outcome.value, r.sender, r.reason) for r in db.session.scalars(
            select(IncomingMail).order_by(IncomingMail.id))]


def test_mail_from_a_known_customer_becomes_a_severity_3_ticket(app):
    result = ingest(app, read("new_ticket.eml"))
    assert result.exit_code == 0, result.output
    assert "standard input: new ticket #1" in result.output
    assert "1 message: 1 new ticket(s)" in result.output
    with app.app_context():
        ticket = db.session.scalars(select(Ticket)).one()
        assert ticket.subject == "Field report export shows wrong totals"
        assert ticket.severity == 3 and ticket.status == TicketStatus.NEW
        assert ticket.requester.email == "alice@acme.example"
        assert ticket.organisation.name == "Acme"
        assert "the tonnage total\nsays 412 t" in ticket.description
        assert "Alice — Acme Paving" in ticket.description  # quoted-printable decoded
        assert [a.original_name for a in ticket.attachments] == ["totals.png"]
        assert ticket.next_due_at is not None  # deadlines run as for the web form
        mail = db.session.scalars(select(OutboxMessage)).one()
        assert mail.recipient == "alice@acme.example" and mail.subject.startswith("[#1]")
        assert "https://help.bitumio.com/tickets/1" in mail.body
    assert records(app) == [("ticket", "alice@acme.example", "")]


def test_severity_stated_in_the_subject_is_used(app):
    ingest(app, read("severity1.eml"))  # From: "Alice@Acme.example", any letter case
    [ticket] = tickets(app)
    assert ticket.severity == 1


def sent_mail(app) -> list[bytes]:
    """The mail the portal sent (development mode writes each one as an .eml file)."""
    folder = Path(app.instance_path) / "outbox"
    return [p.read_bytes() for p in sorted(folder.glob("*.eml"))]


def reply_to(app) -> bytes:
    """The Reply-To of the last mail the portal sent."""
    from email import message_from_bytes

    return message_from_bytes(sent_mail(app)[-1])["Reply-To"].encode()


def to_reply_address(app, raw: bytes) -> bytes:
    """A customer's reply to the last mail, sent to its Reply-To as a mail client does."""
    return raw.replace(b"To: Bitumio Support <support@bitumio.com>", b"To: " + reply_to(app))


def test_a_reply_with_the_ticket_number_joins_that_ticket(app):
    ingest(app, read("new_ticket.eml"))
    [ticket] = tickets(app)
    raw = to_reply_address(app, read("reply.eml").replace(b"[#1]", f"[#{ticket.id}]".encode()))
    result = ingest(app, raw)
    assert result.exit_code == 0
    assert f"standard input: reply added to ticket #{ticket.id}" in result.output
    assert len(tickets(app)) == 1
    with app.app_context():
        messages = db.session.get(Ticket, ticket.id).messages
        public = [m for m in messages if m.kind == MessageKind.PUBLIC]
        assert len(public) == 1 and public[0].author.email == "alice@acme.example"
        assert public[0].body.startswith("Yes, it happens with every report")
        assert "Could you tell us" not in public[0].body  # quoted history removed


def test_unknown_sender_waits_in_the_review_list_for_agents(app):
    result = ingest(app, read("unknown_sender.eml"))
    assert result.exit_code == 0
    assert "standard input: held for review: unknown sender" in result.output
    assert tickets(app) == []
    [(outcome, sender, reason)] = records(app)
    assert (outcome, sender) == ("held", "bob@unknown.example") and "unknown sender" in reason

    agent = app.test_client()
    agent.post("/login", data={"email": "agent@bitumio.com", "password": "correct horse 1"})
    page = agent.get("/mail/review/").get_data(as_text=True)
    assert "Question about pricing for a new plant" in page and "bob@unknown.example" in page
    with app.app_context():
        mail_id = db.session.scalars(select(IncomingMail.id)).one()
    page = agent.get(f"/mail/review/{mail_id}").get_data(as_text=True)
    assert "Can Bitumio read our scale tickets?" in page
    response = agent.post(f"/mail/review/{mail_id}/file",
                          data={"customer_email": "nobody@example.com"})
    assert response.status_code == 422
    assert "No customer account uses nobody@example.com" in response.get_data(as_text=True)
    response = agent.post(f"/mail/review/{mail_id}/file",
                          data={"customer_email": "alice@acme.example"})
    assert response.status_code == 303
    [ticket] = tickets(app)
    assert ticket.subject == "Question about pricing for a new plant"
    assert ticket.description.startswith("(Received by email from bob@unknown.example; "
                                          "filed by Sam Agent.)")
    assert records(app)[0][0] == "filed"

    customer = app.test_client()
    customer.post("/login", data={"email": "alice@acme.example", "password": "correct horse 1"})
    assert customer.get("/mail/review/").status_code == 403


def test_agents_can_dismiss_a_held_message(app):
    ingest(app, read("unknown_sender.eml"))
    agent = app.test_client()
    agent.post("/login", data={"email": "agent@bitumio.com", "password": "correct horse 1"})
    with app.app_context():
        mail_id = db.session.scalars(select(IncomingMail.id)).one()
    agent.post(f"/mail/review/{mail_id}/dismiss", data={"note": "sales question"})
    assert records(app)[0][0] == "dismissed" and "sales question" in records(app)[0][2]
    assert "Nothing waiting" in agent.get("/mail/review/").get_data(as_text=True)


def test_malformed_mail_on_stdin_is_kept_aside_with_the_reason(app, tmp_path, caplog):
    caplog.set_level(logging.WARNING, logger="portal.mailin")
    result = ingest(app, read("malformed.eml"))
    assert result.exit_code == 0
    assert ("malformed, set aside: broken message structure: StartBoundaryNotFoundDefect"
            in result.output)
    kept = list((tmp_path / "mailin" / "malformed").iterdir())
    assert len(kept) == 1 and kept[0].read_bytes() == read("malformed.eml")
    assert "StartBoundaryNotFoundDefect" in caplog.text and str(kept[0]) in caplog.text
    assert records(app) == [("malformed", "", "broken message structure: "
                                             "StartBoundaryNotFoundDefect")]
    assert tickets(app) == []


def test_a_maildir_is_read_message_by_message_and_nothing_is_dropped(app, tmp_path, caplog):
    caplog.set_level(logging.WARNING, logger="portal.mailin")
    maildir = tmp_path / "Maildir"
    for sub in ("tmp", "new", "cur"):
        (maildir / sub).mkdir(parents=True)
    names = ["new_ticket.eml", "malformed.eml", "no_sender.eml", "unknown_sender.eml",
             "auto_reply.eml"]
    for n, name in enumerate(names):
        shutil.copy(MAIL / name, maildir / "new" / f"17648{n:05d}.M{n}P1.mx")
    (maildir / "cur" / "1764000000.M0P1.mx:2,S").write_bytes(read("severity1.eml"))  # seen
    result = app.test_cli_runner().invoke(args=["tickets", "ingest-email",
                                                "--maildir", str(maildir)])
    assert result.exit_code == 0, result.output
    assert ("5 messages: 1 new ticket(s), 1 held for review, 2 malformed (set aside), "
            "1 ignored (auto-replies)") in result.output
    assert sorted(p.name for p in (maildir / "new").iterdir()) == []
    assert len(list((maildir / "cur").glob("*:2,S"))) == 4  # 3 handled + the one seen before
    aside = sorted((maildir / ".Malformed" / "new").iterdir())
    assert sorted(p.read_bytes() for p in aside) == sorted([read("malformed.eml"),
                                                             read("no_sender.eml")])
    assert "no From header" in caplog.text
    assert sorted(r[0] for r in records(app)) == ["held", "ignored", "malformed", "malformed",
                                                  "ticket"]
    assert len(tickets(app)) == 1  # the seen message in cur/ was not read again
    again = app.test_cli_runner().invoke(args=["tickets", "ingest-email",
                                               "--maildir", str(maildir)])
    assert again.exit_code == 0 and "0 messages: none" in again.output


def test_oversized_attachments_are_not_kept_and_the_ticket_says_so(app):
    result = ingest(app, read("oversized_attachment.eml"))
    assert result.exit_code == 0
    [ticket] = tickets(app)
    with app.app_context():
        kept = db.session.scalars(select(TicketAttachment.original_name)).all()
    assert kept == ["error.png"]
    assert ("“smith-road-plan.pdf” (6 KB) is larger than the 4 KB limit"
            in ticket.description)
    assert ticket.description.startswith("The plan is attached")


def test_the_same_message_twice_files_one_ticket(app):
    ingest(app, read("new_ticket.eml"))
    result = ingest(app, read("new_ticket.eml"))
    assert "duplicate, already received as ticket (ticket #1)" in result.output
    assert len(tickets(app)) == 1


def test_auto_replies_are_recorded_but_not_added(app):
    ingest(app, read("new_ticket.eml"))
    result = ingest(app, read("auto_reply.eml"))
    assert "ignored: Auto-Submitted: auto-replied" in result.output
    with app.app_context():
        assert db.session.get(Ticket, 1).messages == []


def test_a_reply_to_someone_elses_ticket_is_held(app):
    ingest(app, read("new_ticket.eml"))
    app.config["MAILIN_TRUSTED_RELAYS"] = ["mx.bitumio.com"]  # Otto's mail is really his
    raw = (b"Authentication-Results: mx.bitumio.com; dmarc=pass header.from=other.example\n"
           + read("reply.eml").replace(b"alice@acme.example", b"otto@other.example"))
    result = ingest(app, raw)
    assert "held for review: mentions ticket #1" in result.output
    assert records(app)[-1][2] == "mentions ticket #1, which otto@other.example cannot see"
    with app.app_context():
        assert db.session.get(Ticket, 1).messages == []


def test_a_reply_to_a_closed_ticket_opens_a_follow_up(app):
    ingest(app, read("new_ticket.eml"))
    with app.app_context():
        db.session.get(Ticket, 1).status = TicketStatus.CLOSED
        db.session.commit()
    ingest(app, to_reply_address(app, read("reply.eml")))
    first, follow_up = tickets(app)
    assert follow_up.description.startswith("(Follow-up to closed ticket #1.)")
    assert records(app)[-1][0] == MailOutcome.TICKET.value


def test_a_folder_that_is_not_a_maildir_is_refused(app, tmp_path):
    result = app.test_cli_runner().invoke(args=["tickets", "ingest-email",
                                                "--maildir", str(tmp_path)])
    assert result.exit_code != 0 and "is not a Maildir" in result.output
