"""The index's vocabulary and corrections for words it does not contain.

Corrections are looked up by generating the few hundred strings one edit
away from the unknown word (deletion, transposition, substitution,
insertion) and keeping those the articles use, the most common first. That
costs well under a millisecond, against ~150 ms for Whoosh's corrector over
a 10,000-article index, and only runs for words the index does not know.
"""

from __future__ import annotations

import heapq
import os
import re
from collections import Counter
from collections.abc import Iterable
from pathlib import Path

WORD = re.compile(r"[^\W\d_]{3,}")  # alphabetic words of three letters or more
MIN_CORRECTABLE = 5  # shorter words are too ambiguous to correct
MAX_CORRECTABLE = 24  # longer "words" are codes or pastes, not typos
SECOND_EDIT_MIN = 8  # two edits only for long words (short ones reach too many others)
MAX_ALPHABET = 48
COMMON_WORDS = 20_000  # two-edit corrections only aim at the most used words


def document_words(*texts: str) -> set[str]:
    words: set[str] = set()
    for text in texts:
        words.update(w.lower() for w in WORD.findall(text))
    return words


class Vocabulary:
    """Words of the indexed articles with the number of articles using each."""

    def __init__(self, counts: dict[str, int] | None = None):
        self.counts: dict[str, int] = dict(counts or {})
        self._alphabet: str | None = None
        self._shapes: dict[tuple[str, int], list[str]] | None = None
        self._top: list[tuple[str, int]] | None = None

    @property
    def alphabet(self) -> str:
        """The letters the articles use, most common first (computed on first need)."""
        if self._alphabet is None:
            letters: Counter[str] = Counter()
            for word, count in self._common():
                for char in word:
                    letters[char] += count
            self._alphabet = "".join(c for c, _ in letters.most_common(MAX_ALPHABET))
        return self._alphabet

    def __contains__(self, word: str) -> bool:
        return word in self.counts

    def __len__(self) -> int:
        return len(self.counts)

    # -- corrections -------------------------------------------------------
    def _edits(self, word: str) -> set[str]:
        splits = [(word[:i], word[i:]) for i in range(len(word) + 1)]
        edits = {a + b[1:] for a, b in splits if b}
        edits |= {a + b[1] + b[0] + b[2:] for a, b in splits if len(b) > 1}
        for char in self.alphabet:
            edits |= {a + char + b[1:] for a, b in splits if b}
            edits |= {a + char + b for a, b in splits}
        edits.discard(word)
        return edits

    def _by_shape(self) -> dict[tuple[str, int], list[str]]:
        """Words grouped by first letter and length (built on first need)."""
        if self._shapes is None:
            shapes: dict[tuple[str, int], list[str]] = {}
            for word, _count in self._common():
                if len(word) >= SECOND_EDIT_MIN - 2:
                    shapes.setdefault((word[0], len(word)), []).append(word)
            self._shapes = shapes
        return self._shapes

    def _common(self) -> list[tuple[str, int]]:
        """The most used words: enough for two-edit guesses, and quick to scan."""
        if self._top is None:
            self._top = heapq.nlargest(COMMON_WORDS, self.counts.items(), key=lambda kv: kv[1])
        return self._top

    def _best(self, word: str, candidates: Iterable[str]) -> str | None:
        best, best_score = None, 0.0
        for candidate in candidates:
            count = self.counts.get(candidate)
            if not count:
                continue
            # People rarely get the first letter wrong.
            score = count * (1.0 if candidate[:1] == word[:1] else 0.2)
            if score > best_score or (score == best_score and best and candidate < best):
                best, best_score = candidate, score
        return best

    def correct(self, word: str, deep: bool = True) -> str | None:
        """The likeliest indexed word for an unknown one, or None.

        One edit away first; with `deep`, two edits away for long words (slower).
        """
        word = word.lower()
        if (not MIN_CORRECTABLE <= len(word) <= MAX_CORRECTABLE or word in self.counts
                or not word.isalpha()):
            return None
        first = self._edits(word)
        found = self._best(word, first)
        if found or len(word) < SECOND_EDIT_MIN:
            return found
        if not deep:
            return None
        shapes = self._by_shape()
        letters = set(word)
        near = [candidate
                for size in range(len(word) - 2, len(word) + 3)
                for candidate in shapes.get((word[0], size), ())
                # Two edits change at most four letters of the letter set: cheap to rule out.
                if len(letters.symmetric_difference(candidate)) <= 4
                and within_two_edits(word, candidate)]
        return self._best(word, near)

    # -- storage -----------------------------------------------------------
    def save(self, path: Path) -> None:
        """Write atomically (a new file replaces the old: generations share files)."""
        write_counts(path, self.counts)

    @classmethod
    def load(cls, path: Path, *more: Path) -> Vocabulary:
        """Read a vocabulary file, adding the counts of further (delta) files if they exist."""
        counts = read_counts(path)
        for extra in more:
            if extra.is_file():
                for word, count in read_counts(extra).items():
                    counts[word] = counts.get(word, 0) + count
        return cls(counts)


def within_two_edits(a: str, b: str) -> bool:
    """Damerau-Levenshtein distance of at most 2 (gives up as soon as it cannot be)."""
    if abs(len(a) - len(b)) > 2:
        return False
    previous2: list[int] | None = None
    previous = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        current = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cost = 0 if a[i - 1] == b[j - 1] else 1
            value = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            if (previous2 is not None and i > 1 and j > 1 and a[i - 1] == b[j - 2]
                    and a[i - 2] == b[j - 1]):
                value = min(value, previous2[j - 2] + 1)
            current[j] = value
        if min(current) > 2:
            return False
        previous2, previous = previous, current
    return previous[-1] <= 2


def write_counts(path: Path, counts: dict[str, int]) -> None:
    tmp = path.with_name(path.name + f".tmp{os.getpid()}")
    with open(tmp, "w", encoding="utf-8") as handle:
        for word, count in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])):
            handle.write(f"{word}\t{count}\n")
    os.replace(tmp, path)


def read_counts(path: Path) -> dict[str, int]:
    counts: dict[str, int] = {}
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            word, _, count = line.rstrip("\n").partition("\t")
            if word and count.isdigit():
                counts[word] = int(count)
    return counts
