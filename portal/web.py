"""Request-wide wiring: secure cookies, security headers, template globals, proxies."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from flask import Flask, g, request
from flask.sessions import SecureCookieSessionInterface
from werkzeug.middleware.proxy_fix import ProxyFix

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
    return f"{local:%a, %b} {local.day}, {local.year} at {hour}:{local:%M %p} ET"


CSP = (
    "default-src 'self'; img-src 'self' https: data:; style-src 'self'; "
    "script-src 'self'; object-src 'none'; base-uri 'self'; frame-ancestors 'self'; "
    "form-action 'self'"
)


def init_app(app: Flask) -> None:
    app.session_interface = SessionInterface()
    if app.config["TRUSTED_PROXIES"]:
        count = app.config["TRUSTED_PROXIES"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=count, x_proto=count, x_host=count)

    from portal.extensions import login_manager

    login_manager.login_view = "accounts.login"
    login_manager.login_message = "Please sign in to continue."
    login_manager.login_message_category = "info"
    login_manager.session_protection = "strong"

    @login_manager.user_loader
    def load_user(user_id: str) -> User | None:
        from portal.extensions import db

        try:
            user = db.session.get(User, int(user_id))
        except ValueError:
            return None
        return user if user is not None and user.active else None

    @app.after_request
    def security_headers(response):
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
        response.headers.setdefault("X-Frame-Options", "SAMEORIGIN")
        response.headers.setdefault("Content-Security-Policy", CSP)
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
        }
