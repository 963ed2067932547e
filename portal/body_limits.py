"""Each route's own limit on the size of a request body.

Flask applies MAX_CONTENT_LENGTH to every request, and the CSRF check reads the form
before any view (or blueprint hook) can raise it, so a route that takes attachments
must declare its limit where the request object can see it before anything reads the
body: `@body_limit(lambda config: ...)` under the route decorator.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Request, current_app

Limit = Callable[[dict[str, Any]], int]


def body_limit(limit: Limit):
    """Declare this view's largest request body, computed from the app's settings."""
    def decorate(view):
        view.body_limit = limit
        return view
    return decorate


def attachments_limit(config: dict[str, Any]) -> int:
    """A form with attachments: every file at its largest, plus 2 MB for the text."""
    return config["ATTACHMENT_MAX_BYTES"] * config["ATTACHMENT_MAX_FILES"] + 2 * 1024 * 1024


class LimitedRequest(Request):
    """The request's max_content_length is its route's declared limit, if any."""

    @property
    def max_content_length(self) -> int | None:
        if self._max_content_length is not None:
            return self._max_content_length
        if current_app and self.url_rule is not None:
            view = current_app.view_functions.get(self.url_rule.endpoint)
            limit = getattr(view, "body_limit", None)
            if limit is not None:
                return limit(current_app.config)
        return super().max_content_length

    @max_content_length.setter
    def max_content_length(self, value: int | None) -> None:
        self._max_content_length = value
