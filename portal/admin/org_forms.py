"""Forms of the organisation pages. The detail page holds several, so each has a prefix
(unique ids and field names); the rules themselves are in portal/admin/orgs.py."""

from flask_wtf import FlaskForm
from wtforms import HiddenField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from portal.admin.orgs import MAX_CONTACT, MAX_NAME, MAX_REASON

NAME_REQUIRED = "Enter the organisation's name."


class NewOrgForm(FlaskForm):
    name = StringField("Name", validators=[
        DataRequired(NAME_REQUIRED),
        Length(max=MAX_NAME, message=f"Keep the name to {MAX_NAME} characters or fewer.")])


class RenameForm(FlaskForm):
    name = StringField("New name", validators=[
        DataRequired(NAME_REQUIRED),
        Length(max=MAX_NAME, message=f"Keep the name to {MAX_NAME} characters or fewer.")])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, prefix="rename", **kwargs)


class AddDomainForm(FlaskForm):
    domain = StringField(
        "Email domain", validators=[DataRequired("Enter an email domain, like example.com."),
                                    Length(max=300)],
        description="Customers whose confirmed address is at this domain join the "
                    "organisation, now and when they confirm it later.")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, prefix="domain", **kwargs)


class RemoveDomainForm(FlaskForm):
    """One per domain on the page: rendered by hand, without ids."""
    domain = HiddenField(validators=[DataRequired(), Length(max=300)])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, prefix="remove", **kwargs)


class SuspendForm(FlaskForm):
    reason = TextAreaField(
        "Reason", validators=[DataRequired("Give a reason: the organisation's members will "
                                           "see it."),
                              Length(max=MAX_REASON, message="Keep the reason to "
                                     f"{MAX_REASON} characters or fewer.")],
        description="Members see this when they try to file a ticket.")
    contact = StringField(
        "Whom to contact", validators=[Optional(), Length(
            max=MAX_CONTACT, message=f"Keep the contact to {MAX_CONTACT} characters or fewer.")],
        description="A name, address or phone number members should contact about it.")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, prefix="suspend", **kwargs)


class ResumeForm(FlaskForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, prefix="resume", **kwargs)
