"""Admin forms for notices; times are typed in the business time zone (Eastern)."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import DateTimeLocalField, HiddenField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

FORMAT = ["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"]


class NoticeForm(FlaskForm):
    title = StringField("Title", validators=[DataRequired("Give the notice a title."),
                                             Length(max=200)],
                        description="Short and specific, e.g. “Database upgrade” or "
                                    "“Reports fail to load”.")
    description = TextAreaField("What readers should know", validators=[Length(max=5000)],
                                description="What is affected, what still works, what to do.")
    starts_at = DateTimeLocalField("Starts", format=FORMAT,
                                   validators=[DataRequired("Enter the date and time.")])
    ends_at = DateTimeLocalField("Ends", format=FORMAT, validators=[Optional()])


class MaintenanceForm(NoticeForm):
    ends_at = DateTimeLocalField("Ends", format=FORMAT,
                                 validators=[DataRequired("Enter the date and time.")])


class IncidentForm(NoticeForm):
    starts_at = DateTimeLocalField("Started", format=FORMAT,
                                   validators=[DataRequired("Enter the date and time.")])
    ends_at = DateTimeLocalField("Resolved (leave empty while it is ongoing)", format=FORMAT,
                                 validators=[Optional()])


class UpdateForm(FlaskForm):
    body = TextAreaField("Post an update", validators=[DataRequired("Write the update first."),
                                                      Length(max=5000)])


class ResolveForm(FlaskForm):
    body = TextAreaField("Closing note (optional)", validators=[Length(max=5000)])


class ActionForm(FlaskForm):
    """Buttons that only need the CSRF token (delete, dismiss)."""

    next = HiddenField()
