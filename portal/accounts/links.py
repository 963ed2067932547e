"""Single-use links mailed to account owners: set a new password (reset), choose a first
password (invite), confirm an address (verify).

The link carries 256 random bits; only their SHA-256 is stored. A link works once, until
it expires (PORTAL_RESET_LINK_MINUTES, PORTAL_INVITE_LINK_DAYS, PORTAL_VERIFY_LINK_DAYS),
and only while the account still has the address it was sent to. Redeeming sets `used_at`
with a conditional UPDATE, so two requests racing with one link cannot both succeed.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from flask import current_app, render_template, url_for
from sqlalchemy import select, update

from portal.extensions import db
from portal.models import AccountToken, OutboxMessage, TokenPurpose, User
from portal.models.accounts import utcnow
from portal.tickets import mail

ENDPOINTS = {TokenPurpose.RESET: "accounts.reset_password",
             TokenPurpose.INVITE: "accounts.reset_password",
             TokenPurpose.VERIFY: "accounts.verify_email"}


class LinkError(ValueError):
    """The link cannot be used; the message says why, in words for its owner."""


def lifetime(purpose: TokenPurpose) -> timedelta:
    config = current_app.config
    if purpose == TokenPurpose.RESET:
        return timedelta(minutes=int(config["RESET_LINK_MINUTES"]))
    if purpose == TokenPurpose.INVITE:
        return timedelta(days=int(config["INVITE_LINK_DAYS"]))
    if purpose == TokenPurpose.WIDGET:  # inside the help widget's "Submit a Ticket" link
        from portal.widget.tokens import HANDOFF_MINUTES

        return timedelta(minutes=HANDOFF_MINUTES)
    return timedelta(days=int(config["VERIFY_LINK_DAYS"]))


def _hash(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def issue(user: User, purpose: TokenPurpose, now: datetime | None = None) -> str:
    """A new link secret for `user`; earlier unused links of the same purpose stop working.
    The caller commits."""
    now = now or utcnow()
    db.session.execute(
        update(AccountToken)
        .where(AccountToken.user_id == user.id, AccountToken.purpose == purpose,
               AccountToken.used_at.is_(None))
        .values(used_at=now), execution_options={"synchronize_session": False})
    raw = secrets.token_urlsafe(32)
    db.session.add(AccountToken(token_hash=_hash(raw), user_id=user.id, purpose=purpose,
                                email=user.email, created_at=now,
                                expires_at=now + lifetime(purpose)))
    return raw


def url(purpose: TokenPurpose, raw: str) -> str:
    """The absolute address of a link (PORTAL_SITE_URL when set, else this request's host)."""
    base = current_app.config.get("SITE_URL", "").rstrip("/")
    endpoint = ENDPOINTS[purpose]
    return (base + url_for(endpoint, token=raw) if base
            else url_for(endpoint, token=raw, _external=True))


def _find(raw: str, purposes: tuple[TokenPurpose, ...]) -> AccountToken | None:
    if not raw or len(raw) > 100:
        return None
    return db.session.scalar(select(AccountToken).where(
        AccountToken.token_hash == _hash(raw), AccountToken.purpose.in_(purposes)))


def check(raw: str, purposes: tuple[TokenPurpose, ...],
          now: datetime | None = None) -> AccountToken:
    """The unused, unexpired link `raw`, or LinkError saying why not (nothing is changed)."""
    now = now or utcnow()
    token = _find(raw, purposes)
    if token is None:
        raise LinkError("This link is not valid. Check that you copied all of it, or ask "
                        "for a new one.")
    if token.used_at is not None:
        raise LinkError("This link has already been used, and works only once. Ask for a "
                        "new one if you still need it.")
    if token.expires_at <= now:
        raise LinkError("This link has expired. Ask for a new one.")
    if token.user is None or token.user.email != token.email:
        raise LinkError("This link was sent to an address the account no longer uses.")
    return token


def redeem(raw: str, purposes: tuple[TokenPurpose, ...],
           now: datetime | None = None) -> User:
    """Use the link once: the account it belongs to, or LinkError. The caller commits."""
    now = now or utcnow()
    token = check(raw, purposes, now)
    claimed = db.session.execute(
        update(AccountToken)
        .where(AccountToken.id == token.id, AccountToken.used_at.is_(None))
        .values(used_at=now), execution_options={"synchronize_session": False})
    if claimed.rowcount != 1:  # another request used it a moment ago
        raise LinkError("This link has already been used, and works only once. Ask for a "
                        "new one if you still need it.")
    return token.user


def queue_mail(recipient: str, template: str, **context) -> OutboxMessage:
    """Queue the mail `templates/mail/<template>.txt`; its first line is the subject."""
    text = render_template(f"mail/{template}.txt", **context).lstrip()
    subject, _, body = text.partition("\n")
    return mail.queue(recipient, subject.strip(), body.lstrip("\n"))


def send_link(user: User, purpose: TokenPurpose, template: str | None = None,
              now: datetime | None = None, **context) -> OutboxMessage:
    """Issue a link and queue the mail that carries it. In a request the mail goes once the
    request's changes are committed (portal.unit_of_work); a command commits, then calls
    mail.send_now([message])."""
    raw = issue(user, purpose, now)
    minutes = int(lifetime(purpose).total_seconds() // 60)
    return queue_mail(user.email, template or purpose.value, user=user, link=url(purpose, raw),
                      expires_in=_duration(minutes), **context)


def _duration(minutes: int) -> str:
    if minutes % (24 * 60) == 0:
        days = minutes // (24 * 60)
        return "1 day" if days == 1 else f"{days} days"
    if minutes % 60 == 0:
        hours = minutes // 60
        return "1 hour" if hours == 1 else f"{hours} hours"
    return "1 minute" if minutes == 1 else f"{minutes} minutes"
