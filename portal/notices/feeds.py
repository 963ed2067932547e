"""Notice feeds: Atom (feedgen) for every notice, iCalendar (icalendar) for maintenance."""

from __future__ import annotations

from datetime import datetime
from urllib.parse import urlsplit

import icalendar
from feedgen.feed import FeedGenerator

from portal.notices.service import Overview, Shown, moment

PHASE_WORDS = {"upcoming": "Upcoming", "ongoing": "In progress", "ended": "Ended"}


def _host(site_url: str) -> str:
    return urlsplit(site_url).hostname or "localhost"


def entry_text(item: Shown) -> str:
    """Plain text of a notice: status, when, what, then every update, newest first."""
    notice = item.notice
    lines = [f"{notice.kind.label} — {PHASE_WORDS[item.phase]}", f"When: {item.when}", ""]
    if notice.description:
        lines += [notice.description, ""]
    for update in reversed(notice.updates):
        lines.append(f"Update {moment(update.created_at)}: {update.body}")
    return "\n".join(lines).strip()


def atom(overview: Overview, *, title: str, author: str, site_url: str, feed_url: str,
         status_url: str, now: datetime) -> bytes:
    """An Atom 1.0 feed of current, upcoming and recent notices, newest change first."""
    items = overview.ongoing + overview.upcoming + overview.history
    items.sort(key=lambda i: (i.notice.updated_at, i.notice.id), reverse=True)
    host = _host(site_url)
    feed = FeedGenerator()
    feed.id(f"tag:{host},2024:notices")
    feed.title(title)
    feed.subtitle("Scheduled maintenance and unscheduled incidents")
    feed.link(href=feed_url, rel="self", type="application/atom+xml")
    feed.link(href=status_url, rel="alternate", type="text/html")
    feed.language("en")
    feed.updated(items[0].notice.updated_at if items else now)
    for item in reversed(items):  # feedgen prepends each new entry
        notice = item.notice
        entry = feed.add_entry()
        entry.id(f"tag:{host},2024:notice-{notice.id}")
        entry.title(f"{'Maintenance' if notice.is_maintenance else 'Incident'}: "
                    f"{notice.title} ({PHASE_WORDS[item.phase].lower()})")
        entry.updated(notice.updated_at)
        entry.published(notice.created_at)
        entry.link(href=f"{status_url}#notice-{notice.id}", rel="alternate")
        entry.category(term=notice.kind.value, label=notice.kind.label)
        entry.content(entry_text(item), type="text")
        entry.author(name=author)
    return feed.atom_str(pretty=True)


def maintenance_ics(overview: Overview, *, name: str, site_url: str, status_url: str,
                    now: datetime) -> bytes:
    """An iCalendar file with one event per maintenance window (times in UTC)."""
    calendar = icalendar.Calendar()
    calendar.add("prodid", f"-//{name}//Maintenance windows//EN")
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add("x-wr-calname", name)
    calendar.add("refresh-interval", icalendar.vDuration.from_ical("PT1H"),
                 parameters={"VALUE": "DURATION"})
    host = _host(site_url)
    for item in overview.upcoming + overview.ongoing + overview.history:
        notice = item.notice
        if not notice.is_maintenance or notice.ends_at is None:
            continue
        event = icalendar.Event()
        event.add("uid", f"maintenance-{notice.id}@{host}")
        event.add("dtstamp", now)
        event.add("dtstart", notice.starts_at)
        event.add("dtend", notice.ends_at)
        event.add("summary", f"Maintenance: {notice.title}")
        event.add("description", entry_text(item))
        event.add("url", f"{status_url}#notice-{notice.id}")
        event.add("sequence", max(notice.revision - 1, 0))
        event.add("last-modified", notice.updated_at)
        event.add("created", notice.created_at)
        event.add("status", "CONFIRMED")
        event.add("transp", "TRANSPARENT")
        event.add("categories", ["Maintenance"])
        calendar.add_component(event)
    return calendar.to_ical()
