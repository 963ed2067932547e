"""The search-first gate, and what this visitor searched for and read before filing.

The session cookie holds only a flag ("has searched") and an anonymous visitor id. The
searches and articles themselves are kept on the server (`visit_trail`), the latest
MAX_REMEMBERED of each for PORTAL_VISIT_TRAIL_HOURS, so the cookie stays the same size
however much someone reads (issue 12: it grew past 6 KB after 20 searches and 20 reads).
A search is kept with its search event (portal/search/tracking.py), so past the
anonymous event limit it is not kept either. Articles are remembered only for visitors
who searched: the ticket form, which shows them to the agent, opens only after a
search, and crawlers do not write on every page.
"""

from __future__ import annotations

import logging
import random
import secrets
import threading
import time
from datetime import timedelta

from cachetools import LRUCache
from flask import current_app, session
from sqlalchemy import delete, select
from sqlalchemy.exc import SQLAlchemyError

from portal.extensions import db, skip_disk_wait
from portal.models import VisitTrail
from portal.models.accounts import utcnow

log = logging.getLogger(__name__)

# Keys starting with "portal_keep_" survive the session reset at sign-in.
SEARCHED_KEY = "portal_keep_searched"
VISITOR_KEY = "portal_keep_visitor"
MAX_REMEMBERED = 20
SEARCH, ARTICLE = "q", "a"
_PRUNE_EVERY = 600.0  # seconds between deletions of expired trails, per process
_last_prune = 0.0
REREAD_SECONDS = 300.0
_recent_reads: LRUCache = LRUCache(maxsize=10_000)  # (visitor, slug) -> when written here
_recent_lock = threading.Lock()


def visitor_id() -> str:
    """An anonymous id for this browser's visits, kept in the session (search analytics)."""
    visitor = session.get(VISITOR_KEY)
    if not isinstance(visitor, str) or not 8 <= len(visitor) <= 64:
        visitor = secrets.token_urlsafe(12)
        session[VISITOR_KEY] = visitor
    return visitor


def mark_searched(query: str) -> None:
    """Note in the session that this visitor searched (the search pages and API call it;
    the query itself is kept by remember_search(), in the search's own transaction)."""
    if query.strip() and not session.get(SEARCHED_KEY):
        session[SEARCHED_KEY] = True


def remember_search(query: str) -> None:
    """Keep the query for this visitor's ticket; part of the caller's transaction (it is
    written with the search event, so a search costs one commit)."""
    query = query.strip()
    if query:
        _upsert(SEARCH, query[:200])


def has_searched() -> bool:
    return bool(session.get(SEARCHED_KEY))


def searched_queries() -> list[str]:
    return _recall(SEARCH)


def mark_viewed(slug: str) -> None:
    """Remember the articles read in this visit (a ticket keeps them for the agent);
    committed now. A database problem loses the entry, never the page.

    The same visitor reading the same article again within REREAD_SECONDS (going back and
    forth between it and the results) is not written again by this process: the entry is
    there already, only its place in the order would move."""
    if not has_searched():
        return
    key = (visitor_id(), slug)
    now = time.monotonic()
    with _recent_lock:
        last = _recent_reads.get(key)
    if last is not None and now - last < REREAD_SECONDS:
        return
    try:
        skip_disk_wait()  # losing the last read in a crash is harmless
        _upsert(ARTICLE, slug[:200])
        db.session.commit()
    except SQLAlchemyError:
        db.session.rollback()
        log.warning("could not remember an article read", exc_info=True)
        return
    with _recent_lock:
        _recent_reads[key] = now


def viewed_articles() -> list[str]:
    return _recall(ARTICLE)


def _window() -> timedelta:
    return timedelta(hours=int(current_app.config["VISIT_TRAIL_HOURS"]))


def _upsert(kind: str, value: str, visitor: str | None = None) -> None:
    """Add (or move to the end) one entry of this visitor (the session's, unless named);
    the caller commits."""
    visitor, now = visitor or visitor_id(), utcnow()
    insert = _insert_for(db.session.get_bind().dialect.name)
    statement = insert(VisitTrail).values(visitor=visitor, kind=kind, value=value, at=now)
    db.session.execute(statement.on_conflict_do_update(
        index_elements=["visitor", "kind", "value"], set_={"at": now}))
    if random.random() < 1 / MAX_REMEMBERED:  # now and then: keep only the latest
        keep = (select(VisitTrail.id)
                .where(VisitTrail.visitor == visitor, VisitTrail.kind == kind)
                .order_by(VisitTrail.at.desc(), VisitTrail.id.desc())
                .limit(MAX_REMEMBERED).scalar_subquery())
        db.session.execute(
            delete(VisitTrail).where(VisitTrail.visitor == visitor,
                                     VisitTrail.kind == kind, VisitTrail.id.not_in(keep)),
            execution_options={"synchronize_session": False})
    _prune_expired(now)


def _insert_for(dialect: str):
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert


def _prune_expired(now) -> None:
    global _last_prune
    if time.monotonic() - _last_prune < _PRUNE_EVERY:
        return
    _last_prune = time.monotonic()
    db.session.execute(delete(VisitTrail).where(VisitTrail.at < now - _window()),
                       execution_options={"synchronize_session": False})


def _recall(kind: str, visitor: str | None = None) -> list[str]:
    """This visitor's entries of one kind (the session's visitor's, once it searched, or the
    one named), oldest first ([] if none, or on a problem)."""
    if visitor is None:
        visitor = session.get(VISITOR_KEY)
        if not isinstance(visitor, str) or not has_searched():
            return []
    try:
        rows = db.session.scalars(
            select(VisitTrail.value)
            .where(VisitTrail.visitor == visitor, VisitTrail.kind == kind,
                   VisitTrail.at >= utcnow() - _window())
            .order_by(VisitTrail.at.desc(), VisitTrail.id.desc()).limit(MAX_REMEMBERED))
        return list(reversed(list(rows)))
    except SQLAlchemyError:
        db.session.rollback()
        log.warning("could not read a visitor's trail", exc_info=True)
        return []


# -- visitors without a session cookie: the help widget (portal/widget) ----------------------

def remember_for(visitor: str, kind: str, value: str) -> None:
    """Keep a search (SEARCH) or an article read (ARTICLE) for a visitor named by a token
    instead of the session; part of the caller's transaction."""
    value = value.strip()[:200]
    if value:
        _upsert(kind, value, visitor)


def recall_for(visitor: str, kind: str) -> list[str]:
    return _recall(kind, visitor)


def adopt(other: str) -> bool:
    """Take over what the visitor `other` searched and read (the widget's visitor, when its
    "Submit a Ticket" link is opened) as this session's, oldest first so the order holds;
    the session has searched from then on. False, and nothing changed, when `other` has
    no search on record. The caller commits."""
    searches = _recall(SEARCH, other)
    if not searches:
        return False
    mine = visitor_id()
    if mine != other:
        for kind, values in ((SEARCH, searches), (ARTICLE, _recall(ARTICLE, other))):
            for value in values:
                _upsert(kind, value, mine)
    session[SEARCHED_KEY] = True
    return True
