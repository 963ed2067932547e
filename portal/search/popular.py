"""Which articles readers read most lately, from what the portal records already.

An article counts one read per reader who, within READ_DAYS:
- opened it from search results (search_click, one per visitor id),
- opened it from the ticket form's suggestions (suggestion_click, one per visit),
- rated it, Yes or No (feedback_vote, one per voter; a changed vote counts once).
Nothing new is stored about readers for this: these rows exist for search analytics,
deflection figures and article feedback, and each is de-duplicated and rate limited
where it is recorded (portal/search/event_limits.py, portal/feedback).
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from portal.extensions import db
from portal.models import FeedbackVote, SuggestionClick
from portal.models.search import SearchClick

READ_DAYS = 30


def most_read(limit: int, now: datetime | None = None) -> list[tuple[str, int]]:
    """(slug, readers) for the most read articles of the last READ_DAYS, most read first
    (ties: by slug, so the order is stable). Three grouped queries; [] without data."""
    since = (now or datetime.now(UTC)) - timedelta(days=READ_DAYS)
    sources = [
        select(SearchClick.slug, func.count(func.distinct(SearchClick.visitor)))
        .where(SearchClick.created_at >= since).group_by(SearchClick.slug),
        select(SuggestionClick.slug, func.count(func.distinct(SuggestionClick.visit)))
        .where(SuggestionClick.created_at >= since).group_by(SuggestionClick.slug),
        select(FeedbackVote.article_slug, func.count(func.distinct(FeedbackVote.voter)))
        .where(FeedbackVote.updated_at >= since).group_by(FeedbackVote.article_slug),
    ]
    readers: Counter[str] = Counter()
    for query in sources:
        for slug, count in db.session.execute(query):
            readers[slug] += count
    ranked = sorted(readers.items(), key=lambda item: (-item[1], item[0]))
    return ranked[:limit]
