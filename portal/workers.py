"""How many processes serve this app, and a start-up warning when each would keep its own
rate limits (memory:// storage): with N workers every limit is N times looser."""

from __future__ import annotations

import os
import sys

from flask import Flask


def server_workers() -> tuple[int, str] | None:
    """(worker processes, where that was read) for the server loading this app, if known.

    Under gunicorn the app is built inside gunicorn's Application.wsgi() (in each worker, or
    once in the master with --preload), so that object is on the call stack with gunicorn's
    final settings: command line, config file, GUNICORN_CMD_ARGS and WEB_CONCURRENCY alike.
    Elsewhere WEB_CONCURRENCY, the usual way hosts tell a server how many workers to run.
    """
    base = sys.modules.get("gunicorn.app.base")
    if base is not None:
        frame = sys._getframe(1)
        while frame is not None:
            owner = frame.f_locals.get("self")
            if isinstance(owner, base.BaseApplication) and getattr(owner, "cfg", None):
                return int(owner.cfg.workers), "gunicorn"
            frame = frame.f_back
    raw = os.environ.get("WEB_CONCURRENCY", "").strip()
    if raw.isdigit():
        return int(raw), "WEB_CONCURRENCY"
    return None


def warn_if_limits_are_per_worker(app: Flask) -> None:
    storage = str(app.config.get("RATELIMIT_STORAGE_URI") or "memory://")
    if not storage.startswith("memory://"):
        return
    found = server_workers()
    if found is None or found[0] < 2:
        return
    workers, source = found
    app.logger.warning(
        "Rate limits (sign-in, feedback, search API, webhook) are kept in each process's memory "
        "(PORTAL_RATELIMIT_STORAGE_URL=memory://) while %d worker processes serve this app "
        "(%s): each worker counts on its own, so every limit lets up to %d times as much "
        "through. Set "
        "PORTAL_RATELIMIT_STORAGE_URL to shared storage, e.g. redis://127.0.0.1:6379/0.",
        workers, source, workers)
