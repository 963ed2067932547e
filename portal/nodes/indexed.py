"""Which articles commit this node's search index and content were last brought up to.

A small file beside the index generations (INDEX_DIR/ARTICLES_COMMIT), written once a
sync has re-indexed a commit. A checkout whose HEAD differs from it was moved without
being re-indexed (a worker stopped half-way, a pull by hand): the poller re-indexes it.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from portal.nodes.checkout import is_full_sha

MARKER = "ARTICLES_COMMIT"


def commit(index_dir: Path) -> str | None:
    try:
        found = (Path(index_dir) / MARKER).read_text(encoding="ascii").strip()
    except (OSError, ValueError):
        return None
    return found if is_full_sha(found) else None


def remember(index_dir: Path, sha: str | None) -> None:
    """Write the marker atomically (a reader sees the old or the new commit, never half)."""
    folder = Path(index_dir)
    folder.mkdir(parents=True, exist_ok=True)
    if sha is None:
        (folder / MARKER).unlink(missing_ok=True)
        return
    tmp = folder / f".{MARKER}.{os.getpid()}.{secrets.token_hex(3)}"
    tmp.write_text(sha + "\n", encoding="ascii")
    os.replace(tmp, folder / MARKER)
