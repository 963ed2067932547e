"""Training sessions and enrollments: seats limited by capacity, a waitlist in order."""

from __future__ import annotations

import enum
from datetime import datetime, timedelta

from sqlalchemy import (
    CheckConstraint,
    Enum,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.extensions import db
from portal.models.accounts import User, utcnow
from portal.models.tickets import UTCDateTime


class EnrollmentStatus(enum.StrEnum):
    ENROLLED = "enrolled"
    WAITLISTED = "waitlisted"
    CANCELLED = "cancelled"


class TrainingSession(db.Model):
    """A live session. `seats_taken` counts enrolled users; the CHECK constraint makes an
    overbooked session impossible whatever the application does."""

    __tablename__ = "training_session"
    __table_args__ = (
        CheckConstraint("capacity >= 1", name="capacity_positive"),
        CheckConstraint("seats_taken >= 0 AND seats_taken <= capacity", name="seats_within"),
        CheckConstraint("duration_minutes >= 1", name="duration_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    duration_minutes: Mapped[int] = mapped_column(Integer)
    capacity: Mapped[int] = mapped_column(Integer)
    seats_taken: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    joining_details: Mapped[str] = mapped_column(Text, default="")  # link, dial-in; enrolled only
    revision: Mapped[int] = mapped_column(Integer, default=0, server_default="0")  # ICS SEQUENCE
    created_at: Mapped[datetime] = mapped_column(
        UTCDateTime(), default=utcnow, server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(
        UTCDateTime(), default=utcnow, server_default=func.now())

    enrollments: Mapped[list[Enrollment]] = relationship(
        back_populates="session", cascade="all, delete-orphan",
        order_by="Enrollment.id")

    @property
    def ends_at(self) -> datetime:
        return self.starts_at + timedelta(minutes=self.duration_minutes)

    @property
    def seats_left(self) -> int:
        return max(self.capacity - self.seats_taken, 0)


class Enrollment(db.Model):
    """One user's place in one session: a seat, a place on the waitlist, or cancelled.
    The waitlist is served in id order: ids are handed out while the session is locked,
    so they follow the order in which people joined. Enrolling again after cancelling
    replaces the row, which puts that person at the back of the line."""

    __tablename__ = "training_enrollment"
    __table_args__ = (UniqueConstraint("session_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(
        ForeignKey("training_session.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"),
                                         index=True)
    status: Mapped[EnrollmentStatus] = mapped_column(
        Enum(EnrollmentStatus, name="enrollment_status", native_enum=False, length=20,
             values_callable=lambda e: [m.value for m in e]), index=True)
    queued_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    promoted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(
        UTCDateTime(), default=utcnow, server_default=func.now())

    session: Mapped[TrainingSession] = relationship(back_populates="enrollments")
    user: Mapped[User] = relationship()
