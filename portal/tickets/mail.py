"""Mail through an outbox table: queued with the ticket, sent afterwards, retried later.

With PORTAL_SMTP_HOST set, messages go out by SMTP; without it (development) each one
is written as an .eml file to instance/outbox (or PORTAL_MAIL_OUTBOX_DIR).
"""

from __future__ import annotations

import logging
import os
import re
import smtplib
import ssl
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path

from flask import current_app
from sqlalchemy import func, select

from portal.extensions import db
from portal.models import OutboxMessage

log = logging.getLogger(__name__)
MAX_BACKOFF = timedelta(hours=1)


def queue(recipient: str, subject: str, body: str, ticket_id: int | None = None) -> OutboxMessage:
    """Add a message to the outbox; it is sent once the caller's transaction commits."""
    message = OutboxMessage(recipient=recipient, subject=subject[:300], body=body,
                            ticket_id=ticket_id)
    db.session.add(message)
    return message


def outbox_dir() -> Path:
    configured = current_app.config.get("MAIL_OUTBOX_DIR")
    folder = Path(configured) if configured else Path(current_app.instance_path) / "outbox"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


THREAD_ID = re.compile(r"^portal\.(\d{1,12})\.t(\d{1,12})@(.+)$")


def message_id(message: OutboxMessage) -> str:
    """Mail about a ticket gets <portal.<outbox id>.t<ticket>@support-domain>, so a reply
    whose In-Reply-To or References names it threads onto that ticket."""
    domain = current_app.config["SUPPORT_EMAIL"].rpartition("@")[2].strip() or "localhost"
    if message.ticket_id is None or message.id is None:
        return make_msgid(idstring=f"outbox{message.id}", domain=domain)
    return f"<portal.{message.id}.t{message.ticket_id}@{domain}>"


def ticket_of_reference(reference: str) -> int | None:
    """The ticket a Message-ID we sent was about, or None (checked against the outbox)."""
    found = THREAD_ID.match(reference.strip().strip("<>"))
    domain = current_app.config["SUPPORT_EMAIL"].rpartition("@")[2].strip().lower()
    if found is None or found[3].lower() != domain:
        return None
    sent = db.session.get(OutboxMessage, int(found[1]))
    return sent.ticket_id if sent is not None and sent.ticket_id == int(found[2]) else None


def _build(message: OutboxMessage) -> EmailMessage:
    email = EmailMessage()
    email["From"] = current_app.config["MAIL_FROM"]
    email["To"] = message.recipient
    email["Subject"] = message.subject
    if message.ticket_id is not None:
        from portal.mailin.trust import reply_address

        reply_to = reply_address(message.ticket_id, message.recipient)
        if reply_to:
            email["Reply-To"] = reply_to
    email["Message-ID"] = message_id(message)
    email.set_content(message.body)
    return email


def _send(email: EmailMessage, name: str) -> None:
    config = current_app.config
    if not config["SMTP_HOST"]:
        folder = outbox_dir()
        partial = folder / f".{name}.part"
        partial.write_bytes(bytes(email))
        os.replace(partial, folder / f"{name}.eml")
        return
    timeout = config["SMTP_TIMEOUT"]
    if config["SMTP_SSL"]:
        client = smtplib.SMTP_SSL(config["SMTP_HOST"], config["SMTP_PORT"], timeout=timeout,
                                  context=ssl.create_default_context())
    else:
        client = smtplib.SMTP(config["SMTP_HOST"], config["SMTP_PORT"], timeout=timeout)
    with client:
        if not config["SMTP_SSL"] and config["SMTP_STARTTLS"]:
            client.starttls(context=ssl.create_default_context())
        if config["SMTP_USERNAME"]:
            client.login(config["SMTP_USERNAME"], config["SMTP_PASSWORD"])
        client.send_message(email)


def deliver(now: datetime, ticket_id: int | None = None, limit: int = 100,
            everything: bool = False, message_ids: list[int] | None = None) -> tuple[int, int]:
    """Try the outbox messages that are due (or all unsent ones of one ticket, right after
    it was saved; or, with `everything`, every unsent one; or the unsent ones among
    `message_ids`). Returns (sent, failed).

    Never raises for a mail problem: each failure is recorded with a growing delay before
    the next try. The caller commits.
    """
    query = select(OutboxMessage).where(OutboxMessage.sent_at.is_(None))
    if message_ids is not None:
        query = query.where(OutboxMessage.id.in_(message_ids))
    elif ticket_id is not None:
        query = query.where(OutboxMessage.ticket_id == ticket_id)
    elif not everything:
        query = query.where(OutboxMessage.next_attempt_at <= now,
                            OutboxMessage.attempts < current_app.config["MAIL_MAX_ATTEMPTS"])
    sent = failed = 0
    for message in db.session.scalars(query.order_by(OutboxMessage.id).limit(limit)):
        message.attempts += 1
        try:
            _send(_build(message), f"{now:%Y%m%dT%H%M%S}-{message.id}")
        except Exception as exc:  # any mail failure: keep the message for a later try
            failed += 1
            message.last_error = f"{type(exc).__name__}: {exc}"[:500]
            message.next_attempt_at = now + min(
                timedelta(minutes=2 ** (message.attempts - 1)), MAX_BACKOFF)
            log.warning("mail %s to %s not sent (attempt %s): %s", message.id,
                        message.recipient, message.attempts, message.last_error)
        else:
            sent += 1
            message.sent_at = now
            message.last_error = ""
    return sent, failed


def send_now(messages: list[OutboxMessage]) -> None:
    """After the caller committed: try these messages now (PORTAL_MAIL_SEND_IMMEDIATELY);
    any that fail stay in the outbox for `flask tickets send-mail`."""
    ids = [m.id for m in messages if m.id is not None]
    if not ids or not current_app.config["MAIL_SEND_IMMEDIATELY"]:
        return
    try:
        deliver(datetime.now(UTC), message_ids=ids)
        db.session.commit()
    except Exception:
        db.session.rollback()
        log.exception("could not record the delivery of mail %s", ids)


def unsent_count() -> int:
    return db.session.scalar(
        select(func.count()).select_from(OutboxMessage).where(OutboxMessage.sent_at.is_(None)))
