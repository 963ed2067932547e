"""Each worker's background poll: follow the articles commit recorded by the node that pulled.

A poll costs one indexed query and one `git rev-parse`. It acts when:

- the recorded commit is not this checkout's HEAD nor one of its ancestors: fetch,
  fast-forward to it (never backwards, never a merge), re-index what changed, reload;
- the checkout's HEAD is not the commit the index was last brought up to (a sibling
  worker stopped half-way, a pull by hand), or there is no index: re-index, reload;
- a sibling worker moved the checkout: reload this worker's content.

The work holds the checkout's file lock without waiting: a worker that finds it taken
leaves the work to its holder and looks again at its next poll. A database outage, a
git failure or a busy index is logged (once, not at every poll) and polling goes on.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from pathlib import Path

from flask import Flask
from sqlalchemy.exc import SQLAlchemyError

from portal.content.store import get_store
from portal.nodes import checkout, indexed, revision
from portal.nodes.checkout import CheckoutBusy, SyncError
from portal.search import indexer
from portal.search.engine import IndexBusy
from portal.search.service import get_service

log = logging.getLogger(__name__)

EXTENSION_KEY = "portal.nodes"
THREAD_NAME = "portal-node-sync"
RETRY_FAILED_SECONDS = 60.0  # a failed move (git) is tried again after this long


class Poller:
    """One app's poll in this process; `poll_once()` never runs twice at the same time."""

    def __init__(self, app: Flask, interval: float):
        self.app = app
        self.interval = interval
        self.polls = 0  # polls finished, whatever their outcome
        self.last_result = ""
        self.thread: threading.Thread | None = None
        self._running = threading.Lock()
        self._stop = threading.Event()
        self._seen_head: str | None = None
        self._database_down = False
        self._failed: dict[tuple, float] = {}  # (head, target) -> when a move last failed
        self._reported: set[str] = set()
        self._last_failure = ""
        self._top: Path | None = None  # the checkout's top, once found

    # -- the thread ---------------------------------------------------------------------
    def start(self) -> Poller:
        self.thread = threading.Thread(target=self._run, name=THREAD_NAME, daemon=True)
        self.thread.start()
        return self

    def stop(self, timeout: float = 30.0) -> None:
        self._stop.set()
        if self.thread is not None and self.thread is not threading.current_thread():
            self.thread.join(timeout)

    @property
    def alive(self) -> bool:
        return self.thread is not None and self.thread.is_alive() and not self._stop.is_set()

    def _run(self) -> None:
        while not self._stop.is_set():
            self.poll_once()
            self._stop.wait(self.interval)

    # -- one poll -----------------------------------------------------------------------
    def poll_once(self) -> str:
        """Look once, act if needed; a short word says what happened (for logs and tests)."""
        if not self._running.acquire(blocking=False):
            return "busy"  # this process is polling already
        try:
            with self.app.app_context():
                result = self._poll()
            self._last_failure = ""
        except Exception as exc:  # never let a failure end the thread
            if repr(exc) != self._last_failure:  # in full once, not at every poll
                log.exception("node sync: the poll failed; polling goes on")
            self._last_failure = repr(exc)
            result = "failed"
        finally:
            self.polls += 1
            self._running.release()
        self.last_result = result
        return result

    def _poll(self) -> str:
        service = get_service(self.app)
        folder = service.articles_dir
        index_dir = Path(self.app.config["INDEX_DIR"])
        top = self._top or checkout.own_checkout(folder)  # kept once found
        self._top = top
        target = self._recorded()
        head = checkout.head(top) if top is not None else None
        move = self._should_move(top, head, target)
        stale = not service.engine.is_ready() or (
            top is not None and indexed.commit(index_dir) != head)
        if not move and not stale:
            if head != self._seen_head:  # moved by a sibling worker, or our first look
                if self._seen_head is not None:
                    get_store(self.app).refresh(force=True)
                self._seen_head = head
            return "up to date"
        try:
            with checkout.locked(top, wait=0.0):
                return self._catch_up(service, top, index_dir, target if move else None)
        except CheckoutBusy:
            return "busy"
        except IndexBusy as exc:
            self._report_once("index busy", logging.INFO,
                              "node sync: the index is being built elsewhere (%s); "
                              "trying again at the next poll", exc)
            return "busy"

    def _recorded(self) -> revision.Recorded | None:
        try:
            found = revision.recorded()
        except SQLAlchemyError as exc:
            if not self._database_down:
                log.warning("node sync: the database did not answer (%s); this node keeps "
                            "its articles and asks again every %g s",
                            str(exc).splitlines()[0][:200], self.interval)
            self._database_down = True
            return None
        except revision.RevisionUnusable as exc:
            self._report_once(str(exc), logging.ERROR, "node sync: %s; not following it", exc)
            return None
        if self._database_down:
            log.info("node sync: the database answers again")
            self._database_down = False
        return found

    def _should_move(self, top: Path | None, head: str | None,
                     target: revision.Recorded | None) -> bool:
        if top is None or target is None or head is None or target.sha == head:
            return False
        if not self.app.config.get("SYNC_GIT_PULL", True):
            return False  # the checkout is moved by other means; only re-index it
        failed = self._failed.get((head, target.sha))
        if failed is not None and time.monotonic() - failed < RETRY_FAILED_SECONDS:
            return False
        return not checkout.is_ancestor(top, target.sha, head)  # never backwards

    def _catch_up(self, service, top: Path | None, index_dir: Path,
                  target: revision.Recorded | None) -> str:
        """Holding the lock: move to `target` (if given), re-index, reload."""
        before = checkout.head(top) if top is not None else None
        moved = False
        if target is not None and top is not None and before is not None:
            try:
                moved = self._move(top, before, target)
            except SyncError as exc:
                self._failed[(before, target.sha)] = time.monotonic()
                log.error("node sync: cannot move the articles from %s to %s (recorded by %s):"
                          " %s; trying again in %g s", before[:10], target.sha[:10], target.by,
                          exc, RETRY_FAILED_SECONDS)
        report = indexer.update_changed(service.engine, service.articles_dir, wait=0.0)
        after = checkout.head(top) if top is not None else None
        if top is not None:
            indexed.remember(index_dir, after)
        # Paced, in the store's own reload thread: this worker's readers go first, and a
        # reload the store started itself on seeing the files change is joined, not repeated.
        get_store(self.app).request_reload()
        self._seen_head = after
        self._reported.discard("index busy")
        if moved:
            log.info("node sync: moved %s..%s (recorded by %s); %s", (before or "?")[:10],
                     (after or "?")[:10], target.by if target else "?", report)
            return "moved"
        log.info("node sync: re-indexed %s; %s", (after or "the articles")[:10], report)
        return "re-indexed"

    def _move(self, top: Path, head: str, target: revision.Recorded) -> bool:
        if not checkout.has_commit(top, target.sha):
            checkout.fetch(top)
            if not checkout.has_commit(top, target.sha):
                raise SyncError(f"commit {target.sha[:10]} is not on the remote")
        if checkout.is_ancestor(top, target.sha, head):
            return False  # a sibling got here first, or this node is ahead
        if not checkout.is_ancestor(top, head, target.sha):
            raise SyncError("the checkout has commits the recorded one does not "
                            "(diverged); not moving it")
        checkout.fast_forward(top, target.sha)
        return True

    def _report_once(self, key: str, level: int, message: str, *args) -> None:
        if key not in self._reported:
            self._reported.add(key)
            log.log(level, message, *args)


