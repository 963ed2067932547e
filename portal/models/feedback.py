"""Article feedback: one vote per reader per article, with coded reasons and a comment."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, DateTime, ForeignKey, String, Text, UniqueConstraint, func
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.extensions import db
from portal.models.accounts import utcnow


class FeedbackVote(db.Model):
    """A reader's current answer to "Was this article helpful?".

    `voter` is "user:<id>" for signed-in readers and "visitor:<token>" for
    anonymous ones; the unique constraint makes a second vote impossible, so
    voting again updates this row. The article is identified by its slug (old
    slugs stay reachable as aliases); its path and the version read (git
    commit, and the file's sha256) are kept so editors can tie feedback to git.
    """

    __tablename__ = "feedback_vote"
    __table_args__ = (UniqueConstraint("article_slug", "voter"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    article_slug: Mapped[str] = mapped_column(String(200))
    article_path: Mapped[str] = mapped_column(String(500))
    article_commit: Mapped[str | None] = mapped_column(String(40))
    article_sha: Mapped[str] = mapped_column(String(64))
    voter: Mapped[str] = mapped_column(String(80))
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL"), index=True)
    helpful: Mapped[bool] = mapped_column(Boolean)
    comment: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, server_default=func.now(), index=True)

    reasons: Mapped[list[FeedbackReason]] = relationship(
        back_populates="vote", cascade="all, delete-orphan", lazy="selectin",
        order_by="FeedbackReason.code")

    @property
    def version(self) -> str:
        """The git commit the article was read at, or its file hash outside git."""
        return self.article_commit or self.article_sha

    @property
    def reason_codes(self) -> list[str]:
        return [r.code for r in self.reasons]


class FeedbackReason(db.Model):
    """One coded reason given with a "No" vote."""

    __tablename__ = "feedback_reason"

    vote_id: Mapped[int] = mapped_column(
        ForeignKey("feedback_vote.id", ondelete="CASCADE"), primary_key=True)
    code: Mapped[str] = mapped_column(String(40), primary_key=True)

    vote: Mapped[FeedbackVote] = relationship(back_populates="reasons")
