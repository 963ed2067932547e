"""Flask extensions, created unbound and attached in create_app."""

import flask_login
from flask import session
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
from sqlalchemy import MetaData, text
from sqlalchemy.orm import DeclarativeBase


class Base(DeclarativeBase):
    metadata = MetaData(
        naming_convention={
            "ix": "ix_%(column_0_label)s",
            "uq": "uq_%(table_name)s_%(column_0_name)s",
            "ck": "ck_%(table_name)s_%(constraint_name)s",
            "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
            "pk": "pk_%(table_name)s",
        }
    )


class LoginManager(flask_login.LoginManager):
    """Flask-Login, with "strong" session protection checked for signed-in sessions only.

    Flask-Login also checks a visitor who never signed in: their session (articles read,
    a CSRF token) has no browser fingerprint, so it "fails" on every request and is
    rewritten, with a remember-me cookie deletion, on every page. A session holding a
    sign-in is checked as before: replayed from another browser, it is cleared.
    """

    def unauthorized(self):
        """While the database is down a signed-in reader is not asked to sign in again:
        they get a 503 that keeps what they typed (portal.outage)."""
        from portal.outage import require_signed_in_user

        require_signed_in_user()
        return super().unauthorized()

    def _session_protection_failed(self) -> bool:
        if "_user_id" not in session:
            return False
        return super()._session_protection_failed()


class PortalLimiter(Limiter):
    """Flask-Limiter that warns at start when several workers would each count alone."""

    def init_app(self, app) -> None:
        super().init_app(app)
        from portal.workers import warn_if_limits_are_per_worker

        warn_if_limits_are_per_worker(app)


db = SQLAlchemy(model_class=Base)
migrate = Migrate(render_as_batch=True, compare_type=True)
login_manager = LoginManager()
csrf = CSRFProtect()
limiter = PortalLimiter(key_func=get_remote_address, default_limits=[])


def skip_disk_wait() -> None:
    """Mark the session's transaction as harmless to lose in a server crash (analytics, a
    visitor's trail): on PostgreSQL its commit then does not wait for the disk (the row is
    written a moment later). Other databases commit as usual. Call it inside the
    transaction, before its commit."""
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(text("SET LOCAL synchronous_commit TO OFF"))
