"""People: the rules behind every change an administrator makes to a user account, from
the console (portal/admin/user_views.py) or the command line (`flask users ...`).

Each change writes an audit row (portal/admin/audit.py) with the fields it changed, never
a password or a link. Nothing here commits: a console page's changes are committed when
it answers, and the mail queued goes after that (portal.unit_of_work); a command commits,
then sends the mail returned (portal.tickets.mail.send_now).

Rules kept here:
- the portal always keeps at least one active admin: the last one cannot be demoted or
  deactivated;
- nobody deactivates their own account;
- deactivating ends every session of the user and cancels their unused mailed links;
- an invited account has no usable password until its owner follows the invitation; its
  address counts as confirmed (an admin vouched for it).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, func, or_, select, update
from sqlalchemy.orm import selectinload

from portal.accounts import links, sessions
from portal.accounts.service import AccountError, create_user, normalise_email
from portal.admin import audit, domains
from portal.admin.audit import Actor
from portal.admin.pages import Page, paginate
from portal.extensions import db
from portal.models import (
    AccountToken,
    AuditEvent,
    Organisation,
    OutboxMessage,
    Role,
    Ticket,
    TokenPurpose,
    User,
)
from portal.models.accounts import utcnow

STATUSES = {"": "Any status", "active": "Active", "deactivated": "Deactivated",
            "unverified": "Address unconfirmed"}
NO_ORGANISATION = "none"


class PeopleError(ValueError):
    """A change was refused; the message says why, in words safe to show an admin.
    `field` names the form field it is about ("email", "organisation", "role"), if any."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


# -- finding people and organisations ----------------------------------------------------

def find(email_or_id: str | int) -> User | None:
    """The user with this address (any case) or id, or None."""
    if isinstance(email_or_id, int):
        return db.session.get(User, email_or_id)
    text = str(email_or_id).strip()
    if text.isdigit() and "@" not in text:
        return db.session.get(User, int(text))
    return db.session.scalar(select(User).where(User.email == normalise_email(text)))


def require(email_or_id: str | int) -> User:
    """Like find, but PeopleError when there is nobody."""
    user = find(email_or_id)
    if user is None:
        raise PeopleError(f"No user with the address or id {str(email_or_id).strip()!r}.")
    return user


def find_organisation(name_or_id: str | int | Organisation) -> Organisation:
    """The organisation with this name (any case) or id; PeopleError when there is none."""
    if isinstance(name_or_id, Organisation):
        return name_or_id
    text = str(name_or_id).strip()
    org = None
    if text:
        org = db.session.scalar(select(Organisation).where(
            func.lower(Organisation.name) == text.lower()))
        if org is None and text.isdigit():
            org = db.session.get(Organisation, int(text))
    if org is None:
        raise PeopleError(f"No organisation named {text!r}. Check the name, or create the "
                          "organisation first.", "organisation")
    return org


def organisations() -> list[Organisation]:
    """Every organisation, by name (for the console's choices)."""
    return list(db.session.scalars(select(Organisation).order_by(func.lower(Organisation.name))))


def parse_role(raw: Role | str) -> Role:
    try:
        return Role(str(raw).strip().lower())
    except ValueError:
        choices = ", ".join(r.value for r in Role)
        raise PeopleError(f"Unknown role {str(raw)!r}: choose one of {choices}.",
                          "role") from None


def _like(text: str) -> str:
    escaped = text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def search_query(q: str = "", role: str = "", organisation: str = "",
                 status: str = "") -> Select:
    """People matching the filters, by address. Unknown filter values are ignored."""
    query = select(User).options(selectinload(User.organisation))
    q = (q or "").strip()
    if q:
        pattern = _like(q)
        query = query.where(or_(func.lower(User.name).like(pattern, escape="\\"),
                                func.lower(User.email).like(pattern, escape="\\")))
    if role in {r.value for r in Role}:
        query = query.where(User.role == Role(role))
    if organisation == NO_ORGANISATION:
        query = query.where(User.organisation_id.is_(None))
    elif organisation and organisation.isdigit():
        query = query.where(User.organisation_id == int(organisation))
    if status == "active":
        query = query.where(User.active.is_(True))
    elif status == "deactivated":
        query = query.where(User.active.is_(False))
    elif status == "unverified":
        query = query.where(User.email_verified_at.is_(None))
    return query.order_by(User.email, User.id)


