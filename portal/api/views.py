"""JSON endpoints.

    GET  /api/search?q=&category=&page=&per_page=   the results page as JSON
    GET  /api/suggest?q=                             type-ahead: titles and past searches
    POST /api/click?search=&slug=&position=          a result was opened (beacon; 204)
"""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify, request, url_for

from portal import unit_of_work
from portal.extensions import csrf, limiter
from portal.search import events
from portal.search.gate import mark_searched, visitor_id
from portal.search.service import SearchPage, get_service
from portal.search.tracking import log_search, page_number

bp = Blueprint("api", __name__, url_prefix="/api")

MAX_SLUG = 200


def _search_limit() -> str:
    return current_app.config["SEARCH_API_LIMIT"]


def _suggest_limit() -> str:
    return current_app.config["SEARCH_SUGGEST_LIMIT"]


def _click_limit() -> str:
    return current_app.config["SEARCH_CLICK_LIMIT"]


def _article_json(article, category=None, **extra) -> dict:
    data = {
        "slug": article.slug,
        "title": article.title,
        "url": url_for("kb.article", slug=article.slug, _external=True),
    }
    if category is not None:
        data["category"] = {"slug": category.slug, "title": category.title}
    data.update(extra)
    return data


def _page_json(result: SearchPage, search_id: int | None) -> dict:
    return {
        "query": result.query.text,
        "corrected_query": result.corrected,
        "fuzzy": result.fuzzy,
        "category": result.category.slug if result.category else None,
        "total": result.total,
        "page": result.page,
        "per_page": result.per_page,
        "pages": result.pages,
        "notice": result.notice,
        "search_id": search_id,
        "results": [
            _article_json(
                item.article, item.category,
                snippet=str(item.snippet),
                score=item.score,
                position=item.position,
                updated=item.updated.isoformat() if item.updated else None,
            )
            for item in result.items
        ],
        "popular": [_article_json(a) for a in result.popular],
    }


@bp.get("/search")
@limiter.limit(_search_limit)
def search():
    config = current_app.config
    per_page = page_number(request.args.get("per_page"), config["SEARCH_PER_PAGE"])
    service = get_service()
    result = service.search(
        request.args.get("q", "", type=str),
        request.args.get("category", "", type=str)[:300] or None,
        page_number(request.args.get("page")),
        min(per_page, config["SEARCH_MAX_PER_PAGE"]),
    )
    mark_searched(result.query.text)
    return jsonify(_page_json(result, log_search(service, result, "api")))


@bp.get("/suggest")
@limiter.limit(_suggest_limit)
def suggest():
    found = get_service().suggest(request.args.get("q", "", type=str)[:200])
    response = jsonify(
        query=request.args.get("q", "", type=str)[:200],
        articles=[_article_json(a) for a in found.articles],
        queries=found.queries,
    )
    response.headers["Cache-Control"] = "private, max-age=30"
    return response


@bp.post("/click")
@csrf.exempt
@limiter.limit(_click_limit)
def click():
    """Sent by navigator.sendBeacon (or <a ping>) when a result is opened; never fails loudly."""
    values = request.args if request.args else request.form
    search_id = page_number(values.get("search"), 0)
    slug = values.get("slug", "", type=str)[:MAX_SLUG]
    position = page_number(values.get("position"), 0)
    if search_id and slug and slug in get_service().store.tree().by_slug:
        with unit_of_work.best_effort("a search click"):
            events.record_click(search_id=search_id, slug=slug, position=position,
                                visitor=visitor_id())
    return "", 204
