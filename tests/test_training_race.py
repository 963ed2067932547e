"""Capacity holds under concurrent enrollment: 20 people at once into 5 seats.

Runs on SQLite by default and on PostgreSQL when PORTAL_TEST_DATABASE_URL is set."""

from __future__ import annotations

import threading
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from portal.extensions import db
from portal.models import Enrollment, EnrollmentStatus, TrainingSession, User
from portal.training import service

ET = ZoneInfo("America/New_York")
NOW = datetime(2026, 12, 1, 12, 0, tzinfo=ET)


def run_together(app, work, arguments) -> list[BaseException]:
    """Start one thread per argument, release them at the same instant, collect errors."""
    barrier = threading.Barrier(len(arguments))
    errors: list[BaseException] = []

    def worker(argument):
        with app.app_context():
            try:
                barrier.wait(timeout=30)
                work(argument)
                db.session.commit()
            except BaseException as exc:  # reported by the test, never swallowed
                db.session.rollback()
                errors.append(exc)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=worker, args=(a,)) for a in arguments]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(t.is_alive() for t in threads), "a worker hung"
    return errors


def test_twenty_concurrent_enrollments_fill_five_seats_and_queue_fifteen(make_app, make_user):
    app = make_app(CLOCK=lambda: NOW)
    users = [make_user(email=f"crew{n:02d}@acme.example") for n in range(20)]
    with app.app_context():
        session = TrainingSession(title="Bitumio Field for foremen", description="",
                                  starts_at=datetime(2026, 12, 10, 14, tzinfo=ET),
                                  duration_minutes=45, capacity=5, seats_taken=0,
                                  joining_details="", revision=0)
        db.session.add(session)
        db.session.commit()
        session_id = session.id

    def enroll(user_id: int) -> None:
        service.enroll(session_id, db.session.get(User, user_id), NOW)

    errors = run_together(app, enroll, [u.id for u in users])
    assert errors == []
    with app.app_context():
        counts = dict(db.session.execute(
            select(Enrollment.status, func.count()).where(Enrollment.session_id == session_id)
            .group_by(Enrollment.status)).all())
        assert counts == {EnrollmentStatus.ENROLLED: 5, EnrollmentStatus.WAITLISTED: 15}
        assert db.session.get(TrainingSession, session_id).seats_taken == 5
        waitlist = list(db.session.scalars(
            select(Enrollment).where(Enrollment.session_id == session_id,
                                     Enrollment.status == EnrollmentStatus.WAITLISTED)
            .order_by(Enrollment.id)))
        assert [service.waitlist_position(e) for e in waitlist] == list(range(1, 16))
        first_five_waiting = [e.user_id for e in waitlist[:5]]
        seated = list(db.session.scalars(
            select(Enrollment.user_id).where(Enrollment.session_id == session_id,
                                              Enrollment.status == EnrollmentStatus.ENROLLED)))

    # Now every seated person cancels at once: the first five in line move up, in order.
    def cancel(user_id: int) -> None:
        service.cancel(session_id, db.session.get(User, user_id), NOW)

    assert run_together(app, cancel, seated) == []
    with app.app_context():
        now_seated = set(db.session.scalars(
            select(Enrollment.user_id).where(Enrollment.session_id == session_id,
                                              Enrollment.status == EnrollmentStatus.ENROLLED)))
        assert now_seated == set(first_five_waiting)
        assert db.session.get(TrainingSession, session_id).seats_taken == 5
        assert db.session.scalar(select(func.count()).select_from(Enrollment).where(
            Enrollment.session_id == session_id,
            Enrollment.status == EnrollmentStatus.WAITLISTED)) == 10
