"""Reader feedback under every article, and the editors' article-health pages.

    POST /feedback/articles/<slug>   vote: Yes, or No with reasons and a comment
                                     (plain form post -> 303 to the article's #feedback;
                                     Accept: application/json -> JSON, for feedback.js)
    GET  /feedback/health            every rated article, worst first   (editors, admins)
    GET  /feedback/health.csv        the same ranking as CSV            (editors, admins)
    GET  /feedback/health/<slug>     one article: reasons, comments, versions
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from functools import wraps

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    jsonify,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_limiter.util import get_remote_address
from flask_login import current_user, login_required
from flask_wtf.csrf import generate_csrf
from markupsafe import Markup

from portal import unit_of_work
from portal.content import get_store
from portal.content.history import History
from portal.content.model import Article
from portal.extensions import limiter
from portal.feedback import health, ratings, service
from portal.feedback.forms import FeedbackForm
from portal.kb import page_cache
from portal.models import Role

log = logging.getLogger(__name__)

bp = Blueprint("feedback", __name__, url_prefix="/feedback")

VISITOR_COOKIE = "portal_visitor"
VISITOR_COOKIE_AGE = 365 * 24 * 3600
DRAFT_KEY = "portal_feedback_draft"
NOTICE_KEY = "portal_feedback_notice"
RATE_LIMITED = ("You have sent feedback many times in a short while. "
                "Please wait a minute and try again.")


# -- helpers -----------------------------------------------------------------

def _is_editor() -> bool:
    return current_user.is_authenticated and current_user.has_role(Role.EDITOR)


def _reasons() -> list[service.Reason]:
    return service.parse_reasons(current_app.config["FEEDBACK_REASONS"])


def _wants_json() -> bool:
    return request.accept_mimetypes.best == "application/json"


def _secret() -> str:
    return current_app.config["SECRET_KEY"]


def _cookie_visitor() -> str | None:
    return service.visitor_from_cookie(_secret(), request.cookies.get(VISITOR_COOKIE))


def _current_voter() -> str | None:
    if current_user.is_authenticated:
        return service.user_voter(current_user.id)
    return _cookie_visitor()


def _visible(slug: str) -> tuple[Article, History]:
    store = get_store()
    article = store.tree().by_slug.get(slug)
    if article is None or (article.draft and not _is_editor()):
        abort(404)
    return article, store.history(article)


def _ip_limit() -> str:
    return current_app.config["FEEDBACK_IP_LIMIT"]


def _visitor_limit() -> str:
    return current_app.config["FEEDBACK_VISITOR_LIMIT"]


def _visitor_limit_key() -> str:
    return "feedback-voter:" + (_current_voter() or "ip:" + get_remote_address())


def editor_required(view):
    """Editors and admins only; others get a 403, anonymous readers the sign-in page."""

    @wraps(view)
    @login_required
    def wrapped(*args, **kwargs):
        if not _is_editor():
            abort(403)
        return view(*args, **kwargs)

    return wrapped


# -- answering a vote --------------------------------------------------------

def _article_anchor(slug: str) -> str:
    return url_for("kb.article", slug=slug, _anchor="feedback")


def _answer(slug: str, message: str, vote: str | None) -> Response:
    if _wants_json():
        return jsonify(ok=True, message=message, vote=vote)
    session[NOTICE_KEY] = {"slug": slug, "text": message, "kind": "success"}
    return redirect(_article_anchor(slug), code=303)


def _refuse(slug: str, message: str, field_name: str | None, form: FeedbackForm,
            status: int = 422) -> Response:
    """Say what is wrong; without JavaScript, keep what the reader typed for the next page."""
    if _wants_json():
        return jsonify(ok=False, message=message, field=field_name), status
    limit = current_app.config["FEEDBACK_COMMENT_MAX"]
    session[DRAFT_KEY] = {
        "slug": slug,
        "comment": service.clean_comment(form.comment.data)[:limit],
        "reasons": [c for c in (form.reasons.data or []) if isinstance(c, str)][:20],
        "field": field_name,
    }
    session[NOTICE_KEY] = {"slug": slug, "text": message, "kind": "error"}
    return redirect(_article_anchor(slug), code=303)


@bp.errorhandler(429)
def rate_limited(error):
    slug = (request.view_args or {}).get("slug", "")
    if request.endpoint != "feedback.vote" or not slug:
        return error
    return _refuse(slug, RATE_LIMITED, None, FeedbackForm(), status=429)


@bp.post("/articles/<slug>")
@limiter.limit(_ip_limit)
@limiter.limit(_visitor_limit, key_func=_visitor_limit_key)
def vote(slug: str):
    article, _ = _visible(slug)
    form = FeedbackForm()
    helpful = form.helpful.data != "no"
    token = service.read_form_token(_secret(), form.started.data, article.slug)
    if service.is_suspected_bot(form.website.data, token,
                                current_app.config["FEEDBACK_MIN_SECONDS"]):
        # Same answer as a real vote, so a bot learns nothing; nothing is stored.
        log.info("feedback on %s looks automated; not stored", article.slug)
        return _answer(article.slug, service.thanks_for(helpful), "yes" if helpful else "no")
    if not form.validate():
        return _refuse(article.slug, form.first_error(), "helpful", form)
    assert token is not None  # checked by is_suspected_bot

    try:
        voter, new_visitor = service.voter_for(
            token, article.slug, visitor=_cookie_visitor(),
            account=service.user_voter(current_user.id) if current_user.is_authenticated
            else None)
        service.record_vote(
            version=service.ArticleVersion(article.slug, article.path, token.commit, token.sha),
            voter=voter,
            user_id=current_user.id if current_user.is_authenticated else None,
            helpful=form.is_yes,
            reasons=form.reasons.data or [],
            comment=form.comment.data,
            allowed=_reasons(),
            comment_max=current_app.config["FEEDBACK_COMMENT_MAX"],
        )
    except service.FeedbackRefused as exc:
        unit_of_work.discard()  # answered with a redirect without JavaScript
        if exc.status == 403:
            log.info("feedback on %s sent with a page shown to another visitor; not stored",
                     article.slug)
        return _refuse(article.slug, exc.message, exc.field, form, exc.status)
    unit_of_work.on_commit(ratings.vote_recorded)
    response = _answer(article.slug, service.thanks_for(form.is_yes),
                       "yes" if form.is_yes else "no")
    if new_visitor:
        response.set_cookie(VISITOR_COOKIE, service.visitor_cookie(_secret(), voter),
                            max_age=VISITOR_COOKIE_AGE, httponly=True, samesite="Lax",
                            secure=request.is_secure)
    return response


# -- what the article page shows ----------------------------------------------

@dataclass
class Widget:
    """Everything templates/feedback/_widget.html needs for one article."""

    slug: str
    action: str
    open_action: str
    token: str
    reasons: list[service.Reason]
    comment_max: int
    current: str | None = None  # "yes" / "no": this reader's vote
    open: bool = False  # show the reasons form without JavaScript
    checked: set[str] = field(default_factory=set)
    comment: str = ""
    notice: str = ""
    notice_kind: str = ""
    error_field: str | None = None
    rating: Markup = field(default_factory=Markup)  # "N of M found this helpful", or nothing


def widget(article: Article, history: History | None = None) -> Widget:
    history = history or get_store().history(article)
    version = service.ArticleVersion.of(article, history)
    state = Widget(
        slug=article.slug,
        action=url_for("feedback.vote", slug=article.slug),
        open_action=_article_anchor(article.slug),
        token=service.issue_form_token(_secret(), version, _current_voter()),
        reasons=_reasons(),
        comment_max=current_app.config["FEEDBACK_COMMENT_MAX"],
        open=request.args.get("feedback") == "no",
        rating=ratings.rating_html(article.slug),
    )
    existing = service.find_vote(article.slug, _current_voter())
    if existing is not None:
        state.current = "yes" if existing.helpful else "no"
        state.checked = set(existing.reason_codes)
        state.comment = existing.comment
    notice = session.pop(NOTICE_KEY, None) if NOTICE_KEY in session else None
    if isinstance(notice, dict) and notice.get("slug") == article.slug:
        state.notice, state.notice_kind = str(notice.get("text", "")), notice.get("kind", "")
    draft = session.pop(DRAFT_KEY, None) if DRAFT_KEY in session else None
    if isinstance(draft, dict) and draft.get("slug") == article.slug:
        state.open = True
        state.comment = str(draft.get("comment", ""))
        state.checked = set(draft.get("reasons") or [])
        state.error_field = draft.get("field")
    return state


def editor_summary(article: Article) -> dict | None:
    """The small feedback box for editors on the article page (None for everyone else)."""
    if not _is_editor():
        return None
    labels = service.reason_labels(_reasons())
    return {"health": health.summary(get_store().tree(), article, labels),
            "url": url_for("feedback.article_health", slug=article.slug)}


# The widget looks the same for every reader who has not voted on the article, but for
# two signed values and the rating (which changes with every vote); that common case is
# rendered once and those filled in.
_TOKEN_HOLE = "@@feedback-form-token@@"  # noqa: S105 - a placeholder, not a secret
_CSRF_HOLE = "@@feedback-csrf-token@@"
_RATING_HOLE = Markup("@@feedback-rating@@")
_WIDGET_CACHE = "portal.feedback.widget_html"


def _plain_reader() -> bool:
    """True when this request's widget is the common one: a reader who has not voted on
    anything, with no answer, error or open reasons form to show. Cheap checks only."""
    return (not current_user.is_authenticated
            and VISITOR_COOKIE not in request.cookies
            and NOTICE_KEY not in session and DRAFT_KEY not in session
            and request.args.get("feedback") != "no")


def widget_html(article: Article, history: History | None = None) -> Markup:
    """The rendered widget for this reader."""
    history = history or get_store().history(article)
    config = current_app.config
    cache = current_app.extensions.setdefault(_WIDGET_CACHE, {})
    key = (article.slug, request.script_root, request.host,
           tuple(config["FEEDBACK_REASONS"]), config["FEEDBACK_COMMENT_MAX"])
    html = cache.get(key) if _plain_reader() else None
    if html is None:
        state = widget(article, history)
        plain = (state.current is None and not state.open and not state.notice
                 and not state.comment and not state.checked and state.error_field is None)
        if not plain:
            return Markup(  # noqa: S704 - Jinja output, escaped when rendered
                render_template("feedback/_widget.html", fb=state, csrf=generate_csrf()))
        html = render_template("feedback/_widget.html", csrf=_CSRF_HOLE, fb=replace(
            state, token=_TOKEN_HOLE, rating=_RATING_HOLE))
        if len(cache) > 20_000:
            cache.clear()
        cache[key] = html
    if page_cache.building():  # the shared article page: filled in per request
        return Markup(html)  # noqa: S704 - Jinja output, escaped when rendered
    return Markup(fill_widget(html, article, history))  # noqa: S704 - as above


def fill_widget(html: str, article: Article | None = None, history: History | None = None,
                **_context) -> str:
    """This reader's signed values, and the rating as it is now, in the holes of a shared
    widget (or page)."""
    if _TOKEN_HOLE not in html or article is None:
        return html
    html = html.replace(_RATING_HOLE, ratings.rating_html(article.slug))
    history = history or get_store().history(article)
    token = service.issue_form_token(_secret(), service.ArticleVersion.of(article, history),
                                     _current_voter())  # None: a new visitor per page view
    # Both values are URL-safe signed strings: nothing in them needs escaping.
    return html.replace(_TOKEN_HOLE, token).replace(_CSRF_HOLE, generate_csrf())


@bp.record_once
def _share_article_pages(state) -> None:
    page_cache.vary(state.app, lambda: "plain" if _plain_reader() else page_cache.SKIP)
    page_cache.fill(state.app, fill_widget)


@bp.app_context_processor
def feedback_template_helpers():
    return {"feedback_widget": widget, "feedback_widget_html": widget_html,
            "feedback_summary": editor_summary}


# -- editors' pages ------------------------------------------------------------

@bp.get("/health")
@editor_required
def overview():
    tree = get_store().tree()
    labels = service.reason_labels(_reasons())
    rows = health.ranking(tree, labels, current_app.config["REPOSITORY_WEB_URL"])
    return render_template("feedback/health.html", rows=rows,
                           unrated=health.unrated_count(tree, rows))


@bp.get("/health.csv")
@editor_required
def overview_csv():
    tree = get_store().tree()
    reasons = _reasons()
    rows = health.ranking(tree, service.reason_labels(reasons),
                          current_app.config["REPOSITORY_WEB_URL"])
    body = health.to_csv(rows, [r.label for r in reasons])
    stamp = datetime.now(UTC).strftime("%Y-%m-%d")
    return Response(body, mimetype="text/csv", headers={
        "Content-Disposition": f'attachment; filename="article-health-{stamp}.csv"'})


@bp.get("/health/<slug>")
@editor_required
def article_health(slug: str):
    store = get_store()
    tree = store.tree()
    article = tree.by_slug.get(slug)
    current = None
    if article is not None:
        current = store.history(article).commit or article.sha
    found = health.detail(tree, slug, service.reason_labels(_reasons()),
                          current_app.config["REPOSITORY_WEB_URL"], current)
    if found is None:
        abort(404)
    if found.health.slug != slug:  # an old slug: show the article under its current one
        return redirect(url_for("feedback.article_health", slug=found.health.slug), code=301)
    return render_template("feedback/article.html", detail=found, article=article)
