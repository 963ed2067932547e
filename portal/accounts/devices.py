"""Known browsers: a signed cookie, set at a successful sign-in, naming the accounts that
signed in on this browser (OWASP's "device cookie").

The cookie holds a random browser id and, per account, an HMAC of its id (never the
address), signed with SECRET_KEY; it is HttpOnly, sent only to the sign-in page, and kept
LOGIN_DEVICE_DAYS from the last sign-in. A forged, altered or expired cookie is ignored.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from flask import Response, current_app, request, url_for
from itsdangerous import BadData, URLSafeTimedSerializer

COOKIE = "portal_device"
MAX_ACCOUNTS = 10  # the most recent accounts a browser remembers


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(str(current_app.config["SECRET_KEY"]),
                                  salt="portal.accounts.known-device")


def _max_age() -> int:
    return int(current_app.config["LOGIN_DEVICE_DAYS"]) * 86400


def _account_tag(user_id: int) -> str:
    secret = str(current_app.config["SECRET_KEY"]).encode()
    return hmac.new(secret, f"device-account:{user_id}".encode(), hashlib.sha256).hexdigest()[:20]


def _read() -> tuple[str, list[str]] | None:
    raw = request.cookies.get(COOKIE)
    if not raw:
        return None
    try:
        data = _serializer().loads(raw, max_age=_max_age())
    except BadData:
        return None
    if not isinstance(data, dict):
        return None
    device, accounts = data.get("d"), data.get("a")
    if not isinstance(device, str) or not device or not isinstance(accounts, list):
        return None
    return device, [tag for tag in accounts if isinstance(tag, str)]


def known_device(user_id: int | None) -> str | None:
    """This browser's id when it has signed in to the account `user_id` before."""
    if user_id is None:
        return None
    found = _read()
    if found is None or _account_tag(user_id) not in found[1]:
        return None
    return found[0]


def remember(response: Response, user_id: int) -> Response:
    """Mark this browser as known to the account that just signed in on it."""
    device, accounts = _read() or (secrets.token_urlsafe(16), [])
    tag = _account_tag(user_id)
    accounts = [t for t in accounts if t != tag][-(MAX_ACCOUNTS - 1):] + [tag]
    response.set_cookie(
        COOKIE, _serializer().dumps({"d": device, "a": accounts}), max_age=_max_age(),
        path=url_for("accounts.login"), secure=request.is_secure, httponly=True, samesite="Lax")
    return response
