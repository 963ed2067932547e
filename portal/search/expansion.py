"""Other words for the query's words: the built-in help-center list and the editors' file.

Both say the same two things: `synonyms` (groups that mean the same) and
`related` (terms that often answer a term, one way). A query's words are
matched against them longest phrase first, and each match becomes a list of
alternatives, as stems, with a weight: synonyms count nearly as much as the
word typed, related terms less. Ranking then lets an article that uses an
alternative match the word the reader typed (see whoosh_rank.py).
"""

from __future__ import annotations

import functools
import threading
from dataclasses import dataclass
from importlib.resources import files

from whoosh.lang.porter import stem as porter_stem

from portal.search.editorial import EMPTY_RULES, SearchRules, parse_rules

BUILTIN_FILE = "help_center_synonyms.yml"
SYNONYM_WEIGHT = 0.8
RELATED_WEIGHT = 0.4


@dataclass(frozen=True)
class Alternative:
    """Another way of saying some of the query's words (a phrase when several words)."""

    start: int  # index of the first matched word in the sequence given
    size: int  # how many words of the sequence it stands for
    words: tuple[str, ...]  # the alternative's own words
    weight: float


class Vocabularies:
    """Synonym groups and related terms, looked up by the stems of their words (so
    "bills" finds what "bill" lists), each alternative with its weight."""

    def __init__(self, synonyms: tuple[tuple[str, ...], ...],
                 related: dict[str, tuple[str, ...]]):
        table: dict[tuple[str, ...], dict[tuple[str, ...], float]] = {}

        def add(term: str, other: str, weight: float) -> None:
            if other == term:
                return
            found = table.setdefault(_key(term.split()), {})
            words = tuple(other.split())
            found[words] = max(found.get(words, 0.0), weight)

        for group in synonyms:
            for term in group:
                for other in group:
                    add(term, other, SYNONYM_WEIGHT)
        for term, also in related.items():
            for other in also:
                add(term, other, RELATED_WEIGHT)
        self._table = table
        self._longest = max(map(len, table), default=0)

    def alternatives(self, sequence: list[str]) -> list[Alternative]:
        """The alternatives for the words of a query, in the reader's order: the
        longest listed term wins, left to right, without overlaps."""
        found: list[Alternative] = []
        keys = _key(sequence)
        index, count = 0, len(keys)
        while index < count:
            for size in range(min(self._longest, count - index), 0, -1):
                listed = self._table.get(keys[index:index + size])
                if listed:
                    found.extend(Alternative(index, size, words, weight)
                                 for words, weight in listed.items())
                    index += size
                    break
            else:
                index += 1
        return found


def _key(words) -> tuple[str, ...]:
    return tuple(_stem(w) for w in words)


@functools.lru_cache(maxsize=100_000)
def _stem(word: str) -> str:
    return porter_stem(word)


_lock = threading.Lock()
_builtin: SearchRules | None = None
_merged: dict[str, Vocabularies] = {}


def builtin_rules() -> SearchRules:
    """The list shipped with the package (read once)."""
    global _builtin
    if _builtin is None:
        with _lock:
            if _builtin is None:
                text = files("portal.search").joinpath("data", BUILTIN_FILE).read_text("utf-8")
                rules, problems = parse_rules(text)
                if problems:  # a test keeps the shipped file clean
                    raise ValueError(f"{BUILTIN_FILE}: {problems[0]}")
                _builtin = rules
    return _builtin


def vocabularies(editors: SearchRules = EMPTY_RULES) -> Vocabularies:
    """The built-in list and the editors' file together (cached per version of the file)."""
    found = _merged.get(editors.digest)
    if found is not None:
        return found
    builtin = builtin_rules()
    related = dict(builtin.related)
    for term, also in editors.related.items():
        related[term] = tuple(dict.fromkeys(related.get(term, ()) + also))
    found = Vocabularies(builtin.synonyms + editors.synonyms, related)
    with _lock:
        if len(_merged) > 8:
            _merged.clear()
        _merged[editors.digest] = found
    return found
