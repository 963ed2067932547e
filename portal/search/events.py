"""Search analytics: record searches and clicks; popular articles and queries (cached).

A search costs one INSERT (committed by the view), or none when the same reader
made it within PORTAL_EVENT_DEDUPE_MINUTES (see event_limits); a click one more.
Popular articles and past queries are read in one grouped query every few minutes
per process, so type-ahead and the empty search page never hit the database per
keystroke.
"""

from __future__ import annotations

import bisect
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from portal.extensions import db
from portal.models.search import SearchClick, SearchEvent
from portal.search import event_limits, popular
from portal.search.learning import client_ip_hash

POPULAR_DAYS = 90  # past queries suggested while typing (articles: popular.READ_DAYS)
POPULAR_QUERIES_KEPT = 5000
POPULAR_ARTICLES_KEPT = 50


def record_search(*, query: str, normalized: str, corrected: str, category: str,
                  result_count: int, page: int, source: str, visitor: str,
                  user_id: int | None, reader: event_limits.Reader,
                  now: datetime | None = None) -> int:
    """Store the search (one INSERT, not committed) and return its id; or, when this reader
    made the same search (same words, category and source; any page) within
    PORTAL_EVENT_DEDUPE_MINUTES, store nothing and return that search's id."""
    keys = reader.keys("search", source[:10], normalized[:500], category[:300])
    search_id, _ = event_limits.insert_once(SearchEvent.__table__, dict(
        query=query[:500], normalized=normalized[:500], corrected=(corrected or "")[:500],
        category=category[:300], result_count=result_count, page=page, source=source[:10],
        visitor=visitor[:64], user_id=user_id), keys, "visitor", now or datetime.now(UTC))
    return search_id


def record_click(*, search_id: int, slug: str, position: int, visitor: str,
                 ip_hash: str | None = None) -> bool:
    """Record that the reader opened a result of their own search. False if it is not theirs.

    `ip_hash` (see learning.ip_hash) defaults to the current request's client, so that
    search learning can count many visitor ids from one network as one reader.
    """
    event = db.session.get(SearchEvent, search_id)
    if event is None or event.visitor != visitor[:64]:
        return False
    db.session.add(SearchClick(search_id=search_id, slug=slug[:200],
                               position=max(0, min(position, 10_000)), visitor=visitor[:64],
                               ip_hash=ip_hash or client_ip_hash()))
    return True


@dataclass
class _Cached:
    at: float = 0.0
    queries: list[tuple[str, int]] | None = None  # sorted by query text
    articles: list[str] | None = None


class Popularity:
    """Per-process cache of what readers search for and open."""

    def __init__(self, ttl: float, min_visitors: int):
        self.ttl = ttl
        self.min_visitors = min_visitors
        self._lock = threading.Lock()
        self._cached = _Cached()

    def _fresh(self) -> _Cached:
        now = time.monotonic()
        cached = self._cached
        if cached.queries is not None and now - cached.at < self.ttl:
            return cached
        with self._lock:
            if self._cached is cached:
                try:
                    self._cached = self._load(now)
                except Exception:
                    db.session.rollback()
                    # Keep what was known, and ask again only after the same interval: pages
                    # that show popular articles (the home page) must not each wait for a
                    # database that is down. The caller logs the error.
                    self._cached = _Cached(now, cached.queries or [], cached.articles or [])
                    raise
            return self._cached

    def _load(self, now: float) -> _Cached:
        since = datetime.now(UTC) - timedelta(days=POPULAR_DAYS)
        visitors = func.count(func.distinct(SearchEvent.visitor))
        rows = db.session.execute(
            select(SearchEvent.normalized, func.count())
            .where(SearchEvent.created_at >= since, SearchEvent.result_count > 0,
                   SearchEvent.normalized != "")
            .group_by(SearchEvent.normalized)
            .having(visitors >= self.min_visitors)
            .order_by(func.count().desc())
            .limit(POPULAR_QUERIES_KEPT)).all()
        queries = sorted((text, count) for text, count in rows)
        read = popular.most_read(POPULAR_ARTICLES_KEPT)
        return _Cached(now, queries, [slug for slug, _ in read])

    def queries(self, prefix: str, limit: int) -> list[str]:
        """Past queries starting with prefix (typed by enough different visitors)."""
        if not prefix:
            return []
        cached = self._fresh().queries or []
        start = bisect.bisect_left(cached, (prefix, 0))
        found = []
        for text, count in cached[start:start + 500]:
            if not text.startswith(prefix):
                break
            if text != prefix:
                found.append((count, text))
        found.sort(key=lambda item: (-item[0], item[1]))
        return [text for _, text in found[:limit]]

    def articles(self) -> list[str]:
        """Slugs of the most read articles lately (see popular.py), most read first."""
        return list(self._fresh().articles or [])
