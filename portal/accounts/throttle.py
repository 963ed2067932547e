"""Sign-in throttling per account, in the database so that every worker counts together.

OWASP's "device cookie" pattern: guessing at an account slows down only the browsers and
networks that never signed in to it, so a stranger's failures cannot lock its owner out.

- Browsers and networks the account does not know: each attempt is counted before the
  password is checked (reserve(): parallel guesses cannot slip in). The first
  LOGIN_ACCOUNT_FREE_FAILURES go through; the one after pauses such sign-ins for
  LOGIN_ACCOUNT_DELAY_SECONDS, and each one after a pause doubles it, up to
  LOGIN_ACCOUNT_MAX_DELAY_SECONDS. A paused attempt is refused without checking the
  password. Addresses without an account are counted alike, so a pause says nothing
  about whether an account exists.
- A network that signed in to the account within LOGIN_KNOWN_NETWORK_DAYS is never paused;
  its failures are counted (count_failure()) and so still pause strangers.
- A browser that signed in to the account (portal.accounts.devices) is neither counted
  nor paused; the per-(browser, account) rate limit holds it.

A success gives back the attempt it reserved, and forgets the count when what is left is
within the free allowance (the owner's own typos); beyond it (someone is guessing) the
count and pause stay, so the owner signing in does not hand a guesser a fresh allowance.
A day without counted attempts forgets an account. Rows hold an HMAC of the address.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import case, delete, exists, or_, select, update
from sqlalchemy.exc import IntegrityError

from portal.accounts.service import normalise_email
from portal.extensions import db
from portal.models.accounts import utcnow
from portal.models.login_throttle import LoginKnownNetwork, LoginThrottle

FORGET_AFTER = timedelta(days=1)  # a quiet day resets an account's count


def _digest(purpose: str, value: str) -> str:
    secret = str(current_app.config["SECRET_KEY"]).encode()
    return hmac.new(secret, f"{purpose}:{value}".encode(), hashlib.sha256).hexdigest()[:40]


def account_key(email: str) -> str:
    """The counter's key for an address as typed (existing account or not)."""
    return _digest("login-account", normalise_email(email))


def network_of(address: str | None) -> str:
    """An IPv4 address, or the /64 an IPv6 address is in (one subscriber's block, whose
    addresses a client may change at will)."""
    try:
        ip = ipaddress.ip_address(address or "")
    except ValueError:
        return address or "unknown"
    if ip.version == 6:
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)


def pause_after(failures: int) -> float:
    """Seconds strangers must wait after this many counted attempts (0 = none)."""
    config = current_app.config
    over = failures - int(config["LOGIN_ACCOUNT_FREE_FAILURES"])
    if over <= 0:
        return 0.0
    pause = float(config["LOGIN_ACCOUNT_DELAY_SECONDS"]) * 2 ** min(over - 1, 40)
    return min(pause, float(config["LOGIN_ACCOUNT_MAX_DELAY_SECONDS"]))


def reserve(key: str, now: datetime | None = None) -> float:
    """Count an attempt at the account `key` from a stranger before its password is checked:
    0 means go ahead, else the seconds it must wait (it was not counted). The caller commits."""
    return _add(key, now or utcnow(), enforce=True)


def count_failure(key: str, now: datetime | None = None) -> None:
    """Count a failed attempt from a network the account knows (never refused)."""
    _add(key, now or utcnow(), enforce=False)


def _add(key: str, now: datetime, enforce: bool) -> float:
    for _ in range(3):
        if _count(key, now, enforce):
            _pause_if_due(key, now)
            return 0.0
        locked_until = db.session.scalar(
            select(LoginThrottle.locked_until).where(LoginThrottle.account_key == key))
        if locked_until is not None and locked_until > now:
            return (locked_until - now).total_seconds()
        if locked_until is None and _start(key, now):  # no row yet (or a race: try again)
            _pause_if_due(key, now)
            return 0.0
    return 1.0  # the row kept changing under us: ask for a moment's patience, never let in


