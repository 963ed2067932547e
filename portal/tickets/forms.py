"""Ticket forms: filing, replying, and the agents' severity and status controls."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    HiddenField,
    MultipleFileField,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, Optional, Regexp

from portal.models import TicketStatus


def choices(pairs) -> list[SelectChoice]:
    return [SelectChoice(value, label) for value, label in pairs]


STATUS_PAIRS = [(s.value, s.label.capitalize()) for s in TicketStatus]
STATUS_CHOICES = choices(STATUS_PAIRS)
SEVERITY_CHOICES = choices([(1, "Severity 1"), (2, "Severity 2"), (3, "Severity 3")])


class TicketForm(FlaskForm):
    subject = StringField(
        "Subject", validators=[DataRequired("Give your ticket a short subject."),
                               Length(max=200)],
        description="One line, e.g. “Field reports export with wrong totals”.")
    description = TextAreaField(
        "What happened?",
        validators=[DataRequired("Describe the problem so we can help."), Length(max=20000)],
        description="What you did, what you expected, what happened instead. "
                    "Markdown works: **bold**, lists, `code`.")
    severity = RadioField("Severity", coerce=int, choices=SEVERITY_CHOICES,
                          validators=[InputRequired("Choose a severity.")], default=3)
    product_area = SelectField("Product area", choices=[], validate_choice=True)
    phone = StringField(
        "Phone number (optional)",
        validators=[Optional(), Length(max=40),
                    Regexp(r"^[0-9+()./ x-]{5,40}$", message="Use digits, spaces, + ( ) - only.")],
        # The same rule for the browser (escaped for its "v" mode): tickets.js clears the
        # error once the number is corrected. The form is novalidate, so nothing is blocked.
        render_kw={"pattern": r"[0-9+\(\)\.\/ x\-]{5,40}"},
        description="For a call back on urgent problems.")
    attachments = MultipleFileField("Attachments (optional)")
    idempotency_key = HiddenField()


class ReplyForm(FlaskForm):
    body = TextAreaField("Your reply", validators=[DataRequired("Write a message first."),
                                                   Length(max=20000)])
    attachments = MultipleFileField("Attachments (optional)")


class AgentReplyForm(ReplyForm):
    visibility = RadioField("Send as", choices=choices([
        ("public", "Public reply to the customer"), ("internal", "Internal note (agents only)")]),
        default="public")
    substantive = BooleanField("This reply is a substantive answer (or the question we need "
                               "answered)")
    status = SelectField("Then set status to",
                         choices=choices([("", "Leave as it is")] + STATUS_PAIRS), default="")


class SeverityForm(FlaskForm):
    severity = SelectField("Severity", coerce=int, choices=SEVERITY_CHOICES)


class StatusForm(FlaskForm):
    status = SelectField("Status", choices=STATUS_CHOICES)


class ActionForm(FlaskForm):
    """A button-only form (assign to me): CSRF token and nothing else."""


class QueueFilterForm(FlaskForm):
    class Meta:
        csrf = False  # a GET filter: nothing changes

    severity = SelectField("Severity", choices=choices([
        ("", "Any severity"), ("1", "Severity 1"), ("2", "Severity 2"), ("3", "Severity 3")]),
        default="")
    status = SelectField("Status", choices=choices(
        [("active", "Not resolved"), ("all", "Any status")] + STATUS_PAIRS), default="active")
    mine = BooleanField("Assigned to me")


def agent_forms(ticket) -> dict:
    """The agent controls on a ticket page, filled in with the ticket's current values."""
    return {
        "severity_form": SeverityForm(severity=ticket.severity, formdata=None),
        "status_form": StatusForm(status=ticket.status.value, formdata=None),
        "action_form": ActionForm(formdata=None),
    }
