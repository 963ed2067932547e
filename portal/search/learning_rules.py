"""The rules of learning from readers, as pure functions of what was recorded.

For one query and one article, a *reader* is everything that can be tied to one
person: clicks that share a visitor id, an account or a network (hashed IP)
are merged, so one person repeating themselves, opening new browsers or
cycling visitor ids from one address is still one reader. A reader counts
for the pair when they were helped and never showed otherwise:

- not helped: their account answered "No" under the article, or filed a ticket
  within the ticket window after opening it;
- helped: their account answered "Yes", or the ticket window has passed with
  no ticket (until then the reader is *waiting*);
- a ticket whose visit searched the query and read the article (tickets keep
  both) but whose requester cannot be tied to any reader cancels one reader
  without an account who opened the article in the window before it: we do not
  know which signed-out reader filed it, only that one of them was not helped.

The boost grows with the log of the readers' summed weights (each halves every
half-life from their last helpful click) up to a cap, and is zero below the
minimum number of readers.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import NamedTuple


@dataclass(frozen=True)
class Policy:
    """The learning settings, checked (a bad value names its variable)."""

    min_readers: int = 3
    max_boost: float = 0.3
    full_readers: int = 100
    half_life_days: float = 30.0
    window_days: int = 90
    ticket_hours: float = 24.0

    @classmethod
    def from_config(cls, config: Mapping) -> Policy:
        policy = cls(
            min_readers=int(config["SEARCH_LEARN_MIN_READERS"]),
            max_boost=float(config["SEARCH_LEARN_MAX_BOOST"]),
            full_readers=int(config["SEARCH_LEARN_FULL_READERS"]),
            half_life_days=float(config["SEARCH_LEARN_HALF_LIFE_DAYS"]),
            window_days=int(config["SEARCH_LEARN_WINDOW_DAYS"]),
            ticket_hours=float(config["DEFLECTION_WINDOW_HOURS"]),
        )
        checks = [
            (policy.min_readers >= 1, "PORTAL_SEARCH_LEARN_MIN_READERS", "at least 1"),
            (0 <= policy.max_boost <= 1.5, "PORTAL_SEARCH_LEARN_MAX_BOOST", "from 0 to 1.5"),
            (policy.full_readers >= 1, "PORTAL_SEARCH_LEARN_FULL_READERS", "at least 1"),
            (policy.half_life_days > 0, "PORTAL_SEARCH_LEARN_HALF_LIFE_DAYS", "more than 0"),
            (policy.window_days >= 1, "PORTAL_SEARCH_LEARN_WINDOW_DAYS", "at least 1"),
            (policy.ticket_hours >= 0, "PORTAL_DEFLECTION_WINDOW_HOURS", "0 or more"),
        ]
        for ok, name, wanted in checks:
            if not ok:
                raise ValueError(f"{name} must be {wanted}")
        return policy

    @property
    def window(self) -> timedelta:
        return timedelta(days=self.window_days)

    @property
    def ticket_window(self) -> timedelta:
        return timedelta(hours=self.ticket_hours)

    def weight(self, age: timedelta) -> float:
        """A reader's weight: 1 when they were just helped, halving every half-life."""
        return 0.5 ** (max(age.total_seconds(), 0.0) / 86400 / self.half_life_days)

    def boost(self, weight: float) -> float:
        """The boost for readers of this summed weight: log growth, full at full_readers."""
        return self.max_boost * min(1.0, math.log1p(weight) / math.log1p(self.full_readers))


class Click(NamedTuple):
    at: datetime
    query: str  # the search's normalized text
    slug: str  # the article's current slug
    visitor: str
    network: str | None  # keyed hash of the IP; None for clicks recorded before it was kept
    user_id: int | None  # the account the search was made under


@dataclass(frozen=True)
class TicketTrail:
    at: datetime
    requester_id: int | None
    queries: frozenset[str]  # normalized searches of the visit that filed it
    slugs: frozenset[str]  # articles read in that visit (current slugs)


@dataclass
class Evidence:
    clicks: list[Click]
    votes: dict[tuple[int, str], bool] = field(default_factory=dict)  # (user, slug) -> helpful
    tickets: list[TicketTrail] = field(default_factory=list)
    accounts: dict[str, set[int]] = field(default_factory=dict)  # visitor -> accounts seen
    resets: list[tuple[str, str, datetime]] = field(default_factory=list)  # query, slug, at


@dataclass(frozen=True)
class LearnedBoost:
    """What readers taught search about one query and one article."""

    query: str
    slug: str
    readers: int  # readers who were helped, in the window
    weight: float  # their summed weights (each decays with the age of their last click)
    boost: float  # 0 below the minimum number of readers
    last_seen: datetime
    waiting: int = 0  # readers not yet known to be helped (the ticket window is open)


@dataclass
class _Reader:
    clicks: list[Click]
    accounts: set[int]
    cancelled: bool = False

    @property
    def last_click(self) -> datetime:
        return max(c.at for c in self.clicks)


class _Cutoffs:
    """The latest reset that covers a query and article: clicks up to it do not count."""

    def __init__(self, resets: Iterable[tuple[str, str, datetime]]):
        self.latest: dict[tuple[str, str], datetime] = {}
        for query, slug, at in resets:
            key = (query, slug)
            if key not in self.latest or at > self.latest[key]:
                self.latest[key] = at

    def of(self, query: str, slug: str, floor: datetime) -> datetime:
        """Clicks must be later than this (floor: the start of the window)."""
        for key in ((query, slug), (query, ""), ("", slug), ("", "")):
            at = self.latest.get(key)
            if at is not None and at > floor:
                floor = at
        return floor


