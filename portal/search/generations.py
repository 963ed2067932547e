"""Index generations on disk: a `CURRENT` pointer switched atomically, a builders' lock.

    INDEX_DIR/
      CURRENT            name of the live generation, replaced with os.replace()
      .build.lock        held (flock) by whoever builds or updates
      gen-<time>-<id>/   one complete index each; readers never see a half-built one

A build writes a new generation and then replaces `CURRENT`; an update
hard-links the live generation's files into a new one (Whoosh never changes a
written file) and commits there. Readers compare the directory `CURRENT`
names with the one they have open, never Whoosh's generation number (a
fresh build restarts it).
"""

from __future__ import annotations

import fcntl
import logging
import os
import secrets
import shutil
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from portal.search.engine import IndexBusy

log = logging.getLogger(__name__)

POINTER = "CURRENT"
LOCK_FILE = ".build.lock"
PREFIX = "gen-"
KEEP_PREVIOUS = 1  # generations kept besides the live one, for readers still using them
STALE_SECONDS = 30.0  # an older generation is removed only after this long


class Generations:
    def __init__(self, root: Path):
        self.root = Path(root)

    # -- reading -----------------------------------------------------------
    def current(self) -> Path | None:
        """The live generation's directory, or None when there is none."""
        try:
            name = (self.root / POINTER).read_text(encoding="utf-8").strip()
        except (FileNotFoundError, NotADirectoryError):
            return None
        if not name.startswith(PREFIX) or "/" in name or name in {".", ".."}:
            return None
        return self.root / name

    # -- writing (hold the lock) -------------------------------------------
    def new_directory(self) -> Path:
        self.root.mkdir(parents=True, exist_ok=True)
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f")
        path = self.root / f"{PREFIX}{stamp}-{secrets.token_hex(3)}"
        path.mkdir()
        return path

    def clone(self, source: Path) -> Path:
        """A new generation sharing the source's files through hard links."""
        target = self.new_directory()
        for entry in os.scandir(source):
            if not entry.is_file() or entry.name.endswith("LOCK"):
                continue
            try:
                os.link(entry.path, target / entry.name)
            except OSError:  # file systems without hard links
                shutil.copy2(entry.path, target / entry.name)
        return target

    def switch(self, generation: Path) -> None:
        """Point readers at `generation` in one atomic rename."""
        tmp = self.root / f".{POINTER}.{os.getpid()}.{secrets.token_hex(3)}"
        tmp.write_text(generation.name + "\n", encoding="utf-8")
        with open(tmp, "rb") as handle:
            os.fsync(handle.fileno())
        os.replace(tmp, self.root / POINTER)
        try:  # make the rename durable before old generations go
            fd = os.open(self.root, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
        except OSError:
            pass

    def cleanup(self) -> list[Path]:
        """Remove generations other than the live one and the newest previous ones."""
        live = self.current()
        others = sorted(
            (p for p in self.root.glob(f"{PREFIX}*") if p.is_dir() and p != live),
            key=lambda p: p.name, reverse=True)
        removed = []
        now = time.time()
        for index, path in enumerate(others):
            if index < KEEP_PREVIOUS:
                continue
            try:
                if now - path.stat().st_mtime < STALE_SECONDS:
                    continue  # a reader may have resolved it an instant ago
            except OSError:
                continue
            shutil.rmtree(path, ignore_errors=True)
            removed.append(path)
        for tmp in self.root.glob(f".{POINTER}.*"):
            try:
                if now - tmp.stat().st_mtime > STALE_SECONDS:
                    tmp.unlink()
            except OSError:
                pass
        return removed

    def discard(self, generation: Path) -> None:
        shutil.rmtree(generation, ignore_errors=True)

    @contextmanager
    def lock(self, wait: float = 0.0) -> Iterator[None]:
        """Hold the builders' lock; IndexBusy if another process keeps it past `wait`."""
        self.root.mkdir(parents=True, exist_ok=True)
        handle = open(self.root / LOCK_FILE, "a+")  # noqa: SIM115 - closed below
        try:
            deadline = time.monotonic() + max(wait, 0.0)
            while True:
                try:
                    fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() >= deadline:
                        handle.seek(0)
                        holder = handle.read().strip() or "another process"
                        raise IndexBusy(
                            f"another index build is running ({holder}); it was still "
                            f"running after {wait:g} s") from None
                    time.sleep(0.1)
            handle.seek(0)
            handle.truncate()
            handle.write(f"pid {os.getpid()} since {datetime.now(UTC):%H:%M:%S} UTC")
            handle.flush()
            try:
                yield
            finally:
                handle.seek(0)
                handle.truncate()
                handle.flush()
                fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
        finally:
            handle.close()
