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
    "PAGE_CACHE": ("PORTAL_PAGE_CACHE", "bool", True),
    # Sign-in throttling (review finding 9). Failed sign-ins are limited per network (an IPv4
    # address or an IPv6 /64: LOGIN_IP_LIMIT) and per (network, account) or, for a browser
    # that signed in to the account before, per (browser, account) (LOGIN_LIMIT), in the
    # RATELIMIT storage. Per account, in the database: after LOGIN_ACCOUNT_FREE_FAILURES,
    # browsers and networks that never signed in to it wait LOGIN_ACCOUNT_DELAY_SECONDS,
    # doubled at each further failure up to LOGIN_ACCOUNT_MAX_DELAY_SECONDS. A browser stays
    # known for LOGIN_DEVICE_DAYS after its last sign-in, a network for LOGIN_KNOWN_NETWORK_DAYS.
    "LOGIN_LIMIT": ("PORTAL_LOGIN_LIMIT", "str", "10 per minute;50 per hour"),
    "LOGIN_IP_LIMIT": ("PORTAL_LOGIN_IP_LIMIT", "str", "30 per minute;200 per hour"),
    "LOGIN_ACCOUNT_FREE_FAILURES": ("PORTAL_LOGIN_ACCOUNT_FREE_FAILURES", "int", 5),
    "LOGIN_ACCOUNT_DELAY_SECONDS": ("PORTAL_LOGIN_ACCOUNT_DELAY_SECONDS", "float", 30.0),
    "LOGIN_ACCOUNT_MAX_DELAY_SECONDS": ("PORTAL_LOGIN_ACCOUNT_MAX_DELAY_SECONDS", "float", 3600.0),
    "LOGIN_DEVICE_DAYS": ("PORTAL_LOGIN_DEVICE_DAYS", "int", 365),
    "LOGIN_KNOWN_NETWORK_DAYS": ("PORTAL_LOGIN_KNOWN_NETWORK_DAYS", "int", 30),
    "TRUSTED_PROXIES": ("PORTAL_TRUSTED_PROXIES", "int", 0),
    # Accounts (issue 12): single-use links mailed to owners, and how often "Forgot your
    # password?" and registration may be asked per client network and per address.
    "RESET_LINK_MINUTES": ("PORTAL_RESET_LINK_MINUTES", "int", 60),
    "INVITE_LINK_DAYS": ("PORTAL_INVITE_LINK_DAYS", "int", 7),
    "VERIFY_LINK_DAYS": ("PORTAL_VERIFY_LINK_DAYS", "int", 3),
    "ACCOUNT_MAIL_IP_LIMIT": ("PORTAL_ACCOUNT_MAIL_IP_LIMIT", "str", "10 per minute;50 per hour"),
    "ACCOUNT_MAIL_ADDRESS_LIMIT": (
        "PORTAL_ACCOUNT_MAIL_ADDRESS_LIMIT", "str", "3 per 15 minutes;10 per day"),
    "ADMIN_PER_PAGE": ("PORTAL_ADMIN_PER_PAGE", "int", 25),
    "SESSION_IDLE_DAYS": ("PORTAL_SESSION_IDLE_DAYS", "float", 30.0),
    # What a visitor searched and read, kept for their ticket (portal/search/gate.py).
    "VISIT_TRAIL_HOURS": ("PORTAL_VISIT_TRAIL_HOURS", "int", 48),
    # Strict-Transport-Security on HTTPS responses (review finding 7): seconds browsers keep
    # to HTTPS (0 sends no header); INCLUDE_SUBDOMAINS only if every subdomain serves HTTPS.
    "HSTS_MAX_AGE": ("PORTAL_HSTS_MAX_AGE", "int", 365 * 24 * 3600),
    "HSTS_INCLUDE_SUBDOMAINS": ("PORTAL_HSTS_INCLUDE_SUBDOMAINS", "bool", False),
    "WEBHOOK_SECRET": ("PORTAL_WEBHOOK_SECRET", "str", ""),
    # Search (issue 3). INDEX_PROCESSES 0 = one per CPU for full builds. A missing index is
    # built on the first search, which waits SEARCH_BUILD_WAIT_SECONDS for it (then the
    # plain scan answers). Past queries are suggested once SUGGEST_MIN_VISITORS typed them.
    "INDEX_PROCESSES": ("PORTAL_INDEX_PROCESSES", "int", 0),
    "INDEX_LOCK_WAIT_SECONDS": ("PORTAL_INDEX_LOCK_WAIT_SECONDS", "float", 120.0),
    "SEARCH_PER_PAGE": ("PORTAL_SEARCH_PER_PAGE", "int", 10),
    "SEARCH_MAX_PER_PAGE": ("PORTAL_SEARCH_MAX_PER_PAGE", "int", 50),
    "SEARCH_BUILD_WAIT_SECONDS": ("PORTAL_SEARCH_BUILD_WAIT_SECONDS", "float", 5.0),
    "SEARCH_STATS_SECONDS": ("PORTAL_SEARCH_STATS_SECONDS", "float", 300.0),
    "SEARCH_SUGGEST_MIN_VISITORS": ("PORTAL_SEARCH_SUGGEST_MIN_VISITORS", "int", 2),
    "SEARCH_API_LIMIT": ("PORTAL_SEARCH_API_LIMIT", "str", "120 per minute"),
    "SEARCH_SUGGEST_LIMIT": ("PORTAL_SEARCH_SUGGEST_LIMIT", "str", "600 per minute"),
    "SEARCH_CLICK_LIMIT": ("PORTAL_SEARCH_CLICK_LIMIT", "str", "120 per minute"),
    # Anonymous page views that record analytics (review finding 8): per client address, the
    # search page records at most SEARCH_PAGE_LIMIT searches and /tickets/suggested/ at most
    # SUGGESTED_LIMIT clicks (past them the reader is answered, nothing is stored); a
    # reader's identical search or suggestion click within EVENT_DEDUPE_MINUTES is one row.
    "SEARCH_PAGE_LIMIT": ("PORTAL_SEARCH_PAGE_LIMIT", "str", "60 per minute"),
    "SUGGESTED_LIMIT": ("PORTAL_SUGGESTED_LIMIT", "str", "60 per minute"),
    "EVENT_DEDUPE_MINUTES": ("PORTAL_EVENT_DEDUPE_MINUTES", "int", 30),
    "WEBHOOK_LIMIT": ("PORTAL_WEBHOOK_LIMIT", "str", "30 per minute"),
    "SYNC_GIT_PULL": ("PORTAL_SYNC_GIT_PULL", "bool", True),
    # Learning from readers (issue 10): an article that answered a query rises for it once
    # MIN_READERS distinct readers (one per visitor, account or network) opened it from
    # that query and were helped; the boost grows with the log of readers, reaching
    # MAX_BOOST at FULL_READERS, and halves every HALF_LIFE_DAYS. Clicks older than
    # WINDOW_DAYS are forgotten. Each worker re-reads the clicks every REFRESH_SECONDS
    # and checks for editors' resets every CHECK_SECONDS, in the background.
    "SEARCH_LEARN_MIN_READERS": ("PORTAL_SEARCH_LEARN_MIN_READERS", "int", 3),
    "SEARCH_LEARN_MAX_BOOST": ("PORTAL_SEARCH_LEARN_MAX_BOOST", "float", 0.3),
    "SEARCH_LEARN_FULL_READERS": ("PORTAL_SEARCH_LEARN_FULL_READERS", "int", 100),
    "SEARCH_LEARN_HALF_LIFE_DAYS": ("PORTAL_SEARCH_LEARN_HALF_LIFE_DAYS", "float", 30.0),
    "SEARCH_LEARN_WINDOW_DAYS": ("PORTAL_SEARCH_LEARN_WINDOW_DAYS", "int", 90),
    "SEARCH_LEARN_REFRESH_SECONDS": ("PORTAL_SEARCH_LEARN_REFRESH_SECONDS", "float", 300.0),
    "SEARCH_LEARN_CHECK_SECONDS": ("PORTAL_SEARCH_LEARN_CHECK_SECONDS", "float", 10.0),
    # Business calendar and response targets (portal/calendar/ reads these; the Contact
    # page and the policy article are checked against them). Targets: 2h, 90m, 1d; "" = none.
    "BUSINESS_TIMEZONE": ("PORTAL_BUSINESS_TIMEZONE", "str", "America/New_York"),
    "BUSINESS_TIMEZONE_LABEL": ("PORTAL_BUSINESS_TIMEZONE_LABEL", "str", "ET"),
    "BUSINESS_HOURS": ("PORTAL_BUSINESS_HOURS", "str", "08:00-20:00"),
    "BUSINESS_DAYS": ("PORTAL_BUSINESS_DAYS", "list", ["mon", "tue", "wed", "thu", "fri"]),
    "BUSINESS_HOLIDAYS": ("PORTAL_BUSINESS_HOLIDAYS", "str", "US"),
    "BUSINESS_CLOSED_DATES": ("PORTAL_BUSINESS_CLOSED_DATES", "list", []),
    "SEVERITY1_DAYS": ("PORTAL_SEVERITY1_DAYS", "list",
                       ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]),
    "SEVERITY1_SKIPS_HOLIDAYS": ("PORTAL_SEVERITY1_SKIPS_HOLIDAYS", "bool", False),
    "SEVERITY1_FIRST_RESPONSE": ("PORTAL_SEVERITY1_FIRST_RESPONSE", "str", "2h"),
    "SEVERITY1_UPDATE_EVERY": ("PORTAL_SEVERITY1_UPDATE_EVERY", "str", "1h"),
    "SEVERITY1_SUBSTANTIVE": ("PORTAL_SEVERITY1_SUBSTANTIVE", "str", ""),
    "SEVERITY2_FIRST_RESPONSE": ("PORTAL_SEVERITY2_FIRST_RESPONSE", "str", "1d"),
    "SEVERITY2_UPDATE_EVERY": ("PORTAL_SEVERITY2_UPDATE_EVERY", "str", ""),
    "SEVERITY2_SUBSTANTIVE": ("PORTAL_SEVERITY2_SUBSTANTIVE", "str", ""),
    "SEVERITY3_FIRST_RESPONSE": ("PORTAL_SEVERITY3_FIRST_RESPONSE", "str", "1d"),
    "SEVERITY3_UPDATE_EVERY": ("PORTAL_SEVERITY3_UPDATE_EVERY", "str", ""),
    "SEVERITY3_SUBSTANTIVE": ("PORTAL_SEVERITY3_SUBSTANTIVE", "str", "3d"),
    "SEVERITY1_DEFINITION": ("PORTAL_SEVERITY1_DEFINITION", "str",
                             "Critical: the service is down or so impaired that your company "
                             "cannot use it."),
    "SEVERITY2_DEFINITION": ("PORTAL_SEVERITY2_DEFINITION", "str",
                             "Something is broken or needs our technical team, such as a bug "
                             "or pages that are unusually slow."),
    "SEVERITY3_DEFINITION": ("PORTAL_SEVERITY3_DEFINITION", "str",
                             "A how-to question, or a check that a feature is working as "
                             "intended."),
    # Tickets: attachments, mail (SMTP when PORTAL_SMTP_HOST is set, else files in a folder).
    "ATTACHMENTS_DIR": ("PORTAL_ATTACHMENTS_DIR", "str", ""),
    "ATTACHMENT_MAX_BYTES": ("PORTAL_ATTACHMENT_MAX_BYTES", "int", 10 * 1024 * 1024),
    "ATTACHMENT_MAX_FILES": ("PORTAL_ATTACHMENT_MAX_FILES", "int", 5),
    "ATTACHMENT_TYPES": ("PORTAL_ATTACHMENT_TYPES", "list",
                         ["png", "jpg", "jpeg", "gif", "webp", "pdf", "txt", "log", "csv",
                          "json", "zip"]),
    "MAIL_FROM": ("PORTAL_MAIL_FROM", "str", "Bitumio Support <support@bitumio.com>"),
    "MAIL_OUTBOX_DIR": ("PORTAL_MAIL_OUTBOX_DIR", "str", ""),
    "MAIL_SEND_IMMEDIATELY": ("PORTAL_MAIL_SEND_IMMEDIATELY", "bool", True),
    "MAIL_MAX_ATTEMPTS": ("PORTAL_MAIL_MAX_ATTEMPTS", "int", 8),
    "SMTP_HOST": ("PORTAL_SMTP_HOST", "str", ""),
    "SMTP_PORT": ("PORTAL_SMTP_PORT", "int", 587),
    "SMTP_USERNAME": ("PORTAL_SMTP_USERNAME", "str", ""),
    "SMTP_PASSWORD": ("PORTAL_SMTP_PASSWORD", "str", ""),
    "SMTP_STARTTLS": ("PORTAL_SMTP_STARTTLS", "bool", True),
    "SMTP_SSL": ("PORTAL_SMTP_SSL", "bool", False),
    "SMTP_TIMEOUT": ("PORTAL_SMTP_TIMEOUT", "float", 5.0),
    "SITE_URL": ("PORTAL_SITE_URL", "str", ""),
    "DEFLECTION_WINDOW_HOURS": ("PORTAL_DEFLECTION_WINDOW_HOURS", "int", 24),
    # "Was this article helpful?": reasons are "code:Label" (the code is what is stored).
    "FEEDBACK_REASONS": ("PORTAL_FEEDBACK_REASONS", "list", [
        "missing:Missing information", "outdated:Inaccurate or outdated",
        "unclear:Hard to understand", "broken:Broken link or image",
        "unsolved:Did not solve my problem", "other:Other"]),
    "FEEDBACK_COMMENT_MAX": ("PORTAL_FEEDBACK_COMMENT_MAX", "int", 1000),
    "FEEDBACK_MIN_SECONDS": ("PORTAL_FEEDBACK_MIN_SECONDS", "float", 2.0),
    "FEEDBACK_IP_LIMIT": ("PORTAL_FEEDBACK_IP_LIMIT", "str", "30 per minute;300 per day"),
    "FEEDBACK_VISITOR_LIMIT": ("PORTAL_FEEDBACK_VISITOR_LIMIT", "str", "10 per minute;100 per day"),
    # Articles show "N of M found this helpful" once M readers voted (0: never).
    "FEEDBACK_SHOW_RATING_MIN": ("PORTAL_FEEDBACK_SHOW_RATING_MIN", "int", 5),
    # Notices (issue 6, issue 11): scheduled maintenance only in off-hours. MAINTENANCE_POLICY
    # "off-hours": any time outside business hours (BUSINESS_* calendar: evenings, nights,
    # weekends, holidays, closed dates); "suggested": only the suggested windows, which are
    # any time on MAINTENANCE_ANYTIME_DAYS, else within MAINTENANCE_WEEKDAY_HOURS (the
    # policy's examples; shown to admins and readers, and a note for windows outside them).
    "MAINTENANCE_POLICY": ("PORTAL_MAINTENANCE_POLICY", "str", "off-hours"),
    "MAINTENANCE_WEEKDAY_HOURS": ("PORTAL_MAINTENANCE_WEEKDAY_HOURS", "str", "00:00-08:00"),
    "MAINTENANCE_ANYTIME_DAYS": ("PORTAL_MAINTENANCE_ANYTIME_DAYS", "list", ["sat", "sun"]),
    "NOTICE_BANNER_HOURS": ("PORTAL_NOTICE_BANNER_HOURS", "int", 72),  # upcoming maintenance
    "NOTICE_HISTORY_DAYS": ("PORTAL_NOTICE_HISTORY_DAYS", "int", 90),  # /status and feeds
    # Seconds a worker may trust "no notice is on the banner" before asking the database
    # again (a new notice reaches other workers within this time; 0 asks every page).
    "NOTICE_CACHE_SECONDS": ("PORTAL_NOTICE_CACHE_SECONDS", "float", 10.0),
    # Email channel: `flask tickets ingest-email`. Raw files of held and malformed mail go
    # under MAILIN_DIR (default instance/mailin); attachments obey ATTACHMENT_MAX_BYTES.
    "MAILIN_DIR": ("PORTAL_MAILIN_DIR", "str", ""),
    "MAILIN_MAILDIR": ("PORTAL_MAILIN_MAILDIR", "str", ""),
    "MAILIN_MAX_BYTES": ("PORTAL_MAILIN_MAX_BYTES", "int", 40 * 1024 * 1024),
    # Who sent a message (portal/mailin/trust.py): ticket mail carries a per-ticket,
    # per-recipient Reply-To (support+t123.<token>@...); replies join a ticket only when
    # sent there, or when a trusted relay (its authserv-id listed here) reports a DKIM or
    # DMARC pass for the sender's domain in an Authentication-Results header written on
    # our own servers (which add RELAY_HOPS Received headers).
    "MAIL_REPLY_ADDRESSES": ("PORTAL_MAIL_REPLY_ADDRESSES", "bool", True),
    "MAILIN_TRUSTED_RELAYS": ("PORTAL_MAILIN_TRUSTED_RELAYS", "list", []),
    "MAILIN_RELAY_HOPS": ("PORTAL_MAILIN_RELAY_HOPS", "int", 1),
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
