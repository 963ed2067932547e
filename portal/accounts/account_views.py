"""The "Your account" page, on the accounts blueprint.

    /account                      GET        name, password, where you are signed in
    /account/name                 POST       change the display name
    /account/password             POST       change the password (ends the other sessions)
    /account/sessions/end-others  POST       sign out everywhere else
"""

from __future__ import annotations

from flask import flash, g, make_response, redirect, render_template, url_for
from flask_login import current_user, login_required

from portal.accounts import recovery, service, sessions
from portal.accounts.forms import ChangePasswordForm, DisplayNameForm, EndOtherSessionsForm
from portal.accounts.views import _login_limit, bp
from portal.extensions import limiter

TOO_MANY_TRIES = "Too many attempts at your current password. Wait a minute and try again."


def _account_page(name_form: DisplayNameForm | None = None,
                  password_form: ChangePasswordForm | None = None):
    return render_template(
        "accounts/account.html",
        name_form=name_form or DisplayNameForm(formdata=None, name=current_user.name),
        password_form=password_form or ChangePasswordForm(formdata=None),
        sessions=sessions.of_user(current_user.id), this_session=sessions.current_id())


@bp.get("/account")
@login_required
def account():
    return _account_page()


@bp.post("/account/name")
@login_required
def change_name():
    form = DisplayNameForm()
    if form.validate_on_submit():
        try:
            service.change_name(current_user, form.name.data)
        except service.AccountError as exc:  # raised before anything changed
            form.name.errors = [str(exc)]
        else:
            flash(f"Your name is now {current_user.name}.", "success")
            return redirect(url_for("accounts.account"))
    return _account_page(name_form=form)


def _password_tries_key() -> str:
    return f"account-password:{current_user.get_id()}"


def _password_try_failed(response) -> bool:
    return bool(g.get("password_try_failed"))


def _password_tries_refused(request_limit) -> object:
    if not current_user.is_authenticated:
        return None
    form = ChangePasswordForm(formdata=None)
    form.current_password.errors = [TOO_MANY_TRIES]
    return make_response(_account_page(password_form=form), 429)


@bp.post("/account/password")
@limiter.limit(_login_limit, key_func=_password_tries_key, deduct_when=_password_try_failed,
               on_breach=_password_tries_refused)
@login_required
def change_password():
    form = ChangePasswordForm()
    if form.validate_on_submit():
        try:
            ended = service.change_password(current_user, form.current_password.data,
                                            form.password.data)
        except service.AccountError as exc:  # raised before anything changed
            g.password_try_failed = True
            form.current_password.errors = [str(exc)]
        else:
            # Mailed once the new password is committed (portal.unit_of_work).
            recovery.password_changed_notice(current_user, "on the account page")
            others = ("" if not ended else " 1 other browser was signed out." if ended == 1
                      else f" {ended} other browsers were signed out.")
            flash(f"Your password is changed.{others}", "success")
            return redirect(url_for("accounts.account"))
    return _account_page(password_form=form)


@bp.post("/account/sessions/end-others")
@login_required
def end_other_sessions():
    if EndOtherSessionsForm().validate_on_submit():
        ended = sessions.end_all(current_user.id, keep_current=True)
        flash("You are signed out everywhere else." if ended else
              "You were not signed in anywhere else.", "success")
    return redirect(url_for("accounts.account"))
