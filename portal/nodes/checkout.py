"""A node's articles checkout: its HEAD, fetch and fast-forward, and one syncer at a time.

Every git command runs with a timeout, without prompts, and only ever receives commit
names that are full hexadecimal SHAs (a value read from the database is checked first),
so nothing stored there can be taken by git for an option.
"""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from portal import filelock
from portal.config import PROJECT_ROOT
from portal.search.engine import IndexBusy

GIT_TIMEOUT = 120
FULL_SHA = re.compile(r"[0-9a-f]{40}|[0-9a-f]{64}")  # SHA-1 or SHA-256 repositories
LOCK_NAME = "portal-sync.lock"


class SyncError(Exception):
    """The articles could not be pulled or moved; the message says why (git's own words)."""


class CheckoutBusy(IndexBusy):
    """Another process (or thread) of this node is pulling or re-indexing right now."""


def git(folder: Path, *args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, GIT_TERMINAL_PROMPT="0", LC_ALL="C")
    return subprocess.run(["git", "-c", "safe.directory=*", *args], cwd=folder, env=env,
                          capture_output=True, text=True, timeout=GIT_TIMEOUT, check=False)


def repository_root(folder: Path) -> Path | None:
    """The top of the git work tree holding folder, or None outside git."""
    try:
        done = git(folder, "rev-parse", "--show-toplevel")
    except (OSError, subprocess.TimeoutExpired):
        return None
    if done.returncode != 0 or not done.stdout.strip():
        return None
    return Path(done.stdout.strip()).resolve()


def own_checkout(folder: Path) -> Path | None:
    """The articles' own git checkout (its top), or None: not in git, or in the portal's
    own repository (the app never pulls or moves its code)."""
    top = repository_root(folder)
    if top is None or top == PROJECT_ROOT.resolve():
        return None
    return top


def is_full_sha(value: str | None) -> bool:
    return bool(value) and FULL_SHA.fullmatch(value or "") is not None


def head(top: Path) -> str | None:
    """The commit checked out, or None (an empty repository, or git failed)."""
    try:
        done = git(top, "rev-parse", "--verify", "--quiet", "HEAD")
    except (OSError, subprocess.TimeoutExpired):
        return None
    found = done.stdout.strip()
    return found if done.returncode == 0 and is_full_sha(found) else None


def has_commit(top: Path, sha: str) -> bool:
    _check(sha)
    return git(top, "cat-file", "-e", f"{sha}^{{commit}}").returncode == 0


def is_ancestor(top: Path, older: str, newer: str) -> bool:
    """True when `older` is `newer` or one of its ancestors (False when either is unknown)."""
    _check(older, newer)
    return git(top, "merge-base", "--is-ancestor", older, newer).returncode == 0


def fetch(top: Path) -> None:
    """git fetch from the checkout's remote (what the node that pulled got from it too)."""
    _run(top, "git fetch", "fetch", "--quiet")


def pull(top: Path) -> None:
    """git pull --ff-only: the branch's upstream, never a merge."""
    _run(top, "git pull --ff-only", "pull", "--ff-only", "--quiet")


def fast_forward(top: Path, sha: str) -> None:
    """Move the checked-out branch forward to `sha`; fails rather than merge or go back."""
    _check(sha)
    _run(top, "git merge --ff-only", "merge", "--ff-only", "--quiet", sha)


def _run(top: Path, what: str, *args: str) -> None:
    try:
        done = git(top, *args)
    except subprocess.TimeoutExpired as exc:
        raise SyncError(f"{what} took longer than {GIT_TIMEOUT} s") from exc
    if done.returncode != 0:
        detail = (done.stderr or done.stdout).strip().splitlines()
        raise SyncError(f"{what} failed: " + (" ".join(detail[-3:]) or "no output"))


def _check(*shas: str) -> None:
    for sha in shas:
        if not is_full_sha(sha):
            raise ValueError(f"not a full commit SHA: {sha[:80]!r}")


@contextmanager
def locked(top: Path | None, wait: float = 0.0) -> Iterator[None]:
    """Hold this checkout's sync lock (a file lock in its git folder), shared by every
    worker process and thread of the node; CheckoutBusy after `wait` seconds.

    Nothing to hold for a folder that is not a git checkout: nothing is pulled there,
    and the index has its own builders' lock.
    """
    if top is None:
        yield
        return
    found = git(top, "rev-parse", "--absolute-git-dir")
    git_dir = Path(found.stdout.strip()) if found.returncode == 0 else top / ".git"
    def busy(holder: str) -> CheckoutBusy:
        return CheckoutBusy(f"another sync of the articles is running ({holder})"
                            + (f"; still after {wait:g} s" if wait else ""))

    with filelock.held(git_dir / LOCK_NAME, wait, busy, poll=0.05):
        yield
