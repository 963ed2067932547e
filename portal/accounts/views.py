"""Sign-in, sign-out, registration, password recovery and the account page.

    /login                        GET, POST  (throttled: portal/accounts/attempts.py, throttle.py)
    /logout                       POST
    /register                     GET, POST  (when PORTAL_REGISTRATION_OPEN; mails a link)
    /verify/<token>               GET        confirm the address (link from the mail)
    /verify/resend                POST       mail the confirmation link again
    /forgot                       GET, POST  "Forgot your password?" (mails a link)
    /reset/<token>                GET, POST  choose a new password (reset or invitation link)
    /account...                              "Your account": see account_views.py

The pages that mail someone (/register, /forgot, /verify/resend) answer alike whether or
not the address has an account (portal/accounts/recovery.py) and share two limits, per
client network (ACCOUNT_MAIL_IP_LIMIT) and per address (ACCOUNT_MAIL_ADDRESS_LIMIT),
counting only requests that sent mail.
"""

from __future__ import annotations

import math

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    g,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import current_user, login_user, logout_user

from portal import unit_of_work
from portal.accounts import attempts, devices, recovery, service, sessions, throttle
from portal.accounts.forms import (
    ForgotPasswordForm,
    LoginForm,
    NewPasswordForm,
    RegistrationForm,
    ResendVerificationForm,
)
from portal.accounts.links import LinkError
from portal.extensions import db, limiter
from portal.models import TokenPurpose, User

bp = Blueprint("accounts", __name__)

BAD_CREDENTIALS = "That email and password do not match an account."
PAUSED = ("This account has had too many failed sign-ins, so signing in to it from a browser "
          "or network it has not been used on is paused for {wait}. Try again then, or sign in "
          "from a device you have signed in on before.")
TOO_MANY = "Too many sign-in attempts."
TOO_MANY_MAILS = ("Too many messages were asked for in a short time, from your network or for "
                  "this address, so we did not send another. Check your inbox (and spam folder) "
                  "for the one we sent, or wait a few minutes and try again.")


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


def _begin_session(user: User) -> None:
    """Sign `user` in on this browser: a fresh session (no fixation) keeping only the
    "portal_keep_" keys, recorded on the server."""
    sessions.end_current()  # whatever this browser was signed in as before
    kept = {k: v for k, v in session.items() if k.startswith("portal_keep_")}
    session.clear()
    session.update(kept)
    sessions.start(user)
    login_user(user)


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
        if request.args.get("email"):  # from a confirmation link
            form.email.data = request.args["email"][:254]
    if form.validate_on_submit():
        attempt = attempts.current()
        wait = 0.0
        if attempt.stranger:
            wait = throttle.reserve(attempt.account)
            # Committed at once, before the password is checked, not with the rest of the
            # request (portal.unit_of_work):
            # - the guess stays counted whatever happens after the check (an error, a commit
            #   that fails at the end): a failing request must not be a free guess;
            # - reserve() keeps the account's throttle row locked until the commit. Held over
            #   the deliberately slow password hash, every other sign-in at the account would
            #   wait behind each stranger's guess, the owner's from a known browser or network
            #   too (signed_in() and count_failure() write that row).
            db.session.commit()
        if wait:  # paused: nothing was counted or changed
            attempts.failed()
            seconds = max(1, math.ceil(wait))
            flash(PAUSED.format(wait=_describe_wait(seconds)), "error")
            return _login_page(form), 429, {"Retry-After": str(seconds)}
        user = service.authenticate(form.email.data, form.password.data)
        if user is None:
            attempts.failed()
            if attempt.known_network:
                throttle.count_failure(attempt.account)  # committed with the answer (200)
            flash(BAD_CREDENTIALS, "error")
            return _login_page(form), 200
        if not user.email_verified:  # the right password: say what is missing
            unit_of_work.keep()  # a refusal that still records (a password hash upgraded)
            resend = ResendVerificationForm(formdata=None, ticket=recovery.resend_ticket(user))
            return render_template("accounts/confirm_first.html", form=resend), 403
        target = service.landing_page(user, form.next.data)
        _begin_session(user)
        throttle.signed_in(attempt.account, user.id, attempt.network, reserved=attempt.stranger)
        flash(f"Signed in as {user.name}.", "success")
        return devices.remember(redirect(target), user.id)
    return _login_page(form)


@bp.post("/logout")
def logout():  # works for anyone; while the database is down the cookie is still cleared
    with unit_of_work.best_effort("the end of a signed-in session"):
        sessions.end_current()
    logout_user()
    session.clear()
    flash("You are signed out.", "info")
    return redirect(url_for("kb.home"))


# -- Pages that mail an address: one answer for every address, shared limits ---------------

def _mail_ip_limit() -> str:
    return current_app.config["ACCOUNT_MAIL_IP_LIMIT"]


def _mail_address_limit() -> str:
    return current_app.config["ACCOUNT_MAIL_ADDRESS_LIMIT"]


def _mail_network_key() -> str:
    return "account-mail-network:" + throttle.network_of(request.remote_addr)


def _mail_address_key() -> str:
    address = (request.form.get("email", "")[:320]
               or recovery.ticket_address(request.form.get("ticket")))
    return "account-mail-address:" + throttle.account_key(address)


