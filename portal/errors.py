"""Error pages: friendly HTML (or JSON for the API), never a traceback."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass

from flask import Flask, jsonify, render_template, request
from flask_wtf.csrf import CSRFError
from markupsafe import escape
from werkzeug.exceptions import HTTPException, InternalServerError

from portal import outage

log = logging.getLogger(__name__)

TITLES = {
    400: "That request could not be understood",
    403: "You do not have access to this page",
    404: "We could not find that page",
    405: "That action is not allowed here",
    413: "That upload is too large",
    429: "Too many requests",
    500: "Something went wrong on our side",
    503: "The service is briefly unavailable",
}


def _wants_json() -> bool:
    return request.path.startswith("/api/") or request.path.endswith(".json") or (
        request.accept_mimetypes.best == "application/json")


@dataclass
class Kept:
    """A field of the form the user posted, to put back in the form on the error page."""
    name: str
    values: list[str]
    kind: str  # "text", "textarea", "password" (shown empty) or "hidden"

    @property
    def label(self) -> str:
        return LABELS.get(self.name) or self.name.replace("_", " ").replace("-", " ").capitalize()


LABELS = {"body": "Your message", "comment": "Your comment", "description": "What happened?",
          "email": "Email address"}


MACHINE_FIELDS = {"csrf_token", "next", "idempotency_key", "started", "token", "website"}
TOKEN_LIKE = re.compile(r"[\w.:=+/-]{16,}")


def kept_fields() -> list[Kept]:
    """What the user typed into the form they posted (files and the CSRF token aside)."""
    if request.method != "POST" or request.mimetype not in (
            "application/x-www-form-urlencoded", "multipart/form-data"):
        return []
    kept = []
    for name, values in request.form.lists():
        if name == "csrf_token":
            continue  # a fresh one is added to the form
        if "password" in name:
            kind = "password"
        elif (len(values) != 1 or name in MACHINE_FIELDS
              or (TOKEN_LIKE.fullmatch(values[0]) and " " not in values[0])):
            kind = "hidden"
        else:
            kind = "textarea" if len(values[0]) > 80 or "\n" in values[0] else "text"
        kept.append(Kept(name, values, kind))
    return kept


def _render(code: int, message: str | None = None):
    title = TITLES.get(code, "Something went wrong")
    if _wants_json():
        return jsonify(error=title, message=message or title, status=code), code
    kept = kept_fields() if code == 503 else []
    try:
        return render_template("errors/error.html", code=code, title=title, message=message,
                               kept=kept), code
    except Exception:  # the error page itself must never fail
        log.exception("error page failed to render")
        text = "".join(f"<p>{escape(k.label)}:</p><pre>{escape(chr(10).join(k.values))}</pre>"
                       for k in kept if k.kind in ("text", "textarea"))
        return f"<!doctype html><title>{code}</title><h1>{title}</h1>{text}", code


def too_large_message() -> str:
    limit = request.max_content_length
    size = f" (at most {limit / 1048576:.0f} MB in all)" if limit else ""
    return (f"What you sent is larger than this form accepts{size}, so nothing was saved. "
            "Use your browser's Back button: the form still holds what you typed. Remove or "
            "shrink the largest attachments and send it again.")


def render_outage():
    """503 for a database outage: what the user typed comes back in the form."""
    if _wants_json():
        return _render(503, "Our database did not answer, so nothing was saved. Please try "
                            "again in a minute.")
    return _render(503, outage.DatabaseUnavailable.description if request.method == "POST"
                   else "Our database did not answer. Articles and search still work; "
                        "please try this page again in a minute.")


def init_app(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def csrf_error(error: CSRFError):
        return _render(400, "The form expired or was sent from elsewhere. Go back, reload the "
                            "page and try again; what you typed is still in the form.")

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        if error.code == 429:
            return _render(429, "You have made too many attempts in a short time. "
                                "Wait a minute and try again.")
        if error.code is None or error.code < 400:
            return error
        if error.code == 413:
            return _render(413, too_large_message())
        if isinstance(error, outage.DatabaseUnavailable):
            return render_outage()
        message = error.description if error.code not in (404, 500) else None
        return _render(error.code, message)

    @app.errorhandler(Exception)
    def unexpected(error: Exception):
        if outage.is_outage(error):
            outage.mark_down(error)
            return render_outage()
        if isinstance(error, HTTPException):
            return http_error(error)
        log.exception("unhandled error on %s %s", request.method, request.path)
        try:
            from portal.extensions import db

            db.session.rollback()
        except Exception:  # noqa: S110 - best effort; the error page must still render
            pass
        return _render(InternalServerError.code)