def _count(key: str, now: datetime, enforce: bool) -> bool:
    """Add one to an existing, unpaused count (any count when not enforcing)."""
    statement = (
        update(LoginThrottle)
        .where(LoginThrottle.account_key == key)
        .values(failures=case((LoginThrottle.last_failed_at < now - FORGET_AFTER, 1),
                              else_=LoginThrottle.failures + 1),
                last_failed_at=now))
    if enforce:
        statement = statement.where(or_(LoginThrottle.locked_until.is_(None),
                                         LoginThrottle.locked_until <= now))
    result = db.session.execute(statement, execution_options={"synchronize_session": False})
    return result.rowcount > 0


def _pause_if_due(key: str, now: datetime) -> None:
    failures = db.session.scalar(
        select(LoginThrottle.failures).where(LoginThrottle.account_key == key))
    pause = pause_after(failures or 0)
    if pause:
        until = now + timedelta(seconds=pause)
        db.session.execute(
            update(LoginThrottle)
            .where(LoginThrottle.account_key == key,
                   or_(LoginThrottle.locked_until.is_(None), LoginThrottle.locked_until < until))
            .values(locked_until=until),
            execution_options={"synchronize_session": False})


def _start(key: str, now: datetime) -> bool:
    """The first attempt at an account: a new row (False if another worker just made it)."""
    db.session.execute(
        delete(LoginThrottle)
        .where(LoginThrottle.last_failed_at < now - FORGET_AFTER,
               or_(LoginThrottle.locked_until.is_(None), LoginThrottle.locked_until < now)),
        execution_options={"synchronize_session": False})
    try:
        with db.session.begin_nested():
            db.session.add(LoginThrottle(account_key=key, failures=1, last_failed_at=now))
        return True
    except IntegrityError:
        return False


def is_known_network(user_id: int | None, network: str, now: datetime | None = None) -> bool:
    if user_id is None:
        return False
    since = (now or utcnow()) - timedelta(days=current_app.config["LOGIN_KNOWN_NETWORK_DAYS"])
    return bool(db.session.scalar(select(exists().where(
        LoginKnownNetwork.user_id == user_id,
        LoginKnownNetwork.network_key == _digest("login-network", network),
        LoginKnownNetwork.last_success_at >= since))))


def signed_in(key: str, user_id: int, network: str, reserved: bool,
              now: datetime | None = None) -> None:
    """A successful sign-in: give back the attempt it reserved (if it came from a stranger),
    forget the count if only the free allowance is used, remember the network.
    The caller commits."""
    now = now or utcnow()
    if reserved:
        db.session.execute(
            update(LoginThrottle)
            .where(LoginThrottle.account_key == key, LoginThrottle.failures > 0)
            .values(failures=LoginThrottle.failures - 1),
            execution_options={"synchronize_session": False})
    free = int(current_app.config["LOGIN_ACCOUNT_FREE_FAILURES"])
    db.session.execute(
        delete(LoginThrottle)
        .where(LoginThrottle.account_key == key, LoginThrottle.failures <= free),
        execution_options={"synchronize_session": False})
    network_key = _digest("login-network", network)
    found = db.session.execute(
        update(LoginKnownNetwork)
        .where(LoginKnownNetwork.user_id == user_id, LoginKnownNetwork.network_key == network_key)
        .values(last_success_at=now),
        execution_options={"synchronize_session": False})
    if not found.rowcount:
        try:
            with db.session.begin_nested():
                db.session.add(LoginKnownNetwork(
                    user_id=user_id, network_key=network_key, last_success_at=now))
        except IntegrityError:
            pass  # the same sign-in on another worker recorded it
    forget = now - timedelta(days=current_app.config["LOGIN_KNOWN_NETWORK_DAYS"])
    db.session.execute(delete(LoginKnownNetwork).where(LoginKnownNetwork.last_success_at < forget),
                       execution_options={"synchronize_session": False})
