"""One unit of work per request (portal.unit_of_work): what a request changed is committed
once at its end, or, on any error, rolled back with the files it saved deleted; its mail
goes out only after the commit, and a mail failure never fails the request.

Real database (SQLite, or PostgreSQL with PORTAL_TEST_DATABASE_URL), real files, a real
SMTP listener. Failures are real database failures: a trigger that refuses a row, a lock
or a killed connection at the moment of COMMIT.
"""

from __future__ import annotations

import io
import re
import socket
import sqlite3
import threading
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from flask import flash, redirect
from sqlalchemy import create_engine, event, func, select, text
from sqlalchemy.pool import NullPool

from portal import unit_of_work
from portal.extensions import db
from portal.models import (
    Enrollment,
    OutboxMessage,
    Ticket,
    TicketAttachment,
    TicketMessage,
    TrainingSession,
)
from portal.tickets import mail
from tests.conftest import TEST_DATABASE_URL
from tests.test_tickets_mail import SMTPServer

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
ET = ZoneInfo("America/New_York")
POSTGRES = TEST_DATABASE_URL.startswith("postgresql")


def ticket_form(**overrides) -> dict:
    return {"subject": "Export totals are wrong", "description": "Every report from Smith Road",
            "severity": "2", "product_area": "", "phone": "",
            "idempotency_key": "uow-key-0001"} | overrides


def with_screenshot(data: dict) -> dict:
    return data | {"attachments": (io.BytesIO(PNG), "screen.png")}


def count(app, model) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


def saved_files(app) -> list[Path]:
    return sorted(p for p in Path(app.config["ATTACHMENTS_DIR"]).glob("*") if p.is_file())


def sent_files(app) -> list[Path]:
    return sorted(Path(app.config["MAIL_OUTBOX_DIR"]).glob("*.eml"))


@pytest.fixture
def app(make_app, tmp_path):
    extra = {} if POSTGRES else {"SQLALCHEMY_ENGINE_OPTIONS": {"connect_args": {"timeout": 0.3}}}
    return make_app(ATTACHMENTS_DIR=str(tmp_path / "files"),
                    MAIL_OUTBOX_DIR=str(tmp_path / "outbox"), **extra)


@pytest.fixture
def customer(app, make_user):
    """A signed-in customer who has searched (the ticket form opens after a search)."""
    make_user(email="casey@acme.test", org="Acme Paving", name="Casey")
    client = app.test_client()
    client.post("/login", data={"email": "casey@acme.test", "password": "correct horse 1"})
    client.get("/search?q=export")
    return client


def engine_of(app):
    with app.app_context():
        return db.engine


@contextmanager
def commits_seen(app, log: list[str]):
    """Every COMMIT that reaches the database while the block runs, in `log`."""
    engine = engine_of(app)

    def seen(conn):
        log.append("commit")

    event.listen(engine, "commit", seen)
    try:
        yield log
    finally:
        event.remove(engine, "commit", seen)


@contextmanager
def database_refuses_attachments(app):
    """A trigger: the database refuses every attachment row (after the file is saved)."""
    engine = engine_of(app)
    with engine.begin() as conn:
        if POSTGRES:
            conn.execute(text("CREATE FUNCTION uow_refuse() RETURNS trigger LANGUAGE plpgsql "
                              "AS $$ BEGIN RAISE EXCEPTION 'attachments refused'; END $$"))
            conn.execute(text("CREATE TRIGGER uow_refuse BEFORE INSERT ON ticket_attachment "
                              "FOR EACH ROW EXECUTE FUNCTION uow_refuse()"))
        else:
            conn.execute(text("CREATE TRIGGER uow_refuse BEFORE INSERT ON ticket_attachment "
                              "BEGIN SELECT RAISE(ABORT, 'attachments refused'); END"))
    try:
        yield
    finally:
        with engine.begin() as conn:
            if POSTGRES:
                conn.execute(text("DROP TRIGGER uow_refuse ON ticket_attachment"))
                conn.execute(text("DROP FUNCTION uow_refuse()"))
            else:
                conn.execute(text("DROP TRIGGER uow_refuse"))


@contextmanager
def next_commit_fails(app):
    """The database goes away at the moment of the next COMMIT: PostgreSQL kills the
    connection; on SQLite another connection holds a read lock, so the commit times out."""
    engine = engine_of(app)
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    held: list = []
    fired = threading.Event()

    def break_it(conn):
        if fired.is_set():
            return
        fired.set()
        if POSTGRES:
            pid = conn.connection.dbapi_connection.info.backend_pid
            killer = create_engine(url, poolclass=NullPool)
            with killer.connect() as other:
                other.execute(text("SELECT pg_terminate_backend(:pid, 5000)"), {"pid": pid})
            killer.dispose()
        else:
            reader = sqlite3.connect(url.removeprefix("sqlite:///"), isolation_level=None)
            reader.execute("BEGIN")
            reader.execute("SELECT count(*) FROM ticket").fetchall()  # a shared lock
            held.append(reader)

    event.listen(engine, "commit", break_it)
    try:
        yield fired
    finally:
        event.remove(engine, "commit", break_it)
        for reader in held:
            reader.execute("ROLLBACK")
            reader.close()


