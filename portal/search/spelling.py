"""The index's vocabulary and corrections for words it does not contain.

Corrections are looked up by generating the few hundred strings one edit
away from the unknown word (deletion, transposition, substitution,
insertion) and keeping those the articles use, the most common first. That
costs well under a millisecond, against ~150 ms for Whoosh's corrector over
a 10,000-article index, and only runs for words the index does not know.
"""

from __future__ import annotations

import heapq
import math
import os
import re
from collections import Counter
from pathlib import Path

import jellyfish
from whoosh.lang.porter import stem as porter_stem

from portal.search import english

WORD = re.compile(r"[^\W\d_]{3,}")  # alphabetic words of three letters or more
MIN_CORRECTABLE = 4  # shorter words are too ambiguous to correct
MAX_CORRECTABLE = 24  # longer "words" are codes or pastes, not typos
SECOND_EDIT_MIN = 7  # two edits only for long words (short ones reach too many others)
# Costs of a mistake and priors, on wordfreq's Zipf scale (one unit = ten times rarer).
ONE_EDIT = 1.0
TWO_EDITS = 2.3
SOUND_ALIKE = 0.5  # "fotos" for "photos", "shedule" for "schedule": sounds the same
FIRST_LETTER = 0.7  # people rarely get the first letter wrong
LOCAL_PRIOR = 2.0  # prior = 2 + log10(1 + articles using it) + 0.3 * English Zipf
ENGLISH_WEIGHT = 0.3
FUNCTION_WORD_ZIPF = 6.0  # "the", "one", "and": never what a misspelt keyword meant
MARGIN = 0.2  # a correction must beat the word as typed by this much
ASCII_LETTERS = "abcdefghijklmnopqrstuvwxyz"
MAX_CANDIDATES = 5
ENGLISH_CANDIDATE_ZIPF = 3.5  # corrections outside the articles only aim at common words
INFLECTIONS = ("s", "es", "ed", "d", "ing", "er", "ers", "ly", "'s")
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
        self._sound_groups: dict[str, list[str]] | None = None
        # Answers derived from this generation's words, kept by the modules that work
        # them out (e.g. how the articles split a compound): valid as long as it is.
        self.memo: dict = {}

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
        return one_edit(word, self.alphabet)

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

    def _sounds(self) -> dict[str, list[str]]:
        """Words grouped by how they sound (metaphone), for "fotos" -> "photos"."""
        if self._sound_groups is None:
            groups: dict[str, list[str]] = {}
            for word, _count in self._common():
                if len(word) >= MIN_CORRECTABLE - 1 and word.isalpha():
                    groups.setdefault(jellyfish.metaphone(word), []).append(word)
            self._sound_groups = groups
        return self._sound_groups

    def prior(self, word: str) -> float:
        """How likely a reader means this indexed word, on about wordfreq's Zipf scale.

        Mostly how many articles use it (the help center's own jargon, "webhook",
        "dkim", counts fully), and a little how common it is in English.
        """
        count = self.counts.get(word, 0)
        return LOCAL_PRIOR + math.log10(1 + count) + ENGLISH_WEIGHT * english.zipf(word)

    def candidates(self, word: str, deep: bool = True) -> dict[str, float]:
        """Indexed words the reader may have meant, each with the cost of the mistake."""
        found: dict[str, float] = {}
        for candidate in self._edits(word):
            if candidate in self.counts:
                found[candidate] = ONE_EDIT
        if deep and len(word) >= SECOND_EDIT_MIN:
            shapes = self._by_shape()
            letters = set(word)
            for size in range(len(word) - 2, len(word) + 3):
                for candidate in shapes.get((word[0], size), ()):
                    # Two edits change at most four letters of the letter set: cheap to rule out.
                    if (candidate not in found
                            and len(letters.symmetric_difference(candidate)) <= 4
                            and within_two_edits(word, candidate)):
                        found[candidate] = TWO_EDITS
        for candidate, cost in found.items():
            if candidate[:1] != word[:1]:
                found[candidate] = cost + FIRST_LETTER
        for candidate in self._sounds().get(jellyfish.metaphone(word), ()):
            if candidate != word and jellyfish.damerau_levenshtein_distance(
                    word, candidate) <= max(2, len(word) // 2):
                found[candidate] = min(found.get(candidate, SOUND_ALIKE), SOUND_ALIKE)
        return {c: cost for c, cost in found.items() if english.zipf(c) < FUNCTION_WORD_ZIPF}

    def ranked(self, word: str, deep: bool = True) -> list[tuple[str, float]]:
        """What the reader may have meant by an unknown word, likeliest first, with scores.

        A real English word or name is never replaced (however absent from the
        articles), nor is a form of an indexed word ("webhooks" for "webhook").
        Otherwise each indexed candidate (one edit away, two for long words with
        `deep`, or sounding the same) is scored by how common it is less the cost of
        the mistake, and kept only if it is likelier than the word as typed. When
        the articles offer nothing, common English words one edit away are offered
        ("tomorow"), so a suggestion can still correct every word of a query.
        """
        word = word.lower()
        if (not MIN_CORRECTABLE <= len(word) <= MAX_CORRECTABLE or word in self.counts
                or not word.isalpha()):
            return []
        typed = english.zipf(word)
        if typed >= english.KNOWN_ZIPF:
            return []
        found = self.candidates(word, deep)
        if any(is_inflection(word, candidate) for candidate in found):
            return []
        scored = [(c, self.prior(c) - cost) for c, cost in found.items()]
        if not scored:
            scored = [(c, english.zipf(c) - cost) for c, cost in english_edits(word)]
        scored = [(c, score) for c, score in scored if score > typed + MARGIN]
        scored.sort(key=lambda item: (-item[1], item[0]))
        return scored[:MAX_CANDIDATES]

    def correct(self, word: str, deep: bool = True) -> str | None:
        """The likeliest word meant by an unknown one (see `ranked`), or None."""
        found = self.ranked(word, deep)
        return found[0][0] if found else None

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


def is_inflection(word: str, other: str) -> bool:
    """One is a form of the other: "webhooks" and "webhook", "closure" and "closures".

    The same stem and an ending apart ("duplicat" is no form of "duplicates").
    """
    longer, shorter = (word, other) if len(word) > len(other) else (other, word)
    ends = any(longer == shorter + ending for ending in INFLECTIONS) or (
        shorter.endswith("e") and any(longer == shorter[:-1] + e for e in ("ing", "ed", "er")))
    # "cancell" is no word, so no form of it: "cancelled" does not make it one.
    word_like = english.zipf(shorter) >= 2.0 or shorter == other
    return ends and word_like and porter_stem(longer) == porter_stem(shorter)


def english_edits(word: str) -> list[tuple[str, float]]:
    """Common English words one edit away (a-z), with the cost of the mistake."""
    found = []
    for candidate in one_edit(word, ASCII_LETTERS):
        if english.zipf(candidate) >= ENGLISH_CANDIDATE_ZIPF:
            cost = ONE_EDIT + (FIRST_LETTER if candidate[:1] != word[:1] else 0.0)
            found.append((candidate, cost))
    return found


def one_edit(word: str, alphabet: str) -> set[str]:
    """Every string one deletion, transposition, substitution or insertion away."""
    splits = [(word[:i], word[i:]) for i in range(len(word) + 1)]
    edits = {a + b[1:] for a, b in splits if b}
    edits |= {a + b[1] + b[0] + b[2:] for a, b in splits if len(b) > 1}
    for char in alphabet:
        edits |= {a + char + b[1:] for a, b in splits if b}
        edits |= {a + char + b for a, b in splits}
    edits.discard(word)
    return edits


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
