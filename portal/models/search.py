"""Search analytics: every search run and every result a reader opened."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import BigInteger, DateTime, ForeignKey, Integer, String, UniqueConstraint, func
from sqlalchemy.orm import Mapped, mapped_column

from portal.extensions import db
from portal.models.tickets import UTCDateTime

# SQLite only auto-increments an INTEGER PRIMARY KEY; elsewhere these tables grow big.
EventId = BigInteger().with_variant(Integer(), "sqlite")


def utcnow() -> datetime:
    return datetime.now(UTC)


class SearchEvent(db.Model):
    """One search: what was typed, what it found. One row per results page served."""

    __tablename__ = "search_event"

    id: Mapped[int] = mapped_column(EventId, primary_key=True)
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, server_default=func.now(), index=True)
    query: Mapped[str] = mapped_column(String(500))
    normalized: Mapped[str] = mapped_column(String(500), index=True)
    corrected: Mapped[str] = mapped_column(String(500), default="")
    category: Mapped[str] = mapped_column(String(300), default="")
    result_count: Mapped[int] = mapped_column(Integer, default=0)
    page: Mapped[int] = mapped_column(Integer, default=1)
    source: Mapped[str] = mapped_column(String(10), default="page")  # "page" or "api"
    visitor: Mapped[str] = mapped_column(String(64), index=True)
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL"), index=True)
    # One row per reader, search and PORTAL_EVENT_DEDUPE_MINUTES (portal/search/event_limits.py):
    # a keyed hash of who and what, and the time bucket; unique together, so parallel
    # repeats cannot both be stored. NULL on rows recorded before.
    dedupe_key: Mapped[str | None] = mapped_column(String(32))
    dedupe_bucket: Mapped[int | None] = mapped_column(Integer)

    __table_args__ = (UniqueConstraint("dedupe_key", "dedupe_bucket"),)


class SearchClick(db.Model):
    """A reader opened a result of a search."""

    __tablename__ = "search_click"

    id: Mapped[int] = mapped_column(EventId, primary_key=True)
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, server_default=func.now(), index=True)
    search_id: Mapped[int] = mapped_column(
        ForeignKey("search_event.id", ondelete="CASCADE"), index=True)
    slug: Mapped[str] = mapped_column(String(200), index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)  # 1-based rank on the results
    visitor: Mapped[str] = mapped_column(String(64))
    # HMAC of the reader's network (SECRET_KEY, truncated): lets search learning count many
    # visitor ids from one address as one reader without storing the address.
    ip_hash: Mapped[str | None] = mapped_column(String(16))


class SearchLearningReset(db.Model):
    """An editor's reset of what search learned from readers: clicks up to `reset_at` no
    longer count for this query (normalized; "" = every query) and article ("" = every one)."""

    __tablename__ = "search_learning_reset"

    id: Mapped[int] = mapped_column(primary_key=True)
    normalized: Mapped[str] = mapped_column(String(500), default="")
    slug: Mapped[str] = mapped_column(String(200), default="")
    reset_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL"))
