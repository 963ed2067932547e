"""Glue between tickets and the pure deadline rules in portal.calendar."""

from __future__ import annotations

from datetime import datetime

from flask import current_app

from portal.calendar import (
    FIRST_RESPONSE,
    SUBSTANTIVE,
    UPDATE,
    ResponsePolicy,
    policy_from_settings,
)
from portal.models import Ticket, TicketDeadline, TicketStatus

KIND_LABELS = {FIRST_RESPONSE: "First response", UPDATE: "Progress update",
               SUBSTANTIVE: "Substantive response"}


def get_policy() -> ResponsePolicy:
    """The response policy built once per app from its settings."""
    policy = current_app.extensions.get("portal_response_policy")
    if policy is None:
        policy = policy_from_settings(current_app.config)
        current_app.extensions["portal_response_policy"] = policy
    return policy


def pending(ticket: Ticket) -> list[TicketDeadline]:
    return [d for d in ticket.deadlines if d.pending]


def current_deadline(ticket: Ticket) -> TicketDeadline | None:
    """The pending deadline due soonest: what the customer and the queue look at."""
    waiting = pending(ticket)
    return min(waiting, key=lambda d: d.due_at) if waiting else None


def _wanted_kinds(ticket: Ticket) -> list[str]:
    """Which deadlines should be running for the ticket as it stands now."""
    if not TicketStatus(ticket.status).is_active:
        return []
    if ticket.first_response_at is None:
        return [FIRST_RESPONSE]
    targets = get_policy().targets[ticket.severity]
    kinds = []
    if targets.substantive is not None and not any(
            d.kind == SUBSTANTIVE and d.met_at is not None for d in ticket.deadlines):
        kinds.append(SUBSTANTIVE)
    if targets.update_every is not None and ticket.status != TicketStatus.WAITING:
        kinds.append(UPDATE)
    return kinds


def _compute(ticket: Ticket, kind: str, now: datetime):
    policy = get_policy()
    if kind == FIRST_RESPONSE:
        return policy.first_response(ticket.severity, ticket.created_at)  # clock starts at filing
    if kind == SUBSTANTIVE:
        return policy.substantive(ticket.severity, ticket.first_response_at)
    return policy.next_update(ticket.severity, now)


def sync(ticket: Ticket, now: datetime, reason: str) -> list[TicketDeadline]:
    """Set aside deadlines that no longer apply (with `reason`), start the missing ones,
    and refresh the ticket's next due time. Returns the deadlines started."""
    wanted = _wanted_kinds(ticket)
    for deadline in pending(ticket):
        if deadline.kind not in wanted or deadline.severity != ticket.severity:
            deadline.set_aside = reason[:40]
    started = []
    running = {d.kind for d in pending(ticket)}
    for kind in wanted:
        if kind in running:
            continue
        computed = _compute(ticket, kind, now)
        deadline = TicketDeadline(kind=kind, severity=ticket.severity, starts_at=computed.starts,
                                  due_at=computed.due, explanation=computed.explanation)
        ticket.deadlines.append(deadline)
        started.append(deadline)
    soonest = current_deadline(ticket)
    ticket.next_due_at = soonest.due_at if soonest else None
    ticket.next_due_kind = soonest.kind if soonest else ""
    return started


def meet(ticket: Ticket, kind: str, now: datetime) -> TicketDeadline | None:
    """Record that a pending deadline of this kind was answered now, on time or late."""
    for deadline in pending(ticket):
        if deadline.kind == kind:
            deadline.met_at = now
            deadline.met = now <= deadline.due_at
            return deadline
    return None


def record_public_reply(ticket: Ticket, now: datetime, substantive: bool) -> None:
    """An agent answered the customer: first response, hourly update, substantive answer."""
    if ticket.first_response_at is None:
        ticket.first_response_at = now
        meet(ticket, FIRST_RESPONSE, now)
    else:
        meet(ticket, UPDATE, now)
    if substantive and get_policy().targets[ticket.severity].substantive is not None:
        if meet(ticket, SUBSTANTIVE, now) is None and not any(
                d.kind == SUBSTANTIVE and d.met_at for d in ticket.deadlines):
            # The first reply was already substantive: record that deadline as met.
            sync(ticket, now, "answered")
            meet(ticket, SUBSTANTIVE, now)
    sync(ticket, now, "answered")
