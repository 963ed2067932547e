"""Agent pages, on the tickets blueprint.

    /tickets/queue                 GET   open tickets, next due deadline first; filters
    /tickets/<id>/assign           POST  assign to me
    /tickets/<id>/severity         POST  change severity (deadlines recomputed, logged)
    /tickets/<id>/status           POST  change status

Each change is committed when the page answers (portal.unit_of_work).
"""

from __future__ import annotations

from functools import wraps

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from portal import unit_of_work
from portal.models import TicketStatus
from portal.tickets import deadlines, service
from portal.tickets.forms import ActionForm, QueueFilterForm, SeverityForm, StatusForm
from portal.tickets.views import bp, ticket_or_404


def agents_only(view):
    @wraps(view)
    @login_required
    def wrapped(*args, **kwargs):
        if not service.is_agent(current_user):
            abort(404 if "ticket_id" in kwargs else 403)
        return view(*args, **kwargs)
    return wrapped


@bp.get("/queue")
@agents_only
def queue():
    form = QueueFilterForm(request.args)
    severity = int(form.severity.data) if form.severity.data in ("1", "2", "3") else None
    status = form.status.data if form.validate() else "active"
    tickets = service.queue(severity=severity, status=status,
                            assignee=current_user if form.mine.data else None)
    now = service.utcnow()
    return render_template("tickets/queue.html", tickets=tickets, form=form, now=now,
                           kind_labels=deadlines.KIND_LABELS,
                           overdue={t.id for t in tickets if service.is_overdue(t, now)})


def _back(ticket_id: int):
    return redirect(url_for("tickets.show", ticket_id=ticket_id), code=303)


@bp.post("/<int:ticket_id>/assign")
@agents_only
def assign(ticket_id: int):
    ticket = ticket_or_404(ticket_id)
    if ActionForm().validate_on_submit():
        service.assign(ticket, current_user)
        flash(f"Ticket {ticket.number} is assigned to you.", "success")
    return _back(ticket.id)


@bp.post("/<int:ticket_id>/severity")
@agents_only
def severity(ticket_id: int):
    ticket = ticket_or_404(ticket_id)
    form = SeverityForm()
    if not form.validate_on_submit():
        flash("Choose severity 1, 2 or 3.", "error")
        return _back(ticket.id)
    old = ticket.severity
    try:
        service.change_severity(ticket, current_user, form.severity.data)
    except service.TicketError as exc:
        unit_of_work.discard()  # answered with a redirect: keep nothing
        flash(str(exc), "error")
        return _back(ticket.id)
    if old != ticket.severity:
        flash(f"Severity changed from {old} to {ticket.severity}; deadlines recomputed.",
              "success")
    return _back(ticket.id)


@bp.post("/<int:ticket_id>/status")
@agents_only
def status(ticket_id: int):
    ticket = ticket_or_404(ticket_id)
    form = StatusForm()
    if not form.validate_on_submit():
        flash("Choose a status from the list.", "error")
        return _back(ticket.id)
    new = TicketStatus(form.status.data)
    service.set_status(ticket, current_user, new)
    flash(f"Status set to {new.label}.", "success")
    return _back(ticket.id)
