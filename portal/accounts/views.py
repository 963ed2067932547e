"""Sign-in, sign-out and registration pages.

    /login      GET, POST  (throttled per IP and per account)
    /logout     POST
    /register   GET, POST  (when PORTAL_REGISTRATION_OPEN)
"""

from __future__ import annotations

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
from flask_login import current_user, login_required, login_user, logout_user

from portal.accounts import service
from portal.accounts.forms import LoginForm, RegistrationForm
from portal.extensions import db, limiter

bp = Blueprint("accounts", __name__)

BAD_CREDENTIALS = "That email and password do not match an account."


def _login_limit() -> str:
    return current_app.config["LOGIN_LIMIT"]


def _account_key() -> str:
    return "login-account:" + service.normalise_email(request.form.get("email", ""))


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"], error_message="Too many sign-in attempts.")
@limiter.limit(_login_limit, methods=["POST"], key_func=_account_key,
               error_message="Too many sign-in attempts.")
def login():
    form = LoginForm()
    if request.method == "GET":
        form.next.data = service.safe_next(request.args.get("next")) or ""
    if form.validate_on_submit():
        user = service.authenticate(form.email.data, form.password.data)
        if user is None:
            flash(BAD_CREDENTIALS, "error")
            return render_template("accounts/login.html", form=form), 200
        target = service.safe_next(form.next.data)
        kept = {k: v for k, v in session.items() if k.startswith("portal_keep_")}
        session.clear()  # no fixation: a fresh session for the signed-in user
        session.update(kept)
        login_user(user)
        db.session.commit()
        flash(f"Signed in as {user.name}.", "success")
        return redirect(target or url_for("kb.home"))
    return render_template("accounts/login.html", form=form)


@bp.post("/logout")
@login_required
def logout():
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
        return redirect(url_for("kb.home"))
    return render_template("accounts/register.html", form=form)


@bp.app_context_processor
def account_links():
    return {"current_user": current_user}
