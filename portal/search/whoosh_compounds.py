"""Words written together or apart: "warmup" and "warm-up", "web hook" and "webhook".

Readers and writers disagree about compounds, and no stemmer joins or splits
them. A query word that the articles also write as two adjacent words gets
that pair as an alternative, and two adjacent query words that the articles
write as one get that word. A split is only offered when the articles really
use the pair side by side, so "password" never becomes "pass word".
"""

from __future__ import annotations

from whoosh.query import Or, Phrase
from whoosh.searching import Searcher

from portal.search.spelling import Vocabulary
from portal.search.whoosh_schema import stems_of

MIN_WORD = 6  # shorter words are rarely compounds
MIN_PART = 3
PARTICLES = frozenset({"up", "out", "off", "down", "back", "over"})  # "warmup", "signout"
MAX_SPLITS = 3  # attested pairs looked up per word
MAX_WORDS = 8  # words of a long query examined
RARE_DOCS = 20  # a word used by at most this many articles (or this share) may be split
RARE_SHARE = 0.01
MAX_MEMO = 50_000


def compound_alternatives(sequence: list[str], searcher: Searcher, vocabulary: Vocabulary,
                          ) -> list[tuple[int, int, tuple[str, ...]]]:
    """(start, size, stems) for each word of `sequence` the articles write otherwise."""
    known = vocabulary.counts
    rare = RARE_SHARE * searcher.doc_count()
    found: list[tuple[int, int, tuple[str, ...]]] = []
    for index, word in enumerate(sequence[:MAX_WORDS]):
        if not word.isalpha():
            continue
        # Only words few articles use are worth splitting: a common word is already
        # found as typed (and phrase lookups for common words are what cost).
        if len(word) >= MIN_WORD and known.get(word, 0) <= max(RARE_DOCS, rare):
            split = _split(word, searcher, vocabulary)
            if split:
                found.append((index, 1, split))
        following = sequence[index + 1] if index + 1 < len(sequence) else ""
        if following.isalpha() and word + following in known:
            joined = stems_of(word + following)
            if len(joined) == 1:
                found.append((index, 2, (joined[0],)))
    return found


def _split(word: str, searcher: Searcher, vocabulary: Vocabulary) -> tuple[str, ...] | None:
    """The two stems the articles write side by side for this word, or None.
    Remembered per index generation: the phrase lookups are the costly part."""
    memo = vocabulary.memo
    key = ("split", word)
    if key in memo:
        return memo[key]
    known, found, tried = vocabulary.counts, None, 0
    for cut in range(2, len(word) - 1):
        left, right = word[:cut], word[cut:]
        if not (_part(left, known) and _part(right, known)):
            continue
        tried += 1
        stems = stems_of(left) + stems_of(right)
        if len(stems) == 2 and _attested(searcher, stems):
            found = tuple(stems)
            break
        if tried >= MAX_SPLITS:
            break
    if len(memo) >= MAX_MEMO:
        memo.clear()
    memo[key] = found
    return found


def _part(text: str, known: dict[str, int]) -> bool:
    return text in PARTICLES or (len(text) >= MIN_PART and text in known)


def _attested(searcher: Searcher, stems: list[str]) -> bool:
    phrase = Or([Phrase(f, stems) for f in ("title", "body")])
    return any(True for _ in searcher.docs_for_query(phrase))
