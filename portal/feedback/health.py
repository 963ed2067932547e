"""Article health for editors: votes per article, ranked worst first by a Wilson bound."""

from __future__ import annotations

import csv
import io
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from urllib.parse import quote

from sqlalchemy import case, func, select

from portal.content.loader import ContentTree
from portal.content.model import Article
from portal.extensions import db
from portal.feedback.wilson import wilson_interval, wilson_lower_bound
from portal.models.feedback import FeedbackReason, FeedbackVote

RECENT_COMMENTS = 3


@dataclass
class Comment:
    text: str
    helpful: bool
    reasons: list[str]  # labels
    at: datetime
    signed_in: bool = False
    version: str = ""


@dataclass
class ArticleHealth:
    slug: str  # the current slug (votes under old slugs are merged in)
    title: str
    path: str
    exists: bool
    votes: int = 0
    helpful: int = 0
    reasons: Counter[str] = field(default_factory=Counter)  # label -> count
    comments: list[Comment] = field(default_factory=list)  # newest first
    last_vote_at: datetime | None = None
    edit_url: str | None = None

    @property
    def not_helpful(self) -> int:
        return self.votes - self.helpful

    @property
    def helpful_share(self) -> float:
        return self.helpful / self.votes if self.votes else 0.0

    @property
    def helpful_interval(self) -> tuple[float, float]:
        """95% Wilson interval of the helpful share."""
        return wilson_interval(self.helpful, self.votes)

    @property
    def problem_score(self) -> float:
        """The ranking key: the share of readers this article fails, at the least (95%).

        The lower bound of the Wilson interval for the "No" share: one or two
        "No" votes give a low bound, a steady stream of them a high one.
        """
        return wilson_lower_bound(self.not_helpful, self.votes)

    def top_reasons(self, limit: int | None = None) -> list[tuple[str, int]]:
        return self.reasons.most_common(limit)


def edit_url(base: str, path: str) -> str | None:
    """The repository web URL (ending in /) plus the file's path, or None when not set."""
    if not base:
        return None
    return base.rstrip("/") + "/" + quote(path)


def _aware(value: datetime | None) -> datetime | None:
    """SQLite hands back naive datetimes; every stored time is UTC."""
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


def _resolve(tree: ContentTree, slug: str) -> Article | None:
    article = tree.by_slug.get(slug)
    if article is None and slug in tree.aliases:
        article = tree.by_slug.get(tree.aliases[slug])
    return article


def _entry(rows: dict[str, ArticleHealth], tree: ContentTree, slug: str, path: str,
           repo_url: str) -> ArticleHealth:
    article = _resolve(tree, slug)
    key = article.slug if article else slug
    if key not in rows:
        if article is not None:
            rows[key] = ArticleHealth(article.slug, article.title, article.path, True,
                                      edit_url=edit_url(repo_url, article.path))
        else:
            rows[key] = ArticleHealth(slug, slug, path, False)
    return rows[key]


def _slugs_of(tree: ContentTree, slug: str) -> list[str]:
    article = _resolve(tree, slug)
    if article is None:
        return [slug]
    return [article.slug, *[a for a, target in tree.aliases.items() if target == article.slug]]


def collect(tree: ContentTree, labels: dict[str, str], repo_url: str = "",
            slugs: list[str] | None = None, comments: int = RECENT_COMMENTS
            ) -> dict[str, ArticleHealth]:
    """Aggregate the votes (of some slugs, or all) into one entry per current article."""
    def only(query):
        return query.where(FeedbackVote.article_slug.in_(slugs)) if slugs else query

    rows: dict[str, ArticleHealth] = {}

    counts = only(select(
        FeedbackVote.article_slug, func.max(FeedbackVote.article_path), func.count(),
        func.sum(case((FeedbackVote.helpful, 1), else_=0)), func.max(FeedbackVote.updated_at),
    ).group_by(FeedbackVote.article_slug))
    for slug, path, votes, helpful, last in db.session.execute(counts):
        entry = _entry(rows, tree, slug, path, repo_url)
        entry.votes += votes
        entry.helpful += int(helpful or 0)
        last = _aware(last)
        if last is not None and (entry.last_vote_at is None or last > entry.last_vote_at):
            entry.last_vote_at = last

    reasons = only(select(FeedbackVote.article_slug, FeedbackReason.code, func.count())
                   .join(FeedbackReason.vote).where(FeedbackVote.helpful.is_(False))
                   .group_by(FeedbackVote.article_slug, FeedbackReason.code))
    for slug, code, count in db.session.execute(reasons):
        _entry(rows, tree, slug, "", repo_url).reasons[labels.get(code, code)] += count

    newest = func.row_number().over(partition_by=FeedbackVote.article_slug,
                                    order_by=(FeedbackVote.updated_at.desc(),
                                              FeedbackVote.id.desc())).label("rank")
    ranked = only(select(FeedbackVote.id, newest).where(FeedbackVote.comment != "")).subquery()
    recent = db.session.scalars(
        select(FeedbackVote).join(ranked, ranked.c.id == FeedbackVote.id)
        .where(ranked.c.rank <= comments).order_by(FeedbackVote.updated_at.desc()))
    for vote in recent:
        entry = _entry(rows, tree, vote.article_slug, vote.article_path, repo_url)
        if len(entry.comments) < comments:
            entry.comments.append(Comment(
                vote.comment, vote.helpful, [labels.get(c, c) for c in vote.reason_codes],
                _aware(vote.updated_at), vote.user_id is not None, vote.version))
    return rows


