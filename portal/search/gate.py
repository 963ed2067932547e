"""The search-first gate: remember in the session that this visitor has searched."""

from __future__ import annotations

import secrets

from flask import session

# Keys starting with "portal_keep_" survive the session reset at sign-in.
SEARCHED_KEY = "portal_keep_searched"
RECENT_QUERIES_KEY = "portal_keep_queries"
MAX_REMEMBERED = 20


def mark_searched(query: str) -> None:
    """Record a non-empty search in this visit (called by the search pages and API)."""
    query = query.strip()
    if not query:
        return
    session[SEARCHED_KEY] = True
    queries = [q for q in session.get(RECENT_QUERIES_KEY, []) if q != query]
    session[RECENT_QUERIES_KEY] = (queries + [query[:200]])[-MAX_REMEMBERED:]


def has_searched() -> bool:
    return bool(session.get(SEARCHED_KEY))


def searched_queries() -> list[str]:
    return list(session.get(RECENT_QUERIES_KEY, []))


VIEWED_KEY = "portal_keep_viewed"


def mark_viewed(slug: str) -> None:
    """Remember the articles read in this visit (a ticket keeps them for the agent)."""
    viewed = session.get(VIEWED_KEY, [])
    if viewed and viewed[-1] == slug:
        return  # unchanged: do not rewrite the session cookie
    viewed = [s for s in viewed if s != slug]
    session[VIEWED_KEY] = (viewed + [slug])[-MAX_REMEMBERED:]


def viewed_articles() -> list[str]:
    return list(session.get(VIEWED_KEY, []))


VISITOR_KEY = "portal_keep_visitor"


def visitor_id() -> str:
    """An anonymous id for this browser's visits, kept in the session (search analytics)."""
    visitor = session.get(VISITOR_KEY)
    if not isinstance(visitor, str) or not 8 <= len(visitor) <= 64:
        visitor = secrets.token_urlsafe(12)
        session[VISITOR_KEY] = visitor
    return visitor
