"""Publishing: pull the articles repository, re-index what changed, reload the content,
and record the commit for the other web nodes.

Used by `flask --app wsgi kb sync` and by POST /hooks/git. The pull only
happens when the articles folder is its own git checkout (or lives in one
other than the portal's own repository: the app never pulls its code). After a
pull the commit is recorded in the database (portal/nodes/revision.py), where
every other node's poller finds it and moves its own checkout there
(portal/nodes/poller.py). Pull, re-index and reload hold the checkout's sync lock,
so two workers of one node never pull or index at once.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from flask import current_app
from sqlalchemy.exc import SQLAlchemyError

from portal.nodes import checkout, indexed, node_name, revision
from portal.nodes.checkout import SyncError, own_checkout, repository_root
from portal.search import indexer
from portal.search.service import SearchService

__all__ = ["NotRecorded", "SyncError", "SyncReport", "pull", "supersedes", "sync"]

log = logging.getLogger(__name__)


class NotRecorded(SyncError):
    """Pulled and re-indexed here, but the other nodes could not be told (database)."""


@dataclass
class SyncReport:
    pulled: bool
    before: str | None
    after: str | None
    message: str
    index: indexer.IndexReport
    recorded: bool | None = None  # None: nothing pulled, so nothing to record

    def __str__(self) -> str:
        lines = [self.message, str(self.index)]
        if self.recorded and self.after:
            lines.append(f"Recorded {self.after[:10]} for the other nodes.")
        elif self.recorded is False:
            lines.append("A newer commit is recorded already; the other nodes follow that one.")
        return "\n".join(lines)


def pull(folder: Path) -> tuple[bool, str | None, str | None, str]:
    """git pull --ff-only where that is ours to do: (pulled, before, after, message)."""
    top = repository_root(folder)
    if top is None:
        return False, None, None, f"{folder} is not a git checkout; indexing local changes."
    if own_checkout(folder) is None:
        return False, None, None, ("The articles folder is part of the portal's own "
                                   "repository; not pulling, indexing local changes.")
    before = checkout.head(top)
    checkout.pull(top)
    after = checkout.head(top)
    if before == after:
        return True, before, after, f"Already up to date at {(after or '?')[:10]}."
    return True, before, after, f"Pulled {(before or '?')[:10]}..{(after or '?')[:10]}."


def sync(service: SearchService, git_pull: bool = True, wait: float = 60.0,
         background_reload: bool = False) -> SyncReport:
    """Pull (when allowed), re-index changed articles, refresh content and git history,
    then record the pulled commit for the other nodes.

    With `background_reload`, the content is reloaded by the store's paced background
    reload (readers of this worker keep the current pages until the new ones are complete)
    instead of before returning.

    Raises SyncError (git failed; NotRecorded when only the recording failed) and
    IndexBusy (another sync or index build of this node kept its lock past `wait`).
    """
    folder = service.articles_dir
    index_dir = Path(current_app.config["INDEX_DIR"])
    top = own_checkout(folder)
    with checkout.locked(top, wait):
        if git_pull:
            pulled, before, after, message = pull(folder)
        else:
            pulled, before, after = False, None, None
            message = "Pull disabled; indexing local changes."
        report = indexer.update_changed(service.engine, folder, wait=wait)
        if top is not None:
            indexed.remember(index_dir, checkout.head(top))
        if background_reload:  # the webhook: its worker goes back to readers sooner
            service.store.request_reload()
        else:
            service.store.refresh(force=True)  # new titles, categories and "modified by" now
    log.info("sync: %s %s", message, report)
    result = SyncReport(pulled, before, after, message, report)
    if pulled and after and top is not None:
        result.recorded = _record(top, after, result)
    return result


def _record(top: Path, sha: str, report: SyncReport) -> bool:
    try:
        return revision.record(sha, node_name(current_app), supersedes(top, sha))
    except SQLAlchemyError as exc:
        log.error("sync: could not record %s for the other nodes: %s", sha[:10],
                  str(exc).splitlines()[0][:200])
        raise NotRecorded(
            f"{report.message} Re-indexed here, but the commit could not be recorded for "
            "the other nodes (the database did not answer): deliver the webhook again or "
            "run `flask kb sync` once the database answers.") from exc


def supersedes(top: Path, mine: str):
    """May `mine`, just pulled, replace the recorded commit? Yes when it descends from it,
    or when the recorded one is no longer on the remote; no when the recorded one is newer."""

    def check(recorded: str) -> bool:
        if not checkout.is_full_sha(recorded):
            return True  # damaged by hand: replace it
        if checkout.is_ancestor(top, recorded, mine):
            return True
        if not checkout.has_commit(top, recorded):
            try:  # pushed after our pull, and already pulled by another node?
                checkout.fetch(top)
            except SyncError as exc:
                log.warning("sync: %s", exc)
            if not checkout.has_commit(top, recorded):
                return True  # gone from the remote (history rewritten): the pull wins
            if checkout.is_ancestor(top, recorded, mine):
                return True
        if checkout.is_ancestor(top, mine, recorded):
            return False
        log.warning("sync: the recorded commit %s and the pulled %s have diverged (history "
                    "rewritten?); recording the pulled one", recorded[:10], mine[:10])
        return True

    return check