def ranking(tree: ContentTree, labels: dict[str, str], repo_url: str = "") -> list[ArticleHealth]:
    """Every article with votes, worst first.

    The key is the Wilson lower bound of the "not helpful" share, so an article
    needs consistent "No" votes to reach the top; raw percentages would put a
    single "No" vote first. Ties: more "No" votes first, then the title.
    """
    rows = list(collect(tree, labels, repo_url).values())
    rows.sort(key=lambda r: (-r.problem_score, -r.not_helpful, r.helpful_share, r.title.lower()))
    return rows


def unrated_count(tree: ContentTree, rated: list[ArticleHealth]) -> int:
    seen = {r.slug for r in rated if r.exists}
    return sum(1 for a in tree.published() if a.slug not in seen)


@dataclass
class VersionStats:
    version: str
    commit: bool  # a git commit (else the file's sha256)
    votes: int
    helpful: int
    first_at: datetime
    last_at: datetime

    @property
    def helpful_share(self) -> float:
        return self.helpful / self.votes if self.votes else 0.0


@dataclass
class ArticleDetail:
    health: ArticleHealth
    versions: list[VersionStats]
    current_version: str | None


def detail(tree: ContentTree, slug: str, labels: dict[str, str], repo_url: str = "",
           current_version: str | None = None, comments: int = 200) -> ArticleDetail | None:
    """One article's feedback: totals, reasons, comments and a breakdown per version read."""
    slugs = _slugs_of(tree, slug)
    found = collect(tree, labels, repo_url, slugs, comments)
    if not found:
        article = _resolve(tree, slug)
        if article is None:
            return None
        health = ArticleHealth(article.slug, article.title, article.path, True,
                               edit_url=edit_url(repo_url, article.path))
        return ArticleDetail(health, [], current_version)
    health = next(iter(found.values()))
    version = func.coalesce(FeedbackVote.article_commit, FeedbackVote.article_sha)
    stats = db.session.execute(
        select(version, func.max(FeedbackVote.article_commit), func.count(),
               func.sum(case((FeedbackVote.helpful, 1), else_=0)),
               func.min(FeedbackVote.updated_at), func.max(FeedbackVote.updated_at))
        .where(FeedbackVote.article_slug.in_(slugs)).group_by(version)
        .order_by(func.max(FeedbackVote.updated_at).desc()))
    versions = [VersionStats(v, has_commit is not None, n, int(yes or 0), _aware(first),
                             _aware(last))
                for v, has_commit, n, yes, first, last in stats]
    return ArticleDetail(health, versions, current_version)


def summary(tree: ContentTree, article: Article, labels: dict[str, str]) -> ArticleHealth:
    """The small box editors see on the article page."""
    found = collect(tree, labels, "", _slugs_of(tree, article.slug), comments=1)
    return next(iter(found.values()), ArticleHealth(article.slug, article.title,
                                                     article.path, True))


CSV_COLUMNS = ["rank", "title", "slug", "path", "votes", "helpful", "not_helpful",
               "helpful_percent", "helpful_low_95", "helpful_high_95", "ranking_score",
               "last_vote_at", "edit_url"]


def _cell(value: object) -> object:
    """Keep spreadsheet programs from running text as a formula."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def to_csv(rows: list[ArticleHealth], reasons: list[str]) -> str:
    """The ranking as CSV: one line per article, a column per reason."""
    found = {label for row in rows for label in row.reasons}
    reasons = list(reasons) + sorted(found - set(reasons))
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS + [f"reason: {label}" for label in reasons])
    for rank, row in enumerate(rows, 1):
        low, high = row.helpful_interval
        writer.writerow([_cell(v) for v in [
            rank, row.title, row.slug, row.path, row.votes, row.helpful, row.not_helpful,
            round(100 * row.helpful_share, 1), round(low, 4), round(high, 4),
            round(row.problem_score, 4),
            row.last_vote_at.isoformat() if row.last_vote_at else "", row.edit_url or "",
        ]] + [row.reasons.get(label, 0) for label in reasons])
    return out.getvalue()
