"""The current time for notices, support status, training and mail: one place to set it.

Tests (and demos) pass `CLOCK` in the app config: a callable returning an aware datetime.
"""

from __future__ import annotations

from datetime import UTC, datetime

from flask import current_app


def now() -> datetime:
    """The app's clock (app.config["CLOCK"]) or the real time, always aware, in UTC."""
    clock = current_app.config.get("CLOCK") if current_app else None
    value = clock() if callable(clock) else datetime.now(UTC)
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError("CLOCK must return a time-zone aware datetime")
    return value.astimezone(UTC)
