"""The widget's three tokens.

- **Frame token** (portal-signed, 12 h): given to the frame page, sent back by its script in
  `X-Widget-Token` on every API call. It names the widget visitor (an anonymous id, under
  which the widget's searches and reads are kept, as a browser session's are) and the host
  origin the frame was opened for. The frame runs as a third-party iframe, where cookies
  are not sent: this token is what ties its calls together.
- **Hand-off token** (portal-signed, HANDOFF_MINUTES): in the "Submit a Ticket" link. It is
  issued only once that widget visitor has a search on record, and it names that visitor,
  so the ticket form can take over those searches and reads; the client never sets a
  "has searched" flag itself. For an identified user it also carries a single-use sign-in
  secret (portal/accounts/links.py, purpose "widget").
- **User token** (signed by the host with PORTAL_WIDGET_SECRET, HMAC-SHA256): names the
  signed-in user of the host product, so that they need not sign in again to file.

User token format, made by the host's server (never in the browser):

    base64url(JSON payload) + "." + base64url(HMAC-SHA256(secret, that first part))

The payload: {"email": ..., "organisation": ..., "aud": <this portal's widget audience>,
"exp": <Unix time>}; `name` is optional. It is refused when the signature does not match,
when `exp` has passed (with WIDGET_CLOCK_SKEW seconds of leeway) or lies more than
MAX_USER_TOKEN_SECONDS ahead, or when `aud` is not this portal's audience (a token signed
for another site that shares the secret).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import secrets
import time
from dataclasses import dataclass

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

FRAME_SALT = "portal.widget.frame"
HANDOFF_SALT = "portal.widget.handoff"
FRAME_SECONDS = 12 * 3600
HANDOFF_MINUTES = 30
CLOCK_SKEW = 60
MAX_USER_TOKEN_SECONDS = 24 * 3600
MAX_TOKEN_CHARS = 4096


class TokenRefused(ValueError):
    """A token that cannot be used; the message says why, for the log (readers are told
    only that we could not confirm who they are)."""


@dataclass(frozen=True)
class Frame:
    visitor: str
    host: str


@dataclass(frozen=True)
class Handoff:
    visitor: str
    sign_in: str | None  # a single-use sign-in secret for an identified user


@dataclass(frozen=True)
class HostUser:
    email: str
    organisation: str
    name: str


# -- frame and hand-off tokens, signed by the portal ------------------------------------------

def new_visitor() -> str:
    return "w" + secrets.token_urlsafe(15)


def frame_token(secret: str, visitor: str, host: str) -> str:
    return URLSafeTimedSerializer(secret, FRAME_SALT).dumps({"v": visitor, "h": host})


def read_frame_token(secret: str, token: str | None) -> Frame:
    data = _load(secret, FRAME_SALT, token, FRAME_SECONDS)
    visitor, host = data.get("v"), data.get("h")
    if not isinstance(visitor, str) or not 8 <= len(visitor) <= 40 or not isinstance(host, str):
        raise TokenRefused("the frame token names no visitor")
    return Frame(visitor, host)


def handoff_token(secret: str, visitor: str, sign_in: str | None = None) -> str:
    return URLSafeTimedSerializer(secret, HANDOFF_SALT).dumps({"v": visitor, "s": sign_in})


def read_handoff_token(secret: str, token: str | None) -> Handoff:
    data = _load(secret, HANDOFF_SALT, token, HANDOFF_MINUTES * 60)
    visitor, sign_in = data.get("v"), data.get("s")
    if not isinstance(visitor, str) or not 8 <= len(visitor) <= 40:
        raise TokenRefused("the hand-off token names no visitor")
    return Handoff(visitor, sign_in if isinstance(sign_in, str) else None)


def _load(secret: str, salt: str, token: str | None, max_age: int) -> dict:
    if not token or len(token) > MAX_TOKEN_CHARS:
        raise TokenRefused("no token")
    try:
        data = URLSafeTimedSerializer(secret, salt).loads(token, max_age=max_age)
    except SignatureExpired as exc:
        raise TokenRefused("the token has expired") from exc
    except BadSignature as exc:
        raise TokenRefused("the token's signature does not match") from exc
    if not isinstance(data, dict):
        raise TokenRefused("the token holds no data")
    return data


# -- the host's user token ------------------------------------------------------------------

def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _mac(secret: str, body: str) -> str:
    return _b64(hmac.new(secret.encode(), body.encode(), hashlib.sha256).digest())


def sign_user_token(secret: str, email: str, organisation: str, audience: str,
                    expires_in: int = 600, name: str = "", now: float | None = None) -> str:
    """What the host's server does (README: "Identified users"); used by the tests."""
    payload = {"email": email, "organisation": organisation, "name": name, "aud": audience,
               "exp": int((time.time() if now is None else now) + expires_in)}
    body = _b64(json.dumps(payload, separators=(",", ":")).encode())
    return f"{body}.{_mac(secret, body)}"


def read_user_token(secret: str, audience: str, token: str | None,
                    now: float | None = None) -> HostUser:
    if not secret:
        raise TokenRefused("PORTAL_WIDGET_SECRET is not set: identified users are off")
    if not token or len(token) > MAX_TOKEN_CHARS or token.count(".") != 1:
        raise TokenRefused("not a user token")
    body, mac = token.split(".")
    if not hmac.compare_digest(mac.encode(), _mac(secret, body).encode()):
        raise TokenRefused("the user token's signature does not match")
    try:
        payload = json.loads(_unb64(body))
    except (binascii.Error, ValueError) as exc:
        raise TokenRefused("the user token's payload is not JSON") from exc
    if not isinstance(payload, dict):
        raise TokenRefused("the user token's payload is not an object")
    now = time.time() if now is None else now
    expires = payload.get("exp")
    if not isinstance(expires, int | float) or isinstance(expires, bool):
        raise TokenRefused("the user token has no expiry")
    if expires + CLOCK_SKEW < now:
        raise TokenRefused("the user token has expired")
    if expires > now + MAX_USER_TOKEN_SECONDS:
        raise TokenRefused("the user token expires too far ahead")
    if payload.get("aud") != audience:
        raise TokenRefused(f"the user token is for another site ({str(payload.get('aud'))[:80]})")
    email = payload.get("email")
    if not isinstance(email, str) or "@" not in email or len(email) > 254:
        raise TokenRefused("the user token names no email address")
    organisation, name = payload.get("organisation", ""), payload.get("name", "")
    return HostUser(email.strip().lower(),
                    organisation.strip()[:200] if isinstance(organisation, str) else "",
                    name.strip()[:120] if isinstance(name, str) else "")
