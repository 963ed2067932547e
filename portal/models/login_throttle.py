"""Sign-in throttling kept in the database, so every worker sees the same counts."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from portal.extensions import db
from portal.models.accounts import utcnow
from portal.models.tickets import UTCDateTime


class LoginThrottle(db.Model):
    """Sign-in attempts at one account name (existing or not) from browsers and networks
    that never signed in to it, since its last success. Keyed by an HMAC of the address,
    so the addresses people mistype are not kept."""

    __tablename__ = "login_throttle"

    id: Mapped[int] = mapped_column(primary_key=True)
    account_key: Mapped[str] = mapped_column(String(64), unique=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    last_failed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime())


class LoginKnownNetwork(db.Model):
    """A network (an IPv4 address or an IPv6 /64, as an HMAC) that signed in to an account."""

    __tablename__ = "login_known_network"
    __table_args__ = (UniqueConstraint("user_id", "network_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
    network_key: Mapped[str] = mapped_column(String(64))
    last_success_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
