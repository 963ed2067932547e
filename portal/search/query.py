"""Turn anything a reader types into a safe query: capped, plain words and quoted phrases.

No query syntax is interpreted: `title:x`, `*`, `?`, `AND`, brackets and ranges
are just characters, so no input can make the engine expand a wildcard or
run for seconds.
"""

from __future__ import annotations

import re
import unicodedata

from portal.search.engine import UserQuery

MAX_QUERY_CHARS = 500  # longer input (a pasted log) is cut here
MAX_WORDS = 32  # distinct words kept for searching
MAX_PHRASES = 4
MAX_PHRASE_WORDS = 8

# The same word pattern as the index's tokenizer, so query words and indexed
# words are cut the same way ("v2.1" and "e.g" stay one word).
WORD = re.compile(r"\w+(?:\.?\w+)*")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff]")
_SPACES = re.compile(r"\s+")
_QUOTES = str.maketrans({"\u201c": '"', "\u201d": '"', "\u201e": '"', "\u00ab": '"',
                         "\u00bb": '"'})


def clean_text(raw: str) -> str:
    """The query as shown back to the reader: normalised Unicode, one line, capped."""
    text = unicodedata.normalize("NFKC", raw or "")
    text = _CONTROL.sub(" ", text)
    text = _SPACES.sub(" ", text).strip()
    return text[:MAX_QUERY_CHARS].strip()


def words_of(text: str) -> list[str]:
    return [match.group(0).lower() for match in WORD.finditer(text)]


def normalize(text: str) -> str:
    """Lower case words separated by single spaces: the key for logs and suggestions."""
    return " ".join(words_of(clean_text(text)))[:MAX_QUERY_CHARS]


def parse(raw: str) -> UserQuery:
    """Split the input into words (order kept, duplicates dropped) and quoted phrases."""
    text = clean_text(raw)
    quoted = text.translate(_QUOTES)
    phrases: list[tuple[str, ...]] = []
    parts = quoted.split('"')
    # Odd parts sit between a pair of quotes; a lone last quote opens nothing.
    for index in range(1, len(parts) - 1, 2):
        phrase = tuple(words_of(parts[index])[:MAX_PHRASE_WORDS])
        if len(phrase) > 1 and phrase not in phrases:
            phrases.append(phrase)
    words = list(dict.fromkeys(words_of(text)))[:MAX_WORDS]
    return UserQuery(
        text=text,
        normalized=" ".join(words_of(text))[:MAX_QUERY_CHARS],
        words=tuple(words),
        phrases=tuple(phrases[:MAX_PHRASES]),
    )
