"""The Atom and iCalendar feeds of notices parse back with real parsers."""

from __future__ import annotations

import xml.etree.ElementTree as ET_XML
from datetime import datetime
from zoneinfo import ZoneInfo

import icalendar
import pytest

from portal.extensions import db
from portal.models import Notice, NoticeKind, NoticeUpdate

ET = ZoneInfo("America/New_York")
ATOM = "{http://www.w3.org/2005/Atom}"


def parse_atom(data: bytes) -> ET_XML.Element:
    return ET_XML.fromstring(data)  # noqa: S314 - our own feed, parsed back in a test


@pytest.fixture
def app(make_app):
    now = datetime(2026, 12, 7, 10, 0, tzinfo=ET)
    app = make_app(CLOCK=lambda: now, SITE_URL="https://help.bitumio.com")
    with app.app_context():
        incident = Notice(kind=NoticeKind.INCIDENT, title="Reports <slow> & failing",
                          description="Exports time out.", revision=2,
                          starts_at=datetime(2026, 12, 7, 9, 0, tzinfo=ET), ends_at=None,
                          created_at=datetime(2026, 12, 7, 9, 5, tzinfo=ET),
                          updated_at=datetime(2026, 12, 7, 9, 30, tzinfo=ET))
        incident.updates.append(NoticeUpdate(body="Cause found; fix deploying.",
                                             created_at=datetime(2026, 12, 7, 9, 30, tzinfo=ET)))
        upcoming = Notice(kind=NoticeKind.MAINTENANCE, title="Database upgrade", description="",
                          starts_at=datetime(2026, 12, 12, 2, 0, tzinfo=ET),
                          ends_at=datetime(2026, 12, 12, 5, 30, tzinfo=ET), revision=3,
                          created_at=datetime(2026, 12, 1, 9, 0, tzinfo=ET),
                          updated_at=datetime(2026, 12, 2, 9, 0, tzinfo=ET))
        past = Notice(kind=NoticeKind.MAINTENANCE, title="Storage move", description="",
                      starts_at=datetime(2026, 11, 28, 1, 0, tzinfo=ET),
                      ends_at=datetime(2026, 11, 28, 2, 0, tzinfo=ET), revision=1,
                      created_at=datetime(2026, 11, 20, 9, 0, tzinfo=ET),
                      updated_at=datetime(2026, 11, 20, 9, 0, tzinfo=ET))
        db.session.add_all([incident, upcoming, past])
        db.session.commit()
    return app


def test_atom_feed_parses_and_lists_every_notice(client):
    response = client.get("/status/feed.atom")
    assert response.mimetype == "application/atom+xml"
    feed = parse_atom(response.data)
    assert feed.tag == f"{ATOM}feed"
    assert feed.findtext(f"{ATOM}title") == "Bitumio service status"
    assert feed.find(f"{ATOM}link[@rel='self']").get("href") == (
        "https://help.bitumio.com/status/feed.atom")
    assert datetime.fromisoformat(feed.findtext(f"{ATOM}updated")) == datetime(
        2026, 12, 7, 9, 30, tzinfo=ET)
    entries = feed.findall(f"{ATOM}entry")
    titles = [e.findtext(f"{ATOM}title") for e in entries]
    assert titles == ["Incident: Reports <slow> & failing (in progress)",
                      "Maintenance: Database upgrade (upcoming)",
                      "Maintenance: Storage move (ended)"]  # newest change first
    first = entries[0]
    assert first.findtext(f"{ATOM}id").startswith("tag:help.bitumio.com,")
    assert first.find(f"{ATOM}category").get("term") == "incident"
    content = first.findtext(f"{ATOM}content")
    assert "Cause found; fix deploying." in content and "Exports time out." in content
    assert first.find(f"{ATOM}link").get("href").endswith("/status#notice-1")
    assert len({e.findtext(f"{ATOM}id") for e in entries}) == 3


def test_icalendar_feed_has_one_event_per_maintenance_window(client):
    response = client.get("/status/maintenance.ics")
    assert response.mimetype == "text/calendar"
    calendar = icalendar.Calendar.from_ical(response.data)
    assert str(calendar["version"]) == "2.0"
    events = calendar.walk("VEVENT")
    assert [str(e["summary"]) for e in events] == ["Maintenance: Database upgrade",
                                                    "Maintenance: Storage move"]
    upgrade = events[0]
    assert upgrade.decoded("dtstart") == datetime(2026, 12, 12, 2, 0, tzinfo=ET)
    assert upgrade.decoded("dtend") == datetime(2026, 12, 12, 5, 30, tzinfo=ET)
    assert str(upgrade["uid"]) == "maintenance-2@help.bitumio.com"
    assert int(upgrade["sequence"]) == 2
    assert str(upgrade["url"]) == "https://help.bitumio.com/status#notice-2"


def test_feeds_are_valid_when_there_is_nothing_to_announce(make_app):
    client = make_app().test_client()
    feed = parse_atom(client.get("/status/feed.atom").data)
    assert feed.findall(f"{ATOM}entry") == []
    assert feed.findtext(f"{ATOM}updated")
    calendar = icalendar.Calendar.from_ical(client.get("/status/maintenance.ics").data)
    assert calendar.walk("VEVENT") == []
