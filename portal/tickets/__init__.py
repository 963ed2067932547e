"""Tier 2 tickets: filing behind the search gate, the conversation, the agent queue."""

from __future__ import annotations

from flask import Blueprint


def blueprint() -> Blueprint:
    """The tickets blueprint with both its customer and its agent pages attached."""
    from portal.tickets import queue, views  # noqa: F401  (queue adds its routes to views.bp)

    return views.bp
