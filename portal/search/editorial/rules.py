"""The rules from the editors' search file as plain data, and how they apply to a query."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType


@dataclass(frozen=True)
class Promotion:
    """Articles (by slug, in the editors' order) to show first for any of these queries."""

    queries: tuple[str, ...]  # normalised
    slugs: tuple[str, ...]


@dataclass(frozen=True)
class Expansion:
    """A term or phrase found in a query and the other ways of saying it."""

    start: int  # index of its first word in the words given to `expansions`
    words: tuple[str, ...]  # the query's words that matched
    alternatives: tuple[str, ...]  # normalised terms or phrases, in the file's order


@dataclass(frozen=True)
class SearchRules:
    """What the editors' search file says, normalised; empty when there is no file."""

    synonyms: tuple[tuple[str, ...], ...] = ()  # groups of equivalent terms or phrases
    related: Mapping[str, tuple[str, ...]] = field(
        default_factory=lambda: MappingProxyType({}), hash=False)  # one-way: term -> also
    promotions: tuple[Promotion, ...] = ()
    ignore: tuple[str, ...] = ()  # phrases dropped from queries
    digest: str = ""  # sha256 of the file's bytes: changes whenever the file does
    # Lookup tables built once, so each search costs a few dictionary probes.
    _alternatives: dict = field(init=False, repr=False, compare=False, hash=False)
    _longest: int = field(init=False, repr=False, compare=False, hash=False)
    _ignored: frozenset = field(init=False, repr=False, compare=False, hash=False)
    _ignored_longest: int = field(init=False, repr=False, compare=False, hash=False)
    _promoted: tuple = field(init=False, repr=False, compare=False, hash=False)

    def __post_init__(self) -> None:
        if not isinstance(self.related, MappingProxyType):
            object.__setattr__(self, "related", MappingProxyType(dict(self.related)))
        alternatives: dict[tuple[str, ...], dict[str, None]] = {}
        for group in self.synonyms:
            for term in group:
                found = alternatives.setdefault(tuple(term.split()), {})
                found.update((other, None) for other in group if other != term)
        for term, also in self.related.items():
            found = alternatives.setdefault(tuple(term.split()), {})
            found.update((other, None) for other in also if other != term)
        table = {key: tuple(found) for key, found in alternatives.items() if found}
        object.__setattr__(self, "_alternatives", table)
        object.__setattr__(self, "_longest", max(map(len, table), default=0))
        ignored = frozenset(tuple(phrase.split()) for phrase in self.ignore)
        object.__setattr__(self, "_ignored", ignored)
        object.__setattr__(self, "_ignored_longest", max(map(len, ignored), default=0))
        promoted = []
        for promotion in self.promotions:
            for query in promotion.queries:
                key = self.strip_ignored(query)
                promoted.append((key, frozenset(key.split()), promotion.slugs))
        object.__setattr__(self, "_promoted", tuple(promoted))

    def promoted_for(self, normalized_query: str) -> list[str]:
        """Slugs to show first for a normalised query, best match first, no repeats.

        Ignored phrases are dropped from both sides first. A promotion matches when
        every word of one of its queries is among the query's words; promotions whose
        query is the whole query come first, then those with more words, then file order.
        """
        if not self._promoted:
            return []
        query = self.strip_ignored(normalized_query)
        words = frozenset(query.split())
        if not words:
            return []
        hits = []
        for order, (key, key_words, slugs) in enumerate(self._promoted):
            if key == query:
                hits.append(((0, 0, order), slugs))
            elif key_words <= words:
                hits.append(((1, -len(key_words), order), slugs))
        hits.sort(key=lambda hit: hit[0])
        return list(dict.fromkeys(slug for _, slugs in hits for slug in slugs))

    def expansions(self, words: Sequence[str]) -> list[Expansion]:
        """The synonym-group and related terms found in a query's words, with their
        alternatives. Pass the words in the reader's order (`normalized.split()`), so
        phrases can be found; the longest term wins, left to right, without overlaps."""
        found: list[Expansion] = []
        if not self._alternatives:
            return found
        index, count = 0, len(words)
        while index < count:
            for size in range(min(self._longest, count - index), 0, -1):
                key = tuple(words[index:index + size])
                alternatives = self._alternatives.get(key)
                if alternatives:
                    found.append(Expansion(index, key, alternatives))
                    index += size
                    break
            else:
                index += 1
        return found

    def strip_ignored(self, normalized_query: str) -> str:
        """The query without its ignored phrases (whole words only). A query made only
        of ignored words is returned unchanged: it is then what the reader looks for."""
        if not self._ignored:
            return normalized_query
        words = normalized_query.split()
        kept: list[str] = []
        index, count = 0, len(words)
        while index < count:
            for size in range(min(self._ignored_longest, count - index), 0, -1):
                if tuple(words[index:index + size]) in self._ignored:
                    index += size
                    break
            else:
                kept.append(words[index])
                index += 1
        return " ".join(kept) if kept else normalized_query


EMPTY_RULES = SearchRules()
