"""Webhooks.

    POST /hooks/git   a push to the articles repository: pull, re-index, reload (JSON),
                      and record the commit, which every other web node then follows

A delivery is acted on once: a repeat within a day is answered 200 "already processed"
(portal/hooks/deliveries.py).
"""

from __future__ import annotations

import logging

from flask import Blueprint, current_app, jsonify, request

from portal.extensions import csrf, limiter
from portal.hooks import deliveries
from portal.hooks.service import WebhookRefused, is_ping, verify
from portal.search.engine import IndexBusy
from portal.search.service import get_service
from portal.search.sync import NotRecorded, SyncError, sync

log = logging.getLogger(__name__)

bp = Blueprint("hooks", __name__, url_prefix="/hooks")


def _webhook_limit() -> str:
    return current_app.config["WEBHOOK_LIMIT"]


@bp.post("/git")
@csrf.exempt
@limiter.limit(_webhook_limit)
def git():
    body = request.get_data(cache=False)
    try:
        source = verify(current_app.config["WEBHOOK_SECRET"], body, request.headers)
    except WebhookRefused as exc:
        log.warning("git webhook refused from %s: %s", request.remote_addr, exc)
        return jsonify(ok=False, error=str(exc)), 403
    if is_ping(source, request.headers):
        return jsonify(ok=True, source=source, message="pong")
    delivery = deliveries.identify(source, request.headers, body)
    if not deliveries.claim(delivery):
        log.info("git webhook: %s already processed; nothing done", delivery.label)
        return jsonify(ok=True, source=source, message="already processed")
    try:
        report = sync(get_service(), git_pull=current_app.config["SYNC_GIT_PULL"],
                      background_reload=current_app.config["CONTENT_RELOAD_SECONDS"] > 0)
    except NotRecorded as exc:  # published here only: a redelivery records it
        _release_quietly(delivery)
        return jsonify(ok=False, source=source, error=str(exc)), 503
    except SyncError as exc:
        log.error("git webhook: %s", exc)
        deliveries.release(delivery)
        return jsonify(ok=False, source=source, error=str(exc)), 502
    except IndexBusy as exc:
        deliveries.release(delivery)
        return jsonify(ok=False, source=source, error=str(exc)), 503
    except Exception:
        log.exception("git webhook: sync failed")
        deliveries.release(delivery)
        return jsonify(ok=False, source=source, error="the sync failed; see the server log"), 500
    return jsonify(
        ok=True, source=source, pulled=report.pulled, before=report.before, after=report.after,
        recorded=report.recorded, message=report.message, index={
            "mode": report.index.mode, "indexed": report.index.indexed,
            "removed": report.index.removed, "total": report.index.total,
            "seconds": round(report.index.seconds, 3)},
    )


def _release_quietly(delivery: deliveries.Delivery) -> None:
    try:
        deliveries.release(delivery)
    except Exception as exc:  # the database that failed the recording may still be down
        log.warning("git webhook: could not release %s: %s", delivery.label,
                    str(exc).splitlines()[0][:200])
