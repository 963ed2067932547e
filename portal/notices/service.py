"""Notice rules with the database: create, edit, update, resolve; banner and status lists."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import or_, select

from portal.calendar import format_moment
from portal.extensions import db
from portal.models import Notice, NoticeKind, NoticeUpdate, User
from portal.notices import quiet, rules

MAX_WINDOW = timedelta(days=7)


class NoticeError(ValueError):
    """A rule was broken; the message is safe to show to the admin."""


@dataclass
class NoticeData:
    kind: NoticeKind
    title: str
    description: str
    starts_at: datetime | None
    ends_at: datetime | None


def off_hours() -> rules.OffHours:
    """The suggested maintenance windows (MAINTENANCE_WEEKDAY_HOURS, MAINTENANCE_ANYTIME_DAYS)."""
    return rules.OffHours.from_settings(current_app.config)


def maintenance_policy() -> rules.MaintenancePolicy:
    """What scheduled maintenance may use (MAINTENANCE_POLICY on the business calendar)."""
    return rules.MaintenancePolicy.from_settings(current_app.config)


def zone() -> ZoneInfo:
    return ZoneInfo(current_app.config["BUSINESS_TIMEZONE"])


def label() -> str:
    return current_app.config["BUSINESS_TIMEZONE_LABEL"]


def moment(value: datetime) -> str:
    return format_moment(value.astimezone(zone()), label())


def check(data: NoticeData, now: datetime, existing: Notice | None = None) -> None:
    """Raise NoticeError when the notice breaks a rule; scheduled maintenance must sit
    wholly inside what the maintenance policy allows (by default: outside business hours)."""
    if not data.title.strip():
        raise NoticeError("Give the notice a title.")
    if data.starts_at is None:
        raise NoticeError("Say when it starts." if data.kind == NoticeKind.MAINTENANCE
                          else "Say when the problem started.")
    if data.kind == NoticeKind.INCIDENT:
        if data.ends_at is not None and data.ends_at <= data.starts_at:
            raise NoticeError("The resolution time must come after the start.")
        return
    if data.ends_at is None:
        raise NoticeError("Say when the maintenance window ends.")
    if data.ends_at <= data.starts_at:
        raise NoticeError("The window must end after it starts.")
    if data.ends_at - data.starts_at > MAX_WINDOW:
        raise NoticeError("A maintenance window can last at most 7 days.")
    if existing is None and data.ends_at <= now:
        raise NoticeError("That window is already over. Check the date.")
    verdict = maintenance_policy().judge(data.starts_at, data.ends_at)
    if not verdict.allowed:
        raise NoticeError(verdict.message)


def maintenance_note(data: NoticeData) -> str:
    """For an allowed maintenance window outside the suggested ones, a note for the admin."""
    if data.kind != NoticeKind.MAINTENANCE or data.starts_at is None or data.ends_at is None:
        return ""
    verdict = maintenance_policy().judge(data.starts_at, data.ends_at)
    return verdict.message if verdict.allowed else ""


def create(data: NoticeData, author: User | None, now: datetime) -> Notice:
    check(data, now)
    notice = Notice(kind=data.kind, title=data.title.strip(),
                    description=data.description.strip(), starts_at=data.starts_at,
                    ends_at=data.ends_at, created_by_id=author.id if author else None,
                    created_at=now, updated_at=now, revision=1)
    db.session.add(notice)
    db.session.flush()
    return notice


def edit(notice: Notice, data: NoticeData, now: datetime) -> None:
    data.kind = NoticeKind(notice.kind)  # the kind of a notice never changes
    check(data, now, existing=notice)
    changed = (notice.title, notice.description, notice.starts_at, notice.ends_at) != (
        data.title.strip(), data.description.strip(), data.starts_at, data.ends_at)
    if not changed:
        return
    notice.title, notice.description = data.title.strip(), data.description.strip()
    notice.starts_at, notice.ends_at = data.starts_at, data.ends_at
    _touch(notice, now)


def add_update(notice: Notice, body: str, author: User | None, now: datetime) -> NoticeUpdate:
    body = body.strip()
    if not body:
        raise NoticeError("Write the update first.")
    update = NoticeUpdate(body=body, author_id=author.id if author else None, created_at=now)
    notice.updates.append(update)
    _touch(notice, now)
    return update


def resolve(notice: Notice, body: str, author: User | None, now: datetime) -> None:
    """End an incident (or a maintenance window early) now, with an optional last word."""
    if rules.phase(notice.is_maintenance, notice.starts_at, notice.ends_at, now) == rules.ENDED:
        raise NoticeError("This notice has already ended.")
    notice.ends_at = max(now, notice.starts_at)
    if body.strip():
        add_update(notice, body, author, now)
    _touch(notice, now)


def delete(notice: Notice) -> None:
    db.session.delete(notice)


def _touch(notice: Notice, now: datetime) -> None:
    notice.updated_at = now
    notice.revision = (notice.revision or 0) + 1


def get(notice_id: int) -> Notice | None:
    return db.session.get(Notice, notice_id)


# -- what readers see -----------------------------------------------------------------------

@dataclass
class Shown:
    """A notice as shown to readers, with its phase and times in words."""

    notice: Notice
    phase: str
    when: str

    @property
    def key(self) -> str:
        """What a dismissal remembers: a change or a phase change shows the banner again."""
        return f"{self.notice.revision}:{self.phase}"


def shown(notice: Notice, now: datetime) -> Shown:
    return Shown(notice, rules.phase(notice.is_maintenance, notice.starts_at, notice.ends_at,
                                     now),
                 rules.format_range(notice.starts_at, notice.ends_at, zone(), label()))


def banner(now: datetime, dismissed: Mapping[str, str] | None = None) -> list[Shown]:
    """Ongoing notices, and maintenance starting within NOTICE_BANNER_HOURS, minus those
    this reader dismissed in their current state. Incidents first, then by start."""
    if quiet.is_quiet(now):
        return []
    lead = timedelta(hours=current_app.config["NOTICE_BANNER_HOURS"])
    changes_before = quiet.changes()
    query = (select(Notice)
             .where(Notice.starts_at <= now + lead + quiet.horizon())
             .where(or_(Notice.ends_at.is_(None), Notice.ends_at > now))
             .order_by(Notice.starts_at, Notice.id))
    candidates = list(db.session.scalars(query))
    if not candidates:
        quiet.remember_quiet(now, changes_before)
    dismissed = dismissed or {}
    items = []
    for notice in candidates:
        if notice.starts_at > now + lead:
            continue  # looked further ahead only so that an empty answer can be remembered
        item = shown(notice, now)
        if item.phase == rules.ENDED:
            continue
        if item.phase == rules.UPCOMING and not notice.is_maintenance:
            continue
        if dismissed.get(str(notice.id)) == item.key:
            continue
        items.append(item)
    items.sort(key=lambda i: (i.phase != rules.ONGOING, i.notice.is_maintenance,
                              i.notice.starts_at))
    return items


@dataclass
class Overview:
    ongoing: list[Shown]
    upcoming: list[Shown]
    history: list[Shown]

    @property
    def state(self) -> str:
        """'incident', 'maintenance' or 'ok': what the headline of /status says."""
        if any(not s.notice.is_maintenance for s in self.ongoing):
            return "incident"
        return "maintenance" if self.ongoing else "ok"


def overview(now: datetime) -> Overview:
    """Everything /status and the feeds show: current, upcoming, and recent history."""
    since = now - timedelta(days=current_app.config["NOTICE_HISTORY_DAYS"])
    query = (select(Notice)
             .where(or_(Notice.ends_at.is_(None), Notice.ends_at > since))
             .order_by(Notice.starts_at.desc(), Notice.id.desc()))
    result = Overview([], [], [])
    for notice in db.session.scalars(query):
        item = shown(notice, now)
        {rules.ONGOING: result.ongoing, rules.UPCOMING: result.upcoming,
         rules.ENDED: result.history}[item.phase].append(item)
    result.upcoming.reverse()  # soonest first
    return result


def admin_list(now: datetime) -> Overview:
    """Every notice, for the admin page (history not limited)."""
    result = Overview([], [], [])
    for notice in db.session.scalars(select(Notice).order_by(Notice.starts_at.desc(),
                                                             Notice.id.desc()).limit(500)):
        item = shown(notice, now)
        {rules.ONGOING: result.ongoing, rules.UPCOMING: result.upcoming,
         rules.ENDED: result.history}[item.phase].append(item)
    result.upcoming.reverse()
    return result
