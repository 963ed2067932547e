"""Texts written for the person reading them: agents and customers on a ticket waiting for
the customer, the response-targets panel before anything was answered, training seats."""

from __future__ import annotations

import re
from datetime import datetime
from html import unescape
from zoneinfo import ZoneInfo

from sqlalchemy import select

from portal.extensions import db
from portal.models import TrainingSession, User
from portal.tickets import service

ET = ZoneInfo("America/New_York")


def sign_in(client, email: str) -> None:
    client.post("/login", data={"email": email, "password": "correct horse 1"})


def file_ticket(app, email: str, severity: int = 3) -> int:
    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == email))
        ticket, _ = service.file_ticket(
            user, service.NewTicket("Export totals wrong", "Details.", severity, "k-1"),
            link=lambda t: "http://portal.test")
        db.session.commit()
        return ticket.id


def text_of(html: str) -> str:
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", html)))


def test_waiting_on_customer_reads_right_for_the_agent_and_for_the_customer(app, make_user):
    make_user(email="casey@acme.test", org="Acme Paving")
    make_user(email="alex@bitumio.test", role="agent")
    ticket_id = file_ticket(app, "casey@acme.test", severity=2)  # no target while waiting
    agent = app.test_client()
    sign_in(agent, "alex@bitumio.test")
    agent.post(f"/tickets/{ticket_id}/reply", data={
        "body": "Which report do you export?", "visibility": "public", "status": "waiting"})
    seen_by_agent = text_of(agent.get(f"/tickets/{ticket_id}").get_data(as_text=True))
    assert "we are waiting for your answer" not in seen_by_agent
    assert "Waiting on the customer's answer: no response deadline is running." in seen_by_agent
    customer = app.test_client()
    sign_in(customer, "casey@acme.test")
    seen_by_customer = text_of(customer.get(f"/tickets/{ticket_id}").get_data(as_text=True))
    assert "We are waiting for your answer. Reply below when you can." in seen_by_customer
    assert "Waiting on the customer" not in seen_by_customer


def test_an_open_ticket_with_no_target_left_does_not_claim_to_wait_for_the_customer(
        app, make_user):
    make_user(email="casey@acme.test", org="Acme Paving")
    make_user(email="alex@bitumio.test", role="agent")
    ticket_id = file_ticket(app, "casey@acme.test", severity=2)  # one target: first response
    client = app.test_client()
    sign_in(client, "alex@bitumio.test")
    client.post(f"/tickets/{ticket_id}/reply", data={"body": "Looking into it.",
                                                     "visibility": "public"})
    for email in ("alex@bitumio.test", "casey@acme.test"):
        sign_in(client, email)
        page = text_of(client.get(f"/tickets/{ticket_id}").get_data(as_text=True))
        assert "No further response target applies to this ticket." in page
        assert "waiting for your answer" not in page


def test_the_targets_panel_says_what_is_still_due_before_anything_was_answered(
        app, client, make_user):
    make_user(email="casey@acme.test", org="Acme Paving")
    ticket_id = file_ticket(app, "casey@acme.test")
    sign_in(client, "casey@acme.test")
    page = text_of(client.get(f"/tickets/{ticket_id}").get_data(as_text=True))
    assert "No deadline has been answered yet" not in page
    assert "Nothing answered yet: the first response is still due." in page


def add_session(app, capacity: int, taken: int = 0, title: str = "Basics") -> None:
    with app.app_context():
        db.session.add(TrainingSession(
            title=title, description="", duration_minutes=60, capacity=capacity,
            starts_at=datetime(2026, 12, 10, 14, 0, tzinfo=ET), seats_taken=taken, revision=0,
            joining_details=""))
        db.session.commit()


def seats_shown(client) -> list[str]:
    html = client.get("/training/").get_data(as_text=True)
    return [text_of(s).strip() for s in re.findall(r'<p class="seats[^"]*">(.*?)</p>', html)]


def test_training_seats_read_as_plain_english(make_app):
    app = make_app(CLOCK=lambda: datetime(2026, 12, 1, 12, 0, tzinfo=ET))
    add_session(app, 1, title="A")
    add_session(app, 10, 3, title="B")
    add_session(app, 10, 9, title="C")
    add_session(app, 5, 5, title="D")
    assert seats_shown(app.test_client()) == [
        "1 seat left of 1", "7 seats left of 10", "1 seat left of 10", "Full — waitlist open"]
