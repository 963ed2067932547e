"""Request-wide wiring: secure cookies, security headers, template globals, proxies."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from flask import Flask, g, request, session
from flask.sessions import SecureCookieSessionInterface
from werkzeug.middleware.proxy_fix import ProxyFix

from portal import outage
from portal.calendar.words import zone_label
from portal.models import User


class SessionInterface(SecureCookieSessionInterface):
    """Mark the session cookie Secure whenever the request came over HTTPS."""

    def get_cookie_secure(self, app: Flask) -> bool:
        return bool(app.config.get("SESSION_COOKIE_SECURE")) or request.is_secure


EASTERN = ZoneInfo("America/New_York")


def format_date(value: datetime) -> str:
    """'Jun 11, 2024' in US Eastern time, where the support team works."""
    local = value.astimezone(EASTERN)
    return f"{local:%b} {local.day}, {local.year}"


def format_datetime(value: datetime) -> str:
    """'Tue, Jun 11, 2024 at 5:04 PM ET'."""
    local = value.astimezone(EASTERN)
    hour = local.hour % 12 or 12
    zone = zone_label(local, "ET")  # EDT or EST in the hour repeated when clocks fall back
    return f"{local:%a, %b} {local.day}, {local.year} at {hour}:{local:%M %p} {zone}"


def content_security_policy(img_src: str) -> str:
    return (
        f"default-src 'self'; img-src {img_src}; style-src 'self'; "
        "script-src 'self'; object-src 'none'; base-uri 'self'; frame-ancestors 'self'; "
        "form-action 'self'"
    )


# Images from the portal only: nothing written by customers (tickets, replies, mail) can
# make a browser fetch from another site. Article pages, written by the editors, may show
# images from other HTTPS sites.
CSP = content_security_policy("'self'")
ARTICLE_CSP = content_security_policy("'self' https:")
REMOTE_IMAGE_ENDPOINTS = frozenset({"kb.article"})


def hsts_value(config) -> str | None:
    """The Strict-Transport-Security header the settings ask for, None when disabled."""
    max_age = int(config.get("HSTS_MAX_AGE") or 0)
    if max_age <= 0:
        return None
    return f"max-age={max_age}" + ("; includeSubDomains"
                                   if config.get("HSTS_INCLUDE_SUBDOMAINS") else "")


TICKET_SIGN_IN = "Sign in to file a ticket."


def sign_in_message(message: str) -> str:
    """Flask-Login's "please sign in" for this request: the ticket form's sign-in page says
    itself why an account is needed and how else to reach us (templates/accounts/login.html)."""
    return TICKET_SIGN_IN if request.endpoint == "tickets.new" else message


def init_app(app: Flask) -> None:
    app.session_interface = SessionInterface()
    if app.config["TRUSTED_PROXIES"]:
        count = app.config["TRUSTED_PROXIES"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=count, x_proto=count, x_host=count)

    from portal.extensions import login_manager

    login_manager.login_view = "accounts.login"
    login_manager.login_message = "Please sign in to continue."
    login_manager.localize_callback = sign_in_message
    login_manager.login_message_category = "info"
    login_manager.session_protection = "strong"

    @login_manager.user_loader
    def load_user(user_id: str) -> User | None:
        from portal.accounts import sessions
        from portal.extensions import db

        try:
            user = db.session.get(User, int(user_id))
            live = user is not None and user.active and sessions.is_live(user.id)
        except ValueError:
            return None
        except outage.OUTAGE_ERRORS as error:  # read on as a guest, with a notice
            outage.mark_down(error)
            return None
        return user if live else None

    @app.before_request
    def no_guest_posts_for_signed_in_readers():
        """A signed-in reader whose account cannot be loaded reads as a guest, but what
        they send is not sent as a guest's: it gets a 503 that keeps their text."""
        if (request.method == "POST" and "_user_id" in session
                and request.endpoint != "accounts.logout"):
            from flask_login import current_user

            if not current_user.is_authenticated and outage.signed_in_as_guest():
                raise outage.DatabaseUnavailable()

    @app.after_request
    def security_headers(response):
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
        if "frame-ancestors" not in response.headers.get("Content-Security-Policy", ""):
            # A page that says who may frame it (the widget's panel) is not also refused
            # by X-Frame-Options; every other page may be framed by the portal only.
            response.headers.setdefault("X-Frame-Options", "SAMEORIGIN")
        response.headers.setdefault(
            "Content-Security-Policy",
            ARTICLE_CSP if request.endpoint in REMOTE_IMAGE_ENDPOINTS else CSP)
        # Only over HTTPS (request.is_secure honours ProxyFix with PORTAL_TRUSTED_PROXIES):
        # browsers ignore it on plain HTTP, and it must never pin a site still on HTTP.
        hsts = hsts_value(app.config)
        if hsts and request.is_secure:
            response.headers.setdefault("Strict-Transport-Security", hsts)
        return response

    app.jinja_env.filters["date"] = format_date
    app.jinja_env.filters["datetime"] = format_datetime

    @app.context_processor
    def globals_for_templates():
        return {
            "product_name": app.config["PRODUCT_NAME"],
            "support_email": app.config["SUPPORT_EMAIL"],
            "support_phone": app.config["SUPPORT_PHONE"],
            "registration_open": app.config["REGISTRATION_OPEN"],
            "search_query": g.get("search_query", ""),
            "signed_in_as_guest": outage.signed_in_as_guest,
        }
