"""The Contact page, and the support-hours status as a template global.

    /contact        GET   channels, business hours, severity table, open/closed now

Template global: `support_status()` -> SupportStatus (.is_open, .text); the partial
templates/contact/_status.html renders it.
"""

from __future__ import annotations

from flask import Blueprint, current_app, g, render_template

from portal.contact import service
from portal.notices import clock
from portal.search.gate import has_searched
from portal.tickets.deadlines import get_policy

bp = Blueprint("contact", __name__)

POLICY_ARTICLE = "technical-support-policy"


@bp.app_template_global("support_status")
def support_status() -> service.SupportStatus:
    """Open or closed right now, computed once per request on the deadline calendar."""
    cached = g.get("portal_support_status")
    if cached is None:
        cached = service.support_status(get_policy().business, clock.now())
        g.portal_support_status = cached
    return cached


@bp.get("/contact")
def page():
    config = current_app.config
    policy = get_policy()
    return render_template(
        "contact/page.html", status=support_status(),
        channels=service.channels(config), rows=service.severity_rows(policy, config),
        business_hours=policy.business.describe_hours(), gate_open=has_searched(),
        policy_slug=POLICY_ARTICLE)
