"""What search learned from readers, for editors, with a way to make it forget.

    GET  /search/learning             every learned boost, largest first   (editors, admins)
    POST /search/learning/reset       forget one query and article (form: query, slug)
    POST /search/learning/reset-all   forget everything learned
"""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user

from portal.content import get_store
from portal.feedback.views import editor_required
from portal.search import learning

bp = Blueprint("search_learning", __name__, url_prefix="/search/learning")


@bp.get("")
@editor_required
def overview():
    rows = learning.compute()
    boosted = [row for row in rows if row.boost > 0]
    return render_template(
        "search/learning.html", rows=boosted, tree=get_store().tree(),
        policy=learning.Policy.from_config(current_app.config),
        learning_only=sum(1 for row in rows if row.boost == 0 and row.readers),
        waiting=sum(row.waiting for row in rows))


@bp.post("/reset")
@editor_required
def reset_one():
    query = learning.query_key(request.form.get("query", "", type=str))
    slug = request.form.get("slug", "", type=str).strip()[:200]
    if not query or not slug:
        abort(400)
    cleared = learning.reset(query, slug, user_id=current_user.id)
    tree = get_store().tree()
    article = tree.by_slug.get(slug)
    title = article.title if article else slug
    if cleared:
        flash(f"Reset: “{query}” no longer favours {title}. Readers from now on count again.",
              "success")
    else:
        flash(f"Nothing was boosted for “{query}” and {title}; earlier clicks no longer count.",
              "info")
    return redirect(url_for(".overview"), code=303)


@bp.post("/reset-all")
@editor_required
def reset_all():
    cleared = learning.reset(user_id=current_user.id)
    flash(f"Reset everything search learned from readers ({len(cleared)} boosts). "
          "Readers from now on count again.", "success")
    return redirect(url_for(".overview"), code=303)
