"""Background work that stays out of the way of the requests in the same process.

Python runs one thread at a time. A background thread that computes for a long stretch
makes each request in its process wait for a turn, up to 5 ms (sys.getswitchinterval)
every time the request pauses for the database or the disk: with 10,000 articles a
2 ms page took 20-100 ms while the content reloaded beside it. So the reload works in
short steps and between steps lets requests go first: it waits while any is being
served, up to a limit, so that it still finishes in a process that is never idle.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

from flask import has_request_context, request

START_SECONDS = 0.005  # first, let the request that asked for the work finish sending
STEP_SECONDS = 0.001  # work this long, then give requests a turn
BREATH_SECONDS = 0.0002  # between steps: long enough for a request waiting to run to start
MOST_WAIT_SECONDS = 0.02  # per step: a process never idle still lends the reload ~5%
WAIT_SLICE_SECONDS = 0.001
_AFTER = "portal.content.after"  # request.environ key: what to run once it is answered


class Activity:
    """How many requests this process is serving right now."""

    def __init__(self) -> None:
        self._count = 0
        self._lock = threading.Lock()

    @property
    def busy(self) -> bool:
        return self._count > 0

    def wrap(self, wsgi_app: Callable) -> Callable:
        """The WSGI app, counting the requests in flight through it, and running what
        `after_this_request` put off once each is answered."""

        def counted(environ: dict, start_response: Callable) -> Iterable[bytes]:
            with self._lock:
                self._count += 1
            environ[_AFTER] = []
            try:
                return wsgi_app(environ, start_response)
            finally:
                with self._lock:
                    self._count -= 1
                for fn in environ.pop(_AFTER, ()):
                    fn()

        return counted


def after_this_request(fn: Callable[[], None]) -> None:
    """Run `fn` once this request is answered (background work it starts then does not
    compete with it); at once outside a request counted by Activity.wrap."""
    if has_request_context():
        later = request.environ.get(_AFTER)
        if later is not None:
            later.append(fn)
            return
    fn()


class Pacer:
    """Called often by background work: returns at once within a step; at the end of one,
    sleeps briefly and then while `busy()` (at most MOST_WAIT_SECONDS). The first call
    sleeps a little longer: the work was asked for by a request just answered."""

    def __init__(self, busy: Callable[[], bool]):
        self._busy = busy
        self._since: float | None = None

    def __call__(self) -> None:
        if self._since is not None and time.perf_counter() - self._since < STEP_SECONDS:
            return
        time.sleep(BREATH_SECONDS if self._since is not None else START_SECONDS)
        deadline = time.perf_counter() + MOST_WAIT_SECONDS
        while self._busy() and time.perf_counter() < deadline:
            time.sleep(WAIT_SLICE_SECONDS)
        self._since = time.perf_counter()


def unpaced() -> None:
    """The pace of work done in the request or the caller's thread: no pauses."""


class PacedCache(dict):
    """The loader's parse cache (loader.ParseCache), pacing the loader as it goes:
    load_tree looks up every file in it once, so `pace` is called once per file."""

    pace: Callable[[], None] = staticmethod(unpaced)

    def get(self, key: Any, default: Any = None) -> Any:
        self.pace()
        return super().get(key, default)
