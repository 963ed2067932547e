"""Organisation pages of the admin console. Agents read; admins change (every change
through portal/admin/orgs.py, which audits it).

    /admin/organisations                          GET        search, filter by status, pages
    /admin/organisations/new                      GET, POST  create (admins)
    /admin/organisations/<id>                     GET        support, domains, members, tickets
    /admin/organisations/<id>/members             GET        every member, in pages
    /admin/organisations/<id>/tickets             GET        every ticket, in pages
    /admin/organisations/<id>/rename              POST       admins
    /admin/organisations/<id>/domains             POST       add a domain (admins)
    /admin/organisations/<id>/domains/remove      POST       remove a domain (admins)
    /admin/organisations/<id>/suspend             POST       suspend, or change the reason
    /admin/organisations/<id>/resume              POST       resume support (admins)

A change is committed when its page answers (portal.unit_of_work); a refused one keeps
nothing.
"""

from __future__ import annotations

from collections.abc import Callable

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import Field

from portal import unit_of_work
from portal.admin import domains, orgs
from portal.admin.audit import Actor
from portal.admin.org_forms import (
    AddDomainForm,
    NewOrgForm,
    RemoveDomainForm,
    RenameForm,
    ResumeForm,
    SuspendForm,
)
from portal.admin.orgs import OrgError
from portal.admin.pages import page_number, paginate
from portal.admin.views import admins_and_agents, admins_only, bp
from portal.models import Organisation


def per_page() -> int:
    return current_app.config["ADMIN_PER_PAGE"]


def org_or_404(org_id: int) -> Organisation:
    org = orgs.get(org_id)
    if org is None:
        abort(404)
    return org


def user_links() -> bool:
    """Members link to their console page once the people pages provide one."""
    return "admin.user_detail" in current_app.view_functions


def to_detail(org: Organisation):
    return redirect(url_for("admin.org_detail", org_id=org.id), code=303)


@bp.get("/organisations", endpoint="orgs")
@admins_and_agents
def orgs_list():
    q = request.args.get("q", "")[:200].strip()
    status = request.args.get("status", "")
    status = status if status in orgs.STATUSES else ""
    page = orgs.search(q, status, page_number(request.args.get("page")), per_page())
    args = {key: value for key, value in (("q", q), ("status", status)) if value}
    return render_template("admin/orgs/list.html", page=page, q=q, status=status,
                           statuses=orgs.STATUSES, args=args,
                           counts=orgs.member_counts(page.items))


@bp.route("/organisations/new", methods=["GET", "POST"])
@admins_only
def org_new():
    form = NewOrgForm()
    if form.validate_on_submit():
        try:
            org = orgs.create(form.name.data, Actor.of(current_user))
        except OrgError as exc:
            unit_of_work.discard()  # before the page is drawn: a failed flush spoils the session
            form.name.errors = [*form.name.errors, str(exc)]
        else:
            flash(f"Created {org.name}. Add its email domains so that its people join it.",
                  "success")
            return to_detail(org)
    return render_template("admin/orgs/new.html", form=form), (
        422 if request.method == "POST" else 200)


def render_detail(org: Organisation, status: int = 200, **forms: FlaskForm):
    if "rename" not in forms:
        forms["rename"] = RenameForm(formdata=None, data={"name": org.name})
    if "domain" not in forms:
        forms["domain"] = AddDomainForm(formdata=None)
    if "suspend" not in forms:
        forms["suspend"] = SuspendForm(formdata=None, data={
            "reason": org.suspension_reason, "contact": org.suspension_contact})
    forms.setdefault("remove", RemoveDomainForm(formdata=None))
    forms.setdefault("resume", ResumeForm(formdata=None))
    return render_template(
        "admin/orgs/detail.html", org=org, forms=forms, user_links=user_links(),
        members=paginate(orgs.members(org), 1, per_page()),
        tickets=paginate(orgs.tickets(org), 1, per_page())), status


@bp.get("/organisations/<int:org_id>")
@admins_and_agents
def org_detail(org_id: int):
    return render_detail(org_or_404(org_id))


