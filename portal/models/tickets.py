"""Tier 2 tickets: the ticket, its conversation, deadlines, attachments, mail and deflection."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import (
    JSON,
    Boolean,
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
from portal.models.accounts import Organisation, User, utcnow
from portal.models.types import UTCDateTime


def _enum(kind: type[enum.Enum], name: str) -> Enum:
    return Enum(kind, name=name, native_enum=False, length=20,
                values_callable=lambda e: [m.value for m in e])


class TicketStatus(enum.StrEnum):
    NEW = "new"
    OPEN = "open"
    WAITING = "waiting"
    RESOLVED = "resolved"
    CLOSED = "closed"

    @property
    def label(self) -> str:
        return "waiting on customer" if self is TicketStatus.WAITING else self.value

    @property
    def is_active(self) -> bool:
        return self not in (TicketStatus.RESOLVED, TicketStatus.CLOSED)


class MessageKind(enum.StrEnum):
    PUBLIC = "public"  # seen by the customer
    INTERNAL = "internal"  # agents only
    EVENT = "event"  # a logged change: severity, status, assignment


class Ticket(db.Model):
    __tablename__ = "ticket"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisation.id", ondelete="RESTRICT"), index=True)
    requester_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL"), index=True)
    assignee_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL"), index=True)
    subject: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text)
    severity: Mapped[int] = mapped_column(Integer)
    proposed_severity: Mapped[int] = mapped_column(Integer)
    product_area: Mapped[str] = mapped_column(String(200), default="")
    phone: Mapped[str] = mapped_column(String(40), default="")
    status: Mapped[TicketStatus] = mapped_column(
        _enum(TicketStatus, "ticket_status"), default=TicketStatus.NEW, index=True)
    idempotency_key: Mapped[str] = mapped_column(String(64), unique=True)
    searches: Mapped[list] = mapped_column(JSON, default=list)  # queries run before filing
    viewed_articles: Mapped[list] = mapped_column(JSON, default=list)  # slugs read before filing
    created_at: Mapped[datetime] = mapped_column(
        UTCDateTime(), default=utcnow, server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(
        UTCDateTime(), default=utcnow, server_default=func.now())
    first_response_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The earliest pending deadline, kept here so the queue sorts with one indexed column.
    next_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
    next_due_kind: Mapped[str] = mapped_column(String(20), default="")

    organisation: Mapped[Organisation] = relationship()
    requester: Mapped[User | None] = relationship(foreign_keys=[requester_id])
    assignee: Mapped[User | None] = relationship(foreign_keys=[assignee_id])
    messages: Mapped[list[TicketMessage]] = relationship(
        back_populates="ticket", order_by="TicketMessage.id", cascade="all, delete-orphan")
    deadlines: Mapped[list[TicketDeadline]] = relationship(
        back_populates="ticket", order_by="TicketDeadline.id", cascade="all, delete-orphan")
    attachments: Mapped[list[TicketAttachment]] = relationship(
        back_populates="ticket", order_by="TicketAttachment.id", cascade="all, delete-orphan")

    @property
    def number(self) -> str:
        return f"#{self.id}"


class TicketMessage(db.Model):
    __tablename__ = "ticket_message"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("ticket.id", ondelete="CASCADE"),
                                           index=True)
    author_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL"))
    kind: Mapped[MessageKind] = mapped_column(_enum(MessageKind, "message_kind"))
    body: Mapped[str] = mapped_column(Text)
    substantive: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(
        UTCDateTime(), default=utcnow, server_default=func.now())

    ticket: Mapped[Ticket] = relationship(back_populates="messages")
    author: Mapped[User | None] = relationship()
    attachments: Mapped[list[TicketAttachment]] = relationship(back_populates="message")


class TicketDeadline(db.Model):
    """One promised response time. Pending until met, missed, or set aside (e.g. severity
    changed); `explanation` says in plain words how `due_at` was computed."""

    __tablename__ = "ticket_deadline"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("ticket.id", ondelete="CASCADE"),
                                           index=True)
    kind: Mapped[str] = mapped_column(String(20))  # first_response, update, substantive
    severity: Mapped[int] = mapped_column(Integer)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime())
    due_at: Mapped[datetime] = mapped_column(UTCDateTime())
    explanation: Mapped[str] = mapped_column(Text)
    met_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    met: Mapped[bool | None] = mapped_column(Boolean)  # None while pending or set aside
    set_aside: Mapped[str] = mapped_column(String(40), default="")  # why it no longer applies
    created_at: Mapped[datetime] = mapped_column(
        UTCDateTime(), default=utcnow, server_default=func.now())

    ticket: Mapped[Ticket] = relationship(back_populates="deadlines")

    @property
    def pending(self) -> bool:
        return self.met_at is None and not self.set_aside


class TicketAttachment(db.Model):
    __tablename__ = "ticket_attachment"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("ticket.id", ondelete="CASCADE"),
                                           index=True)
    message_id: Mapped[int | None] = mapped_column(
        ForeignKey("ticket_message.id", ondelete="SET NULL"))
    uploaded_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL"))
    original_name: Mapped[str] = mapped_column(String(255))
    stored_name: Mapped[str] = mapped_column(String(80), unique=True)  # generated, on disk
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(
        UTCDateTime(), default=utcnow, server_default=func.now())

    ticket: Mapped[Ticket] = relationship(back_populates="attachments")
    message: Mapped[TicketMessage | None] = relationship(back_populates="attachments")


class SuggestionClick(db.Model):
    """A suggested article opened from the ticket form. If the same visit files no ticket,
    the visitor counts as deflected (the knowledge base answered them)."""

    __tablename__ = "ticket_suggestion_click"

    id: Mapped[int] = mapped_column(primary_key=True)
    visit: Mapped[str] = mapped_column(String(64), index=True)  # random id kept in the session
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL"))
    slug: Mapped[str] = mapped_column(String(200))
    subject: Mapped[str] = mapped_column(String(200), default="")  # what they had typed
    ticket_id: Mapped[int | None] = mapped_column(
        ForeignKey("ticket.id", ondelete="SET NULL"), index=True)  # filed in the same visit
    created_at: Mapped[datetime] = mapped_column(
        UTCDateTime(), default=utcnow, server_default=func.now(), index=True)
    # One row per reader, article, subject and PORTAL_EVENT_DEDUPE_MINUTES (see
    # portal/search/event_limits.py); NULL on rows recorded before.
    dedupe_key: Mapped[str | None] = mapped_column(String(32))
    dedupe_bucket: Mapped[int | None] = mapped_column(Integer)

    __table_args__ = (UniqueConstraint("dedupe_key", "dedupe_bucket"),)


class OutboxMessage(db.Model):
    """Mail waiting to go out. Saved with the ticket in one transaction, sent afterwards,
    retried until sent, so a mail server outage never loses or blocks a ticket."""

    __tablename__ = "mail_outbox"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int | None] = mapped_column(
        ForeignKey("ticket.id", ondelete="SET NULL"), index=True)
    recipient: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str] = mapped_column(String(500), default="")
    next_attempt_at: Mapped[datetime] = mapped_column(
        UTCDateTime(), default=utcnow, index=True)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
    created_at: Mapped[datetime] = mapped_column(
        UTCDateTime(), default=utcnow, server_default=func.now())