def search(q: str = "", role: str = "", organisation: str = "", status: str = "",
           page: int = 1, per_page: int = 25) -> Page:
    """One page of people matching the filters (name or address containing `q`, any case;
    `organisation` an id or "none"; status "", "active", "deactivated" or "unverified")."""
    return paginate(search_query(q, role, organisation, status), page, per_page)


def tickets_of(user: User, limit: int = 20) -> tuple[list[Ticket], int]:
    """The latest tickets the user filed, and how many they filed in all."""
    where = Ticket.requester_id == user.id
    total = db.session.scalar(select(func.count()).select_from(Ticket).where(where)) or 0
    latest = list(db.session.scalars(
        select(Ticket).where(where).options(selectinload(Ticket.organisation))
        .order_by(Ticket.created_at.desc(), Ticket.id.desc()).limit(limit)))
    return latest, total


def history_of(user: User, limit: int = 20) -> list[AuditEvent]:
    """The latest audit rows about this user."""
    return list(db.session.scalars(
        select(AuditEvent).where(AuditEvent.target_type == "user",
                                 AuditEvent.target_id == user.id)
        .order_by(AuditEvent.created_at.desc(), AuditEvent.id.desc()).limit(limit)))


# -- the last admin ------------------------------------------------------------------------

def _is_last_active_admin(user: User) -> bool:
    if user.role != Role.ADMIN or not user.active:
        return False
    # Lock the other admins' rows (PostgreSQL) so two admins cannot demote each other at once.
    others = db.session.scalars(select(User.id).where(
        User.role == Role.ADMIN, User.active.is_(True), User.id != user.id).with_for_update())
    return not list(others)


def _refuse_last_admin(user: User, doing: str) -> None:
    if _is_last_active_admin(user):
        raise PeopleError(f"{user.email} is the only active admin, so you cannot {doing}. "
                          "Make someone else an admin first.")


# -- changes ---------------------------------------------------------------------------------

def set_role(user: User, role: Role | str, actor: Actor) -> bool:
    """Give `user` another role. False when it already had it (nothing recorded)."""
    new = parse_role(role)
    if user.role == new:
        return False
    if new != Role.ADMIN:
        _refuse_last_admin(user, f"make them {_a(new)}")
    before = {"role": Role(user.role).value}
    user.role = new
    audit.record(actor, "user.set_role", user, before, {"role": new.value})
    return True


def _a(role: Role) -> str:
    return f"an {role.value}" if role.value[0] in "aeiou" else f"a {role.value}"


def attach(user: User, organisation: Organisation | str | int, actor: Actor) -> bool:
    """Put `user` in an organisation (by name, any case, or id). False when already there."""
    org = find_organisation(organisation)
    if user.organisation_id == org.id:
        return False
    before = {"organisation": user.organisation.name if user.organisation else None}
    user.organisation = org
    audit.record(actor, "user.attach", user, before, {"organisation": org.name})
    return True


def detach(user: User, actor: Actor) -> bool:
    """Take `user` out of their organisation. False when they were in none."""
    if user.organisation is None:
        return False
    before = {"organisation": user.organisation.name}
    user.organisation = None
    audit.record(actor, "user.detach", user, before, {"organisation": None})
    return True


def deactivate(user: User, actor: Actor) -> int | None:
    """Stop `user` signing in: end every session and cancel their unused links. Returns
    how many sessions ended, or None when the account was already deactivated."""
    if actor.id is not None and actor.id == user.id:
        raise PeopleError("You cannot deactivate your own account. Ask another admin.")
    if not user.active:
        return None
    _refuse_last_admin(user, "deactivate them")
    user.active = False
    ended = sessions.end_all(user.id)
    db.session.execute(
        update(AccountToken)
        .where(AccountToken.user_id == user.id, AccountToken.used_at.is_(None))
        .values(used_at=utcnow()), execution_options={"synchronize_session": False})
    audit.record(actor, "user.deactivate", user, {"active": True},
                 {"active": False, "sessions_ended": ended})
    return ended


