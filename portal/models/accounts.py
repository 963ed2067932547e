"""Accounts: users with a role, customers grouped in organisations."""

from __future__ import annotations

import enum
from datetime import UTC, datetime

from flask_login import UserMixin
from sqlalchemy import Boolean, DateTime, Enum, ForeignKey, String, func
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.extensions import db
from portal.models.types import UTCDateTime


def utcnow() -> datetime:
    return datetime.now(UTC)


class Role(enum.StrEnum):
    CUSTOMER = "customer"
    AGENT = "agent"
    EDITOR = "editor"
    ADMIN = "admin"


class Organisation(db.Model):
    __tablename__ = "organisation"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    support_suspended: Mapped[bool] = mapped_column(Boolean, default=False)
    suspension_reason: Mapped[str] = mapped_column(String(500), default="")
    # Whom the members should contact about a suspension (a name, address or phone).
    suspension_contact: Mapped[str] = mapped_column(String(300), default="", server_default="")
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, server_default=func.now())

    users: Mapped[list[User]] = relationship(back_populates="organisation")
    domains: Mapped[list[OrganisationDomain]] = relationship(
        back_populates="organisation", cascade="all, delete-orphan",
        order_by="OrganisationDomain.domain")


class OrganisationDomain(db.Model):
    """An email domain of an organisation: a customer whose verified address is at it joins
    the organisation (portal/admin/orgs.py). A domain belongs to one organisation."""

    __tablename__ = "organisation_domain"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisation.id", ondelete="CASCADE"), index=True)
    domain: Mapped[str] = mapped_column(String(253), unique=True)

    organisation: Mapped[Organisation] = relationship(back_populates="domains")


class User(UserMixin, db.Model):
    __tablename__ = "user_account"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[Role] = mapped_column(
        Enum(Role, native_enum=False, length=20, values_callable=lambda e: [m.value for m in e]),
        default=Role.CUSTOMER,
    )
    organisation_id: Mapped[int | None] = mapped_column(
        ForeignKey("organisation.id", ondelete="SET NULL"), index=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # None until the owner opens the link mailed at registration (or an admin vouches).
    email_verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, server_default=func.now())

    organisation: Mapped[Organisation | None] = relationship(back_populates="users")

    @property
    def is_active(self) -> bool:  # Flask-Login: a deactivated user cannot sign in
        return self.active

    def has_role(self, *roles: Role | str) -> bool:
        """Admins hold every role; others only their own."""
        return self.role == Role.ADMIN or self.role in {Role(r) for r in roles}

    @property
    def email_verified(self) -> bool:
        return self.email_verified_at is not None

    @property
    def is_staff(self) -> bool:
        return self.role in (Role.AGENT, Role.EDITOR, Role.ADMIN)
