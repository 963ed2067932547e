"""The feedback form: Yes/No, reasons, comment, and the two bot traps."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import HiddenField, SelectMultipleField, StringField, TextAreaField
from wtforms.validators import AnyOf, InputRequired

# Generous upper bound on what is parsed at all; the real comment limit is a
# setting enforced by the service with a readable message.
PARSE_LIMIT = 20_000


class FeedbackForm(FlaskForm):
    helpful = HiddenField(validators=[InputRequired("Choose Yes or No."),
                                      AnyOf(["yes", "no"], "Choose Yes or No.")])
    reasons = SelectMultipleField(choices=[], validate_choice=False)
    comment = TextAreaField(filters=[lambda text: (text or "")[:PARSE_LIMIT]])
    # Honeypot: hidden from people, tempting to form-filling bots.
    website = StringField()
    # Signed page-load time, article version and visitor (see service.issue_form_token).
    started = HiddenField()

    @property
    def is_yes(self) -> bool:
        return self.helpful.data == "yes"

    def first_error(self) -> str:
        for errors in self.errors.values():
            for error in errors:
                return str(error)
        return "Please check the form and try again."
