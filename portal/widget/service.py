"""What the widget's frame asks for: searches, articles, votes, status, the ticket hand-off.

The frame is a third-party iframe: no cookie reaches these calls. The widget visitor named
by the frame token stands in for the session's visitor: its searches are recorded (search
analytics, source "widget") and kept in the visit trail with its reads, as a browser
session's are (portal/search/gate.py), so that "Submit a Ticket" can hand them to the
ticket form.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from flask import current_app, url_for

from portal.accounts import links
from portal.accounts.service import find_user
from portal.contact.service import support_status
from portal.content import get_store
from portal.content.model import Article
from portal.extensions import db
from portal.feedback import service as feedback
from portal.models import Role, TokenPurpose, User
from portal.notices import clock
from portal.notices import service as notices
from portal.search import events, gate
from portal.search.event_limits import Reader
from portal.search.learning import client_ip_hash
from portal.search.service import get_service
from portal.tickets.deadlines import get_policy
from portal.widget import tokens

log = logging.getLogger(__name__)

SOURCE = "widget"
SUGGESTED = 5
REFUSED_IDENTITY = ("We could not confirm who you are, so you will be asked to sign in "
                    "before filing a ticket.")
SEARCH_FIRST = "Search the knowledge base first: the answer may already be there."


class WidgetError(ValueError):
    def __init__(self, message: str, status: int = 422):
        super().__init__(message)
        self.message, self.status = message, status


def article_json(article: Article) -> dict:
    return {"slug": article.slug, "title": article.title,
            "summary": article.summary or article.excerpt[:200],
            "url": url_for("kb.article", slug=article.slug, _external=True)}


def home(context: str) -> dict:
    service = get_service()
    suggested = service.context_articles(context, SUGGESTED) if context else []
    popular = [a for a in service.popular_articles() if a not in suggested][:SUGGESTED]
    return {"context": context, "context_articles": [article_json(a) for a in suggested],
            "popular": [article_json(a) for a in popular], "status": status()}


def status() -> dict:
    now = clock.now()
    policy = get_policy()
    support = support_status(policy.business, now)
    shown = []
    try:
        for item in notices.banner(now):
            notice = item.notice
            shown.append({"kind": "maintenance" if notice.is_maintenance else "incident",
                          "title": notice.title, "when": item.when,
                          "text": (notice.description or "")[:500],
                          "url": url_for("notices.status", _external=True)})
    except Exception:  # the status strip must never cost the reader the widget
        log.exception("widget: could not read the notices")
        db.session.rollback()
    return {"open_now": support.is_open, "text": support.text,
            "hours": policy.business.describe_hours(), "notices": shown}


def suggest(prefix: str) -> dict:
    found = get_service().suggest(prefix[:200])
    return {"articles": [article_json(a) for a in found.articles], "queries": found.queries}


def search(frame: tokens.Frame, text: str, context: str, page: int = 1) -> dict:
    service = get_service()
    result = service.search(text[:500], None, page, 8, context=context or None)
    if not result.query.is_empty:
        _record_search(frame, result)
    return {
        "query": result.query.text, "corrected": result.corrected, "fuzzy": result.fuzzy,
        "total": result.total, "page": result.page, "pages": result.pages,
        "results": [dict(article_json(item.article), category=item.category.title
                         if item.category else "", snippet_html=str(item.snippet))
                    for item in result.items],
        "popular": [article_json(a) for a in result.popular],
        "searched": not result.query.is_empty}


def _record_search(frame: tokens.Frame, result) -> None:
    """As the search page does (portal/search/tracking.py), under the widget's visitor."""
    try:
        events.record_search(
            query=result.query.text, normalized=result.query.normalized,
            corrected=result.corrected or "", category="", result_count=result.total,
            page=result.page, source=SOURCE, visitor=frame.visitor, user_id=None,
            reader=Reader(f"widget:{frame.visitor}", f"network:{client_ip_hash() or '-'}"))
        gate.remember_for(frame.visitor, gate.SEARCH, result.query.text)
    except Exception:
        log.exception("widget: could not record a search")
        db.session.rollback()


def article(frame: tokens.Frame, slug: str) -> dict:
    found = _published(slug)
    store = get_store()
    rendered = store.render(
        found, article_url=lambda s: url_for("kb.article", slug=s, _external=True),
        media_url=lambda p: url_for("kb.media", path=p, _external=True))
    history = store.history(found)
    if gate.recall_for(frame.visitor, gate.SEARCH):  # reads count once a visitor searched
        gate.remember_for(frame.visitor, gate.ARTICLE, found.slug)
    reasons = feedback.parse_reasons(current_app.config["FEEDBACK_REASONS"])
    existing = feedback.find_vote(found.slug, _voter(frame))
    return dict(article_json(found), html=rendered.html,  # sanitised by the renderer (nh3)
                updated=history.modified_at.isoformat() if history.modified_at else None,
                feedback={"question": "Was this article helpful?",
                          "reasons": [{"value": r.code, "label": r.label} for r in reasons],
                          "current": None if existing is None
                          else ("yes" if existing.helpful else "no"),
                          "comment_max": current_app.config["FEEDBACK_COMMENT_MAX"]})


