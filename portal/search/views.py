"""Search pages.

    /search?q=&category=&page=   results page (popular articles for an empty query)
"""

from __future__ import annotations

from flask import Blueprint, current_app, g, render_template, request

from portal.search.gate import mark_searched
from portal.search.service import get_service
from portal.search.tracking import category_choices, log_search, page_number

bp = Blueprint("search", __name__)


@bp.get("/search")
def results():
    service = get_service()
    category = request.args.get("category", "", type=str)[:300] or None
    result = service.search(request.args.get("q", "", type=str), category,
                            page_number(request.args.get("page")),
                            current_app.config["SEARCH_PER_PAGE"])
    g.search_query = result.query.text
    mark_searched(result.query.text)
    # Over PORTAL_SEARCH_PAGE_LIMIT the results are still shown; the search is not recorded.
    search_id = log_search(service, result, "page", limit="SEARCH_PAGE_LIMIT")
    return render_template(
        "search/results.html",
        result=result,
        search_id=search_id,
        categories=category_choices(service.store.tree()),
        can_file_ticket="tickets.new" in current_app.view_functions,
    )
