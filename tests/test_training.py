"""Training sessions: admins create them, users enroll or cancel, the waitlist moves up in
order, capacity is held by the database, enrolled users get a calendar invitation."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import icalendar
import pytest
from sqlalchemy import text, update
from sqlalchemy.exc import IntegrityError

from portal.extensions import db
from portal.models import Enrollment, EnrollmentStatus, OutboxMessage, TrainingSession

ET = ZoneInfo("America/New_York")
NOW = datetime(2026, 12, 1, 12, 0, tzinfo=ET)


@pytest.fixture
def app(make_app):
    return make_app(CLOCK=lambda: NOW, SITE_URL="https://help.bitumio.com")


def add_session(app, capacity: int = 2, starts: datetime | None = None,
                title: str = "Bitumio basics") -> int:
    with app.app_context():
        session = TrainingSession(
            title=title, description="Everything a new user needs.",
            starts_at=starts or datetime(2026, 12, 10, 14, 0, tzinfo=ET), duration_minutes=60,
            capacity=capacity, seats_taken=0, revision=0,
            joining_details="https://meet.example/bitumio-basics\nPasscode 4411")
        db.session.add(session)
        db.session.commit()
        return session.id


def client_for(app, make_user, email: str):
    make_user(email=email, name=email.split("@")[0].title())
    client = app.test_client()
    client.post("/login", data={"email": email, "password": "correct horse 1"})
    return client


def statuses(app, session_id: int) -> dict[str, str]:
    with app.app_context():
        rows = db.session.scalars(db.select(Enrollment).where(Enrollment.session_id == session_id))
        return {e.user.email: e.status.value for e in rows}


def test_admin_creates_a_session_that_users_see(app, make_user):
    admin = client_for(app, make_user, "ada@bitumio.com")
    with app.app_context():
        from portal.models import Role, User
        db.session.execute(update(User).values(role=Role.ADMIN))
        db.session.commit()
    response = admin.post("/training/new", data={
        "title": "Estimates and bids", "description": "For estimators.",
        "starts_at": "2026-12-15T13:00", "duration_minutes": "90", "capacity": "12",
        "joining_details": "https://meet.example/estimates"})
    assert response.status_code == 303
    page = app.test_client().get("/training/").get_data(as_text=True)
    assert "Estimates and bids" in page
    assert "Tuesday, Dec 15, 2026, 1:00 PM–2:30 PM ET" in page
    assert "12 seats left of 12" in page
    assert "meet.example" not in page  # joining details only for the enrolled


def test_session_form_refuses_bad_input_and_keeps_it(app, make_user):
    admin = client_for(app, make_user, "ada@bitumio.com")
    with app.app_context():
        from portal.models import Role, User
        db.session.execute(update(User).values(role=Role.ADMIN))
        db.session.commit()
    response = admin.post("/training/new", data={
        "title": "Basics", "starts_at": "2026-11-01T10:00", "duration_minutes": "60",
        "capacity": "0"})
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Between 1 and 10,000 seats." in page and 'value="Basics"' in page
    response = admin.post("/training/new", data={
        "title": "Basics", "starts_at": "2026-11-01T10:00", "duration_minutes": "60",
        "capacity": "5"})
    assert "in the past" in response.get_data(as_text=True)


def test_customers_cannot_manage_sessions(app, make_user):
    client = client_for(app, make_user, "cara@acme.example")
    assert client.get("/training/new").status_code == 403
    assert client.post("/training/1/edit", data={}).status_code in (403, 404)


def test_full_session_offers_a_waitlist_promoted_in_order(app, make_user):
    session_id = add_session(app, capacity=2)
    clients = {name: client_for(app, make_user, f"{name}@acme.example")
               for name in ("ann", "ben", "cat", "dan")}
    for name in ("ann", "ben", "cat", "dan"):
        clients[name].post(f"/training/{session_id}/enroll")
    assert statuses(app, session_id) == {
        "ann@acme.example": "enrolled", "ben@acme.example": "enrolled",
        "cat@acme.example": "waitlisted", "dan@acme.example": "waitlisted"}
    page = clients["dan"].get(f"/training/{session_id}").get_data(as_text=True)
    assert "You are number 2 on the waitlist." in page
    assert "Full — waitlist open" in page

    clients["ann"].post(f"/training/{session_id}/cancel")
    assert statuses(app, session_id)["cat@acme.example"] == "enrolled"
    assert statuses(app, session_id)["dan@acme.example"] == "waitlisted"
    assert "You are number 1 on the waitlist." in clients["dan"].get(
        f"/training/{session_id}").get_data(as_text=True)
    with app.app_context():
        mail = db.session.scalars(db.select(OutboxMessage).where(
            OutboxMessage.recipient == "cat@acme.example")).one()
        assert "A seat opened up and it is yours" in mail.body
        assert f"https://help.bitumio.com/training/{session_id}/invite.ics" in mail.body
        assert db.session.get(TrainingSession, session_id).seats_taken == 2

    # Back of the line after cancelling: Ann re-enrolls behind Dan.
    clients["ann"].post(f"/training/{session_id}/enroll")
    clients["ben"].post(f"/training/{session_id}/cancel")
    assert statuses(app, session_id) == {
        "ann@acme.example": "waitlisted", "ben@acme.example": "cancelled",
        "cat@acme.example": "enrolled", "dan@acme.example": "enrolled"}


def test_enrolling_twice_keeps_one_place(app, make_user):
    session_id = add_session(app, capacity=3)
    client = client_for(app, make_user, "ann@acme.example")
    client.post(f"/training/{session_id}/enroll")
    client.post(f"/training/{session_id}/enroll")
    with app.app_context():
        assert db.session.get(TrainingSession, session_id).seats_taken == 1


def test_more_capacity_moves_the_waitlist_up_and_less_is_refused(app, make_user):
    session_id = add_session(app, capacity=1)
    for name in ("ann", "ben", "cat"):
        client_for(app, make_user, f"{name}@acme.example").post(f"/training/{session_id}/enroll")
    admin = client_for(app, make_user, "ada@bitumio.com")
    with app.app_context():
        from portal.models import Role, User
        db.session.execute(update(User).where(User.email == "ada@bitumio.com")
                           .values(role=Role.ADMIN))
        db.session.commit()
    form = {"title": "Bitumio basics", "starts_at": "2026-12-10T14:00",
            "duration_minutes": "60", "capacity": "2", "joining_details": "link"}
    assert admin.post(f"/training/{session_id}/edit", data=form).status_code == 303
    assert statuses(app, session_id)["ben@acme.example"] == "enrolled"
    assert statuses(app, session_id)["cat@acme.example"] == "waitlisted"
    response = admin.post(f"/training/{session_id}/edit", data=form | {"capacity": "1"})
    assert response.status_code == 422
    assert "capacity cannot go below 2" in response.get_data(as_text=True)
    page = admin.get(f"/training/{session_id}").get_data(as_text=True)
    assert "Enrolled (2)" in page and "Waitlist (1)" in page


def test_enrolled_users_get_a_calendar_invitation(app, make_user):
    session_id = add_session(app, capacity=1)
    ann = client_for(app, make_user, "ann@acme.example")
    ben = client_for(app, make_user, "ben@acme.example")
    ann.post(f"/training/{session_id}/enroll")
    ben.post(f"/training/{session_id}/enroll")
    page = ann.get(f"/training/{session_id}").get_data(as_text=True)
    assert "https://meet.example/bitumio-basics" in page
    response = ann.get(f"/training/{session_id}/invite.ics")
    assert response.mimetype == "text/calendar"
    calendar = icalendar.Calendar.from_ical(response.data)
    assert str(calendar["method"]) == "REQUEST"
    event = calendar.walk("VEVENT")[0]
    assert event.decoded("dtstart") == datetime(2026, 12, 10, 14, 0, tzinfo=ET)
    assert event.decoded("dtend") - event.decoded("dtstart") == timedelta(minutes=60)
    assert str(event["attendee"]) == "mailto:ann@acme.example"
    assert str(event["organizer"]) == "mailto:support@bitumio.com"
    assert "Passcode 4411" in str(event["description"])
    assert ben.get(f"/training/{session_id}/invite.ics").status_code == 404  # waitlisted
    assert "meet.example" not in ben.get(f"/training/{session_id}").get_data(as_text=True)


def test_enrollment_closes_when_the_session_starts(app, make_user):
    session_id = add_session(app, starts=NOW - timedelta(minutes=5))
    client = client_for(app, make_user, "ann@acme.example")
    response = client.post(f"/training/{session_id}/enroll", follow_redirects=True)
    assert "already started" in response.get_data(as_text=True)
    assert statuses(app, session_id) == {}


def test_signed_out_readers_are_asked_to_sign_in(app):
    session_id = add_session(app)
    page = app.test_client().get("/training/").get_data(as_text=True)
    assert "Sign in to enroll" in page
    assert app.test_client().post(f"/training/{session_id}/enroll").status_code == 302


def test_enrolling_needs_a_csrf_token(make_app, make_user):
    app = make_app(CLOCK=lambda: NOW, WTF_CSRF_ENABLED=True)
    session_id = add_session(app)
    make_user(email="ann@acme.example")
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    token = page.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
    client.post("/login", data={"email": "ann@acme.example", "password": "correct horse 1",
                                "csrf_token": token})
    assert client.post(f"/training/{session_id}/enroll").status_code == 400
    assert statuses(app, session_id) == {}


def test_the_database_refuses_an_overbooked_session(app):
    session_id = add_session(app, capacity=2)
    with app.app_context():
        with pytest.raises(IntegrityError):
            db.session.execute(update(TrainingSession).where(TrainingSession.id == session_id)
                               .values(seats_taken=3))
            db.session.flush()
        db.session.rollback()
        with pytest.raises(IntegrityError):
            db.session.execute(text("UPDATE training_session SET seats_taken = -1"))
        db.session.rollback()
        assert db.session.get(TrainingSession, session_id).seats_taken == 0
    assert EnrollmentStatus.ENROLLED.value == "enrolled"
