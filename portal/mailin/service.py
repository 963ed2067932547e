"""The email channel's rules: a message becomes a ticket, a reply, a held message for the
agents to review, or is set aside as malformed. Every message leaves a record.

Tickets and replies go through portal.tickets.service (file_ticket, reply), so mail
obeys the same rules, deadlines and confirmation mail as the web form.
"""

from __future__ import annotations

import hashlib
import io
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from flask import current_app, has_request_context
from sqlalchemy import func, select

from portal.extensions import db
from portal.mailin import trust
from portal.mailin.parse import Malformed, ParsedMail, parse
from portal.models import IncomingMail, MailOutcome, Role, Ticket, User
from portal.tickets import attachments
from portal.tickets import service as tickets

log = logging.getLogger("portal.mailin")

DUPLICATE, FAILED = "duplicate", "failed"


@dataclass
class Result:
    outcome: str  # a MailOutcome value, DUPLICATE or FAILED
    reason: str = ""
    ticket_id: int | None = None
    record_id: int | None = None
    stored_names: list[str] | None = None  # attachment files written (removed on rollback)


def mail_dir(sub: str) -> Path:
    configured = current_app.config.get("MAILIN_DIR")
    folder = (Path(configured) if configured else Path(current_app.instance_path) / "mailin")
    folder = folder / sub
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _keep(raw: bytes, sub: str, now: datetime) -> str:
    """Write the raw message under MAILIN_DIR/<sub>/ (atomically) and return its path."""
    name = f"{now:%Y%m%dT%H%M%S}-{hashlib.sha256(raw).hexdigest()[:16]}.eml"
    target = mail_dir(sub) / name
    partial = target.with_suffix(".part")
    partial.write_bytes(raw)
    os.replace(partial, target)
    return str(target)


def ticket_link(ticket: Ticket) -> str:
    """The ticket's address for mail; works in a request and from the command line."""
    if has_request_context():
        from portal.tickets.views import ticket_link as web_link

        return web_link(ticket)
    base = (current_app.config.get("SITE_URL") or "http://localhost").rstrip("/")
    path = current_app.url_map.bind("localhost").build("tickets.show", {"ticket_id": ticket.id})
    return base + path


def find_user(address: str) -> User | None:
    return db.session.scalar(select(User).where(func.lower(User.email) == address.lower(),
                                                User.active.is_(True)))


def _size(n: int) -> str:
    return f"{n / (1024 * 1024):.1f} MB" if n >= 1024 * 1024 else f"{max(n // 1024, 1)} KB"


def uploads_within_limits(parsed: ParsedMail) -> tuple[list[attachments.Upload], list[str]]:
    """The attachments we keep, and a note for each one we do not (too big, wrong type)."""
    config = current_app.config
    limit, allowed = config["ATTACHMENT_MAX_BYTES"], [t.lower() for t in
                                                      config["ATTACHMENT_TYPES"]]
    kept, notes = [], []
    for item in parsed.attachments:
        ext = item.filename.rpartition(".")[2].lower() if "." in item.filename else ""
        if len(item.data) > limit:
            notes.append(f"“{item.filename}” ({_size(len(item.data))}) is larger than the "
                         f"{_size(limit)} limit")
        elif ext not in allowed:
            notes.append(f"“{item.filename}” is not a file type we accept")
        elif len(kept) >= config["ATTACHMENT_MAX_FILES"]:
            notes.append(f"“{item.filename}” is over the limit of "
                         f"{config['ATTACHMENT_MAX_FILES']} files")
        else:
            kept.append(attachments.Upload(item.filename, io.BytesIO(item.data)))
    return kept, notes


def _weed(uploads: list[attachments.Upload], notes: list[str]) -> list[attachments.Upload]:
    """Drop the uploads the attachment store refuses (content not matching the type)."""
    good = []
    for upload in uploads:
        upload.stream.seek(0)
        try:
            stored = attachments.store_all([upload])
        except attachments.AttachmentError as exc:
            notes.append(str(exc).rstrip("."))
            continue
        attachments.remove([s.stored_name for s in stored])
        upload.stream.seek(0)
        good.append(upload)
    return good


