"""One unit of work per request (portal.unit_of_work): what a request changed is committed
once at its end, or, on any error, rolled back with the files it saved deleted; its mail
goes out only after the commit, and a mail failure never fails the request.

Real database (SQLite, or PostgreSQL with PORTAL_TEST_DATABASE_URL), real files, a real
SMTP listener. Failures are real database failures: a trigger that refuses a row, a lock
or a killed connection at the moment of COMMIT.
"""

from __future__ import annotations

import email
import email.policy
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
    AccountToken,
    AuditEvent,
    Enrollment,
    Organisation,
    OutboxMessage,
    Ticket,
    TicketAttachment,
    TicketMessage,
    TrainingSession,
    User,
    UserSession,
)
from portal.models.login_throttle import LoginKnownNetwork, LoginThrottle
from portal.tickets import mail
from tests.conftest import TEST_DATABASE_URL
from tests.test_tickets_mail import SMTPServer

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
PASSWORD = "correct horse 1"
NEW_PASSWORD = "a brand new passphrase 2"
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
def database_refuses(app, table: str, operation: str = "INSERT"):
    """A trigger: the database refuses every row of `table` that `operation` (INSERT,
    UPDATE or DELETE) reaches it with, at the moment it does."""
    engine = engine_of(app)
    name = f"uow_refuse_{table}_{operation.lower()}"
    with engine.begin() as conn:
        if POSTGRES:
            conn.execute(text(f"CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql "
                              f"AS $$ BEGIN RAISE EXCEPTION '{table} refused'; END $$"))
            conn.execute(text(f"CREATE TRIGGER {name} BEFORE {operation} ON {table} "
                              f"FOR EACH ROW EXECUTE FUNCTION {name}()"))
        else:
            conn.execute(text(f"CREATE TRIGGER {name} BEFORE {operation} ON {table} "
                              f"BEGIN SELECT RAISE(ABORT, '{table} refused'); END"))
    try:
        yield
    finally:
        with engine.begin() as conn:
            if POSTGRES:
                conn.execute(text(f"DROP TRIGGER {name} ON {table}"))
                conn.execute(text(f"DROP FUNCTION {name}()"))
            else:
                conn.execute(text(f"DROP TRIGGER {name}"))


def database_refuses_attachments(app):
    """The database refuses every attachment row (after the file is saved)."""
    return database_refuses(app, "ticket_attachment")


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


@contextmanager
def mail_watched(make_app, counts: dict[str, str], **config):
    """An app whose mail goes to a real SMTP listener. As each message arrives, the rows
    each of `counts` selects (name: "FROM ... WHERE ...") are counted on another
    connection, which sees only what was committed, and the counts noted in the log that
    commits_seen(app, log) writes the COMMITs to. Yields (app, listener, log)."""
    server = SMTPServer()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    app = make_app(SMTP_HOST="127.0.0.1", SMTP_PORT=server.server_address[1],
                   SMTP_STARTTLS=False, **config)
    observer = create_engine(app.config["SQLALCHEMY_DATABASE_URI"], poolclass=NullPool)
    log: list[str] = []

    def look() -> None:
        with observer.connect() as conn:
            seen = {name: conn.scalar(text(f"SELECT count(*) {rows}"))
                    for name, rows in counts.items()}
        log.append("mail arrives: " + ", ".join(f"{name}={n}" for name, n in seen.items()))

    server.received = ObservingList(look)
    try:
        yield app, server, log
    finally:
        server.shutdown()
        server.server_close()
        observer.dispose()


UNSENT = "FROM mail_outbox WHERE sent_at IS NULL"


def mail_text(raw: bytes) -> str:
    return email.message_from_bytes(raw, policy=email.policy.default).get_body().get_content()


def test_a_filed_ticket_is_committed_once_and_its_mail_sent_only_after_the_commit(
        make_app, make_user, tmp_path):
    with mail_watched(make_app, {"tickets": "FROM ticket", "unsent": UNSENT},
                      ATTACHMENTS_DIR=str(tmp_path / "files")) as (app, server, log):
        make_user(email="casey@acme.test", org="Acme Paving", name="Casey")
        client = app.test_client()
        client.post("/login", data={"email": "casey@acme.test", "password": PASSWORD})
        client.get("/search?q=export")
        with commits_seen(app, log):
            response = client.post("/tickets/new", data=with_screenshot(ticket_form()),
                                   content_type="multipart/form-data")
    assert response.status_code == 303
    assert log == ["commit", "mail arrives: tickets=1, unsent=1", "commit"]
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


# -- accounts and the admin console -------------------------------------------------------------

def signed_in(app, email_address: str):
    """A browser of its own, signed in as `email_address`."""
    browser = app.test_client()
    response = browser.post("/login", data={"email": email_address, "password": PASSWORD})
    assert response.status_code == 302, "sign-in failed"
    return browser


def signed_in_as(browser, name: str) -> bool:
    return name in browser.get("/").get_data(as_text=True)


