"""Ticket mail: written to a folder in development, sent by SMTP otherwise, and a mail
server that is down never loses or blocks a ticket (the outbox retries)."""

from __future__ import annotations

import socket
import socketserver
import threading
from email import message_from_bytes
from email.policy import default as default_policy

import pytest
from sqlalchemy import select

from portal.extensions import db
from portal.models import OutboxMessage, Ticket


class SMTPHandler(socketserver.StreamRequestHandler):
    """Just enough SMTP for smtplib: EHLO, MAIL, RCPT, DATA, QUIT."""

    def reply(self, line: str) -> None:
        self.wfile.write(line.encode() + b"\r\n")

    def handle(self) -> None:
        self.reply("220 test.smtp ready")
        while line := self.rfile.readline():
            command = line.decode().strip().upper()
            if command.startswith(("EHLO", "HELO")):
                self.reply("250 test.smtp")
            elif command == "DATA":
                self.reply("354 go ahead")
                data = b""
                while (chunk := self.rfile.readline()) not in (b".\r\n", b""):
                    data += chunk
                self.server.received.append(data)
                self.reply("250 queued")
            elif command == "QUIT":
                self.reply("221 bye")
                return
            else:
                self.reply("250 ok")


class SMTPServer(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self):
        super().__init__(("127.0.0.1", 0), SMTPHandler)
        self.received: list[bytes] = []


@pytest.fixture
def smtp_server():
    server = SMTPServer()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def closed_port() -> int:
    """A port on this machine where nothing listens: connections are refused at once."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def file_one(app, make_user, key: str = "mail-key") -> tuple:
    make_user(email="casey@acme.test", org="Acme Paving", name="Casey")
    client = app.test_client()
    client.post("/login", data={"email": "casey@acme.test", "password": "correct horse 1"})
    client.get("/search?q=export")
    response = client.post("/tickets/new", data={
        "subject": "Export totals wrong", "description": "Totals are 10% high.",
        "severity": "2", "product_area": "", "idempotency_key": key})
    return client, response


def outbox(app) -> list[OutboxMessage]:
    with app.app_context():
        rows = list(db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))
        db.session.expunge_all()
        return rows


def test_in_development_the_confirmation_is_written_to_a_folder(make_app, make_user, tmp_path):
    app = make_app(MAIL_OUTBOX_DIR=str(tmp_path / "outbox"))
    client, response = file_one(app, make_user)
    assert response.status_code == 303
    [ticket_path] = (tmp_path / "outbox").glob("*.eml")
    email = message_from_bytes(ticket_path.read_bytes(), policy=default_policy)
    with app.app_context():
        ticket = db.session.scalar(select(Ticket))
        number = f"#{ticket.id}"
    assert email["To"] == "casey@acme.test"
    assert number in email["Subject"]
    body = email.get_content()
    assert "First response due: " in body and " ET" in body
    assert f"/tickets/{ticket.id}" in body
    [row] = outbox(app)
    assert row.sent_at is not None and row.attempts == 1


def test_the_confirmation_goes_out_by_smtp_when_configured(make_app, make_user, smtp_server):
    app = make_app(SMTP_HOST="127.0.0.1", SMTP_PORT=smtp_server.server_address[1],
                   SMTP_STARTTLS=False)
    file_one(app, make_user)
    [raw] = smtp_server.received
    assert b"We received your ticket: Export totals wrong" in raw
    assert outbox(app)[0].sent_at is not None


def test_smtp_down_still_files_the_ticket_and_the_mail_is_retried(make_app, make_user,
                                                                   closed_port, smtp_server):
    app = make_app(SMTP_HOST="127.0.0.1", SMTP_PORT=closed_port, SMTP_STARTTLS=False)
    client, response = file_one(app, make_user)
    assert response.status_code == 303
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "filed. We will reply by" in page
    with app.app_context():
        assert db.session.scalar(select(Ticket)).subject == "Export totals wrong"
    [row] = outbox(app)
    assert row.sent_at is None and row.attempts == 1
    assert "ConnectionRefusedError" in row.last_error
    runner = app.test_cli_runner()
    waiting = runner.invoke(args=["tickets", "send-mail"])
    assert waiting.output.strip() == "0 sent, 0 failed, 1 still waiting"  # retry not due yet
    still_down = runner.invoke(args=["tickets", "send-mail", "--all"])
    assert still_down.exit_code == 1
    assert still_down.output.strip() == "0 sent, 1 failed, 1 still waiting"
    app.config["SMTP_PORT"] = smtp_server.server_address[1]  # the mail server is back
    retried = runner.invoke(args=["tickets", "send-mail", "--all"])
    assert retried.exit_code == 0, retried.output
    assert retried.output.strip() == "1 sent, 0 failed, 0 still waiting"
    assert b"We received your ticket" in smtp_server.received[0]
    assert outbox(app)[0].attempts == 3


def test_agent_replies_notify_the_customer(make_app, make_user, tmp_path):
    app = make_app(MAIL_OUTBOX_DIR=str(tmp_path / "outbox"))
    _, response = file_one(app, make_user)
    make_user(email="alex@bitumio.test", role="agent", name="Alex Agent")
    agent = app.test_client()
    agent.post("/login", data={"email": "alex@bitumio.test", "password": "correct horse 1"})
    ticket_url = response.headers["Location"]
    agent.post(ticket_url + "/reply", data={"body": "Fixed in 4.2.", "visibility": "public"})
    agent.post(ticket_url + "/reply", data={"body": "internal only", "visibility": "internal"})
    messages = [message_from_bytes(p.read_bytes(), policy=default_policy)
                for p in sorted((tmp_path / "outbox").glob("*.eml"))]
    subjects = sorted(m["Subject"] for m in messages)
    assert len(messages) == 2
    assert any("New reply" in s for s in subjects)
    assert not any("internal only" in m.get_content() for m in messages)
