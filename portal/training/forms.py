"""Training forms: the admins' session editor and the enroll/cancel buttons."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import DateTimeLocalField, IntegerField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange

FORMAT = ["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"]


class SessionForm(FlaskForm):
    title = StringField("Title", validators=[DataRequired("Give the session a title."),
                                             Length(max=200)])
    description = TextAreaField("Description", validators=[Length(max=5000)],
                                description="Who it is for and what it covers.")
    starts_at = DateTimeLocalField("Starts (Eastern Time)", format=FORMAT,
                                   validators=[DataRequired("Enter the date and time.")])
    duration_minutes = IntegerField(
        "Duration (minutes)", default=60,
        validators=[InputRequired("Enter the length in minutes."),
                    NumberRange(1, 480, "Between 1 and 480 minutes.")])
    capacity = IntegerField("Seats", default=20,
                            validators=[InputRequired("Enter the number of seats."),
                                        NumberRange(1, 10000, "Between 1 and 10,000 seats.")])
    joining_details = TextAreaField(
        "Joining details", validators=[Length(max=2000)],
        description="Meeting link, dial-in, passcode. Only enrolled people see this.")


class ButtonForm(FlaskForm):
    """Enroll, join the waitlist, cancel: nothing but the CSRF token."""