def reactivate(user: User, actor: Actor) -> bool:
    """Let `user` sign in again. False when the account was active already."""
    if user.active:
        return False
    user.active = True
    audit.record(actor, "user.reactivate", user, {"active": False}, {"active": True})
    return True


def _refuse_deactivated(user: User) -> None:
    if not user.active:
        raise PeopleError(f"{user.email} is deactivated: reactivate the account before "
                          "sending it a link.")


def send_reset_link(user: User, actor: Actor) -> OutboxMessage:
    """Mail `user` a single-use link to set a new password (earlier links stop working).
    The caller commits, then sends the message."""
    _refuse_deactivated(user)
    message = links.send_link(user, TokenPurpose.RESET)
    audit.record(actor, "user.reset_link", user, {}, {"mailed_to": user.email})
    return message


@dataclass(frozen=True)
class IssuedLink:
    link: str
    message: OutboxMessage | None


def reset_link(user: User, actor: Actor, mail: bool = False) -> IssuedLink:
    """A single-use reset link to hand over (the command line prints it), also mailed to
    the owner when `mail`. Needs a request context for the address (links.url)."""
    _refuse_deactivated(user)
    link = links.url(TokenPurpose.RESET, links.issue(user, TokenPurpose.RESET))
    message = None
    if mail:
        minutes = int(links.lifetime(TokenPurpose.RESET).total_seconds() // 60)
        message = links.queue_mail(user.email, TokenPurpose.RESET.value, user=user, link=link,
                                   expires_in=links._duration(minutes))
    audit.record(actor, "user.reset_link", user, {},
                 {"mailed_to": user.email} if mail else {"handed_over": "command line"})
    return IssuedLink(link, message)


def _profile(user: User) -> dict:
    return {"email": user.email, "name": user.name, "role": Role(user.role).value,
            "organisation": user.organisation.name if user.organisation else None}


def _new_account_checks(email: str, organisation) -> tuple[str, Organisation | None]:
    email = normalise_email(email)
    local, _, domain = email.partition("@")
    if not local or "." not in domain or len(email) > 254 or any(c.isspace() for c in email):
        raise PeopleError("Enter a valid email address, like name@example.com.", "email")
    if find(email) is not None:
        raise PeopleError(f"An account with the address {email} already exists.", "email")
    org = find_organisation(organisation) if organisation not in (None, "") else None
    return email, org


def invite(email: str, name: str, role: Role | str, organisation, actor: Actor,
           now: datetime | None = None) -> tuple[User, OutboxMessage]:
    """Create an account with no usable password and mail its owner an invitation to
    choose one. The address counts as confirmed: an admin vouches for it. The caller
    commits, then sends the message."""
    new_role = parse_role(role)
    email, org = _new_account_checks(email, organisation)
    user = User(email=email, name=(name or "").strip()[:120] or email.split("@")[0],
                password_hash="", role=new_role, organisation=org, active=True,
                email_verified_at=now or utcnow())
    db.session.add(user)
    db.session.flush()
    audit.record(actor, "user.invite", user, {}, _profile(user))
    if org is None:
        domains.join_by_domain(user)
    message = links.send_link(user, TokenPurpose.INVITE,
                              inviter=actor.label if actor.id is not None else None)
    return user, message


def create(email: str, name: str, password: str, role: Role | str, organisation: str | None,
           actor: Actor, now: datetime | None = None) -> User:
    """Create an account with a password (the command line's `users create`). An unknown
    organisation name is created, as before. The address counts as confirmed."""
    new_role = parse_role(role)
    try:
        user = create_user(email, name, password, new_role, organisation)
    except AccountError as exc:
        raise PeopleError(str(exc)) from exc
    user.email_verified_at = now or utcnow()
    audit.record(actor, "user.create", user, {}, _profile(user))
    if user.organisation is None:
        domains.join_by_domain(user)
    return user