# -- errors: nothing kept --------------------------------------------------------------------

def test_a_ticket_whose_saving_fails_after_its_attachment_was_stored_leaves_nothing(
        app, customer):
    with database_refuses_attachments(app):
        response = customer.post("/tickets/new", data=with_screenshot(ticket_form()),
                                 content_type="multipart/form-data")
    page = response.get_data(as_text=True)
    assert response.status_code == 503
    assert "Export totals are wrong" in page and "Every report from Smith Road" in page
    assert "Traceback" not in page
    assert count(app, Ticket) == count(app, TicketAttachment) == count(app, OutboxMessage) == 0
    assert saved_files(app) == []
    assert not Path(app.config["MAIL_OUTBOX_DIR"]).exists() or sent_files(app) == []


def test_a_reply_whose_commit_fails_after_its_attachment_was_stored_leaves_nothing(
        app, customer):
    filed = customer.post("/tickets/new", data=ticket_form())
    assert filed.status_code == 303
    ticket_url = filed.headers["Location"]
    messages_before, mail_before = count(app, TicketMessage), len(sent_files(app))
    with database_refuses_attachments(app):
        response = customer.post(ticket_url + "/reply", data=with_screenshot(
            {"body": "Here is the screenshot you asked for"}), content_type="multipart/form-data")
    page = response.get_data(as_text=True)
    assert response.status_code == 503
    assert "Here is the screenshot you asked for" in page  # kept for sending again
    assert count(app, TicketMessage) == messages_before
    assert count(app, TicketAttachment) == 0 and saved_files(app) == []
    assert len(sent_files(app)) == mail_before


def test_a_database_outage_at_commit_answers_503_keeps_the_text_and_says_nothing_was_filed(
        app, customer):
    with next_commit_fails(app) as fired:
        response = customer.post("/tickets/new", data=with_screenshot(ticket_form()),
                                 content_type="multipart/form-data")
    assert fired.is_set()
    page = response.get_data(as_text=True)
    assert response.status_code == 503
    assert "Nothing was filed" in page
    assert not re.search(r"Ticket #?\d+ filed", page)  # its own "filed" message is gone
    assert 'value="Export totals are wrong"' in page and "Every report from Smith Road" in page
    assert "Traceback" not in page and "OperationalError" not in page
    assert count(app, Ticket) == 0 and saved_files(app) == []
    assert not Path(app.config["MAIL_OUTBOX_DIR"]).exists() or sent_files(app) == []
    # The next page does not claim the ticket was filed; sending again files it once.
    assert not re.search(r"Ticket #?\d+ filed", customer.get("/tickets/").get_data(as_text=True))
    again = customer.post("/tickets/new", data=with_screenshot(ticket_form()),
                          content_type="multipart/form-data")
    assert again.status_code == 303
    assert count(app, Ticket) == 1 and len(saved_files(app)) == 1


# -- success: one commit, then the mail --------------------------------------------------------

class ObservingList(list):
    """The SMTP listener's inbox: looks at the database as each message arrives."""

    def __init__(self, look):
        super().__init__()
        self.look = look

    def append(self, item) -> None:
        self.look()
        super().append(item)


def test_a_filed_ticket_is_committed_once_and_its_mail_sent_only_after_the_commit(
        make_app, make_user, tmp_path):
    server = SMTPServer()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    app = make_app(SMTP_HOST="127.0.0.1", SMTP_PORT=server.server_address[1],
                   SMTP_STARTTLS=False, ATTACHMENTS_DIR=str(tmp_path / "files"))
    observer = create_engine(app.config["SQLALCHEMY_DATABASE_URI"], poolclass=NullPool)
    log: list[str] = []

    def look() -> None:  # from another connection: only what was committed
        with observer.connect() as conn:
            tickets = conn.scalar(text("SELECT count(*) FROM ticket"))
            waiting = conn.scalar(text("SELECT count(*) FROM mail_outbox WHERE sent_at IS NULL"))
        log.append(f"mail arrives: {tickets} ticket, {waiting} outbox row unsent")

    server.received = ObservingList(look)
    try:
        make_user(email="casey@acme.test", org="Acme Paving", name="Casey")
        client = app.test_client()
        client.post("/login", data={"email": "casey@acme.test", "password": "correct horse 1"})
        client.get("/search?q=export")
        with commits_seen(app, log):
            response = client.post("/tickets/new", data=with_screenshot(ticket_form()),
                                   content_type="multipart/form-data")
    finally:
        server.shutdown()
        server.server_close()
        observer.dispose()
    assert response.status_code == 303
    assert log == ["commit", "mail arrives: 1 ticket, 1 outbox row unsent", "commit"]
    with app.app_context():
        row = db.session.scalars(select(OutboxMessage)).one()
        assert row.sent_at is not None and row.attempts == 1  # the last commit recorded it
    assert b"We received your ticket" in server.received[0]


