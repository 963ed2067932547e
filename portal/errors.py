"""Error pages: friendly HTML (or JSON for the API), never a traceback."""

from __future__ import annotations

import logging

from flask import Flask, jsonify, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, InternalServerError

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
    return request.path.startswith("/api/") or (
        request.accept_mimetypes.best == "application/json")


def _render(code: int, message: str | None = None):
    title = TITLES.get(code, "Something went wrong")
    if _wants_json():
        return jsonify(error=title, message=message or title, status=code), code
    try:
        return render_template("errors/error.html", code=code, title=title, message=message), code
    except Exception:  # the error page itself must never fail
        log.exception("error page failed to render")
        return f"<!doctype html><title>{code}</title><h1>{title}</h1>", code


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
        message = error.description if error.code not in (404, 500) else None
        return _render(error.code, message)

    @app.errorhandler(Exception)
    def unexpected(error: Exception):
        if isinstance(error, HTTPException):
            return http_error(error)
        log.exception("unhandled error on %s %s", request.method, request.path)
        try:
            from portal.extensions import db

            db.session.rollback()
        except Exception:  # noqa: S110 - best effort; the error page must still render
            pass
        return _render(InternalServerError.code)
