"""The live view of the articles folder for one app: reloads in the background, caches renders.

Readers are always served the current snapshot (portal/content/snapshot.py): one
complete, unchanging version of the content, the same for the whole of a request.
Every `reload_seconds` a request notices the folder is due a check and, once it is
answered, wakes this process's reload thread (portal/content/reloader.py). The thread
fingerprints the folder and, when anything changed, reads the new version beside the
current one, in short steps that let requests go first (portal/content/pacing.py),
then swaps it in with one assignment. `kb sync`, the webhook and the nodes' poller ask
for a reload (`request_reload`) or do one and wait (`reload_now`). Only the very first
load, with nothing to serve yet, is done in the request that needs it (or in the
background when a readiness probe asks, `ready()`).

With `reload_seconds` 0 (development and tests) every request checks the folder
and reloads within the request, so an edit shows on the next page.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from flask import Flask, current_app, has_request_context, request

from portal.content import snapshot
from portal.content.history import History, file_history
from portal.content.loader import ContentTree
from portal.content.model import Article
from portal.content.pacing import Activity, PacedCache, Pacer, after_this_request, unpaced
from portal.content.reloader import Reloader
from portal.content.render import IMAGE_SUFFIXES, LinkContext, Rendered, render_markdown

if TYPE_CHECKING:
    from portal.search.editorial import SearchRules

log = logging.getLogger(__name__)

EXTENSION_KEY = "portal.content"
RENDER_CACHE_SIZE = 4096
_PINNED = "portal.content.snapshot"  # request.environ key: the snapshot this request reads


class ContentStore:
    """Articles, categories, git history and rendered HTML for one articles folder.

    The folder is fingerprinted at most every `reload_seconds`; when anything
    changed the tree and the git history are read again in one pass each, in
    the background unless `background` is False (by default: when
    `reload_seconds` is 0). Rendered HTML is cached by file content, so page
    views never re-render. A request reads one snapshot throughout.
    """

    def __init__(self, root: Path, reload_seconds: float = 2.0, background: bool | None = None):
        self.root = Path(root)
        self.reload_seconds = reload_seconds
        self.background = reload_seconds > 0 if background is None else background
        self._lock = threading.Lock()  # the render and fragment caches
        self._current: snapshot.Snapshot | None = None
        self._checked_at = 0.0
        self._parsed = PacedCache()  # only touched by the reloader, one reload at a time
        self._reloader = Reloader(self._reload, name="content-reload")
        self.activity = Activity()  # requests in flight (init_app counts them)
        self._renders: OrderedDict[tuple[str, str, str], Rendered] = OrderedDict()
        self._fragments: OrderedDict[tuple, Any] = OrderedDict()

    # -- loading ---------------------------------------------------------
    def tree(self) -> ContentTree:
        """The current content (the one this request started with)."""
        return self._snapshot().tree

    @property
    def generation(self) -> int:
        """Names the content version: 1 after the first load, one more per reload."""
        current = self._peek()
        return current.generation if current is not None else 0

    def refresh(self, force: bool = False) -> bool:
        """Re-read the folder now if it changed (or when forced), in this thread, after any
        reload in progress. True when the content was replaced."""
        return self._reloader.run_now(force)

    def reload_now(self) -> bool:
        """Read the folder again and serve it before returning (after `kb sync`, in a test)."""
        return self.refresh(force=True)

    def request_reload(self) -> None:
        """Read the folder again in the background; readers keep the current content until
        the new one is complete. Asked again meanwhile, one more reload follows."""
        self._reloader.request(force=True)

    def wait_for_reload(self, timeout: float | None = None) -> bool:
        """Wait until no background reload runs or is pending; False on timeout."""
        return self._reloader.wait(timeout)

    @property
    def reloading(self) -> bool:
        """True while a background reload runs or is about to."""
        return self._reloader.busy

    def ready(self) -> bool:
        """True once content is loaded; else starts the first load in the background (for a
        readiness probe, which should not wait for it) and answers False."""
        if self._current is not None:
            return True
        self._reloader.request()
        return False

    def _reload(self, force: bool, background: bool) -> bool:
        """Runs one at a time (the reloader sees to it): check the folder, rebuild, swap.
        In the background it goes at a pace that lets this process's requests go first."""
        pace = Pacer(self._requests_waiting) if background else unpaced
        pace()  # in the background: after the request that asked, and any in flight
        sig = snapshot.fingerprint(self.root, pace)
        self._checked_at = time.monotonic()
        current = self._current
        if not force and current is not None and sig == current.signature:
            return False
        generation = current.generation + 1 if current is not None else 1
        fresh = snapshot.build(self.root, self._parsed, sig, generation, pace)
        self._current = fresh  # the swap: requests from now on read the new content
        self._pin(fresh)  # a request that reloads (the webhook) reads what it loaded
        return True

    def _requests_waiting(self) -> bool:
        """Requests being served, and nobody waiting for this reload to finish."""
        return self.activity.busy and not self._reloader.hurry

    def _snapshot(self) -> snapshot.Snapshot:
        """This request's snapshot; outside a request, the current one. Starts a check when
        one is due, and loads the content here if there is none yet."""
        pinned = self._pinned()
        if pinned is not None:
            return pinned
        current = self._current
        if current is None:
            self._reloader.run_now(False)  # nothing to serve yet: load (or wait for a load)
            current = self._current
            assert current is not None
        elif time.monotonic() - self._checked_at >= self.reload_seconds:
            if self.background:
                self._checked_at = time.monotonic()  # one check at a time is enough
                after_this_request(self._reloader.request)
            else:
                try:
                    self._reloader.run_now(False)
                except Exception:
                    log.exception("content reload failed; still serving the previous content")
                current = self._current or current
        self._pin(current)
        return current

    def _peek(self) -> snapshot.Snapshot | None:
        """This request's snapshot or the current one, with no check and no load."""
        return self._pinned() or self._current

    def _pinned(self) -> snapshot.Snapshot | None:
        if not has_request_context():
            return None
        found = request.environ.get(_PINNED)
        return found[1] if found is not None and found[0] is self else None

    def _pin(self, current: snapshot.Snapshot) -> None:
        if has_request_context():
            request.environ[_PINNED] = (self, current)

    # -- queries ---------------------------------------------------------
    def search_rules(self) -> SearchRules:
        """The editors' search file as read with the current tree."""
        return self._snapshot().rules

    def history(self, article: Article) -> History:
        current = self._peek() or self._snapshot()
        found = current.history.get(article.path)
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
        current = self._peek() or self._snapshot()
        full_key = (current.link_key, *key)
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
        current = self._peek() or self._snapshot()
        key = (article.path, article.sha, current.link_key)
        cached = self._renders.get(key)
        if cached is not None:
            try:
                self._renders.move_to_end(key)
            except KeyError:  # dropped meanwhile by another thread
                pass
            return cached
        tree = current.tree  # links resolve against the version the key names

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
    store = ContentStore(app.config["ARTICLES_DIR"], app.config["CONTENT_RELOAD_SECONDS"])
    app.extensions[EXTENSION_KEY] = store
    app.wsgi_app = store.activity.wrap(app.wsgi_app)  # background reloads yield to requests


def get_store(app: Flask | None = None) -> ContentStore:
    return (app or current_app).extensions[EXTENSION_KEY]
