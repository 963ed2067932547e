"""Training pages.

    /training/                        GET        upcoming sessions, seats left, my place
    /training/<id>                    GET        one session (joining details when enrolled)
    /training/<id>/enroll             POST       take a seat, or join the waitlist
    /training/<id>/cancel             POST       give it up (the next in line moves up)
    /training/<id>/invite.ics         GET        calendar invitation for an enrolled user
    /training/new                     GET, POST  admins: add a session
    /training/<id>/edit               GET, POST  admins: change it
"""

from __future__ import annotations

from functools import wraps

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    url_for,
)
from flask_login import current_user, login_required

from portal import unit_of_work
from portal.models import EnrollmentStatus, Role
from portal.notices import clock, rules
from portal.notices.service import label, moment, zone
from portal.tickets import mail
from portal.training import invite, service
from portal.training.forms import ButtonForm, SessionForm

bp = Blueprint("training", __name__, url_prefix="/training")


def is_admin() -> bool:
    return current_user.is_authenticated and current_user.has_role(Role.ADMIN)


def admins_only(view):
    @wraps(view)
    @login_required
    def wrapped(*args, **kwargs):
        if not is_admin():
            abort(403)
        return view(*args, **kwargs)
    return wrapped


def _session_or_404(session_id: int):
    session = service.find(session_id)
    if session is None:
        abort(404)
    return session


def _absolute(endpoint: str, **values) -> str:
    base = current_app.config.get("SITE_URL", "").rstrip("/")
    return base + url_for(endpoint, **values) if base else url_for(endpoint, _external=True,
                                                                     **values)


def _seat_mail(enrollment, promoted: bool = False) -> None:
    """Tell someone they have a seat, with the invitation link (sent via the outbox)."""
    session, user = enrollment.session, enrollment.user
    first = "A seat opened up and it is yours" if promoted else "You have a seat"
    ics = _absolute("training.invitation", session_id=session.id)
    page = _absolute("training.detail", session_id=session.id)
    mail.queue(user.email, f"Training: {session.title} — {moment(session.starts_at)}",
               f"Hello {user.name},\n\n{first}: {session.title}\n"
               f"When: {_when(session)}\n\n"
               f"How to join:\n{session.joining_details or 'We will send the link shortly.'}\n\n"
               f"Add it to your calendar: {ics}\n"
               f"Cannot come? Cancel so the next person on the waitlist gets the seat: {page}\n")


@bp.get("/")
def sessions():
    now = clock.now()
    admin = is_admin()
    items = [s for s in service.listing(now, include_past=admin)
             if admin or s.ends_at > now]
    mine = (service.my_enrollments(current_user, [s.id for s in items])
            if current_user.is_authenticated else {})
    upcoming = [s for s in items if s.ends_at > now]
    past = [s for s in items if s.ends_at <= now][-20:]
    return render_template("training/list.html", upcoming=upcoming, past=past, places=mine,
                           button=ButtonForm(), admin=admin, when=_when)


def _when(session) -> str:
    return rules.format_range(session.starts_at, session.ends_at, zone(), label())


@bp.get("/<int:session_id>")
def detail(session_id: int):
    session = _session_or_404(session_id)
    mine = (service.enrollment_of(session.id, current_user.id)
            if current_user.is_authenticated else None)
    enrolled, waitlist = service.roster(session.id) if is_admin() else ([], [])
    return render_template(
        "training/detail.html", session=session, mine=mine, button=ButtonForm(),
        position=service.waitlist_position(mine) if mine else None, admin=is_admin(),
        enrolled=enrolled, waitlist=waitlist, when=_when(session),
        started=session.starts_at <= clock.now())


