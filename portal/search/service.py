"""The search service: one entry point for the results page, the JSON API and the benches.

It asks the engine, joins hits with the live articles (titles, categories,
dates), and keeps search answering when the index cannot: a missing index
is built in a background thread (the first search waits a few seconds for
it), a damaged one is logged, rebuilt in the background and meanwhile
replaced by the plain scan in fallback.py, with a notice on the page.
"""

from __future__ import annotations

import heapq
import logging
import threading
import time
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path

from flask import Flask, current_app
from markupsafe import Markup

from portal.content import get_store
from portal.content.areas import area_key
from portal.content.loader import ContentTree
from portal.content.model import Article, Category
from portal.content.store import ContentStore
from portal.paging import page_links
from portal.search import indexer
from portal.search.editorial import EMPTY_RULES
from portal.search.engine import (
    EngineHit,
    EngineResult,
    IndexBusy,
    IndexCorrupt,
    IndexMissing,
    SearchEngine,
    Tuning,
    UserQuery,
)
from portal.search.events import Popularity
from portal.search.expansion import vocabularies
from portal.search.fallback import scan_search
from portal.search.learning import learned_boosts
from portal.search.query import parse
from portal.search.whoosh_engine import WhooshEngine

log = logging.getLogger(__name__)

EXTENSION_KEY = "portal.search"
MAX_PAGE = 100
POPULAR_COUNT = 8
# What a product area the host page names (the widget's context) adds to the rank of the
# articles declaring it: like a reader-taught boost at its default cap
# (SEARCH_LEARN_MAX_BOOST), enough to pass an equal or slightly better answer from
# elsewhere, not one that is clearly better; an exact title still comes first.
CONTEXT_BOOST = 0.3
DEGRADED_NOTICE = ("Search is running in a simplified mode for a moment, so results may be "
                   "less precise than usual.")
BUILDING_NOTICE = ("The search index is being prepared, so results may be less precise for "
                   "a moment.")


@dataclass
class ResultItem:
    article: Article
    category: Category | None
    snippet: Markup
    score: float
    updated: datetime | None
    position: int  # 1-based rank over all pages


