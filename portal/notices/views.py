"""Public notice pages and the banner.

    /status                          GET   current state, upcoming maintenance, history
    /status.json                     GET   the same, for scripts
    /status/feed.atom                GET   Atom feed of notices
    /status/maintenance.ics          GET   iCalendar feed of maintenance windows
    /notices/<id>/dismiss            POST  hide one notice's banner (until it changes)
Admin pages are in portal/notices/admin.py on the same blueprint.
"""

from __future__ import annotations

import logging

from flask import (
    Blueprint,
    Response,
    current_app,
    has_request_context,
    jsonify,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from sqlalchemy.exc import SQLAlchemyError

from portal.accounts.service import safe_next
from portal.extensions import db
from portal.kb import page_cache
from portal.notices import clock, feeds, quiet, rules, service
from portal.notices.forms import ActionForm

bp = Blueprint("notices", __name__)
log = logging.getLogger(__name__)


@bp.record_once
def _check_maintenance_policy(state) -> None:
    """An unknown PORTAL_MAINTENANCE_POLICY stops the app at start, not on the admin's form."""
    rules.check_policy_name(state.app.config.get("MAINTENANCE_POLICY"))

DISMISSED_KEY = "portal_dismissed_notices"
MAX_DISMISSED = 50
KNOWN_ISSUE_ENDPOINTS = {"tickets.new", "search.results"}


def dismissed() -> dict[str, str]:
    value = session.get(DISMISSED_KEY)
    return value if isinstance(value, dict) else {}


def _site_url() -> str:
    return (current_app.config.get("SITE_URL") or request.url_root).rstrip("/")


@bp.get("/status")
def status():
    now = clock.now()
    return render_template("notices/status.html", overview=service.overview(now),
                           off_hours=service.maintenance_policy().describe(), now=now,
                           business_zone=current_app.config["BUSINESS_TIMEZONE"])


@bp.get("/status.json")
def status_json():
    now = clock.now()
    overview = service.overview(now)

    def item(shown: service.Shown) -> dict:
        notice = shown.notice
        return {
            "id": notice.id, "kind": notice.kind.value, "title": notice.title,
            "description": notice.description, "phase": shown.phase, "when": shown.when,
            "starts_at": notice.starts_at.isoformat(),
            "ends_at": notice.ends_at.isoformat() if notice.ends_at else None,
            "updated_at": notice.updated_at.isoformat(),
            "updates": [{"at": u.created_at.isoformat(), "body": u.body}
                        for u in notice.updates],
        }

    return jsonify(state=overview.state, now=now.isoformat(),
                   ongoing=[item(s) for s in overview.ongoing],
                   upcoming=[item(s) for s in overview.upcoming],
                   history=[item(s) for s in overview.history])


@bp.get("/status/feed.atom")
def atom_feed():
    now = clock.now()
    name = current_app.config["PRODUCT_NAME"]
    body = feeds.atom(service.overview(now), title=f"{name} service status",
                      author=f"{name} Support", site_url=_site_url(),
                      feed_url=_site_url() + url_for(".atom_feed"),
                      status_url=_site_url() + url_for(".status"), now=now)
    response = Response(body, mimetype="application/atom+xml")
    response.headers["Cache-Control"] = "public, max-age=60"
    return response


@bp.get("/status/maintenance.ics")
def maintenance_calendar():
    now = clock.now()
    name = current_app.config["PRODUCT_NAME"]
    body = feeds.maintenance_ics(service.overview(now), name=f"{name} maintenance windows",
                                 site_url=_site_url(),
                                 status_url=_site_url() + url_for(".status"), now=now)
    response = Response(body, mimetype="text/calendar")
    response.headers["Content-Disposition"] = 'inline; filename="maintenance.ics"'
    response.headers["Cache-Control"] = "public, max-age=300"
    return response


@bp.post("/notices/<int:notice_id>/dismiss")
def dismiss(notice_id: int):
    form = ActionForm()
    back = safe_next(form.next.data or request.referrer and _path_of(request.referrer))
    back = back or url_for("kb.home")
    notice = service.get(notice_id)
    if form.validate_on_submit() and notice is not None:
        key = service.shown(notice, clock.now()).key
        remembered = dismissed()
        remembered[str(notice_id)] = key
        while len(remembered) > MAX_DISMISSED:  # oldest ids first: they have long ended
            remembered.pop(min(remembered, key=int))
        session[DISMISSED_KEY] = remembered
    return redirect(back, code=303)


def _path_of(url: str) -> str | None:
    root = request.host_url
    return "/" + url[len(root):] if url.startswith(root) else None


@bp.record_once
def _share_article_pages(state) -> None:
    # Article pages are shared only while nothing can be on the banner.
    page_cache.vary(state.app, lambda: "quiet" if quiet.is_quiet(clock.now()) else page_cache.SKIP)


@bp.app_context_processor
def banner_context():
    """`service_notices()` for the banner in base.html: called only when a page renders
    it, and never allowed to break a page (the database may be the thing that is down)."""

    def service_notices() -> list[service.Shown]:
        try:
            return service.banner(clock.now(), dismissed())
        except SQLAlchemyError:
            log.exception("could not read notices for the banner")
            db.session.rollback()
            return []

    if not has_request_context():  # e.g. a mail rendered by a command: no banner
        return {"service_notices": list, "notice_known_issue": False}
    return {"service_notices": service_notices,
            "notice_known_issue": request.endpoint in KNOWN_ISSUE_ENDPOINTS}