@bp.get("/organisations/<int:org_id>/members")
@admins_and_agents
def org_members(org_id: int):
    org = org_or_404(org_id)
    page = paginate(orgs.members(org), page_number(request.args.get("page")), per_page())
    return render_template("admin/orgs/members.html", org=org, page=page,
                           user_links=user_links())


@bp.get("/organisations/<int:org_id>/tickets")
@admins_and_agents
def org_tickets(org_id: int):
    org = org_or_404(org_id)
    page = paginate(orgs.tickets(org), page_number(request.args.get("page")), per_page())
    return render_template("admin/orgs/tickets.html", org=org, page=page)


def change(org: Organisation, key: str, form: FlaskForm, field: Field,
           action: Callable[[Actor], str]):
    """Validate `form`, run `action` (which returns what to flash) and go back to the detail
    page; otherwise show the page again (as stored) with the form as typed and the error
    beside `field`."""
    if form.validate_on_submit():
        try:
            message = action(Actor.of(current_user))
        except OrgError as exc:
            unit_of_work.discard()  # the page shows the organisation as stored
            field.errors = [*field.errors, str(exc)]
        else:
            flash(message, "success")
            return to_detail(org)
    return render_detail(org, 422, **{key: form})


@bp.post("/organisations/<int:org_id>/rename")
@admins_only
def org_rename(org_id: int):
    org = org_or_404(org_id)
    form = RenameForm()

    def action(actor: Actor) -> str:
        before = org.name
        if orgs.rename(org, form.name.data, actor):
            return f"Renamed {before} to {org.name}."
        return f"{org.name} already has that name; nothing changed."
    return change(org, "rename", form, form.name, action)


@bp.post("/organisations/<int:org_id>/domains")
@admins_only
def org_add_domain(org_id: int):
    org = org_or_404(org_id)
    form = AddDomainForm()

    def action(actor: Actor) -> str:
        joined = orgs.add_domain(org, form.domain.data, actor)
        added = domains.normalise_domain(form.domain.data)
        if not joined:
            return f"Added {added} to {org.name}."
        people = "1 customer" if joined == 1 else f"{joined} customers"
        return f"Added {added} to {org.name}: {people} with a confirmed address at it joined."
    return change(org, "domain", form, form.domain, action)


@bp.post("/organisations/<int:org_id>/domains/remove")
@admins_only
def org_remove_domain(org_id: int):
    org = org_or_404(org_id)
    form = RemoveDomainForm()
    if form.validate_on_submit():
        try:
            orgs.remove_domain(org, form.domain.data, Actor.of(current_user))
        except OrgError as exc:
            unit_of_work.discard()  # answered with a redirect: keep nothing
            flash(str(exc), "error")
        else:
            flash(f"Removed {form.domain.data} from {org.name}. People who joined through "
                  "it stay members.", "success")
    else:
        flash("Choose a domain to remove.", "error")
    return to_detail(org)


@bp.post("/organisations/<int:org_id>/suspend")
@admins_only
def org_suspend(org_id: int):
    org = org_or_404(org_id)
    form = SuspendForm()

    def action(actor: Actor) -> str:
        was = org.support_suspended
        if not orgs.suspend(org, form.reason.data, form.contact.data or "", actor):
            return "Nothing changed."
        if was:
            return f"Updated the suspension of {org.name}."
        return f"Suspended support for {org.name}. Its members cannot file tickets."
    return change(org, "suspend", form, form.reason, action)


@bp.post("/organisations/<int:org_id>/resume")
@admins_only
def org_resume(org_id: int):
    org = org_or_404(org_id)
    form = ResumeForm()
    if not form.validate_on_submit():
        abort(400)
    if orgs.resume(org, Actor.of(current_user)):
        flash(f"Resumed support for {org.name}. Its members can file tickets again.",
              "success")
    else:
        flash(f"Support for {org.name} was not suspended; nothing changed.", "info")
    return to_detail(org)
