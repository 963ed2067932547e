"""Highlighted snippets from stored character offsets: escaped text, <mark> around matches."""

from __future__ import annotations

import re
from collections.abc import Sequence

from markupsafe import Markup, escape

WIDTH = 240  # characters of article text in a snippet
LEAD = 70  # look this far back for the start of the sentence
_SPACE = re.compile(r"\s+")
MARK_OPEN, MARK_CLOSE, ELLIPSIS = Markup("<mark>"), Markup("</mark>"), Markup("…")


def _plain(text: str) -> Markup:
    """Escaped text with every run of white space made one space."""
    return escape(_SPACE.sub(" ", text))


def _word_start(text: str, index: int) -> int:
    while index > 0 and not text[index - 1].isspace():
        index -= 1
    return index


def _word_end(text: str, index: int) -> int:
    while index < len(text) and not text[index].isspace():
        index += 1
    return index


def best_window(spans: Sequence[tuple[int, int, str, float]], width: int) -> int:
    """Start offset of the window holding the most valuable distinct matched words."""
    best_start, best_score = spans[0][0], -1.0
    for i, (start, *_rest) in enumerate(spans):
        seen: dict[str, float] = {}
        count = 0
        for _s, e, key, weight in spans[i:]:
            if e - start > width:
                break
            seen[key] = weight
            count += 1
        score = sum(seen.values()) + 0.01 * count
        if score > best_score:
            best_start, best_score = start, score
    return best_start


def make_snippet(text: str, spans: Sequence[tuple[int, int, str, float]],
                 width: int = WIDTH, fallback: str = "") -> Markup:
    """A window of `text` around the best matches, matches wrapped in <mark>.

    `spans` are (start, end, term, weight) character offsets into `text`.
    Everything but the <mark> tags is HTML-escaped.
    """
    spans = sorted(s for s in spans if 0 <= s[0] < s[1] <= len(text))[:200]
    if not spans:
        source = (fallback or text).strip()
        if len(source) <= width:
            return _plain(source)
        cut = _word_start(source, width) or width
        return _plain(source[:cut].rstrip() + " ") + ELLIPSIS
    first = best_window(spans, width)
    # Start at the beginning of the sentence when it is close, else at a word.
    start = first
    floor = max(0, first - LEAD)
    while start > floor and text[start - 1] not in ".!?\n":
        start -= 1
    if start == floor and floor > 0:
        start = _word_start(text, max(0, first - 20))
    while start < first and text[start].isspace():
        start += 1
    end = min(len(text), start + width)
    end = _word_end(text, end) if end < len(text) else end
    if end - start > width + 30:  # one very long "word" (a URL, a hash)
        end = start + width
    parts: list[Markup] = [ELLIPSIS + " "] if start > 0 else []
    position = start
    for s, e, _key, _weight in spans:
        if s < position or e > end:
            continue
        parts.append(_plain(text[position:s]))
        parts.append(MARK_OPEN + _plain(text[s:e]) + MARK_CLOSE)
        position = e
    parts.append(_plain(text[position:end].rstrip()))
    if end < len(text):
        parts.append(" " + ELLIPSIS)
    return Markup("").join(parts)
