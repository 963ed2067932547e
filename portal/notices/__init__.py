"""Service notices: maintenance windows and incidents, the banner, /status and its feeds."""

from __future__ import annotations

from flask import Blueprint


def blueprint() -> Blueprint:
    """The notices blueprint with its public and its admin pages attached."""
    from portal.notices import admin, views  # noqa: F401  (admin adds its routes to views.bp)

    return views.bp
