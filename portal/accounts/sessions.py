"""Signed-in sessions that the server can end (issue 12).

Signing in stores a random id in the (signed) session cookie and the SHA-256 of it in
`user_session`. A request counts as signed in only while that row exists: signing out
deletes it, and a new password, a reset or a deactivation delete every row of the user, so
a copy of the cookie taken before stops working everywhere. The row also records when
the browser was last seen (at most once per SEEN_EVERY), which the account page shows.

Why not a server-side session store (Flask-Session): every anonymous reader would need a
stored session, and "end every session of this user" needs an index by user anyway. The
cookie stays small because what a visitor searched and read is kept on the server
(portal/search/gate.py), not because the session moved.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from datetime import datetime, timedelta

from flask import current_app, request, session
from sqlalchemy import delete, select, update
from sqlalchemy.exc import SQLAlchemyError

from portal.extensions import db
from portal.models import User, UserSession
from portal.models.accounts import utcnow

log = logging.getLogger(__name__)
SESSION_KEY = "portal_sid"
SEEN_EVERY = timedelta(minutes=5)


def _hash(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def browser_label(user_agent: str) -> str:
    """'Firefox on Windows' from a User-Agent header, or 'Unknown browser'."""
    ua = user_agent or ""
    browser = next((name for key, name in (
        ("Edg/", "Edge"), ("OPR/", "Opera"), ("Firefox/", "Firefox"), ("Chrome/", "Chrome"),
        ("Chromium/", "Chromium"), ("Safari/", "Safari"), ("curl/", "curl")) if key in ua),
        "Unknown browser")
    system = next((name for key, name in (
        ("Android", "Android"), ("iPhone", "iPhone"), ("iPad", "iPad"), ("Windows", "Windows"),
        ("Mac OS X", "macOS"), ("CrOS", "ChromeOS"), ("Linux", "Linux")) if key in ua), "")
    return f"{browser} on {system}" if system else browser


def start(user: User, now: datetime | None = None) -> UserSession:
    """Record a new signed-in session for `user` and put its id in the cookie. Call after
    the session was cleared (no fixation) and before login_user. The caller commits."""
    now = now or utcnow()
    db.session.execute(delete(UserSession).where(UserSession.last_seen_at < now - idle_limit()),
                       execution_options={"synchronize_session": False})  # long abandoned
    raw = secrets.token_urlsafe(32)
    record = UserSession(id=_hash(raw), user_id=user.id, created_at=now, last_seen_at=now,
                         browser=browser_label(request.headers.get("User-Agent", ""))[:100])
    db.session.add(record)
    session[SESSION_KEY] = raw
    user.last_login_at = now
    return record


def idle_limit() -> timedelta:
    """A session unused for this long has ended (PORTAL_SESSION_IDLE_DAYS)."""
    return timedelta(days=float(current_app.config["SESSION_IDLE_DAYS"]))


def current_id() -> str | None:
    raw = session.get(SESSION_KEY)
    return _hash(raw) if isinstance(raw, str) and 16 <= len(raw) <= 100 else None


def is_live(user_id: int, now: datetime | None = None) -> bool:
    """Whether this request's session id is a live session of `user_id` (called when
    Flask-Login loads the user); notes when it was last seen."""
    sid = current_id()
    if sid is None:
        return False
    seen = db.session.scalar(select(UserSession.last_seen_at).where(
        UserSession.id == sid, UserSession.user_id == user_id))
    now = now or utcnow()
    if seen is None or seen < now - idle_limit():
        return False
    if now - seen >= SEEN_EVERY:  # in its own transaction: never commits the request's work
        try:
            with db.engine.begin() as connection:
                connection.execute(update(UserSession).where(UserSession.id == sid)
                                   .values(last_seen_at=now))
        except SQLAlchemyError:
            log.warning("could not note when session was last seen", exc_info=True)
    return True


def end_current() -> None:
    """Sign-out: forget this browser's session on the server. The caller commits."""
    sid = current_id()
    if sid is not None:
        db.session.execute(delete(UserSession).where(UserSession.id == sid),
                           execution_options={"synchronize_session": False})


def end_all(user_id: int, keep_current: bool = False) -> int:
    """End every session of a user (or every other one, keeping this browser's). Returns
    how many ended. The caller commits."""
    statement = delete(UserSession).where(UserSession.user_id == user_id)
    sid = current_id() if keep_current else None
    if sid is not None:
        statement = statement.where(UserSession.id != sid)
    result = db.session.execute(statement, execution_options={"synchronize_session": False})
    return result.rowcount or 0


def of_user(user_id: int) -> list[UserSession]:
    return list(db.session.scalars(select(UserSession).where(UserSession.user_id == user_id)
                                   .order_by(UserSession.last_seen_at.desc())))
