"""An exclusive lock on a file, shared by every process and thread on the machine, that
names who holds it (the index builders' lock, a checkout's sync lock)."""

from __future__ import annotations

import fcntl
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path


@contextmanager
def held(path: Path, wait: float, busy: Callable[[str], Exception],
         poll: float = 0.05) -> Iterator[None]:
    """Hold the lock at `path`; after `wait` seconds raise busy(holder), where holder
    says which process has it ("pid 123 since 10:04:05 UTC")."""
    handle = open(path, "a+")  # noqa: SIM115 - closed below
    try:
        deadline = time.monotonic() + max(wait, 0.0)
        while True:
            try:
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    handle.seek(0)
                    raise busy(handle.read().strip() or "another process") from None
                time.sleep(poll)
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
