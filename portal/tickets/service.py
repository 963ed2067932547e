"""Ticket rules: who may file and see what, filing, replies, the agent queue, deflection."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from flask import current_app
from sqlalchemy import func, select, update
from sqlalchemy.orm import selectinload

from portal.calendar import FIRST_RESPONSE, format_moment
from portal.extensions import db
from portal.models import (
    MessageKind,
    Role,
    SuggestionClick,
    Ticket,
    TicketAttachment,
    TicketMessage,
    TicketStatus,
    User,
)
from portal.search import event_limits
from portal.search.query import normalize
from portal.tickets import attachments, deadlines, mail

SEVERITIES = (1, 2, 3)
MAX_REMEMBERED = 20


class TicketError(ValueError):
    """A rule was broken; the message is safe to show to the user."""


class FilingRefused(TicketError):
    """This account may not file tickets (no organisation, suspended support, not a customer)."""


class TicketNotFound(TicketError):
    """Missing, or not visible to this user: the two must look the same."""


def utcnow() -> datetime:
    return datetime.now(UTC)


# -- who may do what ------------------------------------------------------------------------

def is_agent(user: User) -> bool:
    return user.is_authenticated and user.has_role(Role.AGENT)


def filing_refusal(user: User) -> str | None:
    """Why this user cannot file a ticket, in words for them; None when they can."""
    config = current_app.config
    contact = f"{config['SUPPORT_EMAIL']} or {config['SUPPORT_PHONE']}"
    if user.role != Role.CUSTOMER:
        return ("Tickets are filed from customer accounts. Staff accounts work tickets in "
                "the agent queue.")
    if user.organisation is None:
        return ("Your account is not linked to a customer organisation, so it cannot file "
                f"tickets yet. Ask your company's administrator to add you, or contact {contact}.")
    if user.organisation.support_suspended:
        reason = (user.organisation.suspension_reason or "").strip()
        because = f" Reason: {reason.rstrip('.')}." if reason else ""
        whom = (user.organisation.suspension_contact or "").strip()
        stopped = (f"Support for {user.organisation.name} is suspended, so new tickets "
                   f"cannot be filed.{because}")
        if whom:  # whom the admin named when suspending
            return f"{stopped} Contact: {whom.rstrip('.')}. You can still read every article."
        return (f"{stopped} You can still read every article. To restore support, your "
                f"account administrator can contact {contact}.")
    return None


def visible_tickets(user: User):
    """A select() of the tickets this user may see: all for agents, their organisation's
    for customers, none for anyone else."""
    query = select(Ticket)
    if is_agent(user):
        return query
    if user.role == Role.CUSTOMER and user.organisation_id is not None:
        return query.where(Ticket.organisation_id == user.organisation_id)
    return query.where(False)


def get_ticket(user: User, ticket_id: int) -> Ticket:
    ticket = db.session.scalar(visible_tickets(user).where(Ticket.id == ticket_id))
    if ticket is None:
        raise TicketNotFound("No such ticket.")
    return ticket


# -- filing ---------------------------------------------------------------------------------

@dataclass
class NewTicket:
    subject: str
    description: str
    severity: int
    idempotency_key: str
    product_area: str = ""
    phone: str = ""
    searches: list[str] = field(default_factory=list)
    viewed_articles: list[str] = field(default_factory=list)
    uploads: list[attachments.Upload] = field(default_factory=list)
    visit: str = ""  # the visit id that suggestion clicks were recorded under
    stored_names: list[str] = field(default_factory=list)  # files written, for clean-up


def find_by_key(key: str) -> Ticket | None:
    return db.session.scalar(select(Ticket).where(Ticket.idempotency_key == key))


def file_ticket(user: User, data: NewTicket, link: Callable[[Ticket], str],
                now: datetime | None = None) -> tuple[Ticket, bool]:
    """File a ticket, or return the one this idempotency key already filed.

    Returns (ticket, created). Attachments are written to disk first; if anything
    fails afterwards the caller rolls back and calls attachments.remove().
    """
    now = now or utcnow()
    refusal = filing_refusal(user)
    if refusal:
        raise FilingRefused(refusal)
    key = data.idempotency_key.strip()
    if not key or len(key) > 64:
        raise TicketError("The form was incomplete. Reload the page and try again.")
    existing = find_by_key(key)
    if existing is not None:
        if existing.requester_id != user.id:
            raise TicketError("The form was incomplete. Reload the page and try again.")
        return existing, False
    if data.severity not in SEVERITIES:
        raise TicketError("Choose a severity.")
    stored = attachments.store_all(data.uploads)
    data.stored_names.extend(s.stored_name for s in stored)
    ticket = Ticket(
        organisation_id=user.organisation_id, requester_id=user.id,
        subject=data.subject.strip(), description=data.description.strip(),
        severity=data.severity, proposed_severity=data.severity,
        product_area=data.product_area.strip(), phone=data.phone.strip(),
        status=TicketStatus.NEW, idempotency_key=key, created_at=now, updated_at=now,
        searches=list(data.searches)[-MAX_REMEMBERED:],
        viewed_articles=list(data.viewed_articles)[-MAX_REMEMBERED:],
    )
    db.session.add(ticket)
    _attach(ticket, None, user, stored)
    deadlines.sync(ticket, now, "filed")
    db.session.flush()
    if data.visit:
        db.session.execute(
            update(SuggestionClick)
            .where(SuggestionClick.visit == data.visit, SuggestionClick.ticket_id.is_(None))
            .values(ticket_id=ticket.id))
    _confirmation_mail(ticket, user, link(ticket))
    return ticket, True


def _attach(ticket: Ticket, message: TicketMessage | None, user: User,
            stored: Iterable[attachments.Stored]) -> None:
    for item in stored:
        ticket.attachments.append(TicketAttachment(
            message=message, uploaded_by_id=user.id, original_name=item.original_name,
            stored_name=item.stored_name, content_type=item.content_type, size=item.size,
            sha256=item.sha256))


def _confirmation_mail(ticket: Ticket, user: User, url: str) -> None:
    soonest = deadlines.current_deadline(ticket)
    due = f"First response due: {moment(soonest.due_at)}\n({soonest.explanation})\n\n" if (
        soonest) else ""
    body = (f"Hello {user.name},\n\nWe have your ticket {ticket.number}: {ticket.subject}\n"
            f"Severity {ticket.severity}.\n\n{due}"
            f"Follow it and reply here: {url}\n\n{current_app.config['PRODUCT_NAME']} Support\n")
    mail.queue(user.email, f"[{ticket.number}] We received your ticket: {ticket.subject}",
               body, ticket.id)


# -- the conversation -----------------------------------------------------------------------

def reply(ticket: Ticket, author: User, body: str, link: Callable[[Ticket], str], *,
          internal: bool = False, substantive: bool = False,
          status: TicketStatus | None = None, uploads: Iterable[attachments.Upload] = (),
          stored_names: list[str] | None = None, now: datetime | None = None) -> TicketMessage:
    """Add a message. Agents may write internal notes and set the status; a public agent
    reply meets the response deadlines and mails the customer."""
    now = now or utcnow()
    body = body.strip()
    if not body:
        raise TicketError("Write a message first.")
    agent = is_agent(author)
    if not agent and (internal or ticket.status == TicketStatus.CLOSED):
        raise TicketError("This ticket is closed. File a new ticket if you still need help.")
    stored = attachments.store_all(uploads)
    if stored_names is not None:
        stored_names.extend(s.stored_name for s in stored)
    kind = MessageKind.INTERNAL if agent and internal else MessageKind.PUBLIC
    message = TicketMessage(kind=kind, author=author, body=body, created_at=now,
                            substantive=bool(agent and not internal and substantive))
    ticket.messages.append(message)
    _attach(ticket, message, author, stored)
    ticket.updated_at = now
    if agent and kind == MessageKind.PUBLIC:
        if ticket.status == TicketStatus.NEW:
            ticket.status = TicketStatus.OPEN
        deadlines.record_public_reply(ticket, now, message.substantive)
        if ticket.requester is not None:
            mail.queue(ticket.requester.email,
                       f"[{ticket.number}] New reply: {ticket.subject}",
                       f"{author.name} replied to your ticket {ticket.number}:\n\n{body}\n\n"
                       f"Read and answer it here: {link(ticket)}\n", ticket.id)
    elif not agent and ticket.status in (TicketStatus.WAITING, TicketStatus.RESOLVED):
        set_status(ticket, author, TicketStatus.OPEN, now, log=False)
    if agent and status is not None and status != ticket.status:
        set_status(ticket, author, status, now)
    return message


def _log(ticket: Ticket, user: User, text: str, now: datetime) -> None:
    ticket.messages.append(TicketMessage(kind=MessageKind.EVENT, author=user, body=text,
                                         created_at=now))


def set_status(ticket: Ticket, user: User, status: TicketStatus, now: datetime | None = None,
               log: bool = True) -> None:
    now = now or utcnow()
    old = TicketStatus(ticket.status)
    if status == old:
        return
    ticket.status = status
    ticket.updated_at = now
    ticket.resolved_at = now if not status.is_active else None
    if log:
        _log(ticket, user, f"Status changed from {old.label} to {status.label}.", now)
    deadlines.sync(ticket, now, status.value)


def change_severity(ticket: Ticket, agent: User, severity: int,
                    now: datetime | None = None) -> None:
    """Agents re-assess severity; deadlines are recomputed and the change is logged."""
    now = now or utcnow()
    if not is_agent(agent):
        raise TicketNotFound("No such ticket.")
    if severity not in SEVERITIES:
        raise TicketError("Choose severity 1, 2 or 3.")
    old = ticket.severity
    if severity == old:
        return
    ticket.severity = severity
    ticket.updated_at = now
    started = deadlines.sync(ticket, now, f"severity changed to {severity}")
    due = "; ".join(f"{deadlines.KIND_LABELS[d.kind].lower()} now due "
                    f"{moment(d.due_at)}" for d in started)
    _log(ticket, agent, f"Severity changed from {old} to {severity}."
         + (f" Deadlines recomputed: {due}." if due else ""), now)


def moment(value: datetime) -> str:
    """'Monday, Nov 30, 2026 at 7:30 PM ET' on the business calendar's clock."""
    business = deadlines.get_policy().business
    return format_moment(value.astimezone(business.zone), business.zone_label)


