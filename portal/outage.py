"""When the database does not answer.

Reading articles, categories and search needs no database, so it keeps working; a
signed-in reader whose account cannot be loaded browses as a guest, with a notice.
Anything that needs the database answers 503 with a clear page (portal.errors) that
keeps what the user typed in a form they can send again.
"""

from __future__ import annotations

import logging

from flask import g, session
from sqlalchemy import exc as sa
from werkzeug.exceptions import ServiceUnavailable

log = logging.getLogger(__name__)

# Errors that mean "the database is unreachable or broke the connection", not a bug.
OUTAGE_ERRORS = (sa.OperationalError, sa.InterfaceError, sa.TimeoutError,
                 sa.DisconnectionError)
_DOWN = "portal_database_down"


class DatabaseUnavailable(ServiceUnavailable):
    description = ("Our database did not answer, so nothing was saved. What you typed is "
                   "kept below: send it again in a minute.")


def is_outage(error: BaseException) -> bool:
    if isinstance(error, (DatabaseUnavailable, *OUTAGE_ERRORS)):
        return True
    return isinstance(error, sa.DBAPIError) and bool(error.connection_invalidated)


def mark_down(error: BaseException) -> None:
    """Remember, for this request, that the database is down (the page says so)."""
    if not g.get(_DOWN):
        log.warning("database unavailable: %s", str(error).splitlines()[0][:200])
    g.setdefault(_DOWN, True)
    from portal.extensions import db

    try:
        db.session.rollback()
    except Exception:  # noqa: S110 - the connection is already gone; nothing to undo
        pass


def database_down() -> bool:
    return bool(g.get(_DOWN))


def signed_in_as_guest() -> bool:
    """A signed-in reader shown the site as a guest because their account could not load."""
    return database_down() and "_user_id" in session


def require_signed_in_user():
    """Flask-Login's unauthorized handler while the database is down: not "please sign in"
    (they are signed in) but 503, so a form they posted is kept."""
    if signed_in_as_guest():
        raise DatabaseUnavailable()
    return None
