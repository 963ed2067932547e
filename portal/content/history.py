"""Who created and last changed each article, read from git in one pass."""

from __future__ import annotations

import logging
import subprocess
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

log = logging.getLogger(__name__)

GIT_TIMEOUT = 60


@dataclass(frozen=True)
class History:
    created_by: str | None
    created_at: datetime
    modified_by: str | None
    modified_at: datetime
    commit: str | None = None  # last commit that touched the file


def _git(folder: Path, *args: str) -> str | None:
    try:
        done = subprocess.run(
            ["git", "-c", "safe.directory=*", "-c", "core.quotepath=off", *args],
            cwd=folder, capture_output=True, timeout=GIT_TIMEOUT, check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        log.warning("git %s failed in %s: %s", args[0], folder, exc)
        return None
    if done.returncode != 0:
        return None
    return done.stdout.decode("utf-8", "replace")


def head_commit(folder: Path) -> str | None:
    """The checked-out commit of the repository holding folder, or None outside git."""
    out = _git(folder, "rev-parse", "HEAD")
    return out.strip() if out else None


def read_history(folder: Path) -> dict[str, History]:
    """Map each file (relative to folder, '/' separated) to its first and last commit.

    One `git log` over the whole folder, oldest first; renames are followed by
    moving the record from the old path to the new one.
    """
    out = _git(folder, "log", "-z", "--reverse", "-M", "--name-status", "--relative",
               "--no-merges", "--format=%x1e%H%x1f%an%x1f%at", "--", ".")
    if out is None:
        return {}
    records: dict[str, History] = {}
    for chunk in out.split("\x1e"):
        if not chunk.strip("\x00\n"):
            continue
        header, _, changes = chunk.partition("\x00")
        try:
            commit, author, stamp = header.split("\x1f")
            when = datetime.fromtimestamp(int(stamp), UTC)
        except ValueError:
            continue
        tokens = changes.lstrip("\n").split("\x00")
        index = 0
        while index < len(tokens):
            status = tokens[index].strip()
            if not status:
                index += 1
                continue
            kind = status[0]
            if kind in "RC" and index + 2 < len(tokens):
                old, new = tokens[index + 1], tokens[index + 2]
                index += 3
                base = records.pop(old, None) if kind == "R" else records.get(old)
                if base is None:
                    records[new] = History(author, when, author, when, commit)
                else:
                    records[new] = History(base.created_by, base.created_at, author, when, commit)
                continue
            path = tokens[index + 1] if index + 1 < len(tokens) else ""
            index += 2
            if kind == "D":
                records.pop(path, None)
            elif kind == "A" or path not in records:
                records[path] = History(author, when, author, when, commit)
            else:
                first = records[path]
                records[path] = History(first.created_by, first.created_at, author, when, commit)
    return records


def file_history(path: Path) -> History:
    """The fallback outside git: the file's modification time, and no authors."""
    when = datetime.fromtimestamp(path.stat().st_mtime, UTC)
    return History(None, when, None, when, None)
