"""A plain title-and-body scan, used when the full-text index cannot be read.

Slower and simpler than the index (no stemming, no typo tolerance), but it
needs nothing but the articles, so search keeps answering while the index
is missing, rebuilding or damaged.
"""

from __future__ import annotations

import re
import threading
from collections import OrderedDict

from portal.content.model import Article
from portal.search.documents import plain_text
from portal.search.engine import EngineHit, UserQuery
from portal.search.snippets import make_snippet

MAX_WORDS = 12
_cache: OrderedDict[tuple[str, str], tuple[str, str]] = OrderedDict()
_cache_lock = threading.Lock()
CACHE_SIZE = 20_000


def _texts(article: Article) -> tuple[str, str]:
    """(plain text, its lower-case form), cached by file content."""
    key = (article.path, article.sha)
    found = _cache.get(key)
    if found is None:
        text = plain_text(article.body)[0]
        found = (text, text.lower())
        with _cache_lock:
            _cache[key] = found
            while len(_cache) > CACHE_SIZE:
                _cache.popitem(last=False)
    return found


def _in_category(article: Article, category: str | None) -> bool:
    if category is None:
        return True
    if category == "":
        return article.category == ""
    return article.category == category or article.category.startswith(category + "/")


def scan_search(articles: list[Article], query: UserQuery, category: str | None = None,
                offset: int = 0, limit: int = 10) -> tuple[list[EngineHit], int]:
    """(hits for the page, total): articles containing the query's words, best first."""
    words = [w for w in query.words if len(w) > 1][:MAX_WORDS]
    if not words:
        return [], 0
    scored = []
    for article in articles:
        if not _in_category(article, category):
            continue
        text, lower = _texts(article)
        head = f"{article.title} {article.summary} {' '.join(map(str, article.tags))}".lower()
        score = 0.0
        matched = 0
        for word in words:
            in_head = word in head
            count = lower.count(word)
            if in_head or count:
                matched += 1
                score += 3 * in_head + min(count, 5) * 0.2
        if matched:
            score *= matched / len(words)
            scored.append((score, article.title.lower(), article, text))
    scored.sort(key=lambda item: (-item[0], item[1]))
    patterns = [(w, re.compile(r"\b" + re.escape(w), re.IGNORECASE)) for w in words]
    hits = []
    for score, _title, article, text in scored[offset:offset + limit]:
        spans = [(m.start(), m.end(), word, 1.0)
                 for word, pattern in patterns for m in pattern.finditer(text, 0, 50_000)]
        hits.append(EngineHit(article.slug, article.title, article.category, round(score, 4),
                              make_snippet(text, spans[:200], fallback=article.summary)))
    return hits, len(scored)
