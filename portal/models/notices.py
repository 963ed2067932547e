"""Service notices: scheduled maintenance windows and unscheduled incidents, with updates."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Enum, ForeignKey, Integer, String, Text, func
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.extensions import db
from portal.models.accounts import User, utcnow
from portal.models.tickets import UTCDateTime


class NoticeKind(enum.StrEnum):
    MAINTENANCE = "maintenance"  # scheduled, announced ahead, only in off-hours
    INCIDENT = "incident"  # unscheduled outage or degradation (also emergency maintenance)

    @property
    def label(self) -> str:
        return "Scheduled maintenance" if self is NoticeKind.MAINTENANCE else "Service incident"


class Notice(db.Model):
    """One notice. Maintenance runs from `starts_at` to `ends_at` (both required);
    an incident started at `starts_at` and is ongoing until `ends_at` (its resolution)
    is set. `revision` grows with every edit or update, so a reader who dismissed the
    banner sees it again when something changed."""

    __tablename__ = "notice"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[NoticeKind] = mapped_column(
        Enum(NoticeKind, name="notice_kind", native_enum=False, length=20,
             values_callable=lambda e: [m.value for m in e]), index=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    ends_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
    revision: Mapped[int] = mapped_column(Integer, default=1)
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(
        UTCDateTime(), default=utcnow, server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(
        UTCDateTime(), default=utcnow, server_default=func.now())

    created_by: Mapped[User | None] = relationship()
    updates: Mapped[list[NoticeUpdate]] = relationship(
        back_populates="notice", order_by="NoticeUpdate.id", cascade="all, delete-orphan",
        lazy="selectin")

    @property
    def is_maintenance(self) -> bool:
        return self.kind == NoticeKind.MAINTENANCE


class NoticeUpdate(db.Model):
    """A timestamped progress note on a notice ("Identified", "Fix deployed", ...)."""

    __tablename__ = "notice_update"

    id: Mapped[int] = mapped_column(primary_key=True)
    notice_id: Mapped[int] = mapped_column(ForeignKey("notice.id", ondelete="CASCADE"),
                                           index=True)
    body: Mapped[str] = mapped_column(Text)
    author_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(
        UTCDateTime(), default=utcnow, server_default=func.now())

    notice: Mapped[Notice] = relationship(back_populates="updates")
    author: Mapped[User | None] = relationship()
