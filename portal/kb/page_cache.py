"""Reader pages (home, category, article) built once for the readers who all see them alike.

Most views come from signed-out readers with nothing of their own on the page: no vote,
no message, no form in progress. Their pages differ only in a few signed form values,
so a page is rendered once per content version and those values are filled in per
request. Everyone else (signed in, voted, a message waiting, a notice on the banner, a
query string) gets a page rendered for them.

Each feature that puts something reader-specific on these pages takes part:
- `vary(app, fn)`: `fn()` returns a part of the cache key (say, whether this visitor has
  searched), or SKIP when this request needs a page of its own.
- `fill(app, fn)`: `fn(html, **context)` fills this request's values into the holes the
  feature left while the shared page was built (`building()` is True then).

An article page is kept as the template's text around the article's own fragments
(which the content store caches already), so it costs little memory per article.
Placeholders for those fragments are tags, which no escaped title or text can forge.
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


def vary(app: Flask, fn: Callable[[], Any]) -> None:
    app.extensions.setdefault(_VARY, []).append(fn)


def fill(app: Flask, fn: Callable[..., str]) -> None:
    app.extensions.setdefault(_FILL, []).append(fn)


def building() -> bool:
    """True while the shared page is rendered: leave holes instead of per-request values."""
    return bool(g.get(_BUILDING))


def shared_key() -> tuple | None:
    """What this request's page depends on, or None when it needs a page of its own."""
    if (not current_app.config["PAGE_CACHE"] or current_user.is_authenticated
            or "_user_id" in session  # signed in, but the account could not be loaded
            or request.query_string or "_flashes" in session):
        return None
    parts = []
    for fn in current_app.extensions.get(_VARY, ()):
        part = fn()
        if part is SKIP:
            return None
        parts.append(part)
    return (request.host, request.script_root, request.path, *parts)


def respond(store, key: tuple, render: Callable[..., str], fragments: tuple[Markup, ...] = (),
            **context: Any) -> str:
    """The page for this request: the shared one with this reader's values when it can be
    shared, else `render(*fragments)`.

    `key` names the page and the content version it shows (the store adds its own).
    `fragments` are parts of the page cached elsewhere; `render(*placeholders)` renders
    the page with a placeholder for each, and the shared page is kept as the text between."""
    shared = shared_key()
    if shared is None:
        return render(*fragments)
    shell = store.fragment(("page", *key, *shared), lambda: _shell(render, len(fragments)))
    if shell is None:
        return render(*fragments)
    fillers = current_app.extensions.get(_FILL, ())
    out = []
    for index, piece in enumerate(shell):
        for fn in fillers:
            piece = fn(piece, **context)
        out.append(piece)
        if index < len(fragments):
            out.append(fragments[index])
    return "".join(out)


def _shell(render: Callable[..., str], count: int) -> tuple[str, ...] | None:
    markers = [Markup("<portal-fragment-{}/>").format(n) for n in range(count)]
    g.setdefault(_BUILDING, True)
    try:
        html = render(*markers)
    finally:
        g.pop(_BUILDING, None)
    if any(html.count(marker) != 1 for marker in markers):
        return None
    csrf = g.get("csrf_token")  # Flask-WTF keeps this request's token here
    if csrf and csrf in html:
        return None  # something wrote this reader's token instead of leaving a hole
    pieces = []
    rest = html
    for marker in markers:
        before, rest = rest.split(marker)
        pieces.append(before)
    pieces.append(rest)
    return tuple(pieces)
