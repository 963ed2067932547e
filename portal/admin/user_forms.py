"""Forms of the people pages. Organisation choices are filled in by the view."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import EmailField, Form, SearchField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length

from portal.admin.people import NO_ORGANISATION, STATUSES
from portal.models import Organisation, Role

ROLE_LABELS = {Role.CUSTOMER: "Customer", Role.AGENT: "Agent", Role.EDITOR: "Editor",
               Role.ADMIN: "Admin"}


def choices(pairs) -> list[SelectChoice]:
    return [SelectChoice(value, label) for value, label in pairs]


def role_choices(blank: str | None = None) -> list[SelectChoice]:
    return choices(([("", blank)] if blank else [])
                   + [(role.value, label) for role, label in ROLE_LABELS.items()])


def organisation_choices(orgs: list[Organisation], blank: str,
                         none: str | None = None) -> list[SelectChoice]:
    """A blank choice, optionally "none" (no organisation), then every organisation."""
    return choices([("", blank)] + ([(NO_ORGANISATION, none)] if none else [])
                   + [(str(org.id), org.name) for org in orgs])


class FilterForm(Form):
    """The list's search box and filters (GET, no CSRF: it changes nothing)."""

    q = SearchField("Name or email", validators=[Length(max=200)], id="people-q")
    role = SelectField("Role", choices=role_choices("Any role"), id="people-role")
    organisation = SelectField("Organisation", choices=choices([("", "Any organisation")]),
                               id="people-org")
    status = SelectField("Status", choices=choices(STATUSES.items()), id="people-status")

    def set_organisations(self, orgs: list[Organisation]) -> None:
        self.organisation.choices = organisation_choices(orgs, "Any organisation",
                                                         none="No organisation")

    def cleaned(self) -> dict[str, str]:
        """The filters as typed, each one that is not a valid choice dropped."""
        values = {"q": (self.q.data or "").strip()[:200]}
        for field in (self.role, self.organisation, self.status):
            allowed = {choice.value for choice in field.choices}
            values[field.name] = field.data if field.data in allowed else ""
        return {key: value for key, value in values.items() if value}


class NewUserForm(FlaskForm):
    name = StringField("Name", validators=[DataRequired("Enter the person's name."),
                                           Length(max=120)])
    email = EmailField("Email address", validators=[
        DataRequired("Enter the email address the invitation goes to."), Length(max=254)])
    role = SelectField("Role", choices=role_choices(), default=Role.CUSTOMER.value,
                       description="Customers file tickets for their organisation; agents "
                                   "answer them; editors write articles; admins run the portal.")
    organisation = SelectField("Organisation", choices=choices([("", "No organisation")]),
                               description="A customer needs one to file tickets.")


class RoleForm(FlaskForm):
    role = SelectField("Role", choices=role_choices())


class AttachForm(FlaskForm):
    organisation = SelectField("Organisation", choices=choices([("", "Choose an organisation")]),
                               validators=[DataRequired("Choose an organisation.")])
