"""The agents' review list for incoming mail that could not be filed by itself.

    /mail/review                     GET   held messages, and what happened to recent mail
    /mail/review/<id>                GET   one message: sender, text, attachments
    /mail/review/<id>/file           POST  file it as a ticket for a known customer
    /mail/review/<id>/add-reply      POST  add a held reply to its ticket, once checked
    /mail/review/<id>/dismiss        POST  set it aside (spam, not for us)
    /mail/review/<id>/original       GET   the message exactly as received (.eml)
"""

from __future__ import annotations

from functools import wraps
from pathlib import Path

from flask import Blueprint, abort, flash, redirect, render_template, send_file, url_for
from flask_login import current_user, login_required

from portal import unit_of_work
from portal.extensions import db
from portal.mailin import service
from portal.mailin.forms import AddReplyForm, DismissForm, FileForm
from portal.models import IncomingMail
from portal.notices import clock
from portal.tickets import attachments
from portal.tickets.service import is_agent

bp = Blueprint("mailin", __name__, url_prefix="/mail/review")


def agents_only(view):
    @wraps(view)
    @login_required
    def wrapped(*args, **kwargs):
        if not is_agent(current_user):
            abort(403)
        return view(*args, **kwargs)
    return wrapped


def _row_or_404(mail_id: int) -> IncomingMail:
    row = db.session.get(IncomingMail, mail_id)
    if row is None:
        abort(404)
    return row


@bp.get("/")
@agents_only
def review():
    return render_template("mailin/review.html", held=service.held(), recent=service.recent())


def _render_one(row: IncomingMail, file_form=None, dismiss_form=None, status: int = 200):
    return render_template("mailin/message.html", row=row, file_form=file_form or FileForm(),
                           dismiss_form=dismiss_form or DismissForm(),
                           reply_form=AddReplyForm(),
                           reply_ticket=service.reply_ticket_number(row)), status


@bp.get("/<int:mail_id>")
@agents_only
def message(mail_id: int):
    return _render_one(_row_or_404(mail_id))


@bp.get("/<int:mail_id>/original")
@agents_only
def original(mail_id: int):
    row = _row_or_404(mail_id)
    path = Path(row.raw_path) if row.raw_path else None
    if path is None or not path.is_file():
        abort(404)
    return send_file(path, mimetype="message/rfc822", as_attachment=True,
                     download_name=f"mail-{row.id}.eml")


@bp.post("/<int:mail_id>/file")
@agents_only
def file(mail_id: int):
    row = _row_or_404(mail_id)
    form = FileForm()
    if not form.validate_on_submit():
        return _render_one(row, file_form=form, status=422)
    try:
        ticket, _ = service.file_held(row, form.customer_email.data, current_user, clock.now())
    except (service.ReviewError, attachments.AttachmentError) as exc:
        unit_of_work.discard()  # the page shows the message as stored
        flash(str(exc), "error")
        return _render_one(_row_or_404(mail_id), file_form=form, status=422)
    flash(f"Filed as ticket {ticket.number}.", "success")
    return redirect(url_for("tickets.show", ticket_id=ticket.id), code=303)


@bp.post("/<int:mail_id>/add-reply")
@agents_only
def add_reply(mail_id: int):
    row = _row_or_404(mail_id)
    if not AddReplyForm().validate_on_submit():
        return _render_one(row, status=422)
    try:
        ticket, _ = service.add_held_reply(row, current_user, clock.now())
    except (service.ReviewError, attachments.AttachmentError) as exc:
        unit_of_work.discard()
        flash(str(exc), "error")
        return redirect(url_for(".message", mail_id=mail_id), code=303)
    flash(f"Added to ticket {ticket.number} as {row.sender}'s reply.", "success")
    return redirect(url_for("tickets.show", ticket_id=ticket.id), code=303)


@bp.post("/<int:mail_id>/dismiss")
@agents_only
def dismiss(mail_id: int):
    row = _row_or_404(mail_id)
    form = DismissForm()
    if not form.validate_on_submit():
        return _render_one(row, dismiss_form=form, status=422)
    try:
        service.dismiss(row, current_user, clock.now(), form.note.data or "")
    except service.ReviewError as exc:
        unit_of_work.discard()
        flash(str(exc), "error")
        return redirect(url_for(".message", mail_id=mail_id), code=303)
    flash("Message dismissed.", "success")
    return redirect(url_for(".review"), code=303)