def _with_notes(body: str, notes: list[str]) -> str:
    if not notes:
        return body
    return (body + "\n\n---\nAttachments not kept (sent by email): " + "; ".join(notes)
            + ". Ask the customer to share them another way if they are needed.").strip()


def _record(parsed: ParsedMail | None, outcome: MailOutcome, now: datetime, **fields
            ) -> IncomingMail:
    row = IncomingMail(outcome=outcome, received_at=now, **fields)
    if parsed is not None:
        row.message_id, row.sender, row.sender_name = (parsed.message_id, parsed.sender,
                                                       parsed.sender_name)
        row.subject, row.body = parsed.subject[:300], parsed.body
        row.attachment_names = [a.filename for a in parsed.attachments]
    db.session.add(row)
    db.session.flush()
    return row


def _find_record(message_id: str) -> IncomingMail | None:
    return db.session.scalar(select(IncomingMail).where(IncomingMail.message_id == message_id))


def ingest(raw: bytes, now: datetime, set_aside: Callable[[str], str] | None = None,
           envelope_recipients: list[str] | None = None) -> Result:
    """Handle one raw message. `set_aside(reason)` moves a malformed message out of the way
    and returns where it went (default: a copy under MAILIN_DIR/malformed). The caller
    commits; on an exception it rolls back and calls attachments.remove(result names).

    The From: header is a claim, not proof (portal.mailin.trust). A reply joins a ticket
    only with proof that its sender sent it; otherwise, like staff mail without proof, it
    waits for an agent's review."""
    set_aside = set_aside or (lambda reason: _keep(raw, "malformed", now))
    try:
        if len(raw) > current_app.config["MAILIN_MAX_BYTES"]:
            raise Malformed(f"message is {_size(len(raw))}, over the "
                            f"{_size(current_app.config['MAILIN_MAX_BYTES'])} limit")
        parsed = parse(raw, envelope_recipients)
    except Malformed as exc:
        reason = str(exc)
        path = set_aside(reason)
        log.warning("malformed message set aside at %s: %s", path, reason)
        key = "malformed:" + hashlib.sha256(raw).hexdigest()
        existing = _find_record(key)
        if existing is None:
            existing = _record(None, MailOutcome.MALFORMED, now, message_id=key, reason=reason,
                               raw_path=path)
        return Result(MailOutcome.MALFORMED.value, reason, record_id=existing.id)

    existing = _find_record(parsed.message_id)
    if existing is not None:
        return Result(DUPLICATE, f"already received as {existing.outcome.value}",
                      existing.ticket_id, existing.id)
    support = current_app.config["SUPPORT_EMAIL"].lower()
    if parsed.automatic or parsed.sender == support:
        reason = parsed.automatic or "sent from our own support address (mail loop)"
        row = _record(parsed, MailOutcome.IGNORED, now, reason=reason)
        log.info("ignored mail from %s: %s", parsed.sender, reason)
        return Result(MailOutcome.IGNORED.value, reason, record_id=row.id)

    user = find_user(parsed.sender)
    if user is None:
        return _hold(parsed, now, "unknown sender: no account uses this address")
    proof = trust.proof_of_sender(parsed)
    number = (proof.ticket_id if proof and proof.ticket_id else None) or (
        parsed.ticket_number) or _threaded_ticket(parsed)
    if number is not None:
        if proof is None:
            return _hold(parsed, now, f"mentions ticket #{number}, but nothing proves "
                                      f"{parsed.sender} sent it (not sent to the ticket's "
                                      f"reply address, no trusted DKIM or DMARC pass)")
        log.info("mail from %s for ticket %s: %s", parsed.sender, number, proof.how)
        return _reply(parsed, user, number, now)
    if user.role != Role.CUSTOMER:
        return _hold(parsed, now, f"sent by a staff account ({user.role.value}) "
                                  f"without a ticket number")
    if proof is None and trust.relay_configured():
        return _hold(parsed, now, f"the trusted relay did not confirm that {parsed.sender} "
                                  f"sent it (no DKIM or DMARC pass)")
    return _new_ticket(parsed, user, now)


