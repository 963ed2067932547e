"""For the proxy in front of the web nodes: is this process up, is this node ready to serve.

    GET /healthz   200 "ok" while the process answers (touches no database, no disk)
    GET /readyz    200 JSON when the database answers, the search index opens and the
                   articles are loaded; 503 with the same JSON naming what is not ready

Both are exempt from rate limits, set no cookie and are never cached. Registering this
blueprint also starts each worker's poll for articles published through another node
(portal/nodes/poller.py) on the worker's first request.
"""

from __future__ import annotations

import logging

from flask import Blueprint, Response, current_app, jsonify
from sqlalchemy import text

from portal.content.store import get_store
from portal.extensions import db, limiter
from portal.nodes import checkout, poller
from portal.search.engine import IndexCorrupt, IndexMissing
from portal.search.service import get_service

log = logging.getLogger(__name__)

bp = Blueprint("health", __name__)

_last_state: dict[str, str] = {}  # check -> its last answer, to log changes only


@bp.before_app_request
def follow_other_nodes() -> None:
    poller.ensure_started(current_app._get_current_object())  # type: ignore[attr-defined]


@bp.get("/healthz")
@limiter.exempt
def healthz():
    return _no_store(Response("ok\n", mimetype="text/plain"))


@bp.get("/readyz")
@limiter.exempt
def readyz():
    checks = {"database": _database(), "index": _index(), "content": _content()}
    for name, state in checks.items():
        if _last_state.get(name, "ok") != state:
            (log.info if state == "ok" else log.warning)("readyz: %s %s", name, state)
        _last_state[name] = state
    ready = all(state == "ok" for state in checks.values())
    response = jsonify(**checks, commit=_commit())
    response.status_code = 200 if ready else 503
    return _no_store(response)


def _no_store(response: Response) -> Response:
    response.headers["Cache-Control"] = "no-store"
    return response


def _database() -> str:
    try:
        with db.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as exc:
        log.debug("readyz: database: %s", exc)
        return "unavailable"
    return "ok"


def _index() -> str:
    try:
        get_service().engine.suggest("readyz", 1)  # opens the live generation
    except IndexMissing:
        return "missing"
    except IndexCorrupt:
        return "unreadable"
    except Exception:
        log.exception("readyz: the search index could not be opened")
        return "error"
    return "ok"


def _content() -> str:
    try:
        store = get_store()
        if not store.root.is_dir():
            return "missing"
        if not store.ready():  # the first load is started in the background: not waited for
            return "loading"
    except Exception:
        log.exception("readyz: the articles could not be loaded")
        return "error"
    return "ok"


def _commit() -> str | None:
    try:
        top = checkout.own_checkout(current_app.config["ARTICLES_DIR"])
        return checkout.head(top) if top is not None else None
    except Exception:  # the commit is information only: never a reason to fail
        log.exception("readyz: could not read the articles commit")
        return None
