"""Feedback rules: the reason list, voter identity, bot traps and one vote per reader."""

from __future__ import annotations

import re
import secrets
import time
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import Table, delete, exists, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError

from portal.content.history import History
from portal.content.model import Article
from portal.content.slugs import slugify
from portal.extensions import db
from portal.models.accounts import utcnow
from portal.models.feedback import FeedbackReason, FeedbackVote

VISITOR_SALT = "portal.feedback.visitor"
FORM_SALT = "portal.feedback.form"
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")

YES_THANKS = "Thanks for letting us know. We are glad it helped!"
NO_THANKS = "Thank you, your feedback was sent. Our editors use it to improve this article."
NO_REASON = "Choose at least one reason, so that we know what to fix."
NOT_YOUR_PAGE = ("Your answer could not be matched to this page: it was shown to another "
                 "visitor, or your browser did not keep this site's cookie. Please reload the "
                 "page and answer again.")


class FeedbackRefused(Exception):
    """A submission the reader has to correct; the message says how."""

    def __init__(self, message: str, field: str | None = None, status: int = 422):
        super().__init__(message)
        self.message = message
        self.field = field
        self.status = status


@dataclass(frozen=True)
class Reason:
    code: str  # what is stored
    label: str  # what readers and editors see


def parse_reasons(entries: Iterable[str]) -> list[Reason]:
    """Reasons from settings: "code:Label" entries (a bare label gets a code made from it)."""
    found: dict[str, Reason] = {}
    for entry in entries:
        code, sep, label = entry.partition(":")
        if not sep:
            code, label = slugify(entry), entry
        code, label = code.strip()[:40], label.strip()
        if code and label and code not in found:
            found[code] = Reason(code, label)
    return list(found.values())


def reason_labels(reasons: Iterable[Reason]) -> dict[str, str]:
    return {r.code: r.label for r in reasons}


@dataclass(frozen=True)
class ArticleVersion:
    """Which file, at which version, a reader was shown."""

    slug: str
    path: str
    commit: str | None  # last git commit touching the file; None outside git
    sha: str  # sha256 of the file

    @classmethod
    def of(cls, article: Article, history: History) -> ArticleVersion:
        return cls(article.slug, article.path, history.commit, article.sha)


# -- who is voting -----------------------------------------------------------

def user_voter(user_id: int) -> str:
    return f"user:{user_id}"


def new_visitor() -> str:
    """A fresh anonymous identity (its voter key)."""
    return f"visitor:{secrets.token_urlsafe(16)}"


def visitor_cookie(secret: str, voter: str) -> str:
    """The signed cookie value that names this anonymous voter."""
    return URLSafeSerializer(secret, VISITOR_SALT).dumps(voter.removeprefix("visitor:"))


def visitor_from_cookie(secret: str, cookie: str | None) -> str | None:
    """The voter key in a signed visitor cookie, or None when absent or forged."""
    if not cookie or len(cookie) > 200:
        return None
    try:
        token = URLSafeSerializer(secret, VISITOR_SALT).loads(cookie)
    except BadSignature:
        return None
    return f"visitor:{token}" if isinstance(token, str) and 0 < len(token) <= 60 else None


# -- bot traps ---------------------------------------------------------------

@lru_cache(maxsize=4)
def _form_serializer(secret: str) -> URLSafeSerializer:
    return URLSafeSerializer(secret, FORM_SALT)


def issue_form_token(secret: str, version: ArticleVersion, voter: str | None = None,
                     now: float | None = None) -> str:
    """Signed note of when the page was served, which version of the article it showed,
    and to whom: `voter` (the reader's account or visitor cookie), or for a browser
    without either a new visitor, who becomes theirs with their first vote."""
    payload = {"a": version.slug, "c": version.commit, "s": version.sha,
               "t": round(time.time() if now is None else now, 3),
               "v": voter or new_visitor(), "n": voter is None}
    return _form_serializer(secret).dumps(payload)


@dataclass(frozen=True)
class FormToken:
    commit: str | None
    sha: str
    age: float  # seconds since the page was served
    voter: str | None = None  # who the page was shown to (None: a token from before that)
    new: bool = False  # a new visitor, named by the token until their first vote


def read_form_token(secret: str, token: str | None, slug: str,
                    now: float | None = None) -> FormToken | None:
    """The page-load note, or None when missing, forged or issued for another article."""
    if not token or len(token) > 500:
        return None
    try:
        data = _form_serializer(secret).loads(token)
    except BadSignature:
        return None
    if not isinstance(data, dict) or data.get("a") != slug:
        return None
    try:
        age = (time.time() if now is None else now) - float(data["t"])
        sha = str(data["s"])
        commit = data.get("c")
    except (KeyError, TypeError, ValueError):
        return None
    voter = data.get("v")
    return FormToken(commit if isinstance(commit, str) else None, sha, age,
                     voter if isinstance(voter, str) and len(voter) <= 80 else None,
                     data.get("n") is True)


