"""Article pages built once for the readers who all see the same page.

Most article views come from signed-out readers with nothing of their own on the page:
no vote, no message, no form in progress. Their pages differ only in a few signed form
values, so the page is rendered once per article version and those values are filled in
per request.

Each feature that puts something reader-specific on the article page takes part:
- `vary(app, fn)`: `fn()` returns a part of the cache key (say, whether this visitor has
  searched), or SKIP when this request needs a page of its own.
- `fill(app, fn)`: `fn(html, article=..., history=...)` fills this request's values into
  the holes the feature left while the shared page was built (`building()` is True then).

The shared page is kept as the template's text around the article's own fragments
(which the content store caches already), so it costs little memory per article.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Flask, current_app, g, request, session
from flask_login import current_user
from markupsafe import Markup

SKIP = object()  # returned by a vary function: this request cannot share a page

_VARY = "portal.page_cache.vary"
_FILL = "portal.page_cache.fill"
_BUILDING = "portal_page_cache_building"
# Stand-ins for the article's fragments while the page around them is rendered. Text in
# a template is escaped, so no title or heading can produce them.
_MAIN = Markup("<portal-article-main/>")
_SIDE = Markup("<portal-article-side/>")


def vary(app: Flask, fn: Callable[[], Any]) -> None:
    app.extensions.setdefault(_VARY, []).append(fn)


def fill(app: Flask, fn: Callable[..., str]) -> None:
    app.extensions.setdefault(_FILL, []).append(fn)


def building() -> bool:
    """True while the shared page is rendered: leave holes instead of per-request values."""
    return bool(g.get(_BUILDING))


def shared_key() -> tuple | None:
    """What this request's page depends on, or None when it needs a page of its own."""
    if (not current_app.config["ARTICLE_PAGE_CACHE"] or current_user.is_authenticated
            or request.query_string or "_flashes" in session):
        return None
    parts = []
    for fn in current_app.extensions.get(_VARY, ()):
        part = fn()
        if part is SKIP:
            return None
        parts.append(part)
    return (request.path, *parts)


def article_page(store, key: tuple, main: Markup, side: Markup,
                 render: Callable[[Markup, Markup], str], **context: Any) -> str | None:
    """The shared page with this request's values, or None when it cannot be shared."""
    shell = store.fragment(("page", *key), lambda: _shell(render))
    if shell is None:
        return None
    fillers = current_app.extensions.get(_FILL, ())
    pieces = []
    for piece in shell:
        for fn in fillers:
            piece = fn(piece, **context)
        pieces.append(piece)
    before, between, after = pieces
    return "".join((before, main, between, side, after))


def _shell(render: Callable[[Markup, Markup], str]) -> tuple[str, str, str] | None:
    g.setdefault(_BUILDING, True)
    try:
        html = render(_MAIN, _SIDE)
    finally:
        g.pop(_BUILDING, None)
    if html.count(_MAIN) != 1 or html.count(_SIDE) != 1:
        return None
    csrf = g.get("csrf_token")  # Flask-WTF keeps this request's token here
    if csrf and csrf in html:
        return None  # something wrote this reader's token instead of leaving a hole
    before, rest = html.split(_MAIN)
    between, after = rest.split(_SIDE)
    return before, between, after