def assign(ticket: Ticket, agent: User, now: datetime | None = None) -> None:
    now = now or utcnow()
    if ticket.assignee_id == agent.id:
        return
    ticket.assignee_id = agent.id
    ticket.updated_at = now
    _log(ticket, agent, f"Assigned to {agent.name}.", now)
    if ticket.status == TicketStatus.NEW:
        ticket.status = TicketStatus.OPEN


# -- lists ----------------------------------------------------------------------------------

def customer_tickets(user: User) -> list[Ticket]:
    query = visible_tickets(user).order_by(Ticket.created_at.desc(), Ticket.id.desc())
    return list(db.session.scalars(query.limit(200)))


def queue(severity: int | None = None, status: str = "active",
          assignee: User | None = None, limit: int = 200) -> list[Ticket]:
    """The agent queue: next due deadline first (tickets with none last), then oldest."""
    query = select(Ticket).options(selectinload(Ticket.organisation),
                                   selectinload(Ticket.assignee))
    if severity in SEVERITIES:
        query = query.where(Ticket.severity == severity)
    if status == "active":
        query = query.where(Ticket.status.in_([s for s in TicketStatus if s.is_active]))
    elif status in {s.value for s in TicketStatus}:
        query = query.where(Ticket.status == TicketStatus(status))
    if assignee is not None:
        query = query.where(Ticket.assignee_id == assignee.id)
    query = query.order_by(Ticket.next_due_at.asc().nulls_last(), Ticket.created_at, Ticket.id)
    return list(db.session.scalars(query.limit(limit)))


