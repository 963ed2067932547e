"""Publishing: pull the articles repository, re-index what changed, reload the content.

Used by `flask --app wsgi kb sync` and by POST /hooks/git. The pull only
happens when the articles folder is its own git checkout (or lives in one
other than the portal's own repository: the app never pulls its code).
"""

from __future__ import annotations

import logging
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

from portal.config import PROJECT_ROOT
from portal.search import indexer
from portal.search.service import SearchService

log = logging.getLogger(__name__)

GIT_TIMEOUT = 120


class SyncError(Exception):
    """The articles could not be pulled; the message says why (git's own words)."""


@dataclass
class SyncReport:
    pulled: bool
    before: str | None
    after: str | None
    message: str
    index: indexer.IndexReport

    def __str__(self) -> str:
        return f"{self.message}\n{self.index}"


def _git(folder: Path, *args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, GIT_TERMINAL_PROMPT="0", LC_ALL="C")
    return subprocess.run(["git", "-c", "safe.directory=*", *args], cwd=folder, env=env,
                          capture_output=True, text=True, timeout=GIT_TIMEOUT, check=False)


def repository_root(folder: Path) -> Path | None:
    """The top of the git work tree holding folder, or None outside git."""
    try:
        done = _git(folder, "rev-parse", "--show-toplevel")
    except (OSError, subprocess.TimeoutExpired):
        return None
    if done.returncode != 0 or not done.stdout.strip():
        return None
    return Path(done.stdout.strip()).resolve()


def pull(folder: Path) -> tuple[bool, str | None, str | None, str]:
    """git pull --ff-only where that is ours to do: (pulled, before, after, message)."""
    top = repository_root(folder)
    if top is None:
        return False, None, None, f"{folder} is not a git checkout; indexing local changes."
    if top == PROJECT_ROOT.resolve():
        return False, None, None, ("The articles folder is part of the portal's own "
                                   "repository; not pulling, indexing local changes.")
    before = _git(top, "rev-parse", "HEAD").stdout.strip() or None
    try:
        done = _git(top, "pull", "--ff-only", "--quiet")
    except subprocess.TimeoutExpired as exc:
        raise SyncError(f"git pull took longer than {GIT_TIMEOUT} s") from exc
    if done.returncode != 0:
        detail = (done.stderr or done.stdout).strip().splitlines()
        raise SyncError("git pull --ff-only failed: " + (" ".join(detail[-3:]) or "no output"))
    after = _git(top, "rev-parse", "HEAD").stdout.strip() or None
    if before == after:
        return True, before, after, f"Already up to date at {(after or '?')[:10]}."
    return True, before, after, f"Pulled {(before or '?')[:10]}..{(after or '?')[:10]}."


def sync(service: SearchService, git_pull: bool = True, wait: float = 60.0) -> SyncReport:
    """Pull (when allowed), re-index changed articles, refresh content and git history."""
    folder = service.articles_dir
    if git_pull:
        pulled, before, after, message = pull(folder)
    else:
        pulled, before, after, message = False, None, None, "Pull disabled; indexing local changes."
    report = indexer.update_changed(service.engine, folder, wait=wait)
    service.store.refresh(force=True)  # new titles, categories and "modified by" at once
    log.info("sync: %s %s", message, report)
    return SyncReport(pulled, before, after, message, report)
