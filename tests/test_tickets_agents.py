"""The agent side: queue order, overdue flags, replies, notes, severity and status changes,
and the deadlines each of them starts, meets or sets aside."""

from __future__ import annotations

import re
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from portal.calendar import policy_from_settings
from portal.extensions import db
from portal.models import Ticket, TicketStatus, User
from portal.tickets import service

ET = ZoneInfo("America/New_York")


def et(*args: int) -> datetime:
    return datetime(*args, tzinfo=ET)


@pytest.fixture
def people(make_user):
    return {
        "customer": make_user(email="casey@acme.test", org="Acme Paving", name="Casey"),
        "agent": make_user(email="alex@bitumio.test", role="agent", name="Alex Agent"),
        "other_agent": make_user(email="sam@bitumio.test", role="agent", name="Sam Agent"),
    }


def file_at(app, when: datetime | None, severity: int, subject: str) -> int:
    """File as the customer at a fixed moment (the service takes the clock as a parameter)."""
    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == "casey@acme.test"))
        ticket, created = service.file_ticket(
            user, service.NewTicket(subject, "Details.", severity, f"key-{subject}"),
            link=lambda t: f"http://portal.test/tickets/{t.id}", now=when)
        db.session.commit()
        return ticket.id


def load(app, ticket_id: int) -> Ticket:
    with app.app_context():
        ticket = db.session.get(Ticket, ticket_id)
        _ = ticket.deadlines, ticket.messages
        db.session.expunge_all()
        return ticket


def sign_in(client, email: str):
    client.post("/login", data={"email": email, "password": "correct horse 1"})


def queue_ids(client, **filters) -> list[int]:
    html = client.get("/tickets/queue", query_string=filters).get_data(as_text=True)
    return [int(n) for n in re.findall(r'data-ticket="(\d+)"', html)]


def test_the_queue_is_sorted_by_the_next_due_deadline_with_overdue_flagged(app, client, people):
    sev3 = file_at(app, et(2026, 11, 23, 10, 0), 3, "how-to")        # due Tue 24th 10:00
    sev1 = file_at(app, et(2026, 11, 24, 9, 0), 1, "outage")         # due Tue 24th 11:00
    sev2 = file_at(app, et(2026, 11, 23, 9, 0), 2, "bug")            # due Tue 24th 09:00
    fresh = file_at(app, None, 3, "filed now")                       # due in the future
    done = file_at(app, et(2026, 11, 20, 9, 0), 2, "finished")
    with app.app_context():
        agent = db.session.scalar(select(User).where(User.role == "agent"))
        service.set_status(db.session.get(Ticket, done), agent, TicketStatus.RESOLVED)
        db.session.commit()
    sign_in(client, people["agent"].email)
    assert queue_ids(client) == [sev2, sev3, sev1, fresh]
    html = client.get("/tickets/queue").get_data(as_text=True)
    assert "3 overdue" in html
    for ticket_id in (sev2, sev3, sev1):
        assert re.search(rf'class="row-overdue" data-ticket="{ticket_id}"', html)
    assert re.search(rf'class="" data-ticket="{fresh}"', html)
    assert queue_ids(client, severity="1") == [sev1]
    assert queue_ids(client, status="resolved") == [done]
    assert done in queue_ids(client, status="all")


def test_customers_cannot_open_the_queue_or_agent_controls(app, client, people):
    ticket_id = file_at(app, None, 3, "question")
    sign_in(client, people["customer"].email)
    assert client.get("/tickets/queue").status_code == 403
    assert client.post(f"/tickets/{ticket_id}/severity", data={"severity": "1"}).status_code == 404
    assert client.post(f"/tickets/{ticket_id}/status", data={"status": "closed"}).status_code == 404
    assert load(app, ticket_id).severity == 3


def test_changing_severity_recomputes_deadlines_and_logs_the_change(app, client, people):
    ticket_id = file_at(app, et(2026, 11, 24, 10, 0), 3, "slow exports")
    assert load(app, ticket_id).next_due_at == et(2026, 11, 25, 10, 0)
    sign_in(client, people["agent"].email)
    response = client.post(f"/tickets/{ticket_id}/severity", data={"severity": "1"})
    assert response.status_code == 303
    ticket = load(app, ticket_id)
    assert ticket.severity == 1 and ticket.proposed_severity == 3
    assert ticket.next_due_at == et(2026, 11, 24, 12, 0)  # 2 hours from filing, Sev 1 clock
    old, new = ticket.deadlines
    assert (old.severity, old.set_aside, old.met) == (3, "severity changed to 1", None)
    assert (new.severity, new.kind, new.due_at) == (1, "first_response", et(2026, 11, 24, 12, 0))
    log = [m.body for m in ticket.messages if m.kind == "event"]
    assert log == ["Severity changed from 3 to 1. Deadlines recomputed: first response now due "
                   "Tuesday, Nov 24, 2026 at 12:00 PM ET."]
    client.post(f"/tickets/{ticket_id}/severity", data={"severity": "2"})
    assert load(app, ticket_id).next_due_at == et(2026, 11, 25, 10, 0)
    sign_in(client, people["customer"].email)
    page = client.get(f"/tickets/{ticket_id}").get_data(as_text=True)
    assert "Severity changed from 3 to 1." in page  # the customer is told, too


