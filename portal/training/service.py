"""Training rules: sessions, enrollment within capacity, a waitlist promoted in order.

Every change to a session's seats first locks that session: SELECT ... FOR UPDATE on
PostgreSQL, BEGIN IMMEDIATE (the database write lock) on SQLite. Concurrent enrollments
therefore run one after another, and a CHECK constraint (seats_taken <= capacity) makes an
overbooked session impossible even if a code path forgot the lock.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select

from portal.extensions import db
from portal.models import Enrollment, EnrollmentStatus, TrainingSession, User

ACTIVE = (EnrollmentStatus.ENROLLED, EnrollmentStatus.WAITLISTED)
MAX_DURATION = 8 * 60
MAX_CAPACITY = 10000


class TrainingError(ValueError):
    """A rule was broken; the message is safe to show."""


class SessionNotFound(TrainingError):
    pass


@dataclass
class SessionData:
    title: str
    description: str
    starts_at: datetime
    duration_minutes: int
    capacity: int
    joining_details: str


def check(data: SessionData, now: datetime, existing: TrainingSession | None = None) -> None:
    if not data.title.strip():
        raise TrainingError("Give the session a title.")
    if not 1 <= data.duration_minutes <= MAX_DURATION:
        raise TrainingError("A session lasts between 1 minute and 8 hours.")
    if not 1 <= data.capacity <= MAX_CAPACITY:
        raise TrainingError(f"Capacity must be between 1 and {MAX_CAPACITY}.")
    if existing is None and data.starts_at <= now:
        raise TrainingError("The start time is in the past. Check the date.")
    if existing is not None and data.capacity < existing.seats_taken:
        raise TrainingError(
            f"{existing.seats_taken} people already hold a seat, so capacity cannot go below "
            f"{existing.seats_taken}. Ask some of them to cancel first.")


def create(data: SessionData, now: datetime) -> TrainingSession:
    check(data, now)
    session = TrainingSession(
        title=data.title.strip(), description=data.description.strip(),
        starts_at=data.starts_at, duration_minutes=data.duration_minutes,
        capacity=data.capacity, joining_details=data.joining_details.strip(), seats_taken=0,
        revision=0, created_at=now, updated_at=now)
    db.session.add(session)
    db.session.flush()
    return session


def edit(session_id: int, data: SessionData, now: datetime) -> list[Enrollment]:
    """Change a session; more capacity promotes people from the waitlist (returned)."""
    session = lock(session_id)
    check(data, now, existing=session)
    session.title, session.description = data.title.strip(), data.description.strip()
    session.starts_at, session.duration_minutes = data.starts_at, data.duration_minutes
    session.capacity, session.joining_details = data.capacity, data.joining_details.strip()
    session.revision += 1
    session.updated_at = now
    return _promote(session, now)


def lock(session_id: int) -> TrainingSession:
    """Load the session for a change of seats, holding its lock until commit."""
    connection = db.session.connection()
    if connection.dialect.name == "sqlite":
        if not connection.connection.driver_connection.in_transaction:
            connection.exec_driver_sql("BEGIN IMMEDIATE")
        session = db.session.get(TrainingSession, session_id, populate_existing=True)
    else:
        session = db.session.scalar(
            select(TrainingSession).where(TrainingSession.id == session_id)
            .with_for_update().execution_options(populate_existing=True))
    if session is None:
        raise SessionNotFound("No such training session.")
    return session


def find(session_id: int) -> TrainingSession | None:
    return db.session.get(TrainingSession, session_id)


def enrollment_of(session_id: int, user_id: int) -> Enrollment | None:
    return db.session.scalar(select(Enrollment).where(
        Enrollment.session_id == session_id, Enrollment.user_id == user_id))


def enroll(session_id: int, user: User, now: datetime) -> Enrollment:
    """A seat if one is free, else a place at the end of the waitlist. Asking twice
    keeps the place already held."""
    session = lock(session_id)
    if session.starts_at <= now:
        raise TrainingError("This session has already started; enrollment is closed.")
    enrollment = enrollment_of(session_id, user.id)
    if enrollment is not None and enrollment.status in ACTIVE:
        return enrollment
    if enrollment is not None:  # cancelled earlier: back of the line, with a new number
        db.session.delete(enrollment)
        db.session.flush()
    status = (EnrollmentStatus.ENROLLED if session.seats_taken < session.capacity
              else EnrollmentStatus.WAITLISTED)
    enrollment = Enrollment(session_id=session_id, user_id=user.id, status=status,
                            queued_at=now, updated_at=now)
    db.session.add(enrollment)
    if status == EnrollmentStatus.ENROLLED:
        _add_seats(session, 1)
    db.session.flush()
    return enrollment


def cancel(session_id: int, user: User, now: datetime) -> tuple[Enrollment, list[Enrollment]]:
    """Give up a seat or a waitlist place; a freed seat goes to the first in line.
    Returns the cancelled enrollment and whoever was promoted."""
    session = lock(session_id)
    enrollment = enrollment_of(session_id, user.id)
    if enrollment is None or enrollment.status not in ACTIVE:
        raise TrainingError("You are not enrolled in this session.")
    had_seat = enrollment.status == EnrollmentStatus.ENROLLED
    enrollment.status, enrollment.updated_at = EnrollmentStatus.CANCELLED, now
    promoted: list[Enrollment] = []
    if had_seat:
        _add_seats(session, -1)
        db.session.flush()
        if session.starts_at > now:
            promoted = _promote(session, now)
    db.session.flush()
    return enrollment, promoted


def _add_seats(session: TrainingSession, change: int) -> None:
    """Count in SQL (seats_taken = seats_taken + 1), so the CHECK constraint sees the true
    total even if two writers ever raced past the lock."""
    session.seats_taken = TrainingSession.seats_taken + change


def _promote(session: TrainingSession, now: datetime) -> list[Enrollment]:
    """Fill free seats from the waitlist, first come first served. Caller holds the lock."""
    promoted = []
    while session.seats_taken < session.capacity:
        first = db.session.scalar(
            select(Enrollment)
            .where(Enrollment.session_id == session.id,
                   Enrollment.status == EnrollmentStatus.WAITLISTED)
            .order_by(Enrollment.id).limit(1))
        if first is None:
            break
        first.status, first.promoted_at, first.updated_at = (EnrollmentStatus.ENROLLED, now,
                                                             now)
        _add_seats(session, 1)
        db.session.flush()
        promoted.append(first)
    return promoted


def waitlist_position(enrollment: Enrollment) -> int | None:
    """1 for the first in line; None when not on the waitlist."""
    if enrollment.status != EnrollmentStatus.WAITLISTED:
        return None
    ahead = db.session.scalar(
        select(func.count()).select_from(Enrollment).where(
            Enrollment.session_id == enrollment.session_id,
            Enrollment.status == EnrollmentStatus.WAITLISTED, Enrollment.id < enrollment.id))
    return (ahead or 0) + 1


def roster(session_id: int) -> tuple[list[Enrollment], list[Enrollment]]:
    """(enrolled, waitlisted in order) for the admin view."""
    rows = list(db.session.scalars(
        select(Enrollment).where(Enrollment.session_id == session_id,
                                 Enrollment.status.in_(ACTIVE))
        .order_by(Enrollment.id)))
    return ([e for e in rows if e.status == EnrollmentStatus.ENROLLED],
            [e for e in rows if e.status == EnrollmentStatus.WAITLISTED])


def listing(now: datetime, include_past: bool = False) -> list[TrainingSession]:
    query = select(TrainingSession).order_by(TrainingSession.starts_at, TrainingSession.id)
    if not include_past:
        query = query.where(TrainingSession.starts_at > now - timedelta(hours=12))
    return list(db.session.scalars(query.limit(500)))


def my_enrollments(user: User, session_ids: list[int]) -> dict[int, Enrollment]:
    if not session_ids:
        return {}
    rows = db.session.scalars(select(Enrollment).where(
        Enrollment.user_id == user.id, Enrollment.session_id.in_(session_ids)))
    return {e.session_id: e for e in rows}
