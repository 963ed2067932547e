"""View helpers shared by the search page and the API: logging searches, parsing paging."""

from __future__ import annotations

import logging

from flask_login import current_user

from portal.content.loader import ContentTree
from portal.extensions import db, skip_disk_wait
from portal.search import event_limits, events, gate
from portal.search.gate import VISITOR_KEY, visitor_id
from portal.search.service import SearchPage, SearchService

log = logging.getLogger(__name__)


def page_number(raw: str | None, default: int = 1) -> int:
    try:
        return max(1, min(int(raw or default), 10_000))
    except ValueError:
        return default


def log_search(service: SearchService, result: SearchPage, source: str,
               limit: str | None = None) -> int | None:
    """Record the search, committed now, and return its id (for result clicks): a repeat
    of this reader's search within the window, another page of it included, is not stored
    again and returns the first one's id. None for an empty query, once this client is
    over config[limit] (when given), or on failure.

    Analytics must never cost the reader their results, so a database error
    is logged and the page is served anyway.
    """
    if result.query.is_empty:
        return None
    if limit and not event_limits.within_limit(limit, f"portal.events.search-{source}"):
        return None
    try:
        skip_disk_wait()  # analytics and the visitor's trail: a crash may lose the last few
        who = event_limits.reader(VISITOR_KEY)  # before visitor_id() gives a new browser one
        search_id = events.record_search(
            query=result.query.text,
            normalized=result.query.normalized,
            corrected=result.corrected or "",
            category=result.category.slug if result.category else "",
            result_count=result.total,
            page=result.page,
            source=source,
            visitor=visitor_id(),
            user_id=current_user.get_id() and int(current_user.get_id()),
            reader=who,
        )
        gate.remember_search(result.query.text)  # for the ticket: same transaction
        db.session.commit()
        return search_id
    except Exception:
        log.exception("could not record a search")
        db.session.rollback()
        return None


_choices: dict[int, tuple[ContentTree, list[tuple[str, str]]]] = {}


def category_choices(tree: ContentTree) -> list[tuple[str, str]]:
    """(slug, label) for the category filter, parents before children, indented."""
    cached = _choices.get(id(tree))
    if cached is not None and cached[0] is tree:
        return cached[1]
    choices = _category_choices(tree)
    _choices.clear()  # keep only the current tree's (the old one may be freed)
    _choices[id(tree)] = (tree, choices)
    return choices


def _category_choices(tree: ContentTree) -> list[tuple[str, str]]:
    published = {a.category for a in tree.published()}
    used = set()
    for path in published:
        while True:
            used.add(path)
            if "/" not in path:
                break
            path = path.rpartition("/")[0]
    categories = [c for c in tree.categories.values() if c.path in used]

    def key(category):
        chain = []
        path = category.path
        while True:
            found = tree.categories.get(path)
            chain.append((found.order, found.title.lower()) if found else (0, path))
            if "/" not in path:
                break
            path = path.rpartition("/")[0]
        return list(reversed(chain))

    categories.sort(key=key)
    return [(c.slug, "\u2003" * c.depth + c.title) for c in categories]
