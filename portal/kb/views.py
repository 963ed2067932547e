"""Reader pages: home, category, article, article images.

    /                          home
    /categories/<path:slug>    category
    /articles/<slug>           article (aliases redirect with 301)
    /media/<path:path>         images stored beside the articles
"""

from __future__ import annotations

from collections.abc import Callable

from flask import (
    Blueprint,
    abort,
    current_app,
    get_template_attribute,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_login import current_user
from markupsafe import Markup

from portal.content import get_store
from portal.kb import page_cache, service
from portal.models import Role
from portal.search import related
from portal.search.gate import mark_viewed
from portal.search.service import get_service as get_search_service

bp = Blueprint("kb", __name__)


def _can_see_drafts() -> bool:
    return current_user.is_authenticated and current_user.has_role(Role.EDITOR)


@bp.app_template_global()
def article_url(slug: str) -> str:
    """URL of an article; memoised because pages list many articles."""
    return _cached_url("kb.article", slug)


@bp.app_template_global()
def category_url(slug: str) -> str:
    return _cached_url("kb.category", slug)


def _cached_url(endpoint: str, slug: str) -> str:
    cache = current_app.extensions.setdefault("portal.url_cache", {})
    key = (request.script_root, request.host, endpoint, slug)
    url = cache.get(key)
    if url is None:
        if len(cache) > 50_000:
            cache.clear()
        url = cache[key] = url_for(endpoint, slug=slug)
    return url


def _shared(name: str, render: Callable[[], str], *version: object) -> str:
    """A listing page: shared by the readers who see the same one, else rendered.
    `version`: whatever else the page shows that changes without the content changing."""
    store = get_store()
    store.tree()  # reload first if the folder changed: the generation names the version
    return page_cache.respond(store, (name, store.generation, *version), render)


@bp.get("/")
def home():
    store = get_store()
    # Only when readers' reads are known: else it would repeat "Recently updated".
    popular = get_search_service().most_read(store.tree())

    def render() -> str:
        tree = store.tree()
        return render_template(
            "kb/home.html",
            categories=service.category_entries(tree, None, _can_see_drafts()),
            recent=service.recent(store),
            popular=popular,
            total=len(tree.published()),
        )

    return _shared("home", render, tuple(a.slug for a in popular))


@bp.get("/categories/<path:slug>")
def category(slug: str):
    tree = get_store().tree()
    found = service.category_by_slug(tree, slug)
    if found is None:
        abort(404)

    def render() -> str:
        drafts = _can_see_drafts()
        return render_template(
            "kb/category.html",
            category=found,
            crumbs=service.breadcrumbs(tree, found.path)[:-1],
            subcategories=service.category_entries(tree, found.path, drafts),
            articles=service.articles_in(tree, found, drafts),
        )

    return _shared("category", render)


@bp.get("/articles/<slug>")
def article(slug: str):
    store = get_store()
    tree = store.tree()
    found = tree.by_slug.get(slug)
    if found is None:
        target = tree.aliases.get(slug)
        if target is not None and (not tree.by_slug[target].draft or _can_see_drafts()):
            return redirect(url_for("kb.article", slug=target), code=301)
        abort(404)
    if found.draft and not _can_see_drafts():
        abort(404)
    mark_viewed(found.slug)
    rendered = store.render(
        found,
        article_url=article_url,
        media_url=lambda p: url_for("kb.media", path=p),
    )
    history = store.history(found)
    # The sidebar's related articles come from the search index: its version is part of
    # what the page is.
    key = ("article", found.path, found.sha, history.commit, history.modified_at,
           related.index_version(), request.host, request.script_root)

    def parts() -> tuple[Markup, Markup]:
        main = get_template_attribute("kb/_article_parts.html", "main")
        side = get_template_attribute("kb/_article_parts.html", "side")
        return (main(found, rendered, history, service.breadcrumbs(tree, found.category)),
                side(rendered, related.related_articles(tree, found)))

    article_main, article_side = store.fragment(key, parts)

    def page(main: Markup, side: Markup) -> str:
        return render_template("kb/article.html", article=found, rendered=rendered,
                               history=history, article_main=main, article_side=side)

    return page_cache.respond(store, key, page, (article_main, article_side),
                              article=found, history=history)


@bp.get("/media/<path:path>")
def media(path: str):
    file = get_store().media_path(path)
    if file is None:
        abort(404)
    response = send_file(file, max_age=3600, conditional=True)
    # An SVG opened directly must not be able to run script in our origin.
    response.headers["Content-Security-Policy"] = (
        "default-src 'none'; style-src 'unsafe-inline'; sandbox")
    return response