def voter_for(token: FormToken, slug: str, *, account: str | None,
              visitor: str | None) -> tuple[str, bool]:
    """Who casts a vote sent with this page token: (voter key, whether the browser must
    be given the visitor cookie now). `account` is the signed-in reader's voter key,
    `visitor` the one in a valid visitor cookie.

    Signed-in readers vote as their account. Anonymous readers must be the visitor the
    page was shown to: the one in their cookie; or, for a page shown to a browser with
    no cookie, the new visitor in the token, until that visitor has voted (their cookie
    is set then, and it is needed from then on). So a copied token stands for one
    visitor, not one per browser that sends it. A new-visitor page sent with a valid
    cookie (tabs opened before the first answer) counts for that cookie's visitor.
    """
    if account is not None:
        return account, False
    if token.voter is not None:
        if visitor is not None and (visitor == token.voter or token.new):
            return visitor, False
        if visitor is None and token.new and find_vote(slug, token.voter) is None:
            return token.voter, True
    raise FeedbackRefused(NOT_YOUR_PAGE, status=403)


def is_suspected_bot(honeypot: str | None, token: FormToken | None, min_seconds: float) -> bool:
    """Filled the hidden field, sent no valid page token, or answered faster than a person."""
    return bool((honeypot or "").strip()) or token is None or token.age < min_seconds


# -- votes -------------------------------------------------------------------

def clean_comment(text: str | None) -> str:
    text = (text or "").replace("\r\n", "\n").replace("\r", "\n")
    return _CONTROL.sub("", text).strip()


def find_vote(slug: str, voter: str | None) -> FeedbackVote | None:
    if not voter:
        return None
    return db.session.scalars(
        select(FeedbackVote).where(FeedbackVote.article_slug == slug,
                                   FeedbackVote.voter == voter)).first()


def record_vote(
    *,
    version: ArticleVersion,
    voter: str,
    user_id: int | None,
    helpful: bool,
    reasons: Iterable[str] = (),
    comment: str | None = "",
    allowed: Iterable[Reason],
    comment_max: int,
) -> FeedbackVote:
    """Store the reader's answer, replacing an earlier one by the same voter.

    "No" needs at least one known reason; "Yes" clears reasons and comment.
    Two requests racing to create the same vote both end up on one row: the
    unique constraint refuses the second insert, which then updates instead.
    Their reasons are written so that neither trips over the other's (_set_reasons).
    """
    known = {r.code for r in allowed}
    codes = sorted({c for c in reasons if c in known}) if not helpful else []
    text = clean_comment(comment) if not helpful else ""
    if not helpful and not codes:
        raise FeedbackRefused(NO_REASON, "reasons")
    if len(text) > comment_max:
        raise FeedbackRefused(
            f"Your comment is {len(text)} characters long; please keep it under "
            f"{comment_max}.", "comment")

    vote = find_vote(version.slug, voter)
    if vote is None:
        vote = FeedbackVote(article_slug=version.slug, voter=voter, helpful=helpful,
                            article_path=version.path, article_commit=version.commit,
                            article_sha=version.sha, user_id=user_id, comment="")
        try:
            with db.session.begin_nested():
                db.session.add(vote)
        except IntegrityError:
            # Another request by the same voter inserted first: update that row.
            vote = find_vote(version.slug, voter)
            if vote is None:  # the constraint that failed was not ours
                raise

    vote.helpful = helpful
    vote.comment = text
    vote.user_id = user_id if user_id is not None else vote.user_id
    vote.article_path = version.path
    vote.article_commit = version.commit
    vote.article_sha = version.sha
    vote.updated_at = utcnow()
    # The vote's row first: on PostgreSQL its lock makes a racing twin wait here.
    db.session.flush()
    _set_reasons(vote, codes)
    return vote


def _set_reasons(vote: FeedbackVote, codes: list[str]) -> None:
    """Make the vote's reasons exactly `codes`.

    Not through the ORM's list: a request by the same voter may have added or removed
    reasons since this one read the vote (two tabs, a double click), so the reasons
    read earlier are no guide. Removing by what must stay and adding what is missing,
    ignoring rows that are already there, ends on `codes` whatever the other did.
    """
    table = FeedbackReason.__table__
    stale = delete(table).where(table.c.vote_id == vote.id)
    if codes:
        stale = stale.where(table.c.code.not_in(codes))
    db.session.execute(stale)
    if codes:
        _insert_missing(table, [{"vote_id": vote.id, "code": code} for code in codes])
    db.session.expire(vote, ["reasons"])


def _insert_missing(table: Table, rows: list[dict]) -> None:
    """INSERT the rows, leaving alone any that already exist (same primary key)."""
    dialect = db.session.connection().dialect.name
    if dialect in ("postgresql", "sqlite"):
        insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        db.session.execute(insert(table).values(rows).on_conflict_do_nothing())
        return
    for row in rows:  # other databases: one savepoint per row
        try:
            with db.session.begin_nested():
                db.session.execute(table.insert().values(row))
        except IntegrityError:
            key = [column == row[column.name] for column in table.primary_key.columns]
            if not db.session.scalar(select(exists().where(*key))):
                raise  # not a duplicate: some other constraint failed


def thanks_for(helpful: bool) -> str:
    return YES_THANKS if helpful else NO_THANKS
