"""Account rules: create users, authenticate, change a name or password, keep `next`
redirects local, choose where a user lands after signing in."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import url_for
from sqlalchemy import func, select

from portal.accounts import sessions
from portal.accounts.passwords import hash_password, needs_rehash, verify_password
from portal.extensions import db
from portal.models import Organisation, Role, User
from portal.models.accounts import utcnow

MIN_PASSWORD_LENGTH = 10


class AccountError(ValueError):
    """A rule was broken; the message is safe to show to the user."""


def normalise_email(email: str) -> str:
    return email.strip().lower()


def find_user(email: str) -> User | None:
    return db.session.scalar(select(User).where(User.email == normalise_email(email)))


def get_or_create_organisation(name: str) -> Organisation:
    name = name.strip()
    org = db.session.scalar(
        select(Organisation).where(func.lower(Organisation.name) == name.lower()))
    if org is None:
        org = Organisation(name=name)
        db.session.add(org)
        db.session.flush()
    return org


def create_user(
    email: str, name: str, password: str, role: Role | str = Role.CUSTOMER,
    organisation: str | None = None, verified: bool = True,
) -> User:
    """Create an account; raises AccountError for a taken email or a weak password.

    Accounts made by staff (the CLI, the admin console) count as verified: staff vouch
    for the address. Self-registration (portal.accounts.recovery) passes verified=False
    and never uses this function's "already exists" message."""
    email = check_new_account(email, password)
    if find_user(email) is not None:
        raise AccountError("An account with this email address already exists.")
    user = User(email=email, name=name.strip() or email.split("@")[0],
                password_hash=hash_password(password), role=Role(role),
                email_verified_at=utcnow() if verified else None)
    if organisation:
        user.organisation = get_or_create_organisation(organisation)
    db.session.add(user)
    db.session.flush()
    return user


def check_new_account(email: str, password: str) -> str:
    """The normalised address, or AccountError for a malformed one or a weak password
    (rules that say nothing about whether an account exists)."""
    email = normalise_email(email)
    if "@" not in email or len(email) > 254:
        raise AccountError("Enter a valid email address.")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(f"Choose a password of at least {MIN_PASSWORD_LENGTH} characters.")
    return email


def authenticate(email: str, password: str) -> User | None:
    """The user for these credentials, or None: unknown email and wrong password look alike."""
    user = find_user(email)
    ok = verify_password(user.password_hash if user else None, password)
    if not ok or user is None or not user.active:
        return None
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    return user


def safe_next(target: str | None) -> str | None:
    """Accept only a path on this site ("/x"), never another host or scheme."""
    if not target:
        return None
    target = target.strip()
    if "\\" in target or any(ord(ch) < 32 for ch in target):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target


def change_name(user: User, name: str) -> None:
    """The name shown in the header, on tickets and to staff. The caller commits."""
    name = " ".join(name.split())
    if not name:
        raise AccountError("Enter your name.")
    user.name = name[:120]


def set_password(user: User, password: str) -> None:
    """A new password, and every session of the user ends (this browser's too: the
    caller starts a new one if the user stays signed in here). The caller commits."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(f"Choose a password of at least {MIN_PASSWORD_LENGTH} characters.")
    user.password_hash = hash_password(password)
    sessions.end_all(user.id)


def change_password(user: User, current: str, new: str) -> int:
    """Change the password of a signed-in user who knows the current one; every other
    session ends, this browser's stays. Returns how many ended. The caller commits."""
    if not verify_password(user.password_hash, current):
        raise AccountError("Your current password is not right.")
    if len(new) < MIN_PASSWORD_LENGTH:
        raise AccountError(f"Choose a password of at least {MIN_PASSWORD_LENGTH} characters.")
    user.password_hash = hash_password(new)
    return sessions.end_all(user.id, keep_current=True)


# Where staff start their day when sign-in has no particular page to return to.
ROLE_LANDINGS = {Role.AGENT: "tickets.queue", Role.EDITOR: "feedback.overview",
                 Role.ADMIN: "admin.home"}


def landing_page(user: User, next_target: str | None) -> str:
    """Where to go after signing in: back to the page the user came from when there is
    one (a safe local path other than the home page, which the header's "Sign in" link
    sends from the home page); otherwise agents to the queue, editors to article health,
    admins to the admin console, customers to the help-center home."""
    target = safe_next(next_target)
    if target and urlsplit(target).path != "/":
        return target
    endpoint = ROLE_LANDINGS.get(Role(user.role))
    return url_for(endpoint) if endpoint else target or url_for("kb.home")