def _threaded_ticket(parsed: ParsedMail) -> int | None:
    """The ticket of a message we sent that this one answers (In-Reply-To, References)."""
    from portal.tickets.mail import ticket_of_reference

    for reference in parsed.references:
        ticket_id = ticket_of_reference(reference)
        if ticket_id is not None:
            return ticket_id
    return None


def _hold(parsed: ParsedMail, now: datetime, reason: str) -> Result:
    row = _record(parsed, MailOutcome.HELD, now, reason=reason[:500],
                  raw_path=_keep(parsed.raw, "held", now))
    log.info("held mail %s from %s for review: %s", row.id, parsed.sender, reason)
    return Result(MailOutcome.HELD.value, reason, record_id=row.id)


def file_as_ticket(parsed: ParsedMail, user: User, now: datetime, prefix: str = ""
                   ) -> tuple[Ticket, list[str]]:
    """File the message as a new ticket for `user`. Returns (ticket, stored files)."""
    uploads, notes = uploads_within_limits(parsed)
    subject = parsed.subject or (parsed.body.splitlines() or ["(no subject)"])[0][:80]
    data = tickets.NewTicket(
        subject=subject[:200], description=_with_notes(prefix + (parsed.body or "(no text)"),
                                                       notes),
        severity=parsed.severity or 3,
        idempotency_key="mail:" + hashlib.sha256(parsed.message_id.encode()).hexdigest()[:48],
        uploads=uploads)
    try:
        ticket, _ = tickets.file_ticket(user, data, ticket_link, now=now)
    except attachments.AttachmentError:
        attachments.remove(data.stored_names)
        data.stored_names.clear()
        data.uploads = _weed(uploads, notes)
        data.description = _with_notes(prefix + (parsed.body or "(no text)"), notes)
        ticket, _ = tickets.file_ticket(user, data, ticket_link, now=now)
    return ticket, data.stored_names


def _new_ticket(parsed: ParsedMail, user: User, now: datetime, prefix: str = "") -> Result:
    try:
        ticket, stored = file_as_ticket(parsed, user, now, prefix)
    except tickets.FilingRefused as exc:
        return _hold(parsed, now, f"{user.email} may not file tickets: {exc}")
    row = _record(parsed, MailOutcome.TICKET, now, ticket_id=ticket.id,
                  raw_path=_keep(parsed.raw, "received", now))
    log.info("mail from %s filed as ticket %s", parsed.sender, ticket.number)
    return Result(MailOutcome.TICKET.value, "", ticket.id, row.id, stored)


def _reply(parsed: ParsedMail, user: User, number: int, now: datetime) -> Result:
    try:
        ticket = tickets.get_ticket(user, number)
    except tickets.TicketNotFound:  # not theirs: hold it rather than touch the ticket
        return _hold(parsed, now, f"mentions ticket #{number}, which {user.email} cannot see")
    uploads, notes = uploads_within_limits(parsed)
    stored: list[str] = []
    body = _with_notes(parsed.body or "(attachments only)", notes)
    try:
        tickets.reply(ticket, user, body, ticket_link, uploads=uploads, stored_names=stored,
                      now=now)
    except attachments.AttachmentError:
        attachments.remove(stored)
        stored.clear()
        uploads = _weed(uploads, notes)
        tickets.reply(ticket, user, _with_notes(parsed.body or "(attachments only)", notes),
                      ticket_link, uploads=uploads, stored_names=stored, now=now)
    except tickets.TicketError:  # closed: a customer's follow-up becomes a new ticket
        attachments.remove(stored)
        return _new_ticket(parsed, user, now,
                           prefix=f"(Follow-up to closed ticket {ticket.number}.)\n\n")
    row = _record(parsed, MailOutcome.REPLY, now, ticket_id=ticket.id,
                  raw_path=_keep(parsed.raw, "received", now))
    log.info("mail from %s added to ticket %s", parsed.sender, ticket.number)
    return Result(MailOutcome.REPLY.value, "", ticket.id, row.id, stored)



# -- the agents' review list ----------------------------------------------------------------

class ReviewError(ValueError):
    """An agent's action on a held message could not be done; safe to show."""


def received_for(ticket_id: int) -> list[IncomingMail]:
    """The mail that became this ticket or its replies, oldest first, for agents."""
    return list(db.session.scalars(
        select(IncomingMail).where(IncomingMail.ticket_id == ticket_id)
        .order_by(IncomingMail.received_at, IncomingMail.id)))