def is_overdue(ticket: Ticket, now: datetime | None = None) -> bool:
    return ticket.next_due_at is not None and ticket.next_due_at < (now or utcnow())


def first_response_record(ticket: Ticket):
    """The first-response deadline actually met (or missed), for 'met on time' badges."""
    answered = [d for d in ticket.deadlines if d.kind == FIRST_RESPONSE and d.met_at]
    return answered[-1] if answered else None


# -- deflection -----------------------------------------------------------------------------

def record_suggestion_click(visit: str, user: User | None, slug: str, subject: str,
                            now: datetime | None = None,
                            reader: event_limits.Reader | None = None) -> bool:
    """Store that this visit opened a suggested article (not committed). False, storing
    nothing, when the same reader (see event_limits.reader; default: this visit) opened
    it with the same subject within PORTAL_EVENT_DEDUPE_MINUTES."""
    subject = subject.strip()[:200]
    reader = reader or event_limits.Reader(f"visit:{visit[:64]}", f"visit:{visit[:64]}")
    keys = reader.keys("suggestion", slug[:200], normalize(subject))
    _, stored = event_limits.insert_once(SuggestionClick.__table__, dict(
        visit=visit[:64], user_id=user.id if user else None, slug=slug[:200],
        subject=subject, ticket_id=None), keys, "visit", now or utcnow())
    return stored


@dataclass
class DeflectionStats:
    visits_with_clicks: int
    filed_anyway: int
    deflected: int
    undecided: int  # clicked within the window, may still file
    clicks: int


def deflection_stats(now: datetime | None = None) -> DeflectionStats:
    """Visits that opened a suggested article: how many filed anyway, how many did not."""
    now = now or utcnow()
    window = timedelta(hours=current_app.config["DEFLECTION_WINDOW_HOURS"])
    rows = db.session.execute(
        select(SuggestionClick.visit, func.max(SuggestionClick.created_at),
               func.count(SuggestionClick.ticket_id), func.count())
        .group_by(SuggestionClick.visit)).all()
    filed = sum(1 for row in rows if row[2])
    last_click = [_aware(row[1]) for row in rows if not row[2]]
    deflected = sum(1 for at in last_click if at <= now - window)
    return DeflectionStats(len(rows), filed, deflected, len(last_click) - deflected,
                           sum(row[3] for row in rows))


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)
