"""Organisation rules: create, rename, email domains, suspending support, finding and
listing. Every change is audited (portal/admin/audit.py); callers commit."""

from __future__ import annotations

from sqlalchemy import Select, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from portal.admin import domains
from portal.admin.audit import Actor, record
from portal.admin.pages import Page, paginate
from portal.extensions import db
from portal.models import Organisation, OrganisationDomain, Role, Ticket, User

MAX_NAME = 200
MAX_REASON = 500
MAX_CONTACT = 300
STATUSES = {"": "Any status", "active": "Support active", "suspended": "Support suspended"}


class OrgError(ValueError):
    """A rule was broken; the message is safe to show to the user."""


# -- finding --------------------------------------------------------------------------------

def get(org_id: int) -> Organisation | None:
    return db.session.get(Organisation, org_id)


def by_name(name: str) -> Organisation | None:
    """The organisation with this name, ignoring case and surrounding spaces."""
    return db.session.scalar(select(Organisation).where(
        func.lower(Organisation.name) == name.strip().lower()))


def find(name_or_id: str) -> Organisation | None:
    """For the command line: a name (any case), else a number taken as the id."""
    org = by_name(name_or_id)
    if org is None and name_or_id.strip().isdigit():
        org = get(int(name_or_id.strip()))
    return org


def listing(q: str = "", status: str = "") -> Select:
    """Organisations whose name or one of whose domains contains `q`, with support
    `status` ("active", "suspended", or "" for any), ordered by name."""
    query = select(Organisation).options(selectinload(Organisation.domains))
    q = q.strip().lower()
    if q:
        domain_match = select(OrganisationDomain.id).where(
            OrganisationDomain.organisation_id == Organisation.id,
            OrganisationDomain.domain.contains(q, autoescape=True))
        query = query.where(or_(func.lower(Organisation.name).contains(q, autoescape=True),
                                domain_match.exists()))
    if status == "active":
        query = query.where(Organisation.support_suspended.is_(False))
    elif status == "suspended":
        query = query.where(Organisation.support_suspended.is_(True))
    return query.order_by(func.lower(Organisation.name), Organisation.id)


def search(q: str = "", status: str = "", page: int = 1, per_page: int = 25) -> Page:
    """One page of `listing(q, status)`; an unknown status means any."""
    return paginate(listing(q, status if status in STATUSES else ""), page, per_page)


def member_counts(orgs: list[Organisation]) -> dict[int, int]:
    ids = [org.id for org in orgs]
    if not ids:
        return {}
    rows = db.session.execute(select(User.organisation_id, func.count(User.id))
                              .where(User.organisation_id.in_(ids))
                              .group_by(User.organisation_id))
    return {org_id: count for org_id, count in rows}


def members(org: Organisation) -> Select:
    return select(User).where(User.organisation_id == org.id).order_by(
        func.lower(User.name), User.id)


def tickets(org: Organisation) -> Select:
    """The organisation's tickets, newest first."""
    return select(Ticket).where(Ticket.organisation_id == org.id).order_by(
        Ticket.created_at.desc(), Ticket.id.desc())


# -- changes --------------------------------------------------------------------------------

def _flush(message: str) -> None:
    """Flush; a unique constraint broken by a change made at the same moment elsewhere is
    an OrgError too (the caller rolls back)."""
    try:
        db.session.flush()
    except IntegrityError as exc:
        raise OrgError(message) from exc


def clean_name(raw: str, keep: Organisation | None = None) -> str:
    """The name trimmed; OrgError when empty, too long, or taken (ignoring case) by an
    organisation other than `keep`."""
    name = (raw or "").strip()
    if not name:
        raise OrgError("Enter the organisation's name.")
    if len(name) > MAX_NAME:
        raise OrgError(f"Keep the name to {MAX_NAME} characters or fewer.")
    if any(ord(ch) < 32 for ch in name):
        raise OrgError("The name cannot contain line breaks or control characters.")
    other = by_name(name)
    if other is not None and other is not keep:
        raise OrgError(f"An organisation called “{other.name}” already exists.")
    return name


def create(name: str, actor: Actor) -> Organisation:
    org = Organisation(name=clean_name(name), support_suspended=False,
                       suspension_reason="", suspension_contact="")
    db.session.add(org)
    _flush(f"An organisation called “{org.name}” already exists.")
    record(actor, "org.create", org, {}, {"name": org.name})
    return org


def rename(org: Organisation, new_name: str, actor: Actor) -> bool:
    """Rename; False when the name is unchanged (nothing is recorded)."""
    name = clean_name(new_name, keep=org)
    if name == org.name:
        return False
    before = org.name
    org.name = name
    _flush(f"An organisation called “{name}” already exists.")
    record(actor, "org.rename", org, {"name": before}, {"name": name})
    return True


