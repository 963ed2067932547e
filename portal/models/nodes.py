"""Several web nodes: the articles commit every node follows, recorded by the node that pulled."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from portal.extensions import db
from portal.models.types import UTCDateTime

# The table holds one row: the commit is replaced, never appended (portal/nodes/revision.py).
REVISION_ROW = 1


class ContentRevision(db.Model):
    """The articles commit published last: which one, when, and by which node.

    A node replaces it only with a descendant, and only if it still holds the commit
    the node read (compare-and-set), so of two nodes recording at once neither can move
    it backwards. Every node's poller moves its own checkout to this commit.
    """

    __tablename__ = "content_revision"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    commit_sha: Mapped[str] = mapped_column(String(64))  # full SHA-1 (40) or SHA-256 (64)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime())
    recorded_by: Mapped[str] = mapped_column(String(200))  # the node's name
