"""Signed-in sessions the server can end, and single-use links mailed to account owners."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Enum, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.extensions import db
from portal.models.accounts import User, utcnow
from portal.models.types import UTCDateTime


class UserSession(db.Model):
    """One signed-in browser. The session cookie holds a random id whose SHA-256 is `id`;
    a signed-in request counts only while this row exists (portal/accounts/sessions.py), so
    deleting it signs that browser out, whatever copy of the cookie is replayed."""

    __tablename__ = "user_session"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(
        ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    # "Firefox on Windows": shown on the account page so people recognise their sessions.
    browser: Mapped[str] = mapped_column(String(100), default="")

    user: Mapped[User] = relationship()


class TokenPurpose(enum.StrEnum):
    RESET = "reset"  # set a new password (forgotten, or an admin sent the link)
    INVITE = "invite"  # an account an admin created: choose a first password
    VERIFY = "verify"  # confirm the address given at registration
    WIDGET = "widget"  # sign in once from the help widget, for a customer the host vouched for


class AccountToken(db.Model):
    """A single-use link mailed to an account's address. Only the SHA-256 of the secret in
    the link is stored; `used_at` is set by the one request that redeems it."""

    __tablename__ = "account_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(
        ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    purpose: Mapped[TokenPurpose] = mapped_column(Enum(
        TokenPurpose, name="token_purpose", native_enum=False, length=10,
        values_callable=lambda e: [m.value for m in e]))
    # The address the link was sent to: a link stops working if the account's address changes.
    email: Mapped[str] = mapped_column(String(254))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    user: Mapped[User] = relationship()
