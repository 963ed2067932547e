"""A plain title-and-body scan, used when the full-text index cannot be read."""

from __future__ import annotations

import re

from portal.content.model import Article


def scan_search(articles: list[Article], query: str, limit: int = 50) -> list[Article]:
    """Articles containing the query's words, titles first. Slow but always works."""
    words = [w for w in re.findall(r"\w+", query.lower()) if len(w) > 1][:20]
    if not words:
        return []
    scored = []
    for article in articles:
        title = article.title.lower()
        body = article.body.lower()
        score = sum(3 * (w in title) + (w in body) for w in words)
        if score:
            scored.append((score, article.title.lower(), article))
    scored.sort(key=lambda item: (-item[0], item[1]))
    return [item[2] for item in scored[:limit]]
