"""Read the figures out of the technical support policy article and compare them with the
settings, so the article and the Contact page (rendered from settings) cannot drift apart."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from portal.calendar import Target, format_clock, parse_hours
from portal.notices.rules import DAY_KEYS

DAY_NAMES = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
ZONE_WORDS = {"eastern": "America/New_York", "central": "America/Chicago",
              "mountain": "America/Denver", "pacific": "America/Los_Angeles"}
CLOCK = r"(?:midnight|noon|\d{1,2}(?::\d{2})?\s*[AaPp]\.?[Mm]\.?)"
NUMBER_WORDS = {"one": 1, "a": 1, "an": 1, "two": 2, "three": 3, "four": 4, "five": 5}
DURATION = re.compile(r"\b(\d+(?:\.\d+)?|one|two|three|four|five|an?)\s+"
                      r"(business\s+days?|business\s+hours?|hours?|minutes?)\b", re.I)


class ArticleFormatError(ValueError):
    """A figure the check needs could not be found in the article."""


@dataclass
class Figures:
    """What a policy text promises; None means "not stated"."""

    first_response: dict[int, Target] = field(default_factory=dict)
    update_every: dict[int, Target | None] = field(default_factory=dict)
    substantive: dict[int, Target | None] = field(default_factory=dict)
    severity1_hours: tuple[time, time] | None = None
    severity1_pacific: tuple[time, time] | None = None
    severity1_days: frozenset[int] | None = None
    business_days: frozenset[int] | None = None
    business_hours: tuple[time, time] | None = None
    zone: str | None = None
    holidays: str | None = None
    email: str | None = None
    phone: str | None = None
    site_url: str | None = None
    maintenance_anytime: frozenset[int] | None = None
    maintenance_weekday_hours: tuple[time, time] | None = None


def parse_clock(text: str) -> time:
    text = text.strip().lower().replace(".", "")
    if text == "midnight":
        return time(0)
    if text == "noon":
        return time(12)
    match = re.fullmatch(r"(\d{1,2})(?::(\d{2}))?\s*([ap])m", text)
    if not match:
        raise ArticleFormatError(f"not a time of day: {text!r}")
    hour = int(match.group(1)) % 12 + (12 if match.group(3) == "p" else 0)
    return time(hour, int(match.group(2) or 0))


def _clock_pair(text: str, context: str) -> tuple[time, time]:
    match = re.search(rf"({CLOCK})\s*(?:and|to|until|-|–|—)\s*({CLOCK})", text, re.I)
    if not match:
        raise ArticleFormatError(f"no 'from ... to ...' times in {context}: {text!r}")
    return parse_clock(match.group(1)), parse_clock(match.group(2))


def parse_duration(text: str) -> Target | None:
    """'2 hours', '1 business day', 'every hour', '90 minutes' -> Target; None if absent."""
    match = DURATION.search(text)
    if match:
        raw = match.group(1).lower()
        amount = NUMBER_WORDS[raw] if raw in NUMBER_WORDS else float(raw)
        unit = match.group(2).lower()
    else:
        every = re.search(r"\bevery\s+(hour|minute|business day)\b", text, re.I)
        if not every:
            return None
        amount, unit = 1, every.group(1).lower()
    if unit.startswith("minute"):
        return Target(amount / 60, "hours")
    if unit.startswith("business day"):
        return Target(amount, "days")
    return Target(amount, "hours")


def _section(text: str, heading: str) -> str:
    match = re.search(rf"^##\s+{re.escape(heading)}\s*$(.*?)(?=^##\s|\Z)", text, re.M | re.S | re.I)
    if not match:
        raise ArticleFormatError(f"no '## {heading}' section")
    return match.group(1)


def _days_in(text: str) -> frozenset[int]:
    span = re.search(r"\b(\w+day)s?\s+(?:through|to|until|-|–)\s+(\w+day)s?\b", text, re.I)
    if span and span.group(1).lower() in DAY_NAMES and span.group(2).lower() in DAY_NAMES:
        first, last = DAY_NAMES.index(span.group(1).lower()), DAY_NAMES.index(span.group(2).lower())
        return frozenset(range(first, last + 1))
    named = {DAY_NAMES.index(w.lower()) for w in re.findall(r"\b(\w+day)s?\b", text)
             if w.lower() in DAY_NAMES}
    if not named:
        raise ArticleFormatError(f"no days of the week in {text!r}")
    return frozenset(named)


def _zone(text: str) -> str:
    for word, zone in ZONE_WORDS.items():
        if re.search(rf"\b{word}\b", text, re.I):
            return zone
    raise ArticleFormatError(f"no time zone (Eastern, Pacific, ...) in {text!r}")


def _bullet(section: str, label: str) -> str:
    match = re.search(rf"^\s*[-*]\s+\*\*{re.escape(label)}:?\*\*:?(.*)$", section, re.M | re.I)
    if not match:
        raise ArticleFormatError(f"no '**{label}:**' line")
    return match.group(1)


def article_figures(text: str) -> Figures:
    """Every figure the policy article states, read from its table and sections."""
    figures = Figures()
    rows = re.findall(r"^\|\s*\*\*Severity\s+(\d)\*\*\s*\|([^|]*)\|([^|]*)\|([^|]*)\|", text,
                      re.M)
    if not rows:
        raise ArticleFormatError("no severity table rows ('| **Severity 1** | ...')")
    for level, _meaning, first, after in rows:
        level = int(level)
        target = parse_duration(first)
        if target is None:
            raise ArticleFormatError(f"no first-response time for Severity {level}")
        figures.first_response[level] = target
        if level == 1:
            counted = first.split("(")[0]
            figures.severity1_hours = _clock_pair(counted, "the Severity 1 row")
            # No days named means the clock runs every day, weekends included.
            named = re.search(r"\b(?:mon|tues|wednes|thurs|fri|satur|sun)day", counted, re.I)
            figures.severity1_days = _days_in(counted) if named else frozenset(range(7))
            pacific = re.search(r"\(([^)]*Pacific[^)]*)\)", first)
            if pacific:
                figures.severity1_pacific = _clock_pair(pacific.group(1), "the Pacific times")
        figures.update_every[level] = parse_duration(after) if re.search(
            r"\bevery\b", after, re.I) else None
        figures.substantive[level] = parse_duration(after) if re.search(
            r"\bsubstantive\b", after, re.I) else None

    hours = _section(text, "Business hours")
    figures.business_days = _days_in(hours.split(",")[0])
    figures.business_hours = _clock_pair(hours, "Business hours")
    figures.zone = _zone(hours)
    holidays = re.search(r"\b(US|United States)\s+federal\s+holidays\b", hours, re.I)
    figures.holidays = "US" if holidays else None

    contact = _section(text, "How to contact support")
    email = re.search(r"mailto:([^)\s]+)", _bullet(contact, "Email"))
    figures.email = email.group(1) if email else None
    phone = re.search(r"\*\*([^*]+)\*\*|(\+?[\d() .-]{7,})", _bullet(contact, "Phone"))
    figures.phone = (phone.group(1) or phone.group(2)).strip() if phone else None
    site = re.search(r"\((https?://[^)\s]+)\)|(https?://\S+)", _bullet(contact, "Support site"))
    figures.site_url = (site.group(1) or site.group(2)) if site else None

    maintenance = _bullet(_section(text, "Availability and maintenance"), "Scheduled maintenance")
    figures.maintenance_anytime = (frozenset({5, 6}) if re.search(r"\bweekends?\b", maintenance,
                                                                  re.I) else frozenset())
    weekday = re.search(rf"weekdays?\b[^.]*?({CLOCK})\s*(?:and|to|until|-|–)\s*({CLOCK})",
                        maintenance, re.I)
    if not weekday:
        raise ArticleFormatError("no weekday maintenance hours")
    figures.maintenance_weekday_hours = (parse_clock(weekday.group(1)),
                                         parse_clock(weekday.group(2)))
    return figures


def _pacific(hours: tuple[time, time], zone: str) -> tuple[time, time]:
    day = date(2026, 1, 14)  # US zones switch daylight saving together: any day will do
    here, there = ZoneInfo(zone), ZoneInfo("America/Los_Angeles")
    return tuple(datetime.combine(day, t, tzinfo=here).astimezone(there).time() for t in hours)


def _show(value: Any) -> str:
    """Figures in words for the failure message: '8:00 AM–8:00 PM', 'Mon, Tue'."""
    if isinstance(value, tuple) and all(isinstance(v, time) for v in value):
        return "–".join(format_clock(v) for v in value)
    if isinstance(value, list) and all(isinstance(v, int) for v in value):
        return ", ".join(DAY_NAMES[v][:3].capitalize() for v in value) or "no days"
    return str(value)


def _day_set(names) -> frozenset[int]:
    return frozenset(DAY_KEYS.index(str(d).strip().lower()[:3]) for d in names)


def _words(target: Target | None) -> str:
    if target is None:
        return "nothing"
    amount = f"{target.amount:g}"
    return f"{amount} business day(s)" if target.unit == "days" else f"{amount} hour(s)"


def disagreements(text: str, settings: Mapping[str, Any]) -> list[str]:
    """Where the article and the settings disagree, in words; [] when they agree.
    An article whose figures cannot be found counts as a disagreement."""
    try:
        found = article_figures(text)
    except ArticleFormatError as exc:
        return [f"article: {exc}"]
    problems = []

    def differ(what: str, article: Any, setting: Any, key: str) -> None:
        if article != setting:
            problems.append(f"{what}: the article says {_show(article)}, settings say "
                            f"{_show(setting)} ({key}={settings.get(key)!r})")

    for level in (1, 2, 3):
        if level not in found.first_response:
            problems.append(f"article: no row for Severity {level}")
            continue
        for kind, table in (("FIRST_RESPONSE", found.first_response),
                            ("UPDATE_EVERY", found.update_every),
                            ("SUBSTANTIVE", found.substantive)):
            key = f"SEVERITY{level}_{kind}"
            setting = Target.parse(settings.get(key, ""))
            differ(f"Severity {level} {kind.lower().replace('_', ' ')}",
                   _words(table.get(level)), _words(setting), key)
    hours = parse_hours(settings["BUSINESS_HOURS"])
    differ("Severity 1 counted hours", found.severity1_hours, hours, "BUSINESS_HOURS")
    differ("Severity 1 counted days", sorted(found.severity1_days or ()),
           sorted(_day_set(settings["SEVERITY1_DAYS"])), "SEVERITY1_DAYS")
    if found.severity1_pacific is not None:
        differ("Severity 1 hours in Pacific time", found.severity1_pacific,
               _pacific(hours, settings["BUSINESS_TIMEZONE"]), "BUSINESS_HOURS")
    differ("Business hours", found.business_hours, hours, "BUSINESS_HOURS")
    differ("Business days", sorted(found.business_days or ()),
           sorted(_day_set(settings["BUSINESS_DAYS"])), "BUSINESS_DAYS")
    differ("Time zone", found.zone, settings["BUSINESS_TIMEZONE"], "BUSINESS_TIMEZONE")
    differ("Holidays", found.holidays, settings["BUSINESS_HOLIDAYS"] or None, "BUSINESS_HOLIDAYS")
    differ("Support email", found.email, settings["SUPPORT_EMAIL"], "SUPPORT_EMAIL")
    differ("Support phone", found.phone, settings["SUPPORT_PHONE"], "SUPPORT_PHONE")
    differ("Support site", found.site_url, settings["SUPPORT_SITE_URL"], "SUPPORT_SITE_URL")
    differ("Maintenance any-time days", sorted(found.maintenance_anytime or ()),
           sorted(_day_set(settings["MAINTENANCE_ANYTIME_DAYS"])), "MAINTENANCE_ANYTIME_DAYS")
    differ("Maintenance weekday hours", found.maintenance_weekday_hours,
           parse_hours(settings["MAINTENANCE_WEEKDAY_HOURS"]), "MAINTENANCE_WEEKDAY_HOURS")
    return problems


def maintenance_table_disagreements(text: str, settings: Mapping[str, Any]) -> list[str]:
    """The maintenance article's table (days -> window) against the MAINTENANCE_* settings."""
    rows = re.findall(r"^\|\s*([^|]*?day[^|]*?)\s*\|\s*([^|]+?)\s*\|\s*$", text, re.M | re.I)
    rows = [(days, window) for days, window in rows
            if any(name in days.lower() for name in DAY_NAMES)]  # not the header row
    if not rows:
        return ["article: no maintenance window table ('| Monday to Friday | ... |')"]
    anytime: set[int] = set()
    problems = []
    weekday_hours = parse_hours(settings["MAINTENANCE_WEEKDAY_HOURS"])
    for days_text, window in rows:
        try:
            days = _days_in(days_text)
            if re.search(r"\bany\s*time\b", window, re.I):
                anytime |= days
                continue
            hours = _clock_pair(window, "the maintenance table")
        except ArticleFormatError as exc:
            problems.append(f"article: {exc}")
            continue
        if hours != weekday_hours:
            problems.append(f"Maintenance hours on {days_text}: the article says "
                            f"{_show(hours)}, settings say {_show(weekday_hours)} "
                            f"(MAINTENANCE_WEEKDAY_HOURS)")
    expected = _day_set(settings["MAINTENANCE_ANYTIME_DAYS"])
    if frozenset(anytime) != expected:
        problems.append(f"Maintenance any-time days: the article says "
                        f"{_show(sorted(anytime))}, settings say {_show(sorted(expected))} "
                        f"(MAINTENANCE_ANYTIME_DAYS)")
    return problems