# -- starting ------------------------------------------------------------------------------

_start_lock = threading.Lock()


def start_poller(app: Flask, interval: float | None = None) -> Poller | None:
    """This process's poller for `app`, started if it is not running (None when the
    interval is 0). Tests call it to ask for one; requests start it on their own."""
    interval = app.config["SYNC_POLL_SECONDS"] if interval is None else interval
    if interval <= 0:
        return None
    with _start_lock:
        found = app.extensions.get(EXTENSION_KEY)
        if found is not None and found[0] == os.getpid() and found[1].alive:
            return found[1]
        poller = Poller(app, interval).start()
        app.extensions[EXTENSION_KEY] = (os.getpid(), poller)
        return poller


def ensure_started(app: Flask) -> None:
    """Start this worker's poller on its first request (threads do not survive the fork
    of a preloading server, so each worker starts its own). Never in tests: they ask."""
    found = app.extensions.get(EXTENSION_KEY)
    if found is not None and found[0] == os.getpid():
        return
    if app.testing or app.config["SYNC_POLL_SECONDS"] <= 0:
        return
    try:
        start_poller(app)
    except Exception:  # a page must not fail because the poll could not start
        log.exception("node sync: could not start polling; this node will not follow others")
        app.extensions.setdefault(EXTENSION_KEY, (os.getpid(), Poller(app, 0.0)))