def test_the_first_public_reply_meets_the_first_response_deadline(app, client, people):
    on_time = file_at(app, None, 2, "on time")
    late = file_at(app, et(2026, 11, 2, 9, 0), 2, "late")
    sign_in(client, people["agent"].email)
    for ticket_id in (on_time, late):
        client.post(f"/tickets/{ticket_id}/reply", data={"body": "Looking now.",
                                                         "visibility": "public"})
    answered = load(app, on_time)
    assert answered.first_response_at is not None
    assert [(d.kind, d.met) for d in answered.deadlines] == [("first_response", True)]
    assert answered.next_due_at is None and answered.status == TicketStatus.OPEN
    missed = load(app, late)
    assert [(d.kind, d.met) for d in missed.deadlines] == [("first_response", False)]
    sign_in(client, people["customer"].email)
    page = client.get(f"/tickets/{late}").get_data(as_text=True)
    assert "missed" in page and "Looking now." in page


def test_internal_notes_stay_with_agents_and_do_not_meet_deadlines(app, client, people):
    ticket_id = file_at(app, None, 2, "note")
    sign_in(client, people["agent"].email)
    client.post(f"/tickets/{ticket_id}/reply", data={"body": "Customer is on the old plan.",
                                                     "visibility": "internal"})
    ticket = load(app, ticket_id)
    assert ticket.first_response_at is None and ticket.next_due_kind == "first_response"
    assert "Customer is on the old plan." in client.get(f"/tickets/{ticket_id}").get_data(
        as_text=True)
    sign_in(client, people["customer"].email)
    assert "Customer is on the old plan." not in client.get(f"/tickets/{ticket_id}").get_data(
        as_text=True)


def test_severity_1_asks_for_an_update_every_hour_until_resolved(app, client, people):
    policy = policy_from_settings(app.config)
    ticket_id = file_at(app, None, 1, "down")
    sign_in(client, people["agent"].email)
    client.post(f"/tickets/{ticket_id}/reply", data={"body": "On it.", "visibility": "public"})
    ticket = load(app, ticket_id)
    assert ticket.next_due_kind == "update"
    assert ticket.next_due_at == policy.next_update(1, ticket.first_response_at).due
    client.post(f"/tickets/{ticket_id}/reply", data={"body": "Still working.",
                                                     "visibility": "public"})
    ticket = load(app, ticket_id)
    assert [(d.kind, d.met) for d in ticket.deadlines] == [
        ("first_response", True), ("update", True), ("update", None)]
    client.post(f"/tickets/{ticket_id}/reply", data={"body": "Can you try now?",
                                                     "visibility": "public",
                                                     "status": "waiting"})
    ticket = load(app, ticket_id)
    assert ticket.status == TicketStatus.WAITING and ticket.next_due_at is None
    sign_in(client, people["customer"].email)
    client.post(f"/tickets/{ticket_id}/reply", data={"body": "Still down here."})
    ticket = load(app, ticket_id)
    assert ticket.status == TicketStatus.OPEN and ticket.next_due_kind == "update"
    sign_in(client, people["agent"].email)
    client.post(f"/tickets/{ticket_id}/status", data={"status": "resolved"})
    ticket = load(app, ticket_id)
    assert ticket.next_due_at is None and ticket.resolved_at is not None
    assert ticket.deadlines[-1].set_aside == "resolved"


def test_severity_3_substantive_answer_is_due_3_business_days_after_the_first(app, client,
                                                                             people):
    policy = policy_from_settings(app.config)
    ticket_id = file_at(app, None, 3, "how do I")
    sign_in(client, people["agent"].email)
    client.post(f"/tickets/{ticket_id}/reply", data={"body": "Thanks, checking.",
                                                     "visibility": "public"})
    ticket = load(app, ticket_id)
    assert ticket.next_due_kind == "substantive"
    assert ticket.next_due_at == policy.substantive(3, ticket.first_response_at).due
    client.post(f"/tickets/{ticket_id}/reply", data={"body": "Here is how.",
                                                     "visibility": "public", "substantive": "y"})
    ticket = load(app, ticket_id)
    assert [(d.kind, d.met) for d in ticket.deadlines] == [
        ("first_response", True), ("substantive", True)]
    assert ticket.next_due_at is None


def test_assign_to_me_and_the_mine_filter(app, client, people):
    first = file_at(app, None, 2, "one")
    second = file_at(app, None, 2, "two")
    sign_in(client, people["agent"].email)
    assert client.post(f"/tickets/{second}/assign").status_code == 303
    assert load(app, second).assignee_id == people["agent"].id
    assert queue_ids(client, mine="y") == [second]
    assert first in queue_ids(client)
    page = client.get(f"/tickets/{second}").get_data(as_text=True)
    assert "Assigned to: <strong>Alex Agent</strong>" in page


def test_the_agent_sees_what_the_customer_searched_and_read(app, client, people):
    client.get("/search?q=export+totals")
    client.get("/articles/reset-your-password")
    sign_in(client, people["customer"].email)
    client.get("/tickets/new")
    client.post("/tickets/new", data={"subject": "Totals wrong", "description": "See subject.",
                                      "severity": "2", "product_area": "",
                                      "idempotency_key": "k-agent-view"})
    ticket_id = load(app, 1).id
    agent = app.test_client()
    sign_in(agent, people["agent"].email)
    page = agent.get(f"/tickets/{ticket_id}").get_data(as_text=True)
    assert "<li>export totals</li>" in page
    assert "/articles/reset-your-password" in page
