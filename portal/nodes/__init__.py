"""Several web nodes behind a proxy, one database: every node serves the same articles commit.

A webhook reaches one node. That node pulls, re-indexes, reloads, and records the commit
in the database (revision.py). Every node (each worker process) polls that record every
SYNC_POLL_SECONDS (poller.py); a node whose checkout is behind fetches, fast-forwards to
the recorded commit, re-indexes what changed and reloads its content. A node never moves
backwards, and the workers of one node take turns through a file lock in the checkout's
git folder (checkout.py).
"""

from __future__ import annotations

import socket

from flask import Flask


def node_name(app: Flask) -> str:
    """How this node signs the commits it records: NODE_NAME, else the host name."""
    return str(app.config.get("NODE_NAME") or socket.gethostname())[:200]