def _domain_list(org: Organisation) -> str:
    return ", ".join(sorted(d.domain for d in org.domains))


def _clean_domain(raw: str) -> str:
    domain = domains.normalise_domain(raw or "")
    if not domain:
        shown = (raw or "").strip()[:80]
        raise OrgError(f"“{shown}” is not an email domain: enter one like example.com."
                       if shown else "Enter an email domain, like example.com.")
    return domain


def add_domain(org: Organisation, raw: str, actor: Actor) -> int:
    """Claim an email domain for `org`, then attach every active customer with a verified
    address at it who is in no organisation yet. Returns how many joined."""
    domain = _clean_domain(raw)
    owner = db.session.scalar(select(OrganisationDomain).where(
        OrganisationDomain.domain == domain))
    if owner is not None:
        if owner.organisation_id == org.id:
            raise OrgError(f"{domain} is already a domain of {org.name}.")
        raise OrgError(f"{domain} already belongs to {owner.organisation.name}: "
                       "remove it there first.")
    before = _domain_list(org)
    org.domains.append(OrganisationDomain(domain=domain))
    _flush(f"{domain} already belongs to another organisation.")
    record(actor, "org.add_domain", org, {"domains": before}, {"domains": _domain_list(org)})
    return sum(1 for user in _customers_at(domain) if domains.join_by_domain(user) is org)


def _customers_at(domain: str) -> list[User]:
    """Active, verified customers in no organisation whose address may be at `domain`
    (join_by_domain makes the exact check)."""
    forms = {domain}
    try:
        forms.add(domain.encode("ascii").decode("idna"))  # the address may use Unicode
    except UnicodeError:
        pass
    return list(db.session.scalars(select(User).where(
        User.role == Role.CUSTOMER, User.organisation_id.is_(None), User.active.is_(True),
        User.email_verified_at.is_not(None),
        or_(*(func.lower(User.email).endswith("@" + form, autoescape=True)
              for form in forms))).order_by(User.id)))


def remove_domain(org: Organisation, raw: str, actor: Actor) -> None:
    """Stop claiming a domain. People who joined through it stay members."""
    domain = domains.normalise_domain(raw or "") or (raw or "").strip()
    claimed = next((d for d in org.domains if d.domain == domain), None)
    if claimed is None:
        raise OrgError(f"{domain or 'That'} is not a domain of {org.name}.")
    before = _domain_list(org)
    org.domains.remove(claimed)
    db.session.flush()
    record(actor, "org.remove_domain", org, {"domains": before},
           {"domains": _domain_list(org)})


def _suspension(org: Organisation) -> dict[str, object]:
    return {"support_suspended": bool(org.support_suspended),
            "suspension_reason": org.suspension_reason or "",
            "suspension_contact": org.suspension_contact or ""}


def _changed(before: dict, after: dict) -> tuple[dict, dict]:
    keys = [key for key in after if before.get(key) != after[key]]
    return {k: before[k] for k in keys}, {k: after[k] for k in keys}


def suspend(org: Organisation, reason: str, contact: str | None, actor: Actor) -> bool:
    """Suspend support (or change the reason or contact of a suspension). Members see the
    reason and the contact and cannot file tickets. A `contact` of None keeps the one
    given before. False when nothing changed."""
    reason = (reason or "").strip()
    contact = (org.suspension_contact or "") if contact is None else contact.strip()
    if not reason:
        raise OrgError("Give a reason: the organisation's members will see it.")
    if len(reason) > MAX_REASON:
        raise OrgError(f"Keep the reason to {MAX_REASON} characters or fewer.")
    if len(contact) > MAX_CONTACT:
        raise OrgError(f"Keep the contact to {MAX_CONTACT} characters or fewer.")
    before = _suspension(org)
    org.support_suspended, org.suspension_reason, org.suspension_contact = True, reason, contact
    old, new = _changed(before, _suspension(org))
    if not new:
        return False
    db.session.flush()
    record(actor, "org.suspend", org, old, new)
    return True


def resume(org: Organisation, actor: Actor) -> bool:
    """Resume support; the reason and contact are cleared (the audit log keeps them).
    False when support was not suspended."""
    if not org.support_suspended:
        return False
    before = _suspension(org)
    org.support_suspended, org.suspension_reason, org.suspension_contact = False, "", ""
    old, new = _changed(before, _suspension(org))
    db.session.flush()
    record(actor, "org.resume", org, old, new)
    return True