def held(limit: int = 200) -> list[IncomingMail]:
    return list(db.session.scalars(
        select(IncomingMail).where(IncomingMail.outcome == MailOutcome.HELD)
        .order_by(IncomingMail.received_at, IncomingMail.id).limit(limit)))


def recent(limit: int = 50) -> list[IncomingMail]:
    return list(db.session.scalars(
        select(IncomingMail).where(IncomingMail.outcome != MailOutcome.HELD)
        .order_by(IncomingMail.received_at.desc(), IncomingMail.id.desc()).limit(limit)))


def _still_held(row: IncomingMail) -> None:
    if row.outcome != MailOutcome.HELD:
        raise ReviewError(f"This message was already handled ({row.outcome.label.lower()}).")


def file_held(row: IncomingMail, customer_email: str, agent: User, now: datetime
              ) -> tuple[Ticket, list[str]]:
    """File a held message as a ticket on behalf of a known customer."""
    _still_held(row)
    customer = find_user(customer_email.strip())
    if customer is None or customer.role != Role.CUSTOMER:
        raise ReviewError(f"No customer account uses {customer_email.strip() or 'that address'}.")
    parsed = _stored_copy(row)
    prefix = f"(Received by email from {row.sender}; filed by {agent.name}.)\n\n"
    try:
        ticket, stored = file_as_ticket(parsed, customer, now, prefix)
    except tickets.FilingRefused as exc:
        raise ReviewError(str(exc)) from exc
    row.outcome, row.ticket_id = MailOutcome.FILED, ticket.id
    row.handled_by_id, row.handled_at = agent.id, now
    return ticket, stored


def _stored_copy(row: IncomingMail) -> ParsedMail:
    try:
        return parse(Path(row.raw_path).read_bytes())
    except (OSError, Malformed) as exc:
        raise ReviewError(f"The stored copy of this message cannot be read: {exc}") from exc


def _held_reply(row: IncomingMail) -> tuple[ParsedMail, User, Ticket]:
    """The held message, its sender's account and the ticket it answers, or ReviewError."""
    parsed = _stored_copy(row)
    sender, number = find_user(parsed.sender), parsed.ticket_number or _threaded_ticket(parsed)
    if sender is None or number is None:
        raise ReviewError("This message names no ticket, or no account uses its sender's "
                          "address. File it as a ticket instead.")
    try:
        return parsed, sender, tickets.get_ticket(sender, number)
    except tickets.TicketNotFound:
        raise ReviewError(f"{sender.email} cannot see ticket #{number}.") from None


def add_held_reply(row: IncomingMail, agent: User, now: datetime
                   ) -> tuple[Ticket, list[str]]:
    """Add a held reply to the ticket it names, as its sender's message, once an agent
    has checked that the sender really wrote it."""
    _still_held(row)
    parsed, sender, ticket = _held_reply(row)
    uploads, notes = uploads_within_limits(parsed)
    stored: list[str] = []
    try:
        tickets.reply(ticket, sender, _with_notes(parsed.body or "(attachments only)", notes),
                      ticket_link, uploads=_weed(uploads, notes), stored_names=stored, now=now)
    except tickets.TicketError as exc:
        attachments.remove(stored)
        raise ReviewError(str(exc)) from exc
    row.outcome, row.ticket_id = MailOutcome.FILED, ticket.id
    row.handled_by_id, row.handled_at = agent.id, now
    return ticket, stored


def reply_ticket_number(row: IncomingMail) -> int | None:
    """The ticket a held message answers, when its sender has an account that sees it."""
    if row.outcome != MailOutcome.HELD or not row.raw_path:
        return None
    try:
        return _held_reply(row)[2].id
    except ReviewError:
        return None


def dismiss(row: IncomingMail, agent: User, now: datetime, note: str = "") -> None:
    _still_held(row)
    row.outcome, row.handled_by_id, row.handled_at = MailOutcome.DISMISSED, agent.id, now
    if note.strip():
        row.reason = f"{row.reason} — dismissed: {note.strip()}"[:500]
