"""Email domains of organisations: a customer whose *verified* address is at a domain an
organisation claims joins it (at verification, and when an admin adds the domain)."""

from __future__ import annotations

from sqlalchemy import select

from portal.admin import audit
from portal.extensions import db
from portal.models import Organisation, OrganisationDomain, Role, User


def normalise_domain(raw: str) -> str:
    """'@Example.COM ' -> 'example.com'; '' when it is not a plausible domain."""
    domain = raw.strip().lower().lstrip("@").rstrip(".")
    try:
        domain = domain.encode("idna").decode("ascii")
    except UnicodeError:
        return ""
    labels = domain.split(".")
    if len(domain) > 253 or len(labels) < 2 or not all(
            label and len(label) <= 63 and label.replace("-", "").isalnum()
            and not label.startswith("-") and not label.endswith("-") for label in labels):
        return ""
    return domain


def domain_of(email: str) -> str:
    return email.rpartition("@")[2].strip().lower()


def organisation_for(email: str) -> Organisation | None:
    """The organisation claiming this address's domain, if any."""
    domain = normalise_domain(domain_of(email))
    if not domain:
        return None
    return db.session.scalar(select(Organisation).join(OrganisationDomain)
                             .where(OrganisationDomain.domain == domain))


def may_join_by_domain(user: User) -> bool:
    """Only active customers in no organisation, whose address is verified."""
    return (user.role == Role.CUSTOMER and user.organisation_id is None and user.active
            and user.email_verified_at is not None)


def join_by_domain(user: User) -> Organisation | None:
    """Attach `user` to the organisation of their address's domain when the rules allow;
    the change is audited as automatic. The caller commits."""
    if not may_join_by_domain(user):
        return None
    org = organisation_for(user.email)
    if org is None:
        return None
    user.organisation = org
    audit.record(audit.Actor.automatic(f"verified address at {domain_of(user.email)}"),
                 "user.attach", user, {"organisation": None}, {"organisation": org.name})
    return org
