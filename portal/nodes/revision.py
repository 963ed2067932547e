"""The articles commit every node follows, kept in the database (table content_revision).

The node that pulls (webhook, `flask kb sync`) records the commit it now serves; every
node's poller reads it and moves its own checkout there. The record only moves forward:
it is replaced by a descendant of the commit read, with a compare-and-set on that commit,
so two nodes recording at once cannot put an older commit back (PostgreSQL and SQLite).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError

from portal.extensions import db
from portal.models.accounts import utcnow
from portal.models.nodes import REVISION_ROW, ContentRevision
from portal.nodes.checkout import is_full_sha

log = logging.getLogger(__name__)

ATTEMPTS = 5  # compare-and-set rounds lost to other nodes before giving up


class RevisionUnusable(Exception):
    """The recorded value is not a commit SHA (edited by hand?); it is not followed."""


@dataclass(frozen=True)
class Recorded:
    sha: str
    at: datetime
    by: str


def recorded() -> Recorded | None:
    """The commit to follow, or None before any node recorded one. Database errors
    propagate (the caller decides how an outage is reported)."""
    with db.engine.connect() as conn:
        row = conn.execute(select(
            ContentRevision.commit_sha, ContentRevision.recorded_at,
            ContentRevision.recorded_by).where(ContentRevision.id == REVISION_ROW)).first()
    if row is None:
        return None
    sha = (row.commit_sha or "").strip()
    if not is_full_sha(sha):
        raise RevisionUnusable(f"the recorded articles commit {sha[:80]!r} is not a full SHA")
    return Recorded(sha, row.recorded_at, row.recorded_by)


def _current_sha() -> str | None:
    with db.engine.connect() as conn:
        return conn.scalar(select(ContentRevision.commit_sha).where(
            ContentRevision.id == REVISION_ROW))


def record(sha: str, node: str, supersedes: Callable[[str], bool]) -> bool:
    """Record `sha` as the commit to follow, published by `node`.

    `supersedes(recorded_sha)` says whether `sha` may replace what is recorded (it is a
    descendant, or the recorded one is gone). True when `sha` is recorded (now or already),
    False when a newer commit is recorded. Database errors propagate.
    """
    if not is_full_sha(sha):
        raise ValueError(f"not a full commit SHA: {sha[:80]!r}")
    values = {"commit_sha": sha, "recorded_at": utcnow(), "recorded_by": node[:200]}
    for _attempt in range(ATTEMPTS):
        current = _current_sha()
        if current == sha:
            return True
        if current is not None and not supersedes(current):
            log.info("not recording %s: %s, recorded already, is newer", sha[:10], current[:10])
            return False
        try:
            with db.engine.begin() as conn:
                if current is None:
                    conn.execute(insert(ContentRevision).values(id=REVISION_ROW, **values))
                    return True
                done = conn.execute(update(ContentRevision).where(
                    ContentRevision.id == REVISION_ROW,
                    ContentRevision.commit_sha == current).values(**values))
                if done.rowcount == 1:
                    return True
        except IntegrityError:
            pass  # another node inserted the first record meanwhile: compare with it
    log.warning("could not record %s: other nodes kept recording meanwhile", sha[:10])
    return False
