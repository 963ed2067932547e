"""Settings: built-in defaults < PORTAL_* environment variables < an explicit mapping.

load_settings checks every one (its type, then its form: FORMS, RANGES) and raises one
SettingsError listing every bad value, so a bad setting stops the start, not a page."""

from __future__ import annotations

import importlib.util
import math
import os
import re
import secrets
from collections.abc import Callable, Mapping
from contextlib import suppress
from datetime import date
from email.headerregistry import Address
from email.message import EmailMessage
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import click
from limits import parse_many
from limits.storage import SCHEMES as STORAGE_SCHEMES
from sqlalchemy.engine import URL, make_url

from portal.calendar.deadlines import Target
from portal.calendar.hours import check_holidays, holiday_subdivisions, parse_days, parse_hours
from portal.resources import site_root

PROJECT_ROOT = Path(__file__).resolve().parent.parent

# Each setting: config key -> (environment variable, type, default).
# Types: str, int, float, bool, list (comma separated), path. Every one is checked at start
# (see FORMS and RANGES below the table).
SETTINGS: dict[str, tuple[str, str, Any]] = {
    # In a checkout: its articles/ and search_index/; installed from a wheel: the current
    # working directory's (portal/resources.py).
    "ARTICLES_DIR": ("PORTAL_ARTICLES_DIR", "path", site_root() / "articles"),
    "INDEX_DIR": ("PORTAL_INDEX_DIR", "path", site_root() / "search_index"),
    "SQLALCHEMY_DATABASE_URI": ("PORTAL_DATABASE_URL", "str", None),
    # How long opening a PostgreSQL connection may take before it counts as failed (the
    # driver's default is to wait forever, so /readyz would hang on an unreachable server).
    "DATABASE_CONNECT_TIMEOUT": ("PORTAL_DATABASE_CONNECT_TIMEOUT", "int", 5),
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
    # Several web nodes (issue 14): how often each node checks the database for a newer
    # articles commit published through another node; 0 turns the check off.
    "SYNC_POLL_SECONDS": ("PORTAL_SYNC_POLL_SECONDS", "float", 5.0),
    "NODE_NAME": ("PORTAL_NODE_NAME", "str", ""),  # "" = the host name
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
    "BUSINESS_HOLIDAYS_SUBDIV": ("PORTAL_BUSINESS_HOLIDAYS_SUBDIV", "str", ""),  # CA; "": none
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
    # The in-app help widget (portal/widget): host pages allowed to frame its panel (exact
    # origins), the secret hosts sign user tokens with, what those tokens must name in `aud`
    # (empty: PORTAL_SITE_URL, else this portal's address), and the API's per-address limit.
    "WIDGET_ALLOWED_ORIGINS": ("PORTAL_WIDGET_ALLOWED_ORIGINS", "list", []),
    "WIDGET_SECRET": ("PORTAL_WIDGET_SECRET", "str", ""),
    "WIDGET_AUDIENCE": ("PORTAL_WIDGET_AUDIENCE", "str", ""),
    "WIDGET_API_LIMIT": ("PORTAL_WIDGET_API_LIMIT", "str", "300 per minute"),
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


# The range of each number setting. Zero is allowed where it means "off", "never" or "no
# wait"; refused where it would break a page, a link or a limit (tests/test_settings_validation.py
# checks that every number setting is listed here).
ABOVE_ZERO = "above zero"
RANGES: dict[str, Any] = {
    "CONTENT_RELOAD_SECONDS": 0, "LOGIN_ACCOUNT_FREE_FAILURES": 0, "DATABASE_CONNECT_TIMEOUT": 1,
    "LOGIN_ACCOUNT_DELAY_SECONDS": ABOVE_ZERO, "LOGIN_ACCOUNT_MAX_DELAY_SECONDS": ABOVE_ZERO,
    "LOGIN_DEVICE_DAYS": 1, "LOGIN_KNOWN_NETWORK_DAYS": 0, "TRUSTED_PROXIES": 0,
    "RESET_LINK_MINUTES": 1, "INVITE_LINK_DAYS": 1, "VERIFY_LINK_DAYS": 1, "ADMIN_PER_PAGE": 1,
    "SESSION_IDLE_DAYS": ABOVE_ZERO, "VISIT_TRAIL_HOURS": 1, "HSTS_MAX_AGE": 0,
    "INDEX_PROCESSES": 0, "INDEX_LOCK_WAIT_SECONDS": 0, "SEARCH_PER_PAGE": 1,
    "SEARCH_MAX_PER_PAGE": 1, "SEARCH_BUILD_WAIT_SECONDS": 0, "SEARCH_STATS_SECONDS": 0,
    "SEARCH_SUGGEST_MIN_VISITORS": 1, "EVENT_DEDUPE_MINUTES": 0, "SYNC_POLL_SECONDS": 0,
    "SEARCH_LEARN_MIN_READERS": 1, "SEARCH_LEARN_MAX_BOOST": (0, 1.5),
    "SEARCH_LEARN_FULL_READERS": 1, "SEARCH_LEARN_HALF_LIFE_DAYS": ABOVE_ZERO,
    "SEARCH_LEARN_WINDOW_DAYS": 1, "SEARCH_LEARN_REFRESH_SECONDS": 0,
    "SEARCH_LEARN_CHECK_SECONDS": 0, "ATTACHMENT_MAX_BYTES": 1, "ATTACHMENT_MAX_FILES": 1,
    "MAIL_MAX_ATTEMPTS": 1, "SMTP_PORT": (1, 65535), "SMTP_TIMEOUT": ABOVE_ZERO,
    "DEFLECTION_WINDOW_HOURS": 0, "FEEDBACK_COMMENT_MAX": 1, "FEEDBACK_MIN_SECONDS": 0,
    "FEEDBACK_SHOW_RATING_MIN": 0, "NOTICE_BANNER_HOURS": 0, "NOTICE_HISTORY_DAYS": 1,
    "NOTICE_CACHE_SECONDS": 0, "MAILIN_MAX_BYTES": 1, "MAILIN_RELAY_HOPS": 0,
}
# never shown
SECRETS = frozenset({"SECRET_KEY", "SMTP_PASSWORD", "WEBHOOK_SECRET", "WIDGET_SECRET"})
TRUE_WORDS = frozenset({"1", "true", "yes", "on"})
FALSE_WORDS = frozenset({"0", "false", "no", "off"})
KIND_WORDS = {"bool": "true or false (also yes/no, on/off, 1/0)", "int": "a whole number",
              "float": "a number", "list": "a list", "path": "a folder path", "str": "text"}

Check = Callable[[Any, Mapping[str, Any]], "str | None"]  # value, settings -> expected form


class SettingsError(click.ClickException, ValueError):
    """Settings that cannot work, found when the app is made: one line per problem, naming
    the environment variable, the value given and the form expected. Being a
    ClickException, `flask ...` prints it as "Error: ..." and exits with status 1 instead
    of a traceback; a gunicorn worker fails to boot and gunicorn exits."""

    def __init__(self, problems: list[str]):
        self.problems = list(problems)
        if len(self.problems) == 1:
            message = f"Bad setting: {self.problems[0]}"
        else:
            message = f"{len(self.problems)} bad settings:\n" + "\n".join(
                f"  {problem}" for problem in self.problems)
        super().__init__(message)


def _convert(kind: str, raw: str) -> Any:
    """An environment variable's text as the setting's type; ValueError saying the form."""
    text = raw.strip()
    if kind == "bool":
        if text.lower() in TRUE_WORDS | FALSE_WORDS:
            return text.lower() in TRUE_WORDS
    elif kind == "int":
        with suppress(ValueError):
            return int(text)
    elif kind == "float":
        with suppress(ValueError):
            number = float(text)
            if math.isfinite(number):
                return number
    elif kind == "list":
        return [item.strip() for item in raw.split(",") if item.strip()]
    elif kind == "path":
        if text:
            return Path(text).expanduser().resolve()
    else:
        return raw
    raise ValueError(KIND_WORDS[kind])


def _typed(kind: str, key: str, value: Any) -> bool:
    """Whether a value given to create_app has the setting's type."""
    if key in ("SQLALCHEMY_DATABASE_URI", "SECRET_KEY") and value is None:
        return True  # the defaults: instance/portal.db, instance/secret_key
    if kind == "bool":
        return isinstance(value, bool)
    if kind in ("int", "float"):
        wanted = int if kind == "int" else (int, float)
        return (isinstance(value, wanted) and not isinstance(value, bool)
                and math.isfinite(value))
    if kind == "list":
        return isinstance(value, list | tuple)
    if kind == "path":
        return isinstance(value, str | os.PathLike) and str(value).strip() != ""
    if key == "SECRET_KEY":
        return isinstance(value, str | bytes)
    if key == "SQLALCHEMY_DATABASE_URI":
        return isinstance(value, str | URL)
    return isinstance(value, str)


def _number(kind: str, allowed: Any) -> Check:
    """A check of a number against its RANGES entry: a least value, ABOVE_ZERO or (low, high)."""
    low, high = allowed if isinstance(allowed, tuple) else (allowed, None)
    if allowed == ABOVE_ZERO:
        wanted = f"{KIND_WORDS[kind]} above 0"
    elif high is None:
        wanted = f"{KIND_WORDS[kind]}, {low} or more"
    else:
        wanted = f"{KIND_WORDS[kind]} from {low} to {high}"

    def check(value: float, _settings: Mapping[str, Any]) -> str | None:
        if allowed == ABOVE_ZERO:
            return None if value > 0 else wanted
        return None if low <= value and (high is None or value <= high) else wanted

    return check


def _fails(parse: Callable[[Any], Any], value: Any) -> bool:
    try:
        parse(value)
    except Exception:  # any failure of the parser the code itself uses means "bad"
        return True
    return False


def _duration(required: bool) -> Check:
    wanted = "a duration such as 2h, 90m or 1d (d: business days)"
    wanted += "" if required else ", or empty for none"

    def check(value: str, _settings: Mapping[str, Any]) -> str | None:
        bad = _fails(Target.parse, value) or (required and Target.parse(value) is None)
        return wanted if bad else None

    return check


def _hours(value: str, _settings: Mapping[str, Any]) -> str | None:
    if _fails(parse_hours, value):
        return "hours such as 08:00-20:00 (opening before closing; 24:00 for midnight)"
    return None


def _days(at_least_one: bool) -> Check:
    def check(value: list, _settings: Mapping[str, Any]) -> str | None:
        if _fails(parse_days, value) or (at_least_one and not value):
            return ("days of the week such as mon,tue,wed,thu,fri"
                    + (" (at least one)" if at_least_one else ", or empty for none"))
        return None

    return check


def _holiday_country(value: str, _settings: Mapping[str, Any]) -> str | None:
    if value and _fails(check_holidays, value):
        return "a country code of the holidays package, such as US, CA, GB or DE, or empty for none"
    return None


def _holiday_subdiv(value: str, settings: Mapping[str, Any]) -> str | None:
    country = settings.get("BUSINESS_HOLIDAYS")
    if not value or (country and _holiday_country(country, settings)):
        return None  # a wrong country is reported once, under PORTAL_BUSINESS_HOLIDAYS
    if not country:
        return "empty while PORTAL_BUSINESS_HOLIDAYS is empty (a subdivision needs a country)"
    if _fails(lambda subdiv: check_holidays(country, subdiv), value):
        known = holiday_subdivisions(country)
        examples = ", ".join(known[:8]) + (", ..." if len(known) > 8 else "")
        return (f"a subdivision of {country} in the holidays package ({examples}), or empty "
                f"for none" if known else f"empty: the holidays package has no subdivisions "
                f"of {country}")
    return None


def _dates(value: list, _settings: Mapping[str, Any]) -> str | None:
    if any(_fails(lambda day: date.fromisoformat(str(day)), day) for day in value):
        return "dates such as 2026-12-24,2026-12-31 (YYYY-MM-DD, comma separated)"
    return None


def _zone(value: str, _settings: Mapping[str, Any]) -> str | None:
    if _fails(ZoneInfo, value):
        return "a time zone name such as America/New_York or Europe/Paris"
    return None


def _origins(value: list[str], _settings: Mapping[str, Any]) -> str | None:
    from portal.widget.origins import problems

    bad = problems(value) if isinstance(value, list) else ["?"]
    if bad:
        return (f"origins such as https://app.example.com or http://localhost:8001, separated "
                f"by commas (not an origin: {', '.join(repr(b) for b in bad[:3])})")
    return None


def _rate_limit(value: str, _settings: Mapping[str, Any]) -> str | None:
    if not value.strip() or _fails(parse_many, value):
        return "rate limits such as 10 per minute;50 per hour"
    return None


def _web_address(optional: bool) -> Check:
    wanted = "an http:// or https:// address such as https://help.example.com"
    wanted += ", or empty" if optional else ""

    def check(value: str, _settings: Mapping[str, Any]) -> str | None:
        if optional and not value:
            return None
        with suppress(ValueError):
            parts = urlsplit(value)
            if (parts.scheme in ("http", "https") and parts.hostname
                    and not any(ch.isspace() for ch in value)):
                return None
        return wanted

    return check


def _database_url(value: Any, _settings: Mapping[str, Any]) -> str | None:
    if not value:
        return None  # the default: sqlite in instance/portal.db
    try:
        dialect = make_url(value).get_dialect()
    except Exception:  # ArgumentError, NoSuchModuleError
        return ("a database URL such as postgresql+psycopg://user:password@host/portal or "
                "sqlite:////srv/portal/portal.db")
    if _fails(lambda cls: cls.import_dbapi(), dialect):
        return "a database URL whose driver is installed (PostgreSQL: pip install '.[postgres]')"
    return None


def _storage_url(value: str, _settings: Mapping[str, Any]) -> str | None:
    scheme = value.partition("://")[0] if "://" in value else ""
    storage = None if scheme.startswith("async+") else STORAGE_SCHEMES.get(scheme)
    if storage is None:
        return "a rate-limit storage URL such as redis://127.0.0.1:6379/0 or memory://"
    needs = {name.split(".")[0] for name in getattr(storage, "DEPENDENCIES", ())}
    if needs and not any(importlib.util.find_spec(name) for name in needs):
        return f"a storage whose client is installed ({' or '.join(sorted(needs))}: " \
               f"pip install '.[redis]' for Redis)"
    return None


def _email(value: str, _settings: Mapping[str, Any]) -> str | None:
    with suppress(Exception):
        address = Address(addr_spec=value.strip())
        if address.username and address.domain:
            return None
    return "an email address such as support@example.com"


def _sender(value: str, _settings: Mapping[str, Any]) -> str | None:
    with suppress(Exception):
        message = EmailMessage()
        message["From"] = value
        header = message["From"]
        found = header.addresses
        if (not header.defects and len(found) == 1 and found[0].username
                and found[0].domain):
            return None
    return "a sender such as Bitumio Support <support@example.com> or support@example.com"


def _host(value: str, _settings: Mapping[str, Any]) -> str | None:
    if (not value or re.fullmatch(r"[A-Za-z0-9_][A-Za-z0-9_.-]*", value)
            or (value.count(":") >= 2 and re.fullmatch(r"[0-9A-Fa-f:.]+", value))):
        return None
    return "a host name or address such as smtp.example.com (the port is PORTAL_SMTP_PORT)"


def _reasons(value: list, _settings: Mapping[str, Any]) -> str | None:
    from portal.feedback.service import parse_reasons

    codes = [reason.code for entry in value for reason in parse_reasons([str(entry)])]
    too_long = any(len(str(e).partition(":")[0].strip()) > 40 for e in value if ":" in str(e))
    if len(codes) != len(value) or len(set(codes)) != len(codes) or too_long:
        return ("reasons such as missing:Missing information,other:Other (code:Label, comma "
                "separated; codes distinct, at most 40 characters; a bare label gets a code)")
    return None


def _attachment_types(value: list, _settings: Mapping[str, Any]) -> str | None:
    from portal.tickets.attachments import CONTENT_TYPES

    if all(str(kind).lower() in CONTENT_TYPES for kind in value):
        return None
    return f"file types from {','.join(CONTENT_TYPES)} (comma separated, no dots)"


def _maintenance_policy(value: str, _settings: Mapping[str, Any]) -> str | None:
    from portal.notices.rules import check_policy_name

    if _fails(check_policy_name, value):
        return "off-hours or suggested"
    return None


def _folder(value: Any, _settings: Mapping[str, Any]) -> str | None:
    if value and Path(value).expanduser().exists() and not Path(value).expanduser().is_dir():
        return "a folder (this path is a file)"
    return None


def _text(value: str, _settings: Mapping[str, Any]) -> str | None:
    return None if value.strip() else "some text (not empty)"


def _phone(value: str, _settings: Mapping[str, Any]) -> str | None:
    return None if any(ch.isdigit() for ch in value) else "a phone number such as (801) 513-1113"


def _names(value: list, _settings: Mapping[str, Any]) -> str | None:
    if all(isinstance(name, str) and name and not re.search(r"[\s;]", name) for name in value):
        return None
    return "names such as mx.example.com, comma separated"


# The form of each setting beyond its type (free text and secrets have none).
FORMS: dict[str, Check] = {
    "ARTICLES_DIR": _folder, "INDEX_DIR": _folder, "ATTACHMENTS_DIR": _folder,
    "MAIL_OUTBOX_DIR": _folder, "MAILIN_DIR": _folder, "MAILIN_MAILDIR": _folder,
    "SQLALCHEMY_DATABASE_URI": _database_url, "RATELIMIT_STORAGE_URI": _storage_url,
    "PRODUCT_NAME": _text, "SUPPORT_EMAIL": _email, "SUPPORT_PHONE": _phone,
    "MAIL_FROM": _sender, "SMTP_HOST": _host, "SUPPORT_SITE_URL": _web_address(False),
    "REPOSITORY_WEB_URL": _web_address(True), "SITE_URL": _web_address(True),
    "BUSINESS_TIMEZONE": _zone, "BUSINESS_HOURS": _hours, "MAINTENANCE_WEEKDAY_HOURS": _hours,
    "BUSINESS_DAYS": _days(True), "SEVERITY1_DAYS": _days(True),
    "MAINTENANCE_ANYTIME_DAYS": _days(False), "BUSINESS_HOLIDAYS": _holiday_country,
    "BUSINESS_HOLIDAYS_SUBDIV": _holiday_subdiv, "BUSINESS_CLOSED_DATES": _dates,
    "MAINTENANCE_POLICY": _maintenance_policy, "FEEDBACK_REASONS": _reasons,
    "ATTACHMENT_TYPES": _attachment_types, "MAILIN_TRUSTED_RELAYS": _names,
    "WIDGET_ALLOWED_ORIGINS": _origins, "WIDGET_AUDIENCE": _web_address(True),
    **{key: _rate_limit for key in SETTINGS if key.endswith("_LIMIT")},
    **{f"SEVERITY{level}_{what}": _duration(what == "FIRST_RESPONSE")
       for level in (1, 2, 3) for what in ("FIRST_RESPONSE", "UPDATE_EVERY", "SUBSTANTIVE")},
    **{key: _number(SETTINGS[key][1], allowed) for key, allowed in RANGES.items()},
}


def _shown(key: str, value: Any) -> str:
    """The value as the error shows it: secrets hidden, a database password masked."""
    if key in SECRETS:
        return "(hidden)"
    if key == "SQLALCHEMY_DATABASE_URI" and isinstance(value, str):
        return repr(re.sub(r"(://[^:/@]*:)[^@]*@", r"\1***@", value))
    return repr(value)


def _problem(key: str, value: Any, expected: str, from_environment: bool) -> tuple[str, str]:
    env_name = SETTINGS[key][0]
    if from_environment:
        return key, f"{env_name}={_shown(key, value)}: expected {expected}"
    return key, (f"{key}={_shown(key, value)} (given to create_app; environment variable "
                 f"{env_name}): expected {expected}")


def load_settings(
    instance_path: str | os.PathLike[str],
    explicit: Mapping[str, Any] | None = None,
    environ: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """Resolve every setting from defaults, the environment and an explicit mapping, and
    check each one: SettingsError lists every bad value with the form expected."""
    environ = os.environ if environ is None else environ
    explicit = dict(explicit or {})
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
    problems: list[tuple[str, str]] = []  # (key, message)
    given: dict[str, tuple[Any, bool]] = {}  # key -> (value as given, from the environment)
    for key, (env_name, kind, default) in SETTINGS.items():
        values[key] = default
        if key in explicit:
            given[key] = (explicit[key], False)
            if not _typed(kind, key, explicit[key]):
                problems.append(_problem(key, explicit[key], KIND_WORDS[kind], False))
                explicit.pop(key)
        elif env_name in environ:
            given[key] = (environ[env_name], True)
            try:
                values[key] = _convert(kind, environ[env_name])
            except ValueError as error:
                problems.append(_problem(key, environ[env_name], str(error), True))
    values.update(explicit)
    for key, check in FORMS.items():
        expected = check(values[key], values)
        if expected is not None:
            shown, from_environment = given.get(key, (values[key], True))
            problems.append(_problem(key, shown, expected, from_environment))
    if problems:
        order = list(SETTINGS)
        raise SettingsError([text for _key, text in sorted(
            problems, key=lambda problem: order.index(problem[0]))])
    for key in ("ARTICLES_DIR", "INDEX_DIR"):
        values[key] = Path(values[key])
    if not values.get("SQLALCHEMY_DATABASE_URI"):
        values["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{instance / 'portal.db'}"
    if str(values["SQLALCHEMY_DATABASE_URI"]).startswith("postgresql"):
        options = dict(values.get("SQLALCHEMY_ENGINE_OPTIONS") or {})
        connect_args = dict(options.get("connect_args") or {})
        connect_args.setdefault("connect_timeout", values["DATABASE_CONNECT_TIMEOUT"])
        values["SQLALCHEMY_ENGINE_OPTIONS"] = options | {"connect_args": connect_args}
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
