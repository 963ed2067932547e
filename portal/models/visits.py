"""What a visitor searched for and read before filing a ticket, kept on the server so that
the session cookie stays small (portal/search/gate.py)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from portal.extensions import db
from portal.models.accounts import utcnow
from portal.models.types import UTCDateTime


class VisitTrail(db.Model):
    """One search ("q") or article read ("a") of a visitor (the session's anonymous id);
    repeating it moves it to the end. Kept PORTAL_VISIT_TRAIL_HOURS."""

    __tablename__ = "visit_trail"
    __table_args__ = (UniqueConstraint("visitor", "kind", "value"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    visitor: Mapped[str] = mapped_column(String(64), index=True)
    kind: Mapped[str] = mapped_column(String(1))
    value: Mapped[str] = mapped_column(String(200))
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
