"""Record every administrative change: who, what, before and after, when.

The actor is the signed-in admin for changes made in the console, or the command line
(with the operating-system user) for `flask users|orgs ...`.
"""

from __future__ import annotations

import csv
import getpass
import io
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Select, func, select

from portal.extensions import db
from portal.models import AuditEvent, Organisation, User
from portal.models.accounts import utcnow


@dataclass(frozen=True)
class Actor:
    id: int | None
    label: str

    @classmethod
    def of(cls, user: User) -> Actor:
        return cls(user.id, user.email)

    @classmethod
    def command_line(cls) -> Actor:
        try:
            who = getpass.getuser()
        except (KeyError, OSError):
            who = "unknown"
        return cls(None, f"command line ({who})")

    @classmethod
    def automatic(cls, why: str) -> Actor:
        """A change the portal made by rule (for example a domain auto-join)."""
        return cls(None, f"automatic ({why})")


def record(actor: Actor, action: str, target: User | Organisation,
           before: dict[str, Any] | None = None, after: dict[str, Any] | None = None,
           now: datetime | None = None) -> AuditEvent:
    """Add an audit row for a change to `target`. The caller commits with the change."""
    if isinstance(target, User):
        kind, label = "user", target.email
    else:
        kind, label = "organisation", target.name
    event = AuditEvent(created_at=now or utcnow(), actor_id=actor.id, actor=actor.label[:300],
                       action=action, target_type=kind, target_id=target.id,
                       target=label[:300], before=before or {}, after=after or {})
    db.session.add(event)
    return event


# -- reading the log -------------------------------------------------------------------

ACTIONS = {
    "user.create": "Created a person", "user.invite": "Invited a person",
    "user.set_role": "Changed a role", "user.attach": "Attached to an organisation",
    "user.detach": "Detached from an organisation", "user.deactivate": "Deactivated",
    "user.reactivate": "Reactivated", "user.reset_link": "Sent a password-reset link",
    "org.create": "Created an organisation", "org.rename": "Renamed an organisation",
    "org.add_domain": "Added an email domain", "org.remove_domain": "Removed an email domain",
    "org.suspend": "Suspended support", "org.resume": "Resumed support",
}


@dataclass(frozen=True)
class Filters:
    actor: str = ""  # part of the actor's address or "command line"
    action: str = ""  # one of ACTIONS, or ""
    target: str = ""  # part of the address or name changed
    since: date | None = None  # business-time-zone dates, inclusive
    until: date | None = None

    def query(self, zone: ZoneInfo) -> Select:
        statement = select(AuditEvent)
        if self.actor.strip():
            statement = statement.where(
                func.lower(AuditEvent.actor).contains(self.actor.strip().lower(), autoescape=True))
        if self.action:
            statement = statement.where(AuditEvent.action == self.action)
        if self.target.strip():
            statement = statement.where(
                func.lower(AuditEvent.target).contains(self.target.strip().lower(),
                                                       autoescape=True))
        if self.since:
            statement = statement.where(AuditEvent.created_at >= _start_of(self.since, zone))
        if self.until:
            statement = statement.where(
                AuditEvent.created_at < _start_of(self.until + timedelta(days=1), zone))
        return statement.order_by(AuditEvent.created_at.desc(), AuditEvent.id.desc())

    def args(self) -> dict[str, str]:
        """The filters as query-string arguments (for links and the CSV export)."""
        values = {"actor": self.actor, "action": self.action, "target": self.target,
                  "since": self.since.isoformat() if self.since else "",
                  "until": self.until.isoformat() if self.until else ""}
        return {key: value for key, value in values.items() if value}


def _start_of(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time(0), tzinfo=zone).astimezone(UTC)


def describe(values: dict[str, Any]) -> str:
    """{'role': 'agent', 'organisation': None} -> 'role: agent; organisation: (none)'."""
    return "; ".join(f"{key}: {'(none)' if value in (None, '') else value}"
                     for key, value in values.items())


CSV_COLUMNS = ["when (UTC)", "actor", "action", "target type", "target id", "target",
               "before", "after"]


def to_csv(events: Iterable[AuditEvent]) -> Iterator[str]:
    """The events as CSV lines (a generator, for a streamed download). Cells that a
    spreadsheet would run as a formula are quoted with a leading apostrophe."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")

    def line(values: list[Any]) -> str:
        writer.writerow([_cell(v) for v in values])
        text = out.getvalue()
        out.seek(0)
        out.truncate()
        return text

    yield line(CSV_COLUMNS)
    for event in events:
        yield line([event.created_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S"), event.actor,
                    event.action, event.target_type, event.target_id or "", event.target,
                    json.dumps(event.before, sort_keys=True, default=str),
                    json.dumps(event.after, sort_keys=True, default=str)])


def _cell(value: Any) -> Any:
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value
