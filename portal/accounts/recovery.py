"""Rules for the pages that mail an account owner: "Forgot your password?", registration
with a confirmed address, the links those mails carry, and "send the link again".

Nothing here says whether an address has an account. "Forgot your password?" mails
either a link or a note that there is no account; registering mails either a link or a
note to the owner that they already have one. Both branches do the same kind of work (a
lookup, a password hash where a password was typed, one queued mail). What still differs
(a link row written, or not) is padded to ANSWER_SECONDS, so both take alike long;
bench/account_enumeration.py measures it. The mail is queued in the outbox and goes once
the request's changes are committed (portal.unit_of_work), in both branches alike.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

from flask import current_app, url_for
from itsdangerous import BadData, URLSafeTimedSerializer
from sqlalchemy.exc import IntegrityError

from portal.accounts import links, service
from portal.accounts.links import LinkError
from portal.accounts.passwords import hash_password
from portal.admin import domains
from portal.extensions import db
from portal.models import AccountToken, Organisation, OutboxMessage, Role, TokenPurpose, User
from portal.models.accounts import utcnow

PASSWORD_LINKS = (TokenPurpose.RESET, TokenPurpose.INVITE)
RESEND_TICKET_SECONDS = 3600  # the "send the link again" button on the sign-in page
# The part of an answer that depends on whether the address has an account (a few
# milliseconds: a lookup, a link row, a queued mail, flushed) takes at least this long.
ANSWER_SECONDS = 0.025


@contextmanager
def _at_least(seconds: float) -> Iterator[None]:
    start = time.perf_counter()
    yield
    left = seconds - (time.perf_counter() - start)
    if left > 0:
        time.sleep(left)


def absolute_url(endpoint: str, **values) -> str:
    """A page's address for a mail (PORTAL_SITE_URL when set, else this request's host)."""
    base = current_app.config.get("SITE_URL", "").rstrip("/")
    return (base + url_for(endpoint, **values) if base
            else url_for(endpoint, _external=True, **values))


# -- Forgot your password? ----------------------------------------------------------------

def request_reset(email: str) -> OutboxMessage:
    """Mail a reset link to an active account's address, or to any other address a note
    that no account can sign in with it. Sent once the caller's changes are committed."""
    with _at_least(ANSWER_SECONDS):
        user = service.find_user(email)
        if user is not None and user.active:
            message = links.send_link(user, TokenPurpose.RESET)
        else:
            address = service.normalise_email(email)
            message = links.queue_mail(address, "no_account", email=address,
                                       forgot_link=absolute_url("accounts.forgot_password"))
        db.session.flush()
    return message


def password_link(raw: str) -> AccountToken:
    """The usable reset or invitation link `raw`, or LinkError saying why not."""
    token = links.check(raw, PASSWORD_LINKS)
    if not token.user.active:
        raise LinkError("This account has been closed, so its password cannot be set. "
                        "Contact us if you need it again.")
    return token


def set_password_from_link(raw: str, password: str) -> User:
    """Use a reset or invitation link once: the new password, the address confirmed (the
    link proves it; the domain may then adopt the account), every session of the user
    ended, the "password changed" notice queued. Returns the user. The caller starts this
    browser's session; the notice is sent once the changes are committed."""
    password_link(raw)  # the reasons it cannot be used, before anything changes
    user = links.redeem(raw, PASSWORD_LINKS)
    service.set_password(user, password)
    _confirm_address(user)
    password_changed_notice(user, "with a link we mailed to you")
    return user


def password_changed_notice(user: User, how: str = "") -> OutboxMessage:
    return links.queue_mail(user.email, "password_changed", user=user, how=how,
                            forgot_link=absolute_url("accounts.forgot_password"))


# -- Registration and confirming the address ----------------------------------------------

def register(email: str, name: str, password: str) -> OutboxMessage:
    """Create an unconfirmed customer account and mail it a confirmation link; for an
    address that already has an account, mail its owner instead (and change nothing).
    Raises AccountError only for a malformed address or a weak password (before anything
    changes). The mail is sent once the caller's changes are committed."""
    email = service.check_new_account(email, password)
    password_hash = hash_password(password)  # in both branches: they take alike long
    with _at_least(ANSWER_SECONDS):
        message = _register(email, name, password_hash)
        db.session.flush()
    return message


def _register(email: str, name: str, password_hash: str) -> OutboxMessage:
    existing = service.find_user(email)
    if existing is None:
        user = User(email=email, name=" ".join(name.split()) or email.split("@")[0],
                    password_hash=password_hash, role=Role.CUSTOMER, email_verified_at=None)
        try:
            with db.session.begin_nested():
                db.session.add(user)
                db.session.flush()
        except IntegrityError:  # the same address registered a moment ago elsewhere
            existing = service.find_user(email)
            if existing is None:
                raise
        else:
            return links.send_link(user, TokenPurpose.VERIFY)
    return links.queue_mail(existing.email, "account_exists", user=existing,
                            login_link=absolute_url("accounts.login", email=existing.email),
                            forgot_link=absolute_url("accounts.forgot_password"))


def confirm_address(raw: str) -> tuple[User, Organisation | None]:
    """Use a confirmation link once: the address counts as the owner's, and an
    organisation claiming its domain adopts the account. Returns the user and that
    organisation (None if none did). The caller commits."""
    user = links.redeem(raw, (TokenPurpose.VERIFY,))
    return user, _confirm_address(user)


def _confirm_address(user: User) -> Organisation | None:
    if user.email_verified_at is not None:
        return None
    user.email_verified_at = utcnow()
    return domains.join_by_domain(user)


# -- "Send the link again", from the sign-in page -----------------------------------------
# Offered only after the right password, as a signed ticket naming the account, so the
# button can be used only by whoever just typed that password (for an hour).

def _tickets() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(str(current_app.config["SECRET_KEY"]),
                                  salt="portal.accounts.resend-verification")


def resend_ticket(user: User) -> str:
    return _tickets().dumps({"u": user.id, "e": user.email})


def ticket_address(ticket: str | None) -> str:
    """The address a resend ticket was made for ('' when it is not a valid ticket)."""
    data = _read_ticket(ticket)
    return data["e"] if data else ""


def _read_ticket(ticket: str | None) -> dict | None:
    if not ticket or len(ticket) > 500:
        return None
    try:
        data = _tickets().loads(ticket, max_age=RESEND_TICKET_SECONDS)
    except BadData:
        return None
    if not isinstance(data, dict) or not isinstance(data.get("u"), int) or not isinstance(
            data.get("e"), str):
        return None
    return data


def resend_verification(ticket: str | None) -> OutboxMessage | None:
    """A new confirmation link for the account the ticket names, if its address still
    needs confirming (None if nothing was queued). Sent once the caller's changes are
    committed."""
    data = _read_ticket(ticket)
    user = db.session.get(User, data["u"]) if data else None
    if user is None or user.email != data["e"] or not user.active or user.email_verified:
        return None
    return links.send_link(user, TokenPurpose.VERIFY)
