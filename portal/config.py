"""Settings: built-in defaults < PORTAL_* environment variables < an explicit mapping."""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import Any

PROJECT_ROOT = Path(__file__).resolve().parent.parent

# Each setting: config key -> (environment variable, type, default).
# Types: str, int, bool, list (comma separated), path.
SETTINGS: dict[str, tuple[str, str, Any]] = {
    "ARTICLES_DIR": ("PORTAL_ARTICLES_DIR", "path", PROJECT_ROOT / "articles"),
    "INDEX_DIR": ("PORTAL_INDEX_DIR", "path", PROJECT_ROOT / "search_index"),
    "SQLALCHEMY_DATABASE_URI": ("PORTAL_DATABASE_URL", "str", None),
    "SECRET_KEY": ("PORTAL_SECRET_KEY", "str", None),
    "PRODUCT_NAME": ("PORTAL_PRODUCT_NAME", "str", "Bitumio"),
    "SUPPORT_EMAIL": ("PORTAL_SUPPORT_EMAIL", "str", "support@bitumio.com"),
    "SUPPORT_PHONE": ("PORTAL_SUPPORT_PHONE", "str", "(801) 513-1113"),
    "SUPPORT_SITE_URL": (
        "PORTAL_SUPPORT_SITE_URL", "str", "https://support.bitumio.com/support/home"),
    "REGISTRATION_OPEN": ("PORTAL_REGISTRATION_OPEN", "bool", True),
    "REPOSITORY_WEB_URL": ("PORTAL_REPOSITORY_WEB_URL", "str", ""),
    "RATELIMIT_STORAGE_URI": ("PORTAL_RATELIMIT_STORAGE_URL", "str", "memory://"),
    "CONTENT_RELOAD_SECONDS": ("PORTAL_CONTENT_RELOAD_SECONDS", "float", 2.0),
    "LOGIN_LIMIT": ("PORTAL_LOGIN_LIMIT", "str", "10 per minute;50 per hour"),
    "TRUSTED_PROXIES": ("PORTAL_TRUSTED_PROXIES", "int", 0),
    "WEBHOOK_SECRET": ("PORTAL_WEBHOOK_SECRET", "str", ""),
}


def _convert(kind: str, raw: str) -> Any:
    if kind == "bool":
        return raw.strip().lower() in {"1", "true", "yes", "on"}
    if kind == "int":
        return int(raw)
    if kind == "float":
        return float(raw)
    if kind == "list":
        return [item.strip() for item in raw.split(",") if item.strip()]
    if kind == "path":
        return Path(raw).expanduser().resolve()
    return raw


def load_settings(
    instance_path: str | os.PathLike[str],
    explicit: Mapping[str, Any] | None = None,
    environ: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """Resolve every setting from defaults, the environment and an explicit mapping."""
    environ = os.environ if environ is None else environ
    instance = Path(instance_path)
    values: dict[str, Any] = {
        "SQLALCHEMY_TRACK_MODIFICATIONS": False,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "WTF_CSRF_TIME_LIMIT": None,
        "RATELIMIT_HEADERS_ENABLED": True,
        "RATELIMIT_SWALLOW_ERRORS": True,
        "RATELIMIT_IN_MEMORY_FALLBACK_ENABLED": True,
        "MAX_CONTENT_LENGTH": 16 * 1024 * 1024,
    }
    for key, (env_name, kind, default) in SETTINGS.items():
        values[key] = _convert(kind, environ[env_name]) if env_name in environ else default
    if explicit:
        values.update(explicit)
    for key in ("ARTICLES_DIR", "INDEX_DIR"):
        values[key] = Path(values[key])
    if not values.get("SQLALCHEMY_DATABASE_URI"):
        values["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{instance / 'portal.db'}"
    if not values.get("SECRET_KEY"):
        values["SECRET_KEY"] = development_secret_key(instance)
    return values


def development_secret_key(instance: Path) -> str:
    """Return the secret key kept in instance/, creating it once on first use."""
    key_file = instance / "secret_key"
    try:
        return key_file.read_text().strip()
    except FileNotFoundError:
        instance.mkdir(parents=True, exist_ok=True)
        key = secrets.token_hex(32)
        try:
            fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another worker won the race
            return key_file.read_text().strip()
        with os.fdopen(fd, "w") as handle:
            handle.write(key)
        return key