def _accounts_of(click: Click, accounts: Mapping[str, set[int]]) -> set[int]:
    users = set(accounts.get(click.visitor, ()))
    if click.user_id is not None:
        users.add(click.user_id)
    return users


def _readers(clicks: list[Click], accounts: Mapping[str, set[int]]) -> list[_Reader]:
    """Merge clicks that share a visitor id, a network or an account (union-find)."""
    if len(clicks) == 1:  # the common case
        return [_Reader(clicks, _accounts_of(clicks[0], accounts))]
    parent: dict[object, object] = {}  # a key missing here is its own root

    def find(key: object) -> object:
        while (up := parent.get(key)) is not None:
            top = parent.get(up)
            if top is not None:
                parent[key] = top  # path halving keeps the trees flat
            key = up
        return key

    def union(a: object, b: object) -> None:
        a, b = find(a), find(b)
        if a != b:
            parent[b] = a

    keyed = []
    for click in clicks:
        users = _accounts_of(click, accounts)
        for user in users:
            union(click.visitor, user)
        if click.network:
            union(click.visitor, ("network", click.network))
        keyed.append((click, users))
    groups: dict[object, _Reader] = {}
    for click, users in keyed:
        reader = groups.get(root := find(click.visitor))
        if reader is None:
            reader = groups[root] = _Reader([], set())
        reader.clicks.append(click)
        reader.accounts |= users
    return list(groups.values())


def learn(evidence: Evidence, policy: Policy, now: datetime) -> list[LearnedBoost]:
    """Every query and article with readers in the window, the largest boost first."""
    since = now - policy.window - timedelta(microseconds=1)  # the window's start counts
    cutoffs = _Cutoffs(evidence.resets)
    pairs: dict[tuple[str, str], list[Click]] = defaultdict(list)
    for click in evidence.clicks:
        pairs[(click.query, click.slug)].append(click)

    filed_by: dict[int, list[datetime]] = defaultdict(list)
    trails: dict[tuple[str, str], list[TicketTrail]] = defaultdict(list)
    for ticket in evidence.tickets:
        if ticket.requester_id is not None:
            filed_by[ticket.requester_id].append(ticket.at)
        for query in ticket.queries:
            for slug in ticket.slugs:
                if (query, slug) in pairs:
                    trails[(query, slug)].append(ticket)

    judge = _Judge(evidence.votes, filed_by, policy, now)
    found = []
    for (query, slug), clicks in pairs.items():
        after = cutoffs.of(query, slug, since)
        clicks = [c for c in clicks if c.at > after]
        if not clicks:
            continue
        readers = _readers(clicks, evidence.accounts)
        if (query, slug) in trails:
            _cancel_by_tickets(readers, trails[(query, slug)], policy)
        helped: list[datetime] = []  # when each helped reader was last helped
        waiting = 0
        for reader in readers:
            verdict = judge(reader, slug)
            if verdict is None:
                waiting += 1
            elif verdict is not False:
                helped.append(verdict)
        if helped:
            weight = sum(policy.weight(now - at) for at in helped)
            boost = policy.boost(weight) if len(helped) >= policy.min_readers else 0.0
            found.append(LearnedBoost(query, slug, len(helped), weight, boost, max(helped),
                                      waiting))
        elif waiting:
            found.append(LearnedBoost(query, slug, 0, 0.0, 0.0, max(c.at for c in clicks),
                                      waiting))
    found.sort(key=lambda b: (-b.boost, -b.readers, b.query, b.slug))
    return found


def _cancel_by_tickets(readers: list[_Reader], tickets: list[TicketTrail],
                       policy: Policy) -> None:
    """Each ticket nobody can be tied to cancels the signed-out reader who opened the
    article last before it (within the ticket window)."""
    known = set().union(*(r.accounts for r in readers))
    for ticket in sorted(tickets, key=lambda t: t.at):
        if ticket.requester_id in known:
            continue  # tied to its reader through the account: judged there
        candidates = [r for r in readers if not r.accounts and not r.cancelled
                      and any(ticket.at - policy.ticket_window <= c.at < ticket.at
                              for c in r.clicks)]
        if candidates:
            max(candidates, key=lambda r: r.last_click).cancelled = True


class _Judge:
    """Was a reader helped by the article? When were they last?"""

    def __init__(self, votes: Mapping[tuple[int, str], bool],
                 filed_by: Mapping[int, list[datetime]], policy: Policy, now: datetime):
        self.votes, self.filed_by = votes, filed_by
        self.window = policy.ticket_window
        self.settled = now - self.window  # clicks before this: the ticket window has passed

    def __call__(self, reader: _Reader, slug: str) -> datetime | bool | None:
        """When the reader was last helped; False: not helped; None: cannot tell yet."""
        if reader.cancelled:
            return False
        said_yes = False
        for user in reader.accounts:
            answer = self.votes.get((user, slug))
            if answer is False:
                return False
            said_yes = said_yes or answer is True
            for filed in self.filed_by.get(user, ()):
                if any(c.at < filed <= c.at + self.window for c in reader.clicks):
                    return False
        if said_yes:
            return reader.last_click
        settled = [c.at for c in reader.clicks if c.at <= self.settled]
        return max(settled) if settled else None
