"""The audit log: every change made to people and organisations, by whom, from what to
what. Admins only.

    /admin/audit        GET   filter (actor, action, target, dates) and page through
    /admin/audit.csv    GET   the same filtered rows as CSV
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from flask import Response, current_app, render_template, request, stream_with_context

from portal.admin import audit
from portal.admin.pages import page_number, paginate
from portal.admin.views import admins_only, bp
from portal.extensions import db


def _date(raw: str | None) -> tuple[date | None, str | None]:
    raw = (raw or "").strip()
    if not raw:
        return None, None
    try:
        return date.fromisoformat(raw), None
    except ValueError:
        return None, f"“{raw[:40]}” is not a date: use the form 2026-12-31."


def _filters() -> tuple[audit.Filters, list[str]]:
    args = request.args
    since, since_error = _date(args.get("since"))
    until, until_error = _date(args.get("until"))
    action = args.get("action", "")
    filters = audit.Filters(actor=args.get("actor", "")[:300],
                            action=action if action in audit.ACTIONS else "",
                            target=args.get("target", "")[:300], since=since, until=until)
    return filters, [e for e in (since_error, until_error) if e]


def _zone() -> ZoneInfo:
    return ZoneInfo(current_app.config["BUSINESS_TIMEZONE"])


@bp.get("/audit")
@admins_only
def audit_log():
    filters, errors = _filters()
    page = paginate(filters.query(_zone()), page_number(request.args.get("page")),
                    current_app.config["ADMIN_PER_PAGE"])
    return render_template("admin/audit.html", page=page, filters=filters, errors=errors,
                           actions=audit.ACTIONS, describe=audit.describe,
                           raw=request.args)


@bp.get("/audit.csv")
@admins_only
def audit_csv():
    filters, _ = _filters()
    query = filters.query(_zone()).execution_options(yield_per=500)

    def lines():  # queried while streaming, inside the request's context
        yield from audit.to_csv(db.session.scalars(query))

    stamp = datetime.now(UTC).strftime("%Y-%m-%d")
    return Response(stream_with_context(lines()), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="audit-{stamp}.csv"'})
