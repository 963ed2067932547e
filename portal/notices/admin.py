"""Admin pages for notices, on the notices blueprint.

    /admin/notices                        GET        every notice: ongoing, upcoming, past
    /admin/notices/new/<kind>             GET, POST  schedule maintenance / post an incident
    /admin/notices/<id>/edit              GET, POST  change it
    /admin/notices/<id>/updates           POST       post a progress update
    /admin/notices/<id>/resolve           POST       end it now
    /admin/notices/<id>/delete            POST       remove a notice entered by mistake
"""

from __future__ import annotations

from datetime import datetime
from functools import wraps

from flask import abort, flash, redirect, render_template, url_for
from flask_login import current_user, login_required

from portal import unit_of_work
from portal.models import NoticeKind, Role
from portal.notices import clock, rules, service
from portal.notices.forms import ActionForm, IncidentForm, MaintenanceForm, ResolveForm, UpdateForm
from portal.notices.views import bp


def admins_only(view):
    @wraps(view)
    @login_required
    def wrapped(*args, **kwargs):
        if not current_user.has_role(Role.ADMIN):
            abort(403)
        return view(*args, **kwargs)
    return wrapped


def _form_for(kind: NoticeKind, **kwargs):
    return (MaintenanceForm if kind == NoticeKind.MAINTENANCE else IncidentForm)(**kwargs)


def _local(value: datetime | None) -> datetime | None:
    return value.astimezone(service.zone()).replace(tzinfo=None) if value else None


def _data(form, kind: NoticeKind) -> service.NoticeData:
    """Form fields to NoticeData; the typed times are wall-clock times in Eastern."""
    zone = service.zone()
    try:
        starts = rules.wall_time(form.starts_at.data, zone) if form.starts_at.data else None
        ends = rules.wall_time(form.ends_at.data, zone) if form.ends_at.data else None
    except ValueError as exc:
        raise service.NoticeError(str(exc)) from exc
    return service.NoticeData(kind, form.title.data or "", form.description.data or "",
                              starts, ends)


def _flash_note(data: service.NoticeData) -> None:
    """A gentle note for an allowed maintenance window outside the suggested ones."""
    note = service.maintenance_note(data)
    if note:
        flash(note, "info")


def _notice_or_404(notice_id: int):
    notice = service.get(notice_id)
    if notice is None:
        abort(404)
    return notice


def _render_form(form, kind: NoticeKind, notice=None, status: int = 200):
    return render_template("notices/admin_form.html", form=form, kind=kind, notice=notice,
                           maintenance_rule=service.maintenance_policy().rule_for_admins(),
                           zone_label=service.label()), status


@bp.get("/admin/notices")
@admins_only
def admin_list():
    now = clock.now()
    return render_template("notices/admin_list.html", overview=service.admin_list(now),
                           action=ActionForm(), update_form=UpdateForm(),
                           resolve_form=ResolveForm())


@bp.route("/admin/notices/new/<kind>", methods=["GET", "POST"])
@admins_only
def admin_new(kind: str):
    try:
        kind_value = NoticeKind(kind)
    except ValueError:
        abort(404)
    form = _form_for(kind_value)
    if not form.is_submitted() and kind_value == NoticeKind.INCIDENT:
        form.starts_at.data = _local(clock.now()).replace(second=0, microsecond=0)
    if not form.validate_on_submit():
        return _render_form(form, kind_value, status=422 if form.is_submitted() else 200)
    try:
        data = _data(form, kind_value)
        notice = service.create(data, current_user, clock.now())
    except service.NoticeError as exc:
        flash(str(exc), "error")
        return _render_form(form, kind_value, status=422)
    when = service.shown(notice, clock.now()).when
    flash(f"{notice.kind.label} “{notice.title}” published: {when}.", "success")
    _flash_note(data)
    return redirect(url_for(".admin_list"), code=303)


@bp.route("/admin/notices/<int:notice_id>/edit", methods=["GET", "POST"])
@admins_only
def admin_edit(notice_id: int):
    notice = _notice_or_404(notice_id)
    kind = NoticeKind(notice.kind)
    form = _form_for(kind)
    if not form.is_submitted():
        form.title.data, form.description.data = notice.title, notice.description
        form.starts_at.data, form.ends_at.data = _local(notice.starts_at), _local(notice.ends_at)
    if not form.validate_on_submit():
        return _render_form(form, kind, notice, 422 if form.is_submitted() else 200)
    try:
        data = _data(form, kind)
        service.edit(notice, data, clock.now())
    except service.NoticeError as exc:
        unit_of_work.discard()  # the form is drawn again from the notice as stored
        flash(str(exc), "error")
        return _render_form(form, kind, notice, 422)
    flash("Notice saved.", "success")
    _flash_note(data)
    return redirect(url_for(".admin_list"), code=303)


@bp.post("/admin/notices/<int:notice_id>/updates")
@admins_only
def admin_update(notice_id: int):
    notice = _notice_or_404(notice_id)
    form = UpdateForm()
    if not form.validate_on_submit():
        flash("Write the update first.", "error")
        return redirect(url_for(".admin_list"), code=303)
    service.add_update(notice, form.body.data, current_user, clock.now())
    flash("Update posted.", "success")
    return redirect(url_for(".admin_list"), code=303)


@bp.post("/admin/notices/<int:notice_id>/resolve")
@admins_only
def admin_resolve(notice_id: int):
    notice = _notice_or_404(notice_id)
    form = ResolveForm()
    if form.validate_on_submit():
        try:
            service.resolve(notice, form.body.data or "", current_user, clock.now())
        except service.NoticeError as exc:
            unit_of_work.discard()
            flash(str(exc), "error")
            return redirect(url_for(".admin_list"), code=303)
        flash(f"“{notice.title}” marked as ended.", "success")
    return redirect(url_for(".admin_list"), code=303)


@bp.post("/admin/notices/<int:notice_id>/delete")
@admins_only
def admin_delete(notice_id: int):
    notice = _notice_or_404(notice_id)
    if ActionForm().validate_on_submit():
        title = notice.title
        service.delete(notice)
        flash(f"“{title}” deleted.", "success")
    return redirect(url_for(".admin_list"), code=303)
