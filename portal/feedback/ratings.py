"""What readers see of other readers' votes: "N of M found this helpful".

Shown once M (the readers who answered, one vote each) reaches
PORTAL_FEEDBACK_SHOW_RATING_MIN; 0 shows it never. Every article's figures come from one
grouped query, kept by each worker for at most FRESH_SECONDS (so article pages, shared by
many readers, do not ask the database each time), and read again at once in the worker
that records a vote. The figure is filled into the article page per request
(portal/feedback/views.py), never kept in a cached page.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

from flask import Flask, current_app
from markupsafe import Markup
from sqlalchemy import case, func, select

from portal.extensions import db
from portal.models import FeedbackVote

FRESH_SECONDS = 60.0
_KEY = "portal.feedback.ratings"


@dataclass
class _Figures:
    at: float = -1.0
    votes: dict[str, tuple[int, int]] = field(default_factory=dict)  # slug -> (yes, all)


class Ratings:
    """One worker's copy of every article's vote counts."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._figures = _Figures()

    def counts(self, slug: str) -> tuple[int, int]:
        """(helpful, votes) for the article's slug."""
        figures = self._figures
        if figures.at < 0 or time.monotonic() - figures.at >= FRESH_SECONDS:
            with self._lock:
                if self._figures is figures:
                    self._figures = self._load(figures)
                figures = self._figures
        return figures.votes.get(slug, (0, 0))

    def forget(self) -> None:
        """Read the votes again on next use (this worker just recorded one)."""
        with self._lock:
            self._figures = _Figures()

    @staticmethod
    def _load(previous: _Figures) -> _Figures:
        now = time.monotonic()
        try:
            rows = db.session.execute(
                select(FeedbackVote.article_slug,
                       func.sum(case((FeedbackVote.helpful, 1), else_=0)), func.count())
                .group_by(FeedbackVote.article_slug)).all()
        except Exception:
            db.session.rollback()
            current_app.logger.exception("could not read article ratings")
            return _Figures(now, previous.votes)  # try again after the same interval
        return _Figures(now, {slug: (int(yes or 0), int(total)) for slug, yes, total in rows})


def _ratings(app: Flask) -> Ratings:
    found = app.extensions.get(_KEY)
    if found is None:
        found = app.extensions.setdefault(_KEY, Ratings())
    return found


def rating_html(slug: str) -> Markup:
    """The rating line for the article, or nothing below the minimum number of votes."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    minimum = int(app.config["FEEDBACK_SHOW_RATING_MIN"])
    if minimum <= 0:
        return Markup("")
    helpful, votes = _ratings(app).counts(slug)
    if votes < minimum:
        return Markup("")
    return Markup('<p class="feedback-rating muted">{} of {} found this helpful</p>').format(
        helpful, votes)


def vote_recorded() -> None:
    _ratings(current_app._get_current_object()).forget()  # type: ignore[attr-defined]
