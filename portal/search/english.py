"""General English, from wordfreq: how common a word is, so real words are never "corrected".

The articles alone cannot tell a misspelling from a word they happen not to
use ("stuck", "iphone"). wordfreq's English list (about 300,000 words and
names from subtitles, books, the web and social media) can: its Zipf scale
puts a word used once per million words at 3, "the" at about 7.7 and words
it has never seen at 0. The list is read once per process, on first need
(about half a second and 40 MB).
"""

from __future__ import annotations

import math
import threading

from wordfreq import get_frequency_dict, top_n_list

LANGUAGE = "en"
# At or above this a word is common English: never replaced, whatever the articles say.
# (The 5,000 most frequent words are all above 3.8; the 30,000 most frequent above 3.)
KNOWN_ZIPF = 3.0

_lock = threading.Lock()
_zipf: dict[str, float] | None = None


def _table() -> dict[str, float]:
    global _zipf
    if _zipf is None:
        with _lock:
            if _zipf is None:
                frequencies = get_frequency_dict(LANGUAGE, wordlist="large")
                _zipf = {word: math.log10(value) + 9.0 for word, value in frequencies.items()
                         if word.isalpha()}
    return _zipf


def zipf(word: str) -> float:
    """How common the (lower-case) word is in English, 0 when wordfreq never saw it."""
    return _table().get(word, 0.0)


def is_common(word: str) -> bool:
    """A real, reasonably common English word or name (never a typo to correct)."""
    return zipf(word) >= KNOWN_ZIPF


def most_frequent(count: int) -> list[str]:
    """The `count` most frequent English words, most frequent first."""
    return top_n_list(LANGUAGE, count)


def warm() -> None:
    """Read the list now (e.g. in a background thread at start-up) rather than on a search."""
    _table()