def vote(frame: tokens.Frame, slug: str, helpful: object, reasons: object,
         comment: object) -> dict:
    found = _published(slug)
    if helpful not in ("yes", "no"):
        raise WidgetError("Choose Yes or No.")
    picked = [r for r in reasons if isinstance(r, str)][:20] if isinstance(reasons, list) else []
    history = get_store().history(found)
    try:
        feedback.record_vote(
            version=feedback.ArticleVersion.of(found, history), voter=_voter(frame),
            user_id=None, helpful=helpful == "yes", reasons=picked,
            comment=comment if isinstance(comment, str) else "",
            allowed=feedback.parse_reasons(current_app.config["FEEDBACK_REASONS"]),
            comment_max=current_app.config["FEEDBACK_COMMENT_MAX"])
    except feedback.FeedbackRefused as exc:
        raise WidgetError(exc.message, 422) from exc
    return {"ok": True, "message": feedback.thanks_for(helpful == "yes")}


def _voter(frame: tokens.Frame) -> str:
    return f"visitor:{frame.visitor}"


def _published(slug: str) -> Article:
    found = get_store().tree().by_slug.get(slug)
    if found is None or found.draft:
        raise WidgetError("That article is not in the knowledge base.", 404)
    return found


# -- who is filing: the host's signed user ----------------------------------------------------

@dataclass(frozen=True)
class Identity:
    user: User
    said_organisation: str


def audience() -> str:
    """What a host's user token must name in `aud`: PORTAL_WIDGET_AUDIENCE, else this
    portal's address (PORTAL_SITE_URL, else the host the request came to)."""
    config = current_app.config
    chosen = config["WIDGET_AUDIENCE"] or config["SITE_URL"]
    return (chosen or url_for("kb.home", _external=True)).rstrip("/")


def identify(user_token: object) -> Identity:
    """The customer account the host's token names; created (confirmed, without a password,
    attached by its domain as on any confirmation) the first time. Staff and deactivated
    accounts are never signed in this way. WidgetError(403) otherwise."""
    config = current_app.config
    try:
        host_user = tokens.read_user_token(config["WIDGET_SECRET"], audience(),
                                           user_token if isinstance(user_token, str) else None)
    except tokens.TokenRefused as exc:
        log.warning("widget: user token refused: %s", exc)
        raise WidgetError(REFUSED_IDENTITY, 403) from exc
    user = find_user(host_user.email)
    if user is None:
        user = _new_customer(host_user)
    if user.role != Role.CUSTOMER or not user.active:
        log.warning("widget: user token for %s refused: not an active customer account",
                    host_user.email)
        raise WidgetError(REFUSED_IDENTITY, 403)
    return Identity(user, host_user.organisation)


def _new_customer(host_user: tokens.HostUser) -> User:
    from portal.admin.domains import join_by_domain
    from portal.models.accounts import utcnow

    user = User(email=host_user.email, name=host_user.name or host_user.email.split("@")[0],
                password_hash="", role=Role.CUSTOMER, email_verified_at=utcnow())
    db.session.add(user)
    db.session.flush()
    join_by_domain(user)
    log.info("widget: created the customer account %s from the host's user token",
             host_user.email)
    return user


def identity_json(identity: Identity) -> dict:
    user = identity.user
    return {"email": user.email, "name": user.name,
            "organisation": user.organisation.name if user.organisation else "",
            "can_file": user.organisation is not None
            and not user.organisation.support_suspended}


# -- "Submit a Ticket" ------------------------------------------------------------------------

def handoff(frame: tokens.Frame, user_token: object = None) -> str:
    """The ticket form's address with a hand-off token, once this widget visitor searched."""
    if not gate.recall_for(frame.visitor, gate.SEARCH):
        raise WidgetError(SEARCH_FIRST, 409)
    sign_in = None
    if user_token:
        identity = identify(user_token)
        sign_in = links.issue(identity.user, TokenPurpose.WIDGET)
    token = tokens.handoff_token(current_app.config["SECRET_KEY"], frame.visitor, sign_in)
    return url_for("tickets.new", widget=token, _external=True)


def take_over(token: str) -> tuple[bool, User | None]:
    """On the portal, in the visitor's own browser: adopt the widget's searches and reads
    (True when there were any), and the account to sign in when the link carries one."""
    try:
        handed = tokens.read_handoff_token(current_app.config["SECRET_KEY"], token)
    except tokens.TokenRefused as exc:
        log.info("widget: hand-off refused: %s", exc)
        return False, None
    adopted = gate.adopt(handed.visitor)
    user = None
    if handed.sign_in:
        try:
            user = links.redeem(handed.sign_in, (TokenPurpose.WIDGET,))
        except links.LinkError as exc:
            log.info("widget: sign-in from the widget refused: %s", exc)
    return adopted, user
