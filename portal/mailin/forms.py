"""Forms for the agents' review of held mail."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import EmailField, StringField
from wtforms.validators import DataRequired, Length, Regexp


class FileForm(FlaskForm):
    customer_email = EmailField(
        "Customer's account email", validators=[DataRequired("Enter the customer's email."),
                                                Regexp(r"^[^@\s]+@[^@\s]+$",
                                                       message="Enter an email address."),
                                                Length(max=254)],
        description="The ticket is filed for this customer, in their organisation.")


class DismissForm(FlaskForm):
    note = StringField("Why (optional)", validators=[Length(max=200)])


class AddReplyForm(FlaskForm):
    """Only the CSRF token: the message itself says which ticket it answers."""
