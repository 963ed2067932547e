"""The sign-in attempt being made by this request: which account, from which network and
browser, and what that means for the limits (see portal.accounts.throttle).

Flask-Limiter, in PORTAL_RATELIMIT_STORAGE_URL (shared by every worker: Redis in
production), counts failed attempts only:

- per network (LOGIN_IP_LIMIT), except from a browser that signed in to the account;
- per (network, account) (LOGIN_LIMIT), or per (browser, account) for such a browser.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import Response, g, request

from portal.accounts import devices, service, throttle


@dataclass(frozen=True)
class Attempt:
    account: str  # throttle.account_key of the address typed
    network: str  # an IPv4 address or an IPv6 /64
    user_id: int | None  # the account, if the address has one
    device: str | None  # this browser's id, if it signed in to that account before
    known_network: bool  # the network signed in to that account recently

    @property
    def stranger(self) -> bool:
        """Neither browser nor network has signed in to the account: it may be paused."""
        return self.device is None and not self.known_network


def current() -> Attempt:
    """The attempt of this POST /login, worked out once per request."""
    if "login_attempt" not in g:
        email = request.form.get("email", "")[:320]  # the form refuses more than 254 anyway
        user = service.find_user(email) if email.strip() else None
        user_id = user.id if user is not None else None
        network = throttle.network_of(request.remote_addr)
        device = devices.known_device(user_id)
        g.login_attempt = Attempt(
            account=throttle.account_key(email), network=network, user_id=user_id,
            device=device,
            known_network=device is None and throttle.is_known_network(user_id, network))
    return g.login_attempt


def failed() -> None:
    """Mark this request as a failed attempt: the rate limits count it."""
    g.login_failed = True


# -- Flask-Limiter hooks ------------------------------------------------------------------


def network_limit_key() -> str:
    return "login-network:" + current().network


def account_limit_key() -> str:
    attempt = current()
    if attempt.device is not None:
        return f"login-device:{attempt.device}:{attempt.account}"
    return f"login-pair:{attempt.network}:{attempt.account}"


def from_known_device() -> bool:
    return current().device is not None


def was_failure(response: Response) -> bool:
    return bool(g.get("login_failed"))
