"""Learning from readers: articles that answered a search rise for it, a little, for a while.

The ranking asks `learned_boosts(normalized_query)` once per search. That is a
dictionary lookup in this worker's snapshot; the snapshot is recomputed from
the click log (portal/search/learning_rules.py says how) in a background
thread, every SEARCH_LEARN_REFRESH_SECONDS, or sooner when an editor reset
something (one small query every SEARCH_LEARN_CHECK_SECONDS tells). A search
never waits for the recomputation, and a database error means no boosts
(logged), never an error page.

Nothing learned is stored: the click log is the record, and an editor's reset
is a row saying "clicks up to now no longer count for this query/article".
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime

from flask import Flask, current_app, has_request_context, request
from sqlalchemy import func, select

from portal.content import get_store
from portal.extensions import db
from portal.models import FeedbackVote, Ticket
from portal.models.search import SearchClick, SearchEvent, SearchLearningReset
from portal.search.learning_rules import (
    Click,
    Evidence,
    LearnedBoost,
    Policy,
    TicketTrail,
    learn,
)
from portal.search.query import normalize

__all__ = ["LearnedBoost", "Policy", "client_ip_hash", "compute", "ip_hash", "learned_boosts",
           "query_key", "refresh", "reset", "wait_for_refresh"]

log = logging.getLogger(__name__)

_KEY = "portal.search.learning"  # app.extensions: this worker's _Learner
IP_HASH_CHARS = 16
_IP_PURPOSE = b"portal.search.learning.network\x00"


def learned_boosts(normalized_query: str) -> dict[str, float]:
    """slug -> boost (0 < boost <= SEARCH_LEARN_MAX_BOOST) for this query (normalized, the
    editors' ignored words taken out: see query_key); {} when nothing was learned, while
    this worker is still learning, or on any error."""
    try:
        if not normalized_query:
            return {}
        app = current_app._get_current_object()  # type: ignore[attr-defined]
        return _learner(app).lookup(app, normalized_query)
    except Exception:
        log.exception("could not look up learned boosts; searching without them")
        return {}


def compute(now: datetime | None = None, connection=None) -> list[LearnedBoost]:
    """Every query and article that readers taught something, the largest boost first
    (below the minimum number of readers the boost is 0). Reads the database now."""
    now = now or datetime.now(UTC)
    policy = Policy.from_config(current_app.config)
    conn = connection if connection is not None else db.session.connection()
    return learn(_evidence(conn, policy, now), policy, now)


def refresh(now: datetime | None = None) -> None:
    """Recompute this worker's snapshot now, in this thread (the command line, tests)."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    _learner(app).update(app, now=now)


def wait_for_refresh(timeout: float | None = 30.0) -> None:
    """Wait for this worker's background recomputation, if one is running."""
    thread = _learner(current_app._get_current_object()).thread  # type: ignore[attr-defined]
    if thread is not None:
        thread.join(timeout)


def reset(query: str = "", slug: str = "", user_id: int | None = None,
          now: datetime | None = None) -> list[LearnedBoost]:
    """Forget what readers taught search about a query (normalized), an article, both, or
    (neither given) everything: their clicks up to now stop counting; readers who come
    later teach it again. Returns the boosts that were in force. Flushes; the caller
    commits."""
    now = now or datetime.now(UTC)
    cleared = [row for row in compute(now) if row.boost > 0 and _covers(query, slug, row)]
    db.session.add(SearchLearningReset(normalized=query, slug=slug, reset_at=now,
                                       user_id=user_id))
    db.session.flush()
    _learner(current_app._get_current_object()).drop(query, slug)  # type: ignore[attr-defined]
    return cleared


def _covers(query: str, slug: str, row: LearnedBoost) -> bool:
    return query in ("", row.query) and slug in ("", row.slug)


# -- the reader's network --------------------------------------------------------------------

def ip_hash(address: str | None, secret: str) -> str | None:
    """A keyed, truncated hash of a reader's network: the IPv4 address, or the /64 of an
    IPv6 one (hosts rotate addresses within it). None for a missing or malformed address.
    Without the secret key it cannot be turned back into the address."""
    try:
        ip = ipaddress.ip_address((address or "").strip())
    except ValueError:
        return None
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    packed = ip.packed if ip.version == 4 else ip.packed[:8]
    digest = hmac.new(secret.encode(), _IP_PURPOSE + packed, hashlib.sha256).hexdigest()
    return digest[:IP_HASH_CHARS]


def client_ip_hash() -> str | None:
    """ip_hash() of the current request's client (behind PORTAL_TRUSTED_PROXIES proxies)."""
    if not has_request_context():
        return None
    return ip_hash(request.remote_addr, current_app.config["SECRET_KEY"])


# -- reading the evidence --------------------------------------------------------------------

def _aware(value: datetime) -> datetime:
    """SQLite hands back naive datetimes; every stored time is UTC."""
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _evidence(conn, policy: Policy, now: datetime) -> Evidence:
    """Clicks in the window with their searches, and what can be tied to their readers."""
    since = now - policy.window
    resets = [(q, s, _aware(at)) for q, s, at in conn.execute(
        select(SearchLearningReset.normalized, SearchLearningReset.slug,
               SearchLearningReset.reset_at)
        .where(SearchLearningReset.reset_at >= since))]
    start = max([since] + [at for q, s, at in resets if not q and not s])
    current, key = _current_slug(), _query_key()
    clicks = [
        Click(at if at.tzinfo else at.replace(tzinfo=UTC), key(query), current(slug), visitor,
              network, user_id)
        for at, query, slug, visitor, network, user_id in conn.execute(
            select(SearchClick.created_at, SearchEvent.normalized, SearchClick.slug,
                   SearchClick.visitor, SearchClick.ip_hash, SearchEvent.user_id)
            .join(SearchEvent, SearchEvent.id == SearchClick.search_id)
            .where(SearchClick.created_at >= start, SearchEvent.normalized != ""))]
    if not clicks:
        return Evidence([], resets=resets)
    accounts: dict[str, set[int]] = {}
    for visitor, user_id in conn.execute(
            select(SearchEvent.visitor, SearchEvent.user_id).distinct()
            .where(SearchEvent.created_at >= since, SearchEvent.user_id.is_not(None))):
        accounts.setdefault(visitor, set()).add(user_id)
    votes = {(user_id, current(slug)): helpful for user_id, slug, helpful in conn.execute(
        select(FeedbackVote.user_id, FeedbackVote.article_slug, FeedbackVote.helpful)
        .where(FeedbackVote.user_id.is_not(None)))}
    tickets = [
        TicketTrail(_aware(at), requester,
                    frozenset(key(normalize(q)) for q in searches or [] if isinstance(q, str)),
                    frozenset(current(s) for s in viewed or [] if isinstance(s, str)))
        for at, requester, searches, viewed in conn.execute(
            select(Ticket.created_at, Ticket.requester_id, Ticket.searches,
                   Ticket.viewed_articles)
            .where(Ticket.created_at >= since))]
    return Evidence(clicks, votes, tickets, accounts, resets)


def _current_slug() -> Callable[[str], str]:
    """old slug -> the article's slug now (clicks and votes under an alias count for it)."""
    try:
        tree = get_store().tree()
    except Exception:  # learning must not depend on the articles being readable
        log.exception("could not read the articles' aliases")
        return lambda slug: slug
    by_slug, aliases = tree.by_slug, tree.aliases
    known: dict[str, str] = {}

    def current(slug: str) -> str:
        found = known.get(slug)
        if found is None:
            found = known[slug] = slug if slug in by_slug else aliases.get(slug, slug)
        return found

    return current


def query_key(text: str) -> str:
    """The key learned boosts are kept under for what a reader typed: its normalized form
    without the editors' ignored words, as the ranking looks them up."""
    return _query_key()(normalize(text))


def _query_key() -> Callable[[str], str]:
    try:
        rules = get_store().search_rules()
    except Exception:  # learning must not depend on the editors' file being readable
        log.exception("could not read the editors' ignored words")
        return lambda query: query
    known: dict[str, str] = {}

    def key(query: str) -> str:
        found = known.get(query)
        if found is None:
            found = known[query] = rules.strip_ignored(query)
        return found

    return key


def _reset_version(conn) -> tuple[int, int]:
    count, last = conn.execute(
        select(func.count(), func.max(SearchLearningReset.id))).one()
    return count, last or 0


# -- this worker's snapshot ----------------------------------------------------------------

@dataclass(frozen=True)
class _Snapshot:
    boosts: dict[str, dict[str, float]]  # query -> slug -> boost > 0
    version: tuple[int, int] | None  # the resets it saw; None: recompute at the next check
    computed: float  # time.monotonic() when its computation started
    checked: float  # when the resets were last checked


class _Learner:
    """One app's learned boosts in this worker.

    A lookup is a dictionary read. Every CHECK_SECONDS one lookup also reads the
    number of resets (one indexed query); when it changed, or the snapshot is older
    than REFRESH_SECONDS, a background thread recomputes the snapshot meanwhile.
    """

    def __init__(self) -> None:
        self.snapshot: _Snapshot | None = None
        self.thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def lookup(self, app: Flask, query: str) -> dict[str, float]:
        snapshot = self.snapshot
        if (snapshot is None or time.monotonic() - snapshot.checked
                >= app.config["SEARCH_LEARN_CHECK_SECONDS"]):
            self._check(app)
            snapshot = self.snapshot
        found = snapshot.boosts.get(query) if snapshot is not None else None
        return dict(found) if found else {}

    def _check(self, app: Flask) -> None:
        if not self._lock.acquire(blocking=False):
            return  # another thread of this worker is checking
        try:
            now = time.monotonic()
            old = self.snapshot
            try:
                with db.engine.connect() as conn:
                    version = _reset_version(conn)
            except Exception:
                log.exception("could not check for resets of learned boosts; none used")
                self.snapshot = _Snapshot({}, None, now, now)
                return
            fresh = (old is not None and old.version == version
                     and now - old.computed < app.config["SEARCH_LEARN_REFRESH_SECONDS"])
            self.snapshot = (replace(old, checked=now) if old is not None
                             else _Snapshot({}, None, now, now))
            if not fresh and not (self.thread is not None and self.thread.is_alive()):
                self.thread = threading.Thread(
                    target=self._run, args=(app,), daemon=True, name="search-learning")
                self.thread.start()
        finally:
            self._lock.release()

    def _run(self, app: Flask) -> None:
        try:
            with app.app_context():
                self.update(app, background=True)
        except Exception:  # never let a background failure escape the thread
            log.exception("could not learn from readers")

    def update(self, app: Flask, now: datetime | None = None, background: bool = False) -> None:
        """Recompute the snapshot from the database (a failure leaves no boosts, logged)."""
        started = time.monotonic()
        try:
            with db.engine.connect() as conn:
                if background:
                    _yield_to_schema_changes(conn)
                version = _reset_version(conn)
                rows = compute(now, connection=conn)
        except Exception:
            log.exception("could not learn from readers; searching without learned boosts")
            self._install(_Snapshot({}, None, started, started))
            return
        boosts: dict[str, dict[str, float]] = {}
        for row in rows:
            if row.boost > 0:
                boosts.setdefault(row.query, {})[row.slug] = row.boost
        self._install(_Snapshot(boosts, version, started, time.monotonic()))

    def _install(self, snapshot: _Snapshot) -> None:
        """Keep the snapshot whose computation started last (a slow one may finish later)."""
        with self._lock:
            if self.snapshot is None or self.snapshot.computed <= snapshot.computed:
                self.snapshot = snapshot

    def drop(self, query: str, slug: str) -> None:
        """Stop serving what a reset in this worker covers, before the recomputation."""
        with self._lock:
            old = self.snapshot
            if old is None:
                return
            boosts = {}
            for q, found in old.boosts.items():
                kept = {s: b for s, b in found.items()
                        if not (query in ("", q) and slug in ("", s))}
                if kept:
                    boosts[q] = kept
            self.snapshot = replace(old, boosts=boosts, version=None)


def _yield_to_schema_changes(conn) -> None:
    """In the background, give up rather than wait for (or deadlock with) a table lock, and
    close the connection afterwards instead of returning it to a pool that may be gone."""
    conn.detach()
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql("SET lock_timeout = '200ms'")


_create_lock = threading.Lock()


def _learner(app: Flask) -> _Learner:
    learner = app.extensions.get(_KEY)
    if learner is None:
        with _create_lock:
            learner = app.extensions.setdefault(_KEY, _Learner())
    return learner
