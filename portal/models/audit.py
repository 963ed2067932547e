"""The audit log: every change an administrator makes to people and organisations."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from portal.extensions import db
from portal.models.accounts import utcnow
from portal.models.types import UTCDateTime


class AuditEvent(db.Model):
    """Who changed what, from what to what, when. Names are copied in, so the row still
    reads right after the user or organisation is renamed or removed."""

    __tablename__ = "audit_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    actor_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL"), index=True)
    # The admin's address, or "command line (os-user)" for `flask users|orgs ...`.
    actor: Mapped[str] = mapped_column(String(300))
    action: Mapped[str] = mapped_column(String(60), index=True)  # e.g. "user.set_role"
    target_type: Mapped[str] = mapped_column(String(20), index=True)  # "user", "organisation"
    target_id: Mapped[int | None] = mapped_column(index=True)
    target: Mapped[str] = mapped_column(String(300))  # the address or name, as it was
    before: Mapped[dict] = mapped_column(JSON, default=dict)
    after: Mapped[dict] = mapped_column(JSON, default=dict)
