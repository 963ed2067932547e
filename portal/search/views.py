"""Search pages.

    /search?q=   results page
"""

from __future__ import annotations

from flask import Blueprint, g, render_template, request

from portal.content import get_store
from portal.search.fallback import scan_search
from portal.search.gate import mark_searched

bp = Blueprint("search", __name__)

MAX_QUERY_LENGTH = 500


@bp.get("/search")
def results():
    query = request.args.get("q", "", type=str)[:MAX_QUERY_LENGTH].strip()
    g.search_query = query
    mark_searched(query)
    articles = scan_search(get_store().tree().published(), query) if query else []
    return render_template("search/results.html", query=query, articles=articles)