# -- form errors and refusals: nothing committed ------------------------------------------------

def test_a_form_error_commits_nothing(app, customer):
    log: list[str] = []
    with commits_seen(app, log):
        response = customer.post("/tickets/new", data=with_screenshot(
            ticket_form(description="")), content_type="multipart/form-data")
    assert response.status_code == 422
    assert 'value="Export totals are wrong"' in response.get_data(as_text=True)
    assert log == []
    assert count(app, Ticket) == 0 and saved_files(app) == []


@pytest.fixture
def app_with_a_form(app):
    """A view that queues a message, then answers as told: the rule, without the details
    of any one feature."""

    @app.post("/_uow/<answer>")
    def half_made(answer: str):
        mail.queue("someone@example.com", "About your request", "Hello")
        db.session.flush()  # half made: the row exists in this transaction
        if answer == "form-error":
            return "Please correct the form", 422
        if answer == "refused-but-recorded":
            unit_of_work.keep()
            return "Not now, but we noted it", 403
        if answer == "refused":
            unit_of_work.discard()
            flash("That cannot be done now.", "error")
        return redirect("/", code=303)

    return app


@pytest.mark.parametrize("answer, status, kept", [
    ("form-error", 422, 0), ("refused", 303, 0), ("done", 303, 1),
    ("refused-but-recorded", 403, 1)])
def test_only_a_request_that_succeeded_keeps_its_changes_and_sends_its_mail(
        app_with_a_form, answer, status, kept):
    app = app_with_a_form
    client = app.test_client()
    log: list[str] = []
    with commits_seen(app, log):
        response = client.post(f"/_uow/{answer}")
    assert response.status_code == status
    assert count(app, OutboxMessage) == kept
    assert len(sent_files(app)) == kept
    assert log == (["commit", "commit"] if kept else [])  # the work, then the delivery
    if answer == "refused":  # the refusal is still shown on the next page
        assert "That cannot be done now." in client.get("/").get_data(as_text=True)


# -- mail failures never fail the request -----------------------------------------------------

def test_a_mail_server_that_is_down_does_not_fail_an_enrollment_and_the_mail_waits(
        make_app, make_user):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed_port = sock.getsockname()[1]
    now = datetime(2026, 12, 1, 12, 0, tzinfo=ET)
    app = make_app(SMTP_HOST="127.0.0.1", SMTP_PORT=closed_port, SMTP_STARTTLS=False,
                   CLOCK=lambda: now)
    with app.app_context():
        session = TrainingSession(title="Bitumio basics", description="", capacity=5,
                                  starts_at=datetime(2026, 12, 10, 14, tzinfo=ET),
                                  duration_minutes=60, seats_taken=0, revision=0,
                                  joining_details="")
        db.session.add(session)
        db.session.commit()
        session_id = session.id
    make_user(email="ann@acme.example", name="Ann")
    client = app.test_client()
    client.post("/login", data={"email": "ann@acme.example", "password": "correct horse 1"})
    response = client.post(f"/training/{session_id}/enroll")
    assert response.status_code == 303
    assert "You are enrolled" in client.get(response.headers["Location"]).get_data(as_text=True)
    assert count(app, Enrollment) == 1
    with app.app_context():
        row = db.session.scalars(select(OutboxMessage)).one()
        assert row.recipient == "ann@acme.example" and row.sent_at is None
        assert row.attempts == 1 and "ConnectionRefusedError" in row.last_error


# -- records on the side ----------------------------------------------------------------------

def test_a_suggestion_opened_while_the_database_is_down_still_opens_the_article(tmp_path):
    from portal import create_app
    from tests.conftest import _base_config
    from tests.test_outage import unreachable_url

    down = create_app(_base_config(tmp_path) | {
        "SQLALCHEMY_DATABASE_URI": unreachable_url(tmp_path),
        "SQLALCHEMY_ENGINE_OPTIONS": {"connect_args": {"connect_timeout": 2}}
        if POSTGRES else {}})
    client = down.test_client()
    response = client.get("/tickets/suggested/technical-support-policy?subject=export")
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/articles/technical-support-policy")