@dataclass
class SearchPage:
    query: UserQuery
    category: Category | None
    page: int
    per_page: int
    total: int = 0
    items: list[ResultItem] = field(default_factory=list)
    corrected: str | None = None
    fuzzy: bool = False
    notice: str | None = None  # set when the plain scan answered
    popular: list[Article] = field(default_factory=list)

    @property
    def pages(self) -> int:
        return min(MAX_PAGE, max(1, -(-self.total // self.per_page)))

    @property
    def has_next(self) -> bool:
        return self.page < self.pages

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def degraded(self) -> bool:
        return self.notice is not None

    @property
    def page_links(self) -> list[int | None]:
        """Page numbers to offer: first, last and two around this one; None marks a gap."""
        return page_links(self.page, self.pages)


@dataclass
class Suggestions:
    articles: list[Article]
    queries: list[str]


class SearchService:
    def __init__(self, engine: SearchEngine, store: ContentStore, articles_dir: Path,
                 popularity: Popularity, build_wait: float):
        self.engine = engine
        self.store = store
        self.articles_dir = Path(articles_dir)
        self.popularity = popularity
        self.build_wait = build_wait
        self._lock = threading.Lock()
        self._builder: threading.Thread | None = None
        self._reported: set[str] = set()
        self._recent: tuple[tuple, list[Article]] | None = None
        self._areas: tuple[ContentTree, dict[str, list[Article]]] | None = None

    # -- searching -----------------------------------------------------------
    def search(self, raw_query: str, category_slug: str | None = None, page: int = 1,
               per_page: int = 10, context: str | None = None) -> SearchPage:
        """Results for what the reader typed; never raises for any input. A context (a
        product area named by the widget's host page) ranks the articles declaring that
        area higher; the others still appear."""
        query = parse(raw_query)
        tree = self.store.tree()
        category = find_category(tree, category_slug)
        page = max(1, min(page, MAX_PAGE))
        result = SearchPage(query, category, page, per_page)
        if query.is_empty:
            result.popular = self.popular_articles(tree)
            return result
        offset = (page - 1) * per_page
        path = category.path if category is not None else None
        query, tuning = self._tuned(query)
        tuning = self._in_context(tuning, tree, context)
        found, notice = self._engine_search(query, tuning, path, offset, per_page)
        if found is None:
            hits, total = scan_search(tree.published(), query, path, offset, per_page)
            found = EngineResult(hits, total)
        result.total = found.total
        result.corrected = found.corrected
        result.fuzzy = found.fuzzy
        result.notice = notice
        result.items = self._items(tree, found.hits, offset)
        if not result.total:
            result.popular = self.popular_articles(tree)
        return result

    def _tuned(self, query: UserQuery) -> tuple[UserQuery, Tuning]:
        """The query without the editors' ignored words, and what tunes its ranking:
        synonyms (built-in and the editors'), promotions, and what readers taught."""
        try:
            rules = self.store.search_rules()
        except Exception:
            log.exception("could not read the editors' search file")
            rules = EMPTY_RULES
        stripped = rules.strip_ignored(query.normalized)
        if stripped != query.normalized:
            kept = set(stripped.split())
            query = replace(query, normalized=stripped,
                            words=tuple(w for w in query.words if w in kept))
        # learned_boosts never raises: a database error means no boosts, logged there.
        return query, Tuning(vocabularies(rules), tuple(rules.promoted_for(stripped)),
                             learned_boosts(stripped))

    def _in_context(self, tuning: Tuning, tree: ContentTree, context: str | None) -> Tuning:
        """The tuning with CONTEXT_BOOST for the articles in the context's area; per article
        the larger of that and what readers taught."""
        in_area = self._in_area(tree, context)
        if not in_area:
            return tuning
        boosts = dict(tuning.boosts)
        for article in in_area:
            boosts[article.slug] = max(boosts.get(article.slug, 0.0), CONTEXT_BOOST)
        return replace(tuning, boosts=boosts)

    def _in_area(self, tree: ContentTree, context: str | None) -> list[Article]:
        """The published articles declaring the context's area, in category order."""
        key = area_key(context) if context else ""
        if not key:
            return []
        cached = self._areas
        if cached is None or cached[0] is not tree:  # the tree is kept: its id is not reused
            by_area: dict[str, list[Article]] = {}
            for article in tree.published():
                for area in article.areas:
                    by_area.setdefault(area, []).append(article)
            cached = self._areas = (tree, by_area)
        return cached[1].get(key, [])

    def context_articles(self, context: str, limit: int = 5) -> list[Article]:
        """The published articles declaring the context's area, to suggest before any
        search: the most read first (as popular_articles counts), then by title."""
        tree = self.store.tree()
        in_area = self._in_area(tree, context)
        if not in_area or limit <= 0:
            return []
        read = {a.slug: rank for rank, a in enumerate(self.most_read(tree, len(tree.by_slug)))}
        ranked = sorted(in_area, key=lambda a: (read.get(a.slug, len(read)), a.title.lower(),
                                                a.slug))
        return ranked[:limit]

    def _engine_search(self, query: UserQuery, tuning: Tuning, category: str | None,
                       offset: int, limit: int) -> tuple[EngineResult | None, str | None]:
        for attempt in (1, 2):
            try:
                return self.engine.search(query, category, offset, limit, tuning), None
            except IndexMissing:
                if attempt == 1 and self._build_and_wait(self.build_wait):
                    continue
                return None, BUILDING_NOTICE
            except IndexCorrupt as exc:
                self._report(exc)
                self._start_build()
                return None, DEGRADED_NOTICE
        return None, DEGRADED_NOTICE

    def _items(self, tree: ContentTree, hits: list[EngineHit], offset: int) -> list[ResultItem]:
        items = []
        for position, hit in enumerate(hits, start=offset + 1):
            article = tree.by_slug.get(hit.slug)
            if article is None or article.draft:  # removed since the index was built
                continue
            history = self.store.history(article)
            items.append(ResultItem(article, tree.categories.get(article.category),
                                    hit.snippet, hit.score, history.modified_at, position))
        return items

    def most_read(self, tree: ContentTree | None = None,
                  limit: int = POPULAR_COUNT) -> list[Article]:
        """The published articles readers read most lately (portal/search/popular.py says
        how that is counted), most read first; [] while there is no such data."""
        tree = tree or self.store.tree()
        chosen: list[Article] = []
        try:
            slugs = self.popularity.articles()
        except Exception:
            log.exception("could not read popular articles")
            slugs = []
        for slug in slugs:
            article = tree.by_slug.get(slug)
            if article is not None and not article.draft and article not in chosen:
                chosen.append(article)
        return chosen[:limit]

    def popular_articles(self, tree: ContentTree | None = None,
                         limit: int = POPULAR_COUNT) -> list[Article]:
        """The most read articles; the recently updated ones only when nobody has been
        counted reading any yet."""
        tree = tree or self.store.tree()
        return self.most_read(tree, limit) or self._recently_updated(tree, limit)

    def _recently_updated(self, tree: ContentTree, limit: int) -> list[Article]:
        key = (id(tree), getattr(self.store, "generation", 0), limit)
        cached = self._recent
        if cached is not None and cached[0] == key:
            return cached[1]
        found = heapq.nlargest(limit, tree.published(),
                               key=lambda a: self.store.history(a).modified_at)
        self._recent = (key, found)
        return found

    def suggest(self, raw_prefix: str, limit: int = 8) -> Suggestions:
        """Titles and popular past searches for what is typed so far."""
        query = parse(raw_prefix)
        if query.is_empty:
            return Suggestions([], [])
        tree = self.store.tree()
        try:
            found = self.engine.suggest(query.text, limit)
            articles = [tree.by_slug[s.slug] for s in found
                        if s.slug in tree.by_slug and not tree.by_slug[s.slug].draft]
        except (IndexMissing, IndexCorrupt):
            articles = [a for a in scan_titles(tree, query.normalized)][:limit]
        try:
            queries = self.popularity.queries(query.normalized, 5)
        except Exception:
            log.exception("could not read popular searches")
            queries = []
        return Suggestions(articles, queries)

    # -- keeping the index there -------------------------------------------------
    def _report(self, exc: Exception) -> None:
        key = str(getattr(self.engine, "current_directory", lambda: "")())
        with self._lock:
            first = key not in self._reported
            self._reported.add(key)
        if first:
            log.error("search index unreadable; answering with the plain scan and rebuilding: "
                      "%s\n%s", exc, getattr(exc, "detail", ""))
        else:
            log.warning("search index still unreadable: %s", exc)

    def _start_build(self) -> threading.Thread:
        with self._lock:
            if self._builder is None or not self._builder.is_alive():
                self._builder = threading.Thread(
                    target=self._build, name="search-index-build", daemon=True)
                self._builder.start()
            return self._builder

    def _build(self) -> None:
        try:
            report = indexer.build(self.engine, self.articles_dir, wait=0.0)
            log.info("search index built on demand: %s", report)
        except IndexBusy:
            log.info("search index is being built by another process")
        except Exception:
            log.exception("building the search index failed")

    def _build_and_wait(self, seconds: float) -> bool:
        """Start a build (unless one runs) and wait for an index up to `seconds`."""
        builder = self._start_build()
        deadline = time.monotonic() + seconds
        builder.join(max(0.0, seconds))
        while not self.engine.is_ready() and time.monotonic() < deadline:
            time.sleep(0.05)  # another process holds the lock and is building
        return self.engine.is_ready()


def find_category(tree: ContentTree, slug: str | None) -> Category | None:
    if not slug:
        return None
    for category in tree.categories.values():
        if category.slug == slug:
            return category
    return None


def scan_titles(tree: ContentTree, prefix: str) -> list[Article]:
    words = prefix.split()
    found = []
    for article in tree.published():
        title = article.title.lower()
        if all(w in title for w in words):
            found.append((not title.startswith(words[0]), len(title), article))
    found.sort(key=lambda item: item[:2])
    return [a for *_k, a in found]


def create_service(app: Flask) -> SearchService:
    engine = WhooshEngine(app.config["INDEX_DIR"], app.config["INDEX_PROCESSES"])
    popularity = Popularity(app.config["SEARCH_STATS_SECONDS"],
                            app.config["SEARCH_SUGGEST_MIN_VISITORS"])
    return SearchService(engine, get_store(app), app.config["ARTICLES_DIR"], popularity,
                         app.config["SEARCH_BUILD_WAIT_SECONDS"])


_create_lock = threading.Lock()


def get_service(app: Flask | None = None) -> SearchService:
    """The app's search service, created on first use (no I/O until a search runs)."""
    app = app or current_app._get_current_object()  # type: ignore[attr-defined]
    service = app.extensions.get(EXTENSION_KEY)
    if service is None:
        with _create_lock:
            service = app.extensions.get(EXTENSION_KEY)
            if service is None:
                service = app.extensions[EXTENSION_KEY] = create_service(app)
    return service
