"""All database models, imported here so Alembic and the app see every table."""

from portal.models.accounts import Organisation, Role, User

__all__ = ["Organisation", "Role", "User"]
