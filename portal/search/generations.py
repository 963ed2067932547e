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

No `CURRENT` means no index yet. A `CURRENT` that is there but unusable (not
a plain readable file, not UTF-8, empty, not a generation's name, naming a
generation that is not there) means a damaged index: `current()` raises
IndexCorrupt, so search answers with the plain scan and rebuilds, and the
next `switch()` replaces it whatever it is.
"""

from __future__ import annotations

import logging
import os
import re
import secrets
import shutil
import stat
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from portal import filelock
from portal.search.engine import IndexBusy, IndexCorrupt

log = logging.getLogger(__name__)

POINTER = "CURRENT"
LOCK_FILE = ".build.lock"
PREFIX = "gen-"
KEEP_PREVIOUS = 1  # generations kept besides the live one, for readers still using them
STALE_SECONDS = 30.0  # an older generation is removed only after this long
MAX_POINTER_BYTES = 256  # a generation's name is ~35 bytes; more is damage, never read whole
GENERATION_NAME = re.compile(rf"{PREFIX}[A-Za-z0-9_-]{{1,100}}")


def read_pointer(pointer: Path) -> str:
    """The text of the pointer file; OSError or ValueError when it cannot be that.

    Opened without blocking (a named pipe in its place must not hang every search)
    and only if it is a plain file (a directory opens fine on Linux).
    """
    fd = os.open(pointer, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise OSError(f"{pointer.name} is not a plain file")
        data = os.read(fd, MAX_POINTER_BYTES + 1)
    finally:
        os.close(fd)
    if len(data) > MAX_POINTER_BYTES:
        raise ValueError(f"{pointer.name} is longer than {MAX_POINTER_BYTES} bytes")
    return data.decode("utf-8").strip()


class Generations:
    def __init__(self, root: Path):
        self.root = Path(root)

    # -- reading -----------------------------------------------------------
    def current(self) -> Path | None:
        """The live generation's directory, or None when none was built (no pointer).

        IndexCorrupt when the pointer is there but names no usable generation.
        """
        pointer = self.root / POINTER
        try:
            name = read_pointer(pointer)
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as exc:  # UnicodeDecodeError is a ValueError
            raise IndexCorrupt(f"search index pointer {pointer} is unreadable: {exc}") from None
        if not GENERATION_NAME.fullmatch(name):
            raise IndexCorrupt(f"search index pointer {pointer} names no generation: "
                               f"{name[:60]!r}")
        path = self.root / name
        if not path.is_dir():
            raise IndexCorrupt(f"search index pointer {pointer} names {name}, "
                               "which is not there")
        return path

    def current_or_none(self) -> Path | None:
        """current(), with a damaged pointer counted as no index."""
        try:
            return self.current()
        except IndexCorrupt:
            return None

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
        pointer = self.root / POINTER
        if pointer.is_dir() and not pointer.is_symlink():  # damage: a file cannot replace it
            log.warning("removing the directory %s found in place of the index pointer",
                        pointer)
            shutil.rmtree(pointer, ignore_errors=True)
        os.replace(tmp, pointer)
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
        others: list[Path] = []
        try:
            live = self.current()
        except IndexCorrupt:
            pass  # which one is live is unknown: remove none
        else:
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

        def busy(holder: str) -> IndexBusy:
            return IndexBusy(f"another index build is running ({holder}); it was still "
                             f"running after {wait:g} s")

        with filelock.held(self.root / LOCK_FILE, wait, busy, poll=0.1):
            yield
