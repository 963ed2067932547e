"""Analytics written by anonymous page views: a per-address limit, one row per repeat.

The search page and a suggested article opened from the ticket form each store a row
for the figures (popular and past searches, learning from readers, `flask tickets
deflection`), and anyone can request them in a loop. So:

- each client address may record at most so many a minute (PORTAL_SEARCH_PAGE_LIMIT,
  PORTAL_SUGGESTED_LIMIT; Flask-Limiter's storage and strategy, like the other limits).
  Past it the reader is answered as usual; only the recording stops.
- the same reader repeating the same event within PORTAL_EVENT_DEDUPE_MINUTES is stored
  once. The reader is the account when signed in, else the id the browser's session
  cookie already held, else (a request without one looks new every time) the client's
  network. Each row carries a keyed hash of reader and event and the number of the
  window it fell in, unique together, and is inserted with ON CONFLICT DO NOTHING, so
  identical requests at the same moment store one row too.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from flask import current_app, session
from flask_limiter.util import get_remote_address
from flask_login import current_user
from limits import parse_many
from sqlalchemy import Table, and_, insert, or_, select
from sqlalchemy.exc import IntegrityError

from portal.extensions import db, limiter
from portal.search.learning import client_ip_hash

log = logging.getLogger(__name__)

KEY_CHARS = 32
_PURPOSE = b"portal.search.event_limits\x00"


def within_limit(setting: str, scope: str) -> bool:
    """Count this request against its client address's limit in config[setting] (e.g.
    "60 per minute"); False once over it. A limiter that cannot answer lets it through:
    the repeat check below still holds."""
    if not limiter.enabled:
        return True
    try:
        address = get_remote_address()
        hits = [limiter.limiter.hit(item, address, scope)
                for item in parse_many(current_app.config[setting])]
    except Exception:
        log.exception("could not check %s; recording this event anyway", setting)
        return True
    return all(hits)


@dataclass(frozen=True)
class Reader:
    """Who repeats an event: `who` is the account, else the browser, else the network.

    A browser's first request came without an id, so what it did was stored under its
    `network`; rows stored so, for this browser's id, are its own too."""

    who: str
    network: str

    def keys(self, *event: str) -> tuple[str, str | None]:
        """The event's dedupe key for this reader, and the one its first request used."""
        first = dedupe_key(self.network, *event) if self.network != self.who else None
        return dedupe_key(self.who, *event), first


def reader(*session_keys: str) -> Reader:
    """This request's reader: the account, else the first of these ids the browser's session
    already held, else the client's network. Call it before anything adds such an id."""
    network = f"network:{client_ip_hash() or '-'}"
    if current_user.is_authenticated:
        return Reader(f"user:{current_user.get_id()}", network)
    for key in session_keys:
        value = session.get(key)
        if isinstance(value, str) and 8 <= len(value) <= 64:
            return Reader(f"{key}:{value}", network)
    return Reader(network, network)


def dedupe_key(who: str, *event: str) -> str:
    """A keyed hash of the reader and the event (what makes two events the same)."""
    message = "\x00".join((who, *event)).encode()
    secret = current_app.config["SECRET_KEY"].encode()
    return hmac.new(secret, _PURPOSE + message, hashlib.sha256).hexdigest()[:KEY_CHARS]


def window() -> timedelta:
    return timedelta(minutes=max(1, current_app.config["EVENT_DEDUPE_MINUTES"]))


def bucket_of(at: datetime, span: timedelta) -> int:
    """The number of the window `at` (naive: UTC) falls in; one key, one row per window."""
    at = at if at.tzinfo else at.replace(tzinfo=UTC)
    return int(at.timestamp() // span.total_seconds())


def insert_once(table: Table, values: dict[str, Any], keys: tuple[str, str | None],
                owner: str, now: datetime) -> tuple[int, bool]:
    """Insert the row unless this reader stored the same event within the window:
    (id, inserted), the id being the new row's or the earlier one's.

    `keys` come from Reader.keys; a row under the second one counts only when its `owner`
    column (the browser's id) matches this row's. Runs in the session's transaction; the
    caller commits.
    """
    key, first_key = keys
    span = window()
    bucket = bucket_of(now, span)
    mine = table.c.dedupe_key == key
    if first_key is not None:
        mine = or_(mine, and_(table.c.dedupe_key == first_key,
                              table.c[owner] == values[owner]))
    earlier = db.session.scalar(
        select(table.c.id)
        .where(mine, table.c.dedupe_bucket.in_((bucket - 1, bucket)),
               table.c.created_at > now - span)
        .order_by(table.c.id.desc()).limit(1))
    if earlier is not None:
        return earlier, False
    row = values | {"created_at": now, "dedupe_key": key, "dedupe_bucket": bucket}
    new_id = _insert_unless_stored(table, row)
    if new_id is not None:
        return new_id, True
    # A request for the same event got there first (in parallel, or just across a window).
    return db.session.scalar(select(table.c.id).where(
        table.c.dedupe_key == key, table.c.dedupe_bucket == bucket)), False


def _insert_unless_stored(table: Table, row: dict[str, Any]) -> int | None:
    dialect = db.session.get_bind().dialect.name
    if dialect in ("postgresql", "sqlite"):
        if dialect == "postgresql":
            from sqlalchemy.dialects.postgresql import insert as dialect_insert
        else:
            from sqlalchemy.dialects.sqlite import insert as dialect_insert
        statement = (dialect_insert(table).values(row)
                     .on_conflict_do_nothing(index_elements=["dedupe_key", "dedupe_bucket"])
                     .returning(table.c.id))
        return db.session.execute(statement).scalar()
    try:  # other databases: let the unique constraint refuse the repeat
        with db.session.begin_nested():
            return db.session.execute(insert(table).values(row).returning(table.c.id)).scalar()
    except IntegrityError:
        return None
