"""iCalendar invitations for training sessions (RFC 5545, built with `icalendar`)."""

from __future__ import annotations

from datetime import datetime
from urllib.parse import urlsplit

import icalendar

from portal.models import TrainingSession, User


def invitation(session: TrainingSession, user: User, *, product: str, organizer_email: str,
               session_url: str, now: datetime, cancelled: bool = False) -> bytes:
    """A METHOD:REQUEST invitation for an enrolled user (METHOD:CANCEL once they cancel)."""
    host = urlsplit(session_url).hostname or "localhost"
    calendar = icalendar.Calendar()
    calendar.add("prodid", f"-//{product}//Training//EN")
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "CANCEL" if cancelled else "REQUEST")
    event = icalendar.Event()
    event.add("uid", f"training-{session.id}-user-{user.id}@{host}")
    event.add("dtstamp", now)
    event.add("dtstart", session.starts_at)
    event.add("dtend", session.ends_at)
    event.add("summary", f"{product} training: {session.title}")
    details = [session.description, "", "How to join:", session.joining_details, "",
               f"Session page (cancel your seat here): {session_url}"]
    event.add("description", "\n".join(line for line in details if line is not None).strip())
    location = next((line.strip() for line in session.joining_details.splitlines()
                     if line.strip()), "Online")
    event.add("location", location)
    event.add("url", session_url)
    event.add("sequence", session.revision)
    event.add("status", "CANCELLED" if cancelled else "CONFIRMED")
    organizer = icalendar.vCalAddress(f"mailto:{organizer_email}")
    organizer.params["cn"] = icalendar.vText(f"{product} Training")
    event.add("organizer", organizer)
    attendee = icalendar.vCalAddress(f"mailto:{user.email}")
    attendee.params["cn"] = icalendar.vText(user.name)
    attendee.params["role"] = icalendar.vText("REQ-PARTICIPANT")
    attendee.params["partstat"] = icalendar.vText("DECLINED" if cancelled else "ACCEPTED")
    event.add("attendee", attendee)
    alarm = icalendar.Alarm()
    alarm.add("action", "DISPLAY")
    alarm.add("description", f"{session.title} starts in 15 minutes")
    alarm.add("trigger", icalendar.vDuration.from_ical("-PT15M"))
    event.add_component(alarm)
    calendar.add_component(event)
    return calendar.to_ical()
