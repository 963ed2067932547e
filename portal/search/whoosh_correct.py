"""Spelling corrections for a query, chosen with what the articles say around them.

The vocabulary (spelling.py) proposes likely words for each unknown one; when
it proposes several, the articles decide: the word written next to the
query's neighbouring words, or found with its other words, wins.
"""

from __future__ import annotations

import math

from whoosh.query import Or, Phrase
from whoosh.reading import TermNotFound
from whoosh.searching import Searcher

from portal.search.engine import UserQuery
from portal.search.spelling import Vocabulary
from portal.search.whoosh_schema import stems_of

MAX_DEEP_CORRECTIONS = 2  # of the corrected words, this many also two edits away
CONTEXT = 1.0  # weight of "found with the query's other words" in choosing a correction
NEXT_TO = 1.0  # ...and of "written next to the word typed beside it"
SMOOTHING = 0.1
MAX_COUNTED_WORDS = 100


def correct(query: UserQuery, suspects: list[str], searcher: Searcher, vocabulary: Vocabulary,
            question_words: frozenset[str]) -> tuple[dict[str, str], list[str]]:
    """Corrections for the suspect words, and those misspelt with nothing to offer.

    When a word has several likely corrections, the one the articles use next
    to the query's neighbouring words, or at least with its other words, wins:
    "sinc server" means "sink", "custom traking domain" means "tracking".
    """
    reader = searcher.reader()
    ranked = {word: vocabulary.ranked(word, deep=number < MAX_DEEP_CORRECTIONS)
              for number, word in enumerate(suspects)}
    # Misspelt neighbours stand for their likeliest correction while the others are
    # chosen: in "pasword resett", "password" is what decides between "reset" and "rest".
    first = {word: found[0][0] for word, found in ranked.items() if found}
    sequence = [first.get(w, w) for w in query.normalized.split()[:MAX_COUNTED_WORDS]
                if w not in question_words and stems_of(w)]
    unsure = {first.get(w, w) for w in suspects if len(ranked[w]) > 1 or w not in first}
    corrections: dict[str, str] = {}
    unfixed: list[str] = []
    for word in suspects:
        found = ranked[word]
        if len(found) > 1:
            typed = first[word]
            others = [s for w in dict.fromkeys(sequence) if w != typed for s in stems_of(w)]
            context = [docs for docs in (_documents(reader, s) for s in others) if docs]
            neighbours = _neighbours(sequence, typed, unsure - {typed})
            if context or neighbours:
                found = _in_context(searcher, found, context, neighbours)
        if found:
            corrections[word] = found[0][0]
        elif not indexed(reader, word):
            unfixed.append(word)
    return corrections, unfixed


def _neighbours(sequence: list[str], word: str, suspects: set[str]) -> list[tuple[str, bool]]:
    """(neighbouring word, whether it comes first) around each place the word is typed."""
    found = []
    for i, typed in enumerate(sequence):
        if typed != word:
            continue
        if i > 0 and sequence[i - 1] not in suspects:
            found.append((sequence[i - 1], True))
        if i + 1 < len(sequence) and sequence[i + 1] not in suspects:
            found.append((sequence[i + 1], False))
    return found[:4]


def _documents(reader, stem: str) -> set[int]:
    try:
        return set(reader.postings("anytext", stem).all_ids())
    except TermNotFound:
        return set()


def _in_context(searcher: Searcher, ranked: list[tuple[str, float]], context: list[set[int]],
                neighbours: list[tuple[str, bool]]) -> list[tuple[str, float]]:
    """Reorder candidate corrections by how the articles use them with the query's words.

    Two bigram-model-like signals, each the share of the candidate's articles
    (smoothed, in log10): those holding it next to a neighbouring query word,
    and those holding it with at least half of the query's other words. A
    signal no candidate shows is left out, so rare words gain nothing from it.
    """
    reader = searcher.reader()
    needed = max(1, (len(context) + 1) // 2)
    evidence = []
    for candidate, score in ranked:
        stems = stems_of(candidate)
        docs: set[int] = set()
        for stem in stems:
            docs |= _documents(reader, stem)
        together = sum(1 for d in docs if sum(d in other for other in context) >= needed)
        pairs = 0
        for neighbour, first in neighbours:
            for stem in stems[:1]:
                for other in stems_of(neighbour)[:1]:
                    words = [other, stem] if first else [stem, other]
                    phrase = Or([Phrase(f, words) for f in ("title", "body")])
                    pairs += sum(1 for _ in searcher.docs_for_query(phrase))
        evidence.append((candidate, score, len(docs), together, pairs))
    use_together = any(e[3] for e in evidence)
    use_pairs = any(e[4] for e in evidence)
    rescored = []
    for candidate, score, df, together, pairs in evidence:
        if use_together:
            score += CONTEXT * math.log10((together + SMOOTHING) / (df + 1))
        if use_pairs:
            score += NEXT_TO * math.log10((pairs + SMOOTHING) / (df + 1))
        rescored.append((candidate, score))
    rescored.sort(key=lambda item: -item[1])
    return rescored


def indexed(reader, word: str) -> bool:
    """True when the word, once stemmed, occurs in the index ("closures" -> "closur")."""
    stems = stems_of(word)
    return not stems or any(reader.doc_frequency("anytext", s) for s in stems)
