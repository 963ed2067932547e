"""The admin console's blueprint, its guards and its home page.

    /admin/                    GET   admin home: counts and what needs attention

People and organisations are in user_views.py and org_views.py, the audit log in
audit_views.py; all register on this blueprint. Admins change things; agents may read
the people and organisation pages (who is this customer, which company, is support
suspended), without the forms.
"""

from __future__ import annotations

from functools import wraps

from flask import Blueprint, abort, render_template
from flask_login import current_user, login_required
from sqlalchemy import func, select

from portal.extensions import db
from portal.models import Organisation, Role, User

bp = Blueprint("admin", __name__, url_prefix="/admin")


def admins_only(view):
    @wraps(view)
    @login_required
    def wrapped(*args, **kwargs):
        if not current_user.has_role(Role.ADMIN):
            abort(403)
        return view(*args, **kwargs)
    return wrapped


def admins_and_agents(view):
    """Readable by agents too (read-only: templates show forms only when `can_change`)."""
    @wraps(view)
    @login_required
    def wrapped(*args, **kwargs):
        if not current_user.has_role(Role.AGENT):  # admins hold every role
            abort(403)
        return view(*args, **kwargs)
    return wrapped


def can_change() -> bool:
    return current_user.is_authenticated and current_user.has_role(Role.ADMIN)


@bp.app_context_processor
def console_globals():
    return {"can_change": can_change}


@bp.get("/")
@admins_only
def home():
    def count(query) -> int:
        return db.session.scalar(select(func.count()).select_from(query.subquery())) or 0

    figures = {
        "users": count(select(User.id)),
        "unattached": count(select(User.id).where(
            User.role == Role.CUSTOMER, User.organisation_id.is_(None), User.active)),
        "unverified": count(select(User.id).where(User.email_verified_at.is_(None))),
        "deactivated": count(select(User.id).where(User.active.is_(False))),
        "organisations": count(select(Organisation.id)),
        "suspended": count(select(Organisation.id).where(Organisation.support_suspended)),
    }
    return render_template("admin/home.html", figures=figures)


from portal.admin import audit_views, org_views, user_views  # noqa: E402,F401  (routes)
