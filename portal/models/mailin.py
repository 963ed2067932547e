"""Incoming support mail: one row per message received, whatever became of it."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import JSON, Enum, ForeignKey, String, Text, func
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.extensions import db
from portal.models.accounts import User, utcnow
from portal.models.tickets import Ticket, UTCDateTime


class MailOutcome(enum.StrEnum):
    TICKET = "ticket"  # a new ticket was filed
    REPLY = "reply"  # added to an existing ticket
    HELD = "held"  # waiting in the agents' review list
    FILED = "filed"  # held, then filed as a ticket by an agent
    DISMISSED = "dismissed"  # held, then dismissed by an agent
    MALFORMED = "malformed"  # could not be read; the raw file was moved aside
    IGNORED = "ignored"  # an auto-reply or our own mail (loop protection)

    @property
    def label(self) -> str:
        return {"ticket": "New ticket", "reply": "Reply added", "held": "Waiting for review",
                "filed": "Filed by an agent", "dismissed": "Dismissed",
                "malformed": "Malformed", "ignored": "Ignored (auto-reply)"}[self.value]


class IncomingMail(db.Model):
    """A message the email channel received. Held messages keep their raw file under
    instance/mailin/held so an agent can still file them with their attachments."""

    __tablename__ = "mailin_message"

    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[str] = mapped_column(String(255), unique=True)  # header, or a hash
    sender: Mapped[str] = mapped_column(String(254), default="", index=True)
    sender_name: Mapped[str] = mapped_column(String(200), default="")
    subject: Mapped[str] = mapped_column(String(300), default="")
    body: Mapped[str] = mapped_column(Text, default="")
    attachment_names: Mapped[list] = mapped_column(JSON, default=list)
    outcome: Mapped[MailOutcome] = mapped_column(
        Enum(MailOutcome, name="mail_outcome", native_enum=False, length=20,
             values_callable=lambda e: [m.value for m in e]), index=True)
    reason: Mapped[str] = mapped_column(String(500), default="")  # why held, malformed, ...
    raw_path: Mapped[str] = mapped_column(String(500), default="")  # held/ or malformed/ file
    ticket_id: Mapped[int | None] = mapped_column(
        ForeignKey("ticket.id", ondelete="SET NULL"), index=True)
    handled_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL"))
    received_at: Mapped[datetime] = mapped_column(
        UTCDateTime(), default=utcnow, server_default=func.now(), index=True)
    handled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    ticket: Mapped[Ticket | None] = relationship()
    handled_by: Mapped[User | None] = relationship()
