"""Remember, per app and for a few seconds, that no notice can be on the banner.

Most page views happen when nothing is announced; this spares each of them the
banner query. Any insert, update or delete of a notice in this process forgets
what was remembered at once; other processes see a new notice within
NOTICE_CACHE_SECONDS (the remembered answer also covers only that span of the
clock, so a controlled clock in tests is honoured).
"""

from __future__ import annotations

import threading
import time
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import event

from portal.models import Notice

_KEY = "portal.notices.quiet"
_lock = threading.Lock()
_changes = [0]


def _changed(*_args) -> None:
    with _lock:
        _changes[0] += 1


for _name in ("after_insert", "after_update", "after_delete"):
    event.listen(Notice, _name, _changed)


def horizon() -> timedelta:
    """How far past the usual window the banner query must look to be remembered."""
    return timedelta(seconds=current_app.config["NOTICE_CACHE_SECONDS"])


def is_quiet(now: datetime) -> bool:
    """True when a recent query proved that nothing can be on the banner at `now`."""
    known = current_app.extensions.get(_KEY)
    return bool(known) and known[0] == _changes[0] and known[1] <= now <= known[2] and (
        time.monotonic() < known[3])


def remember_quiet(now: datetime, changes_before: int) -> None:
    """Record that a query covering up to now + lead + horizon() found nothing."""
    seconds = current_app.config["NOTICE_CACHE_SECONDS"]
    if seconds > 0:
        current_app.extensions[_KEY] = (changes_before, now, now + horizon(),
                                        time.monotonic() + seconds)


def changes() -> int:
    return _changes[0]