def test_a_password_change_whose_notice_cannot_be_queued_changes_nothing(app, make_user):
    make_user(email="pat@acme.test", name="Pat Doe")
    laptop, phone = signed_in(app, "pat@acme.test"), signed_in(app, "pat@acme.test")
    with database_refuses(app, "mail_outbox"):
        response = phone.post("/account/password", data={
            "current_password": PASSWORD, "password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert response.status_code == 500
    assert "Traceback" not in response.get_data(as_text=True)
    # Nothing half done: the other browser was not signed out, no page says the password
    # changed, the old password still works and the new one does not.
    assert signed_in_as(laptop, "Pat Doe") and signed_in_as(phone, "Pat Doe")
    assert "Your password is changed" not in phone.get("/account").get_data(as_text=True)
    assert count(app, UserSession) == 2
    refused = app.test_client().post("/login", data={"email": "pat@acme.test",
                                                     "password": NEW_PASSWORD})
    assert refused.status_code == 200 and "do not match" in refused.get_data(as_text=True)
    signed_in(app, "pat@acme.test")
    assert count(app, OutboxMessage) == 0 and sent_files(app) == []


def test_a_reset_link_is_mailed_only_once_it_is_stored(make_app, make_user):
    with mail_watched(make_app, {"links": "FROM account_token", "unsent": UNSENT}) as (
            app, server, log):
        make_user(email="pat@acme.test", name="Pat Doe")
        client = app.test_client()
        with commits_seen(app, log):
            response = client.post("/forgot", data={"email": "pat@acme.test"})
    assert response.status_code == 200
    assert log == ["commit", "mail arrives: links=1, unsent=1", "commit"]
    link = re.search(r"http://localhost(/reset/\S+)", mail_text(server.received[0])).group(1)
    assert "Choose a new password" in client.get(link).get_data(as_text=True)


def test_a_sign_in_that_fails_after_the_password_check_still_counts_the_attempt(
        app, make_user):
    """A browser and network that never signed in to the account: the attempt is counted,
    and committed, before the password is checked, so a request that fails after the
    check is no free guess. Of the sign-in itself nothing is left."""
    sam = make_user(email="sam@acme.test", name="Sam Stone")
    stranger = app.test_client()
    with database_refuses(app, "user_session"):
        response = stranger.post("/login", data={"email": "sam@acme.test",
                                                 "password": PASSWORD})
    assert response.status_code == 500
    assert not signed_in_as(stranger, "Sam Stone")
    with app.app_context():
        assert db.session.scalar(select(LoginThrottle.failures)) == 1
        assert db.session.get(User, sam.id).last_login_at is None
    assert count(app, UserSession) == count(app, LoginKnownNetwork) == 0
    # Signing in afterwards works, and gives its own attempt back.
    assert signed_in_as(signed_in(app, "sam@acme.test"), "Sam Stone")
    with app.app_context():
        assert db.session.scalar(select(LoginThrottle.failures)) is None  # within the allowance


def test_signing_out_works_even_when_the_database_refuses_to_end_the_session(app, make_user):
    make_user(email="sam@acme.test", name="Sam Stone")
    browser = signed_in(app, "sam@acme.test")
    with database_refuses(app, "user_session", "DELETE"):
        response = browser.post("/logout")
        assert response.status_code == 302
        page = browser.get(response.headers["Location"]).get_data(as_text=True)
    assert "You are signed out." in page
    assert not signed_in_as(browser, "Sam Stone")


def test_a_deactivation_whose_audit_row_is_refused_leaves_the_person_as_they_were(
        app, make_user):
    make_user(email="ada@acme.test", role="admin", name="Ada Admin")
    sam = make_user(email="sam@acme.test", name="Sam Stone")
    admin, sams_browser = signed_in(app, "ada@acme.test"), signed_in(app, "sam@acme.test")
    assert admin.post(f"/admin/users/{sam.id}/reset-link").status_code == 303  # a live link
    with database_refuses(app, "audit_event"):
        response = admin.post(f"/admin/users/{sam.id}/deactivate")
    assert response.status_code == 500
    # Nothing half done: still active, still signed in, the mailed link still unused.
    assert signed_in_as(sams_browser, "Sam Stone")
    with app.app_context():
        assert db.session.get(User, sam.id).active
        assert db.session.scalars(select(AccountToken.used_at)).all() == [None]
        assert db.session.scalars(select(AuditEvent.action)).all() == ["user.reset_link"]
    assert "is deactivated" not in admin.get(f"/admin/users/{sam.id}").get_data(as_text=True)


def test_an_invitation_is_mailed_only_once_the_account_and_its_link_are_stored(
        make_app, make_user):
    counts = {"people": "FROM user_account WHERE email = 'nia@acme.test'",
              "links": "FROM account_token", "audited": "FROM audit_event", "unsent": UNSENT}
    with mail_watched(make_app, counts) as (app, server, log):
        make_user(email="ada@acme.test", role="admin", name="Ada Admin")
        admin = signed_in(app, "ada@acme.test")
        with commits_seen(app, log):
            response = admin.post("/admin/users/new", data={
                "name": "Nia New", "email": "nia@acme.test", "role": "customer",
                "organisation": ""})
    assert response.status_code == 303
    assert log == ["commit", "mail arrives: people=1, links=1, audited=1, unsent=1", "commit"]
    link = re.search(r"http://localhost(/reset/\S+)", mail_text(server.received[0])).group(1)
    assert "nia@acme.test" in app.test_client().get(link).get_data(as_text=True)


def test_a_database_outage_when_an_admin_renames_an_organisation_keeps_what_they_typed(
        app, make_user):
    make_user(email="casey@acme.test", org="Acme Paving", name="Casey")
    make_user(email="ada@acme.test", role="admin", name="Ada Admin")
    with app.app_context():
        org_id = db.session.scalar(select(Organisation.id))
    admin = signed_in(app, "ada@acme.test")
    with next_commit_fails(app) as fired:
        response = admin.post(f"/admin/organisations/{org_id}/rename",
                              data={"rename-name": "Acme Roads"})
    assert fired.is_set()
    page = response.get_data(as_text=True)
    assert response.status_code == 503
    assert "nothing was saved" in page and 'value="Acme Roads"' in page
    assert "Traceback" not in page
    with app.app_context():
        assert db.session.get(Organisation, org_id).name == "Acme Paving"
        assert db.session.scalars(select(AuditEvent.action)).all() == []
    assert "Renamed" not in admin.get(f"/admin/organisations/{org_id}").get_data(as_text=True)