@bp.post("/<int:session_id>/enroll")
@login_required
def enroll(session_id: int):
    _session_or_404(session_id)
    if not ButtonForm().validate_on_submit():
        abort(400)
    try:
        enrollment = service.enroll(session_id, current_user, clock.now())
    except service.TrainingError as exc:
        unit_of_work.discard()
        flash(str(exc), "error")
        return redirect(url_for(".detail", session_id=session_id), code=303)
    if enrollment.status == EnrollmentStatus.ENROLLED:
        _seat_mail(enrollment)
        flash("You are enrolled. We emailed you the details; add the session to your calendar "
              "below.", "success")
    else:
        position = service.waitlist_position(enrollment)
        flash(f"The session is full, so you are number {position} on the waitlist. If a seat "
              f"opens up, it goes to the first in line and we email you.", "info")
    return redirect(url_for(".detail", session_id=session_id), code=303)


@bp.post("/<int:session_id>/cancel")
@login_required
def cancel(session_id: int):
    _session_or_404(session_id)
    if not ButtonForm().validate_on_submit():
        abort(400)
    try:
        _, promoted = service.cancel(session_id, current_user, clock.now())
    except service.TrainingError as exc:
        unit_of_work.discard()
        flash(str(exc), "error")
        return redirect(url_for(".detail", session_id=session_id), code=303)
    for enrollment in promoted:
        _seat_mail(enrollment, promoted=True)
    flash("Cancelled. Thank you for freeing the place.", "success")
    return redirect(url_for(".detail", session_id=session_id), code=303)


@bp.get("/<int:session_id>/invite.ics")
@login_required
def invitation(session_id: int):
    session = _session_or_404(session_id)
    mine = service.enrollment_of(session.id, current_user.id)
    if mine is None or mine.status == EnrollmentStatus.WAITLISTED:
        abort(404)
    body = invite.invitation(
        session, current_user, product=current_app.config["PRODUCT_NAME"],
        organizer_email=current_app.config["SUPPORT_EMAIL"],
        session_url=_absolute(".detail", session_id=session.id), now=clock.now(),
        cancelled=mine.status == EnrollmentStatus.CANCELLED)
    response = Response(body, mimetype="text/calendar")
    response.headers["Content-Disposition"] = f'attachment; filename="training-{session.id}.ics"'
    response.headers["Cache-Control"] = "private, no-store"
    return response


def _data(form: SessionForm) -> service.SessionData:
    try:
        starts = rules.wall_time(form.starts_at.data, zone())
    except ValueError as exc:
        raise service.TrainingError(str(exc)) from exc
    return service.SessionData(form.title.data or "", form.description.data or "", starts,
                               form.duration_minutes.data, form.capacity.data,
                               form.joining_details.data or "")


@bp.route("/new", methods=["GET", "POST"])
@admins_only
def new():
    form = SessionForm()
    if form.validate_on_submit():
        try:
            session = service.create(_data(form), clock.now())
        except service.TrainingError as exc:
            flash(str(exc), "error")
        else:
            flash(f"“{session.title}” is open for enrollment.", "success")
            return redirect(url_for(".detail", session_id=session.id), code=303)
    return render_template("training/form.html", form=form, session=None), (
        422 if form.is_submitted() else 200)


@bp.route("/<int:session_id>/edit", methods=["GET", "POST"])
@admins_only
def edit(session_id: int):
    session = _session_or_404(session_id)
    form = SessionForm(obj=session)  # posted fields win over the stored ones
    if not form.is_submitted():
        form.starts_at.data = session.starts_at.astimezone(zone()).replace(tzinfo=None)
    if form.validate_on_submit():
        try:
            promoted = service.edit(session_id, _data(form), clock.now())
        except service.TrainingError as exc:
            unit_of_work.discard()  # the form is drawn again from the session as stored
            flash(str(exc), "error")
        else:
            for enrollment in promoted:
                _seat_mail(enrollment, promoted=True)
            flash("Session saved." + (f" {len(promoted)} moved up from the waitlist."
                                      if promoted else ""), "success")
            return redirect(url_for(".detail", session_id=session_id), code=303)
    return render_template("training/form.html", form=form, session=session), (
        422 if form.is_submitted() else 200)
