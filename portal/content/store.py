"""The live view of the articles folder for one app: reloads on change, caches renders."""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from flask import Flask, current_app

from portal.content.history import History, file_history, read_history
from portal.content.loader import ContentTree, ParseCache, load_tree, signature
from portal.content.model import Article
from portal.content.render import IMAGE_SUFFIXES, LinkContext, Rendered, render_markdown

if TYPE_CHECKING:
    from portal.search.editorial import SearchRules

log = logging.getLogger(__name__)

EXTENSION_KEY = "portal.content"
RENDER_CACHE_SIZE = 4096


class ContentStore:
    """Articles, categories, git history and rendered HTML for one articles folder.

    The folder is fingerprinted at most every `reload_seconds`; when anything
    changed the tree and the git history are read again in one pass each.
    Rendered HTML is cached by file content, so page views never re-render.
    The editors' search file (`_search.yml`) is read again with the tree, since
    its promotions name articles.
    """

    def __init__(self, root: Path, reload_seconds: float = 2.0):
        self.root = Path(root)
        self.reload_seconds = reload_seconds
        self._lock = threading.Lock()
        self._tree: ContentTree | None = None
        self._rules: SearchRules | None = None
        self._signature: tuple | None = None
        self._checked_at = 0.0
        self._history: dict[str, History] = {}
        self._parsed: ParseCache = {}
        self._link_key = ""
        self._renders: OrderedDict[tuple[str, str, str], Rendered] = OrderedDict()
        self._fragments: OrderedDict[tuple, Any] = OrderedDict()
        self.generation = 0

    # -- loading ---------------------------------------------------------
    def tree(self) -> ContentTree:
        """The current content, reloaded first if the folder changed."""
        now = time.monotonic()
        if self._tree is None or now - self._checked_at >= self.reload_seconds:
            self.refresh()
        assert self._tree is not None
        return self._tree

    def refresh(self, force: bool = False) -> bool:
        """Re-read the folder if it changed (or when forced). True when reloaded."""
        with self._lock:
            sig = signature(self.root)
            self._checked_at = time.monotonic()
            if not force and self._tree is not None and sig == self._signature:
                return False
            tree = load_tree(self.root, self._parsed)
            # Imported here: the search package imports portal.content in turn.
            from portal.search.editorial import load_rules

            rules, rule_problems = load_rules(self.root, tree)
            self._history = read_history(self.root)
            key = hashlib.sha256()
            for path, article in sorted(tree.by_path.items()):
                key.update(f"{path}\0{article.slug}\0".encode())
            for entry in sig:
                key.update(f"{entry[0]}\0{entry[1]}\0".encode())
            self._link_key = key.hexdigest()
            self._tree = tree
            self._rules = rules
            self._signature = sig
            self.generation += 1
            for problem in [*tree.problems, *rule_problems]:
                if problem.severity == "error":
                    log.warning("content problem: %s", problem)
            return True

    # -- queries ---------------------------------------------------------
    def search_rules(self) -> SearchRules:
        """The editors' search file as read with the current tree (empty without one)."""
        self.tree()  # reload first if the folder (or the search file) changed
        assert self._rules is not None
        return self._rules

    def history(self, article: Article) -> History:
        found = self._history.get(article.path)
        if found is not None:
            return found
        try:
            return file_history(article.abs_path)
        except OSError:
            return History(None, article.mtime, None, article.mtime, None)

    def media_path(self, rel: str) -> Path | None:
        """The file for a media URL, only if it is an image inside the folder."""
        if Path(rel).suffix.lower() not in IMAGE_SUFFIXES:
            return None
        root = self.root.resolve()
        candidate = (root / rel).resolve()
        if not candidate.is_relative_to(root) or not candidate.is_file():
            return None
        if any(part.startswith(".") for part in candidate.relative_to(root).parts):
            return None
        return candidate

    def fragment(self, key: tuple, build: Callable[[], Any]) -> Any:
        """A piece of page built once per content version (the key must name the version)."""
        full_key = (self._link_key, *key)
        found = self._fragments.get(full_key)
        if found is None:
            found = build()
            with self._lock:
                self._fragments[full_key] = found
                while len(self._fragments) > RENDER_CACHE_SIZE:
                    self._fragments.popitem(last=False)
        return found

    def render(
        self, article: Article, article_url: Callable[[str], str], media_url: Callable[[str], str]
    ) -> Rendered:
        """Sanitized HTML for an article, from the cache when its content is unchanged."""
        key = (article.path, article.sha, self._link_key)
        cached = self._renders.get(key)
        if cached is not None:
            self._renders.move_to_end(key)
            return cached
        tree = self.tree()

        def link(path: str) -> str | None:
            target = tree.by_path.get(path)
            return article_url(target.slug) if target else None

        def media(path: str) -> str | None:
            return media_url(path) if (self.root / path).is_file() else None

        rendered = render_markdown(article.body, LinkContext(article.path, link, media))
        with self._lock:
            self._renders[key] = rendered
            while len(self._renders) > RENDER_CACHE_SIZE:
                self._renders.popitem(last=False)
        return rendered


def init_app(app: Flask) -> None:
    app.extensions[EXTENSION_KEY] = ContentStore(
        app.config["ARTICLES_DIR"], app.config["CONTENT_RELOAD_SECONDS"])


def get_store(app: Flask | None = None) -> ContentStore:
    return (app or current_app).extensions[EXTENSION_KEY]
