"""People pages of the admin console. Admins change; agents read (forms hidden).
(Each button's form carries the CSRF token; CSRFProtect checks it before the view runs.)

    /admin/users                          GET        search, filter and page through people
    /admin/users/new                      GET, POST  add a person: mails an invitation
    /admin/users/<id>                     GET        the facts, their tickets, recent changes
    /admin/users/<id>/role                POST       change the role
    /admin/users/<id>/organisation        POST       attach to an organisation
    /admin/users/<id>/detach              POST       take out of their organisation
    /admin/users/<id>/deactivate          POST       stop them signing in, end their sessions
    /admin/users/<id>/reactivate          POST       let them sign in again
    /admin/users/<id>/reset-link          POST       mail a single-use password-reset link

The rules are in portal/admin/people.py; every change there is audited. A change is
committed when its page answers (portal.unit_of_work), and its mail goes after that.
"""

from __future__ import annotations

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user

from portal import unit_of_work
from portal.accounts import sessions
from portal.admin import audit, people
from portal.admin.audit import Actor
from portal.admin.pages import page_number
from portal.admin.user_forms import (
    AttachForm,
    FilterForm,
    NewUserForm,
    RoleForm,
    organisation_choices,
)
from portal.admin.views import admins_and_agents, admins_only, bp, can_change
from portal.extensions import db
from portal.models import Role, User


def _user_or_404(user_id: int) -> User:
    user = db.session.get(User, user_id)
    if user is None:
        abort(404)
    return user


@bp.get("/users")
@admins_and_agents
def users():
    form = FilterForm(request.args)
    form.set_organisations(people.organisations())
    filters = form.cleaned()
    found = people.search(page=page_number(request.args.get("page")),
                          per_page=current_app.config["ADMIN_PER_PAGE"], **filters)
    return render_template("admin/users/list.html", form=form, filters=filters, found=found,
                           console_section="users")


@bp.route("/users/new", methods=["GET", "POST"])
@admins_only
def user_new():
    form = NewUserForm()
    form.organisation.choices = organisation_choices(people.organisations(), "No organisation")
    if not form.is_submitted() and request.args.get("organisation", "").isdigit():
        form.organisation.data = request.args["organisation"]
    if not form.validate_on_submit():
        return _render_new(form, 422 if form.is_submitted() else 200)
    try:
        user, _ = people.invite(form.email.data, form.name.data, form.role.data,
                                form.organisation.data or None, Actor.of(current_user))
    except people.PeopleError as exc:
        unit_of_work.discard()  # the form is drawn again with nothing half made
        field = getattr(form, exc.field or "", None)
        if field is not None:
            field.errors = [*field.errors, str(exc)]
        else:
            flash(str(exc), "error")
        return _render_new(form, 422)
    flash(f"{user.name} was added. An invitation to choose a password was sent to "
          f"{user.email}.", "success")
    return redirect(url_for(".user_detail", user_id=user.id), code=303)


def _render_new(form: NewUserForm, status: int):
    return render_template("admin/users/new.html", form=form, console_section="users"), status


@bp.get("/users/<int:user_id>")
@admins_and_agents
def user_detail(user_id: int):
    return _render_detail(_user_or_404(user_id))


def _render_detail(user: User, status: int = 200, role_form: RoleForm | None = None,
                   attach_form: AttachForm | None = None):
    orgs = people.organisations()
    role_form = role_form or RoleForm(formdata=None, role=Role(user.role).value)
    attach_form = attach_form or AttachForm(formdata=None)
    attach_form.organisation.choices = organisation_choices(
        [org for org in orgs if org.id != user.organisation_id],
        "Choose an organisation")
    tickets, ticket_total = people.tickets_of(user)
    return render_template(
        "admin/users/detail.html", user=user, console_section="users",
        session_count=len(sessions.of_user(user.id)), tickets=tickets,
        ticket_total=ticket_total, history=people.history_of(user) if can_change() else [],
        role_form=role_form, attach_form=attach_form, is_self=user.id == current_user.id,
        org_links="admin.org_detail" in current_app.view_functions,
        actions=audit.ACTIONS, describe=audit.describe), status


def _done(user: User, message: str):
    flash(message, "success")
    if not can_change():  # an admin who just gave up their own admin role
        return redirect(url_for("kb.home"), code=303)
    return redirect(url_for(".user_detail", user_id=user.id), code=303)


def _refused(user: User, exc: people.PeopleError, **forms):
    unit_of_work.discard()  # the page shows the person as stored
    flash(str(exc), "error")
    return _render_detail(user, 422, **forms)


@bp.post("/users/<int:user_id>/role")
@admins_only
def user_set_role(user_id: int):
    user = _user_or_404(user_id)
    form = RoleForm()
    if not form.validate_on_submit():
        return _render_detail(user, 422, role_form=form)
    try:
        changed = people.set_role(user, form.role.data, Actor.of(current_user))
    except people.PeopleError as exc:
        return _refused(user, exc, role_form=form)
    return _done(user, f"{user.name} is now {_role_phrase(user.role)}." if changed
                 else f"{user.name} was already {_role_phrase(user.role)}.")


def _role_phrase(role: Role) -> str:
    value = Role(role).value
    return f"an {value}" if value[0] in "aeiou" else f"a {value}"


@bp.post("/users/<int:user_id>/organisation")
@admins_only
def user_attach(user_id: int):
    user = _user_or_404(user_id)
    form = AttachForm()
    form.organisation.choices = organisation_choices(people.organisations(),
                                                     "Choose an organisation")
    if not form.validate_on_submit():
        return _render_detail(user, 422, attach_form=form)
    try:
        people.attach(user, form.organisation.data, Actor.of(current_user))
    except people.PeopleError as exc:
        return _refused(user, exc, attach_form=form)
    return _done(user, f"{user.name} is now in {user.organisation.name}.")


@bp.post("/users/<int:user_id>/detach")
@admins_only
def user_detach(user_id: int):
    user = _user_or_404(user_id)
    name = user.organisation.name if user.organisation else None
    people.detach(user, Actor.of(current_user))
    return _done(user, f"{user.name} is no longer in {name}." if name
                 else f"{user.name} was in no organisation.")


@bp.post("/users/<int:user_id>/deactivate")
@admins_only
def user_deactivate(user_id: int):
    user = _user_or_404(user_id)
    try:
        ended = people.deactivate(user, Actor.of(current_user))
    except people.PeopleError as exc:
        return _refused(user, exc)
    if ended is None:
        return _done(user, f"{user.name} was already deactivated.")
    signed_out = (f" and signed out of {ended} session{'s' if ended != 1 else ''}"
                  if ended else "")
    return _done(user, f"{user.name} is deactivated{signed_out}: they can no longer sign in.")


@bp.post("/users/<int:user_id>/reactivate")
@admins_only
def user_reactivate(user_id: int):
    user = _user_or_404(user_id)
    changed = people.reactivate(user, Actor.of(current_user))
    return _done(user, f"{user.name} can sign in again." if changed
                 else f"{user.name} was already active.")


@bp.post("/users/<int:user_id>/reset-link")
@admins_only
def user_reset_link(user_id: int):
    user = _user_or_404(user_id)
    try:
        people.send_reset_link(user, Actor.of(current_user))
    except people.PeopleError as exc:
        return _refused(user, exc)
    return _done(user, f"A password-reset link was sent to {user.email}.")