def _mail_was_sent(response) -> bool:
    return bool(g.get("account_mail_sent"))


def _mail_refused(request_limit) -> object:
    """The page asked for again with what was typed (passwords aside), and why: 429."""
    if request.endpoint == "accounts.forgot_password":
        page = render_template("accounts/forgot.html", form=ForgotPasswordForm(),
                               refused=TOO_MANY_MAILS)
    elif request.endpoint == "accounts.register":
        form = RegistrationForm()
        form.password.data = form.confirm.data = ""
        page = render_template("accounts/register.html", form=form, refused=TOO_MANY_MAILS)
    else:
        page = render_template("errors/error.html", code=429, title="Too many requests",
                               message=TOO_MANY_MAILS, kept=[])
    return make_response(page, 429)


def _mail_limits(view):
    """Per network and per address, shared by every page that mails an address."""
    for limit, key, scope in ((_mail_address_limit, _mail_address_key, "account-mail-address"),
                              (_mail_ip_limit, _mail_network_key, "account-mail-network")):
        view = limiter.shared_limit(limit, scope=scope, key_func=key, methods=["POST"],
                                    deduct_when=_mail_was_sent, on_breach=_mail_refused)(view)
    return view


def _sent() -> None:
    """Count the request against the limits (whether or not it queued mail, so that the
    answer says nothing about the address). The mail goes once the request's changes are
    committed (portal.unit_of_work)."""
    g.account_mail_sent = True


@bp.after_request
def keep_link_secrets(response):
    """A page whose address holds a link's secret: never cached, never sent as Referer."""
    if request.endpoint in ("accounts.reset_password", "accounts.verify_email"):
        response.headers["Referrer-Policy"] = "no-referrer"
        response.headers["Cache-Control"] = "no-store"
    return response


@bp.errorhandler(429)
def too_many(error):
    """The page a limit's on_breach prepared; else the site's usual 429 page."""
    if getattr(error, "response", None) is not None:
        return error.response
    return render_template("errors/error.html", code=429, title="Too many requests",
                           message="You have made too many attempts in a short time. "
                                   "Wait a minute and try again.", kept=[]), 429


@bp.route("/register", methods=["GET", "POST"])
@_mail_limits
def register():
    if not current_app.config["REGISTRATION_OPEN"]:
        abort(404)
    form = RegistrationForm()
    if form.validate_on_submit():
        try:
            recovery.register(form.email.data, form.name.data, form.password.data)
        except service.AccountError as exc:  # raised before anything changed
            flash(str(exc), "error")
            return render_template("accounts/register.html", form=form)
        _sent()
        return render_template("accounts/check_email.html", purpose="register")
    return render_template("accounts/register.html", form=form)


@bp.get("/verify/<token>")
def verify_email(token: str):
    try:
        user, organisation = recovery.confirm_address(token)
    except LinkError as problem:  # 400: nothing is kept
        return render_template("accounts/link_problem.html", problem=str(problem),
                               purpose="verify"), 400
    message = "Your email address is confirmed."
    if organisation is not None:
        message += f" Your account now belongs to {organisation.name}."
    if current_user.is_authenticated and current_user.id == user.id:
        flash(message, "success")
        return redirect(url_for("kb.home"))
    flash(f"{message} Sign in to continue.", "success")
    return redirect(url_for("accounts.login", email=user.email))


@bp.post("/verify/resend")
@_mail_limits
def resend_verification():
    form = ResendVerificationForm()
    if form.validate_on_submit():
        recovery.resend_verification(form.ticket.data)
        _sent()
    return render_template("accounts/check_email.html", purpose="resend")


@bp.route("/forgot", methods=["GET", "POST"])
@_mail_limits
def forgot_password():
    form = ForgotPasswordForm()
    if request.method == "GET" and request.args.get("email"):
        form.email.data = request.args["email"][:254]
    if form.validate_on_submit():
        recovery.request_reset(form.email.data)
        _sent()
        return render_template("accounts/check_email.html", purpose="reset")
    return render_template("accounts/forgot.html", form=form)


@bp.route("/reset/<token>", methods=["GET", "POST"])
def reset_password(token: str):
    try:
        link = recovery.password_link(token)
    except LinkError as problem:
        return render_template("accounts/link_problem.html", problem=str(problem),
                               purpose="reset"), 400
    form = NewPasswordForm()
    if form.validate_on_submit():
        try:
            user = recovery.set_password_from_link(token, form.password.data)
        except LinkError as problem:  # another request used the link a moment ago (400)
            return render_template("accounts/link_problem.html", problem=str(problem),
                                   purpose="reset"), 400
        _begin_session(user)
        flash("Your new password is set. You are signed in here, and signed out on every "
              "other browser.", "success")
        return devices.remember(redirect(service.landing_page(user, None)), user.id)
    return render_template("accounts/reset.html", form=form, email=link.user.email,
                           invite=link.purpose == TokenPurpose.INVITE)


@bp.app_context_processor
def account_links():
    return {"current_user": current_user}


from portal.accounts import account_views  # noqa: E402,F401  (the /account routes)
