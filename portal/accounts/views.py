"""Sign-in, sign-out and registration pages.

    /login      GET, POST  (throttled: see portal/accounts/attempts.py and throttle.py)
    /logout     POST
    /register   GET, POST  (when PORTAL_REGISTRATION_OPEN)
"""

from __future__ import annotations

import math

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import current_user, login_user, logout_user

from portal.accounts import attempts, devices, service, throttle
from portal.accounts.forms import LoginForm, RegistrationForm
from portal.extensions import db, limiter

bp = Blueprint("accounts", __name__)

BAD_CREDENTIALS = "That email and password do not match an account."
PAUSED = ("This account has had too many failed sign-ins, so signing in to it from a browser "
          "or network it has not been used on is paused for {wait}. Try again then, or sign in "
          "from a device you have signed in on before.")
TOO_MANY = "Too many sign-in attempts."


def _login_limit() -> str:
    return current_app.config["LOGIN_LIMIT"]


def _ip_limit() -> str:
    return current_app.config["LOGIN_IP_LIMIT"]


def _login_page(form: LoginForm):
    """The sign-in page; reached from the ticket form, it also says why an account is
    needed and how else to reach support."""
    target = service.safe_next(form.next.data) or ""
    return render_template("accounts/login.html", form=form,
                           filing_ticket=target.startswith(url_for("tickets.new")))


def _describe_wait(seconds: int) -> str:
    if seconds < 90:
        return "1 second" if seconds == 1 else f"{seconds} seconds"
    minutes = math.ceil(seconds / 60)
    return f"{minutes} minutes" if minutes < 90 else f"{math.ceil(minutes / 60)} hours"


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(_ip_limit, methods=["POST"], key_func=attempts.network_limit_key,
               exempt_when=attempts.from_known_device, deduct_when=attempts.was_failure,
               error_message=TOO_MANY)
@limiter.limit(_login_limit, methods=["POST"], key_func=attempts.account_limit_key,
               deduct_when=attempts.was_failure, error_message=TOO_MANY)
def login():
    form = LoginForm()
    if request.method == "GET":
        form.next.data = service.safe_next(request.args.get("next")) or ""
    if form.validate_on_submit():
        attempt = attempts.current()
        wait = 0.0
        if attempt.stranger:
            wait = throttle.reserve(attempt.account)
            db.session.commit()  # counted before the password is checked
        if wait:
            attempts.failed()
            seconds = max(1, math.ceil(wait))
            flash(PAUSED.format(wait=_describe_wait(seconds)), "error")
            return _login_page(form), 429, {"Retry-After": str(seconds)}
        user = service.authenticate(form.email.data, form.password.data)
        if user is None:
            attempts.failed()
            if attempt.known_network:
                throttle.count_failure(attempt.account)
                db.session.commit()
            flash(BAD_CREDENTIALS, "error")
            return _login_page(form), 200
        target = service.landing_page(user, form.next.data)
        kept = {k: v for k, v in session.items() if k.startswith("portal_keep_")}
        session.clear()  # no fixation: a fresh session for the signed-in user
        session.update(kept)
        login_user(user)
        throttle.signed_in(attempt.account, user.id, attempt.network, reserved=attempt.stranger)
        db.session.commit()
        flash(f"Signed in as {user.name}.", "success")
        return devices.remember(redirect(target), user.id)
    return _login_page(form)


@bp.post("/logout")
def logout():  # works for anyone, also while the database is down (nothing to look up)
    logout_user()
    session.clear()
    flash("You are signed out.", "info")
    return redirect(url_for("kb.home"))


@bp.route("/register", methods=["GET", "POST"])
def register():
    if not current_app.config["REGISTRATION_OPEN"]:
        abort(404)
    form = RegistrationForm()
    if form.validate_on_submit():
        try:
            user = service.create_user(form.email.data, form.name.data, form.password.data)
        except service.AccountError as exc:
            db.session.rollback()
            flash(str(exc), "error")
            return render_template("accounts/register.html", form=form)
        db.session.commit()
        session.clear()
        login_user(user)
        flash("Welcome! Your account is ready.", "success")
        return devices.remember(redirect(url_for("kb.home")), user.id)
    return render_template("accounts/register.html", form=form)


@bp.app_context_processor
def account_links():
    return {"current_user": current_user}
