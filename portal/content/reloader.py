"""One reload at a time per process: in a background thread on request, or in the caller.

Asking while a reload runs does not start a second one alongside: however many
ask meanwhile, exactly one more reload runs after the current one, so the last
change made before any request is always picked up, and no work piles up.

The background thread is started on the first request for a reload and then waits
for the next (it ends after IDLE_SECONDS without one): asking costs a request a
notification, not the start of a thread.
"""

from __future__ import annotations

import logging
import os
import threading
import weakref
from collections.abc import Callable

log = logging.getLogger(__name__)

IDLE_SECONDS = 300.0

_LIVE: weakref.WeakSet[Reloader] = weakref.WeakSet()


class Reloader:
    """Runs `work(force, background)`, never two at once: `request()` in a background
    thread, `run_now()` in the caller's."""

    def __init__(self, work: Callable[[bool, bool], bool], name: str = "content-reload"):
        self._work = work
        self.name = name
        self._reset()
        _LIVE.add(self)

    def _reset(self) -> None:
        self._state = threading.Condition()
        self._build = threading.Lock()  # held while work runs, in whichever thread
        self._thread = False  # the background thread exists (working or waiting)
        self._working = False  # it is reloading
        self._pending = False  # a reload was asked for and has not started yet
        self._force = False
        self._waiting = 0  # callers of run_now() waiting for the background reload to end

    @property
    def busy(self) -> bool:
        """True while a background reload runs or is about to."""
        with self._state:
            return self._working or self._pending

    @property
    def hurry(self) -> bool:
        """True while someone waits in run_now(): a background reload should not dawdle."""
        return self._waiting > 0

    def request(self, force: bool = False) -> None:
        """Reload in the background soon; returns at once."""
        with self._state:
            self._pending = True
            self._force = self._force or force
            if self._thread:
                self._state.notify_all()  # wakes the waiting thread; a working one loops
                return
            self._thread = True
        try:
            threading.Thread(target=self._loop, name=self.name, daemon=True).start()
        except RuntimeError:  # no new threads (interpreter shutting down)
            log.warning("could not start a background content reload", exc_info=True)
            with self._state:
                self._thread = self._pending = self._force = False
                self._state.notify_all()

    def run_now(self, force: bool = False) -> bool:
        """Reload in this thread, after any reload in progress; what `work` returned."""
        with self._state:
            self._waiting += 1
        try:
            with self._build:
                return self._work(force, False)
        finally:
            with self._state:
                self._waiting -= 1

    def wait(self, timeout: float | None = None) -> bool:
        """Wait until no background reload runs or is pending; False on timeout."""
        with self._state:
            return self._state.wait_for(lambda: not (self._working or self._pending), timeout)

    def _loop(self) -> None:
        while True:
            with self._state:
                while not self._pending:
                    if not self._state.wait(IDLE_SECONDS) and not self._pending:
                        self._thread = False
                        return
                self._pending = False
                self._working = True
                force, self._force = self._force, False
            try:
                with self._build:
                    self._work(force, True)
            except Exception:
                log.exception("content reload failed; still serving the previous content")
            finally:
                with self._state:
                    self._working = False
                    self._state.notify_all()


def _after_fork() -> None:
    # A forked worker has none of its parent's threads: a lock one of them held, or a
    # `running` flag, would otherwise stop this process from ever reloading.
    for reloader in list(_LIVE):
        reloader._reset()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork)
