"""The search engine interface the service talks to, and the plain data it exchanges.

Views and the service only know this module: a different engine (SQLite FTS,
PostgreSQL, an external service) can replace Whoosh by implementing
`SearchEngine` without touching them.
"""

from __future__ import annotations

from collections.abc import Iterable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Protocol

from markupsafe import Markup


class SearchUnavailable(Exception):
    """The index cannot answer; the service falls back to a plain scan."""


class IndexMissing(SearchUnavailable):
    """No index has been built yet (or it was deleted)."""


class IndexCorrupt(SearchUnavailable):
    """The index exists but cannot be read."""


class IndexBusy(Exception):
    """Another process is building the index."""


@dataclass(frozen=True)
class IndexDocument:
    """One article as the engine indexes it: plain text, no Markdown."""

    slug: str
    path: str
    title: str
    category: str  # category path ("" for the top level)
    summary: str = ""
    tags: tuple[str, ...] = ()
    aliases: tuple[str, ...] = ()
    headings: str = ""
    text: str = ""


@dataclass(frozen=True)
class UserQuery:
    """What the reader typed, made safe: capped, split into plain words and phrases."""

    text: str  # the query as shown back to the reader
    normalized: str  # lower case words separated by one space (for logs and suggestions)
    words: tuple[str, ...] = ()
    phrases: tuple[tuple[str, ...], ...] = ()  # words inside "quotes"

    @property
    def is_empty(self) -> bool:
        return not self.words


@dataclass
class EngineHit:
    slug: str
    title: str
    category: str
    score: float
    snippet: Markup = field(default_factory=Markup)


@dataclass
class EngineResult:
    hits: list[EngineHit]
    total: int
    corrected: str | None = None  # the query with misspelt words replaced
    fuzzy: bool = False  # similar words were matched because the results were weak


@dataclass(frozen=True)
class Tuning:
    """What the help center adds to ranking for one query, beyond the articles' text."""

    vocabularies: object | None = None  # expansion.Vocabularies: synonyms, related terms
    promoted: tuple[str, ...] = ()  # slugs the editors show first for this query, in order
    boosts: dict[str, float] = field(default_factory=dict)  # learned from readers: slug -> boost


@dataclass(frozen=True)
class Suggestion:
    slug: str
    title: str


class SearchEngine(Protocol):
    """Index, update, search, suggest. Implementations must be safe to call from threads."""

    def index(self, documents: Iterable[IndexDocument], manifest: dict) -> None:
        """Build a complete new index and switch readers to it atomically."""

    def update(self, changed: Iterable[IndexDocument], removed: Iterable[str],
               manifest: dict) -> None:
        """Replace changed documents and drop removed slugs, switching atomically."""

    def manifest(self) -> dict | None:
        """What the live index was built from (as given to index/update), or None."""

    def build_lock(self, wait: float) -> AbstractContextManager[None]:
        """Hold the builders' lock; raises IndexBusy after `wait` seconds."""

    def search(self, query: UserQuery, category: str | None, offset: int,
               limit: int, tuning: Tuning | None = None) -> EngineResult:
        """Ranked hits with snippets; raises SearchUnavailable when it cannot answer."""

    def suggest(self, prefix: str, limit: int) -> list[Suggestion]:
        """Titles for a prefix typed in the search box."""

    def related(self, slug: str, limit: int) -> list[Suggestion]:
        """Other articles most like this one by their text, most alike first ([] for a slug
        the index does not hold); raises SearchUnavailable when it cannot answer."""

    def is_ready(self) -> bool:
        """True when an index exists (it may still turn out unreadable)."""

