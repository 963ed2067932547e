"""Related articles for an article page: the ones most alike in what they say (the search
index's "more like this"), or, while the index cannot answer, the others in its section.

The list is part of the article's cached sidebar, so the article page's cache key names
the index generation it came from (`index_version`): a rebuilt index gives new lists.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from portal.content.loader import ContentTree
from portal.content.model import Article
from portal.kb.service import siblings
from portal.search.engine import SearchUnavailable
from portal.search.service import get_service

log = logging.getLogger(__name__)

RELATED_COUNT = 6


@dataclass(frozen=True)
class Related:
    articles: list[Article]
    similar: bool  # True: chosen by content; False: the same section (the fallback)


def index_version() -> str:
    """Names the live search index ("" when there is none)."""
    current = getattr(get_service().engine, "current_directory", None)
    try:
        found = current() if current else None
    except Exception:  # a damaged pointer: no index, as far as this page is concerned
        return ""
    return str(found or "")


def related_articles(tree: ContentTree, article: Article,
                     limit: int = RELATED_COUNT) -> Related:
    """Published articles only: the sidebar is shared by readers and editors alike."""
    found = _similar(tree, article, limit)
    if found:
        return Related(found, True)
    return Related(siblings(tree, article, limit), False)


def _similar(tree: ContentTree, article: Article, limit: int) -> list[Article]:
    try:
        hits = get_service().engine.related(article.slug, 2 * limit)
    except SearchUnavailable:
        return []
    except Exception:
        log.exception("could not find articles related to %s", article.slug)
        return []
    chosen: list[Article] = []
    for hit in hits:  # the index may be a little behind the articles folder
        other = tree.by_slug.get(hit.slug)
        if (other is not None and other is not article and not other.draft
                and other not in chosen):
            chosen.append(other)
    return chosen[:limit]

